"""The tasks of the reference 2.0.1 station's transaction half, and its ordered sender.

:class:`Tasks` runs the half's background work (timers, the meter loop, what a CSMS request
starts once its answer went out) so that a power loss can cancel it at once and ``settle`` can
let the follow-ups finish first.

:class:`Outbox` hands the half's messages to the station one at a time, in the order they were
made (TransactionEvent through ``port.send_tx``; StatusNotification, MeterValues and NotifyEvent
through ``port.send``), from one sender task that a power loss does not cancel: the Ended events
it makes must still reach the station's offline queue.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from pile_interop.ocpp.v201.reference.evse_state import Outgoing, logger
from pile_interop.ocpp.v201.reference.station_port import StationPort

#: Real seconds a CSMS request's follow-up waits so that the CALLRESULT goes out first.
AFTER_REPLY_REAL_S = 0.05


class Tasks:
    """The half's volatile background tasks (a power loss cancels them)."""

    def __init__(self) -> None:
        self.running: set[asyncio.Task[Any]] = set()
        #: follow-ups of CSMS requests still to run (remote start, stop, availability …) and
        #: cards being presented: ``settle`` lets them finish first
        self.follow_ups: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=f"evses:{name}")
        self.running.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("task %s failed", task.get_name(), exc_info=task.exception())

    def after_reply(self, work: Callable[[], Any], name: str) -> None:
        """Run ``work`` once the CALLRESULT being returned has gone out."""

        async def run() -> None:
            await asyncio.sleep(AFTER_REPLY_REAL_S)
            outcome = work()
            if asyncio.iscoroutine(outcome):
                await outcome

        task = self.spawn(run(), name)
        self.follow_ups.add(task)
        task.add_done_callback(self.follow_ups.discard)

    async def run_as_follow_up(self, work: Coroutine[Any, Any, None]) -> None:
        """Await ``work`` in the current task, counted as a follow-up meanwhile (``settle``
        waits for it)."""
        task = asyncio.current_task()
        if task is not None:
            self.follow_ups.add(task)
        try:
            await work
        finally:
            if task is not None:
                self.follow_ups.discard(task)

    async def wait_follow_ups(self) -> None:
        """Until the follow-ups started so far (but the current task) are done."""
        current = asyncio.current_task()
        pending = [t for t in self.follow_ups if not t.done() and t is not current]
        if pending:
            await asyncio.wait(pending)

    def cancel_all(self) -> None:
        """Cancel every task but the current one (a power loss)."""
        for task in list(self.running):
            if task is not asyncio.current_task():
                task.cancel()


class Outbox:
    """The half's outgoing messages, handed to the station in order by one sender task."""

    def __init__(self, port: StationPort) -> None:
        self.port = port
        self.items: deque[Outgoing] = deque()
        self.drained = asyncio.Event()
        self.drained.set()
        self._sender: asyncio.Task[None] | None = None

    def enqueue(
        self,
        request: Any,
        *,
        transactional: bool,
        on_result: Callable[[Any], None] | None = None,
    ) -> None:
        self.items.append(Outgoing(request, transactional, on_result))
        self.drained.clear()
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(
                self._send_loop(), name="evses:sender"
            )

    async def _send_loop(self) -> None:
        while self.items:
            item = self.items[0]
            try:
                if item.transactional:
                    result = await self.port.send_tx(item.request)
                else:
                    result = await self.port.send(item.request)
            except Exception:  # the station's business; keep the order going
                logger.exception("sending %s failed", type(item.request).__name__)
                result = None
            self.items.popleft()
            if result is not None and item.on_result is not None:
                try:
                    item.on_result(result)
                except Exception:
                    logger.exception("handling the answer to %s failed", type(item.request))
        self.drained.set()

    async def drain(self, real_timeout: float) -> None:
        """Until everything was handed to the station, ``real_timeout`` real seconds at most."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drained.wait(), real_timeout)

    def pending_tx(self) -> list[Any]:
        """The transaction messages not handed to the station yet."""
        return [o.request for o in self.items if o.transactional]

    def __len__(self) -> int:
        return len(self.items)
