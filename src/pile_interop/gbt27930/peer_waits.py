"""How a GB/T 27930 peer waits: conditions bounded by receive timeouts, cut short by stops.

:class:`Waits` is the one place a peer's session waits. :meth:`Waits.until` waits for a
condition, raises :class:`~.states.PeerTimeout` when one of its :class:`~.states.Watch` objects
expires and the pending interruption (the peer's error message, a stop) when it is
interruptible. Every wait is re-checked at least every :data:`IDLE_POLL_S` protocol seconds and
whenever something happens (:meth:`Waits.wake`); every wait runs on the scalable clock.
:func:`cancel_task` ends the peer's tasks, bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from pile_interop.core.clock import Clock
from pile_interop.gbt27930.records import Message
from pile_interop.gbt27930.states import PeerFault, PeerTimeout, Watch

logger = logging.getLogger(__name__)

IDLE_POLL_S = 1.0
"""Longest single wait inside a state-machine wait: every wait is bounded and re-checked."""
STOP_WAIT_S = 2.0
"""Real seconds :func:`cancel_task` waits for a task to end."""
CANCEL_STEP = 0.05
"""Real seconds between two cancellations of a task that has not ended yet."""


class Waits:
    """The waits of one peer's session, and what interrupts them."""

    def __init__(
        self,
        clock: Clock,
        name: str,
        *,
        held: Callable[[], bool],
        last: Mapping[str, Message],
    ) -> None:
        """``held``: whether the peer's own receive timeouts are held now (fault injection);
        ``last``: the last message received, by name (what a :class:`Watch` supervises)."""
        self.clock = clock
        self.name = name
        self.pending: BaseException | None = None
        """The interruption the session's current (or next) interruptible wait raises."""
        self._held = held
        self._last = last
        self._changed = asyncio.Event()
        self._watchers: set[asyncio.Event] = set()

    def interrupt(self, exc: BaseException) -> None:
        """Hand ``exc`` to the session's current wait (a fault outranks a stop)."""
        if isinstance(self.pending, PeerFault) and not isinstance(exc, PeerFault):
            return
        self.pending = exc
        self.wake()

    async def until(
        self,
        done: Callable[[], bool],
        *watches: Watch,
        interruptible: bool = True,
        bound: float | None = None,
    ) -> None:
        """Wait until ``done()``; raise :class:`PeerTimeout` when a watch expires, the pending
        interruption (stop, peer error) when ``interruptible``; return at ``bound``."""
        while True:
            if interruptible and self.pending is not None:
                exc, self.pending = self.pending, None
                raise exc
            if done():
                return
            now = self.clock.monotonic()
            wait = IDLE_POLL_S
            held = self._held()
            for watch in watches:
                if held and not watch.always:
                    continue
                seen = self._last.get(watch.message)
                deadline = watch.deadline(None if seen is None else seen.t)
                if now >= deadline:
                    raise PeerTimeout(watch)
                wait = min(wait, deadline - now)
            if bound is not None:
                if now >= bound:
                    return
                wait = min(wait, bound - now)
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), self.clock.real(max(wait, 0.0)))

    async def sleep(self, seconds: float, *, interruptible: bool = True) -> None:
        """Protocol seconds of waiting that a stop or a peer error can cut short."""
        bound = self.clock.monotonic() + seconds
        await self.until(lambda: False, interruptible=interruptible, bound=bound)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> None:
        """Wait (``timeout`` protocol seconds) until ``predicate()`` holds; re-checked after
        each message, event and phase change. ``TimeoutError`` when it never did."""
        deadline = self.clock.monotonic() + timeout
        while not predicate():
            left = deadline - self.clock.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.name}: condition not met within {timeout:g} s")
            event = asyncio.Event()
            self._watchers.add(event)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), self.clock.real(min(left, IDLE_POLL_S)))
            finally:
                self._watchers.discard(event)

    def changed(self) -> None:
        """Something the session's wait may be waiting for happened (a transmission due)."""
        self._changed.set()

    def wake(self) -> None:
        """Re-check the session's wait and every :meth:`wait_until`."""
        self._changed.set()
        self.notify()

    def notify(self) -> None:
        """Re-check every :meth:`wait_until` (a message or an event was recorded)."""
        for event in list(self._watchers):
            event.set()


async def cancel_task(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait for it (bounded). The cancellation is repeated: Python 3.11's
    ``asyncio.wait_for`` loses a cancellation that comes while its inner future completes
    (gh-86296), and our waits are ``wait_for`` on queues and events."""
    deadline = time.monotonic() + STOP_WAIT_S
    while not task.done():
        left = deadline - time.monotonic()
        if left <= 0:
            logger.warning("task %s did not end within %s s", task.get_name(), STOP_WAIT_S)
            return
        task.cancel()
        await asyncio.wait({task}, timeout=min(CANCEL_STEP, left))
