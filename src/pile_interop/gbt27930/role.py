"""The suite as one side of GB/T 27930: the BMS of a charger under test, or the charger of a
BMS under test. Its mock peer is the reference state machine of that side; ``peer:`` steps
change how it behaves (stop sending a message, send a value out of range, pause …)."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from typing import Any

from pile_interop.actuators.base import ActuatorError
from pile_interop.core.case import CaseContext
from pile_interop.core.frames import IN
from pile_interop.core.verdicts import HarnessError
from pile_interop.gbt27930.link import CanLink
from pile_interop.gbt27930.peer import Peer27930

log = logging.getLogger(__name__)

#: The mock peer's behaviours a case may switch with ``peer:`` steps.
PEER_ACTIONS = frozenset(
    {
        "connect",
        "disconnect",
        "suppress",
        "override",
        "clear_overrides",
        "emergency_stop",
        "insulation_fault",
        "request_stop",
        "set",
        "pause",
        "resume",
    }
)
#: How often the before-phase looks whether the bus went quiet.
_POLL_S = 0.02


class PeerRole:
    """Before each case: the mock peer unplugged with every override and suppression gone,
    the SUT back to idle (the actuator settles it), and the bus quiet (no message from the
    SUT for ``timeouts.quiet``)."""

    def __init__(self, peer: Peer27930, link: CanLink, variant: str) -> None:
        self.mock = peer
        self.link = link
        self.label = f"GB/T 27930-{variant}"

    def _reset_peer(self) -> None:
        self.mock.clear_overrides()
        for name in list(self.mock.suppressed):
            self.mock.suppress(name, False)

    async def prepare(self, run: CaseContext) -> None:
        with run.before_record("both sides unplugged, the bus quiet"):
            await self.mock.disconnect()
            self._reset_peer()
            try:
                await run.env.actuator.settle(run.timing.upper("settle"))
            except ActuatorError as exc:
                raise HarnessError(f"could not bring the SUT to idle: {exc}") from None
            await self._quiet(run)

    async def _quiet(self, run: CaseContext) -> None:
        quiet = run.timing.lower("quiet")
        bound = run.timing.upper("settle")
        deadline = time.monotonic() + bound
        while True:
            last = self.link.log.last_mono.get(IN)  # kept even when the log was emptied
            now = time.monotonic()
            if last is None or now - last >= quiet:
                return
            if now >= deadline:
                raise HarnessError(
                    f"the SUT kept sending for {bound:.3g} s after it was unplugged "
                    f"({run.timing.describe('settle')}); awaited {quiet:.3g} s of silence "
                    f"({run.timing.describe('quiet', upper=False)})"
                )
            await asyncio.sleep(_POLL_S)  # a bounded poll of the frame log

    async def restore(self, run: CaseContext) -> None:
        self._reset_peer()

    async def peer(self, run: CaseContext, action: str, args: dict[str, Any]) -> str:
        if action not in PEER_ACTIONS:
            known = ", ".join(sorted(PEER_ACTIONS))
            raise HarnessError(f"peer: {action}: not a behaviour of the mock peer ({known})")
        method = getattr(self.mock, action, None)
        if method is None:
            raise HarnessError(f"peer: {action}: the mock {self.mock.ROLE} cannot do that")
        try:
            outcome = method(**args)
            if inspect.isawaitable(outcome):
                await outcome
        except (TypeError, ValueError) as exc:
            raise HarnessError(f"peer: {action} {args}: {exc}") from None
        shown = ", ".join(f"{k}={v}" for k, v in args.items())
        return f"mock {self.mock.ROLE}: {action}({shown})"
