"""The ``prompt`` actuator: tells the lab tester what to do and waits for Enter (bounded).

Each prompt names the action's parameters (connector or EVSE, id token, which message to
trigger, which variable, which certificate …): docs/actuators.md. It needs a terminal: the
CLI refuses a prompt run whose standard input is not one (:meth:`PromptActuator.interactive`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from typing import Any, TextIO

from pile_interop.actuators.base import ActuatorError, describe, prompt_text

log = logging.getLogger(__name__)


class PromptActuator:
    name = "prompt"

    def __init__(self, stream_in: TextIO | None = None, stream_out: TextIO | None = None) -> None:
        self.stream_in = stream_in or sys.stdin
        self.stream_out = stream_out or sys.stderr

    def interactive(self) -> bool:
        """Whether a tester can answer: standard input is a terminal."""
        try:
            return bool(self.stream_in.isatty())
        except (AttributeError, OSError, ValueError):  # closed or not a file
            return False

    async def _confirm(self, text: str, timeout: float) -> None:
        self.stream_out.write(f"\n>>> {text}, then press Enter (within {timeout:.0f} s): ")
        self.stream_out.flush()
        loop = asyncio.get_running_loop()
        # a daemon thread: a readline() still blocked after the timeout must not keep us alive
        future: asyncio.Future[str] = loop.create_future()

        def read() -> None:
            try:
                line = self.stream_in.readline()
            except (OSError, ValueError) as exc:  # stdin closed
                _deliver(loop, _set_exception, future, exc)
                return
            _deliver(loop, _set_result, future, line)

        threading.Thread(target=read, name="prompt-reader", daemon=True).start()
        try:
            line = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            self.stream_out.write("\n")
            raise ActuatorError(
                f"the tester did not confirm {text!r} within {timeout:.3g} s (timeouts.manual)"
            ) from None
        except (OSError, ValueError) as exc:
            raise ActuatorError(f"cannot read the tester's confirmation: {exc}") from None
        if line == "":
            raise ActuatorError(f"standard input closed while waiting for {text!r}")

    async def perform(self, action: str, args: dict[str, Any], timeout: float) -> None:
        await self._confirm(prompt_text(action, args), timeout)

    async def settle(self, timeout: float) -> None:
        await self._confirm(describe("settle", {}), timeout)

    async def close(self) -> None:
        return None


def _deliver(loop: asyncio.AbstractEventLoop, fn: Any, future: Any, value: Any) -> None:
    """Hand the reader thread's outcome to the loop, if the loop still runs (a confirmation
    typed after the bound, or after the run ended, is dropped)."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(fn, future, value)


def _set_result(future: asyncio.Future[str], value: str) -> None:
    if not future.done():
        future.set_result(value)


def _set_exception(future: asyncio.Future[str], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
