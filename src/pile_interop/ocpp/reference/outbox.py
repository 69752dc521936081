"""The reference station's outgoing CALL queue (OCPP 1.6 §3.7 transaction-related messages).

One FIFO for every CALL the station sends after BootNotification was accepted, so the order on
the wire is the order in which things happened. Transaction-related messages (StartTransaction,
StopTransaction, MeterValues with a transactionId) stay queued while the station is offline or
not yet accepted and survive reboots; any other CALL is refused at once in that case.

On a CALLERROR or a time-out, a transaction-related message is tried again, up to
TransactionMessageAttempts transmissions, waiting TransactionMessageRetryInterval multiplied by
the number of preceding transmissions before each retry (§3.7 / §9.1 TransactionMessageAttempts,
TransactionMessageRetryInterval); after the last attempt it is dropped. Other CALLs are sent once.

Payloads are built when they are sent, so a StopTransaction queued while offline carries the
transactionId that the earlier StartTransaction.conf brings in.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed

from pile_interop.core.clock import Clock

logger = logging.getLogger(__name__)


class NotSent(Exception):
    """A CALL was not sent: offline, not accepted, or a CALLERROR / time-out on its last attempt."""


@dataclass(eq=False)
class Outgoing:
    """One queued CALL."""

    action: str
    build: Callable[[], Any]
    transactional: bool
    future: asyncio.Future[Any]
    on_result: Callable[[Any], Awaitable[None] | None] | None = None
    on_give_up: Callable[[], Awaitable[None] | None] | None = None
    attempts: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class Outbox:
    """FIFO of outgoing CALLs with transaction-message retries."""

    def __init__(
        self,
        clock: Clock,
        *,
        max_attempts: Callable[[], int],
        retry_interval: Callable[[], int],
        validate: Callable[[], bool],
    ) -> None:
        self._clock = clock
        self._max_attempts = max_attempts
        self._retry_interval = retry_interval
        self._validate = validate
        self._items: deque[Outgoing] = deque()
        self._changed = asyncio.Event()
        self.drained = asyncio.Event()
        self.drained.set()
        #: Set while the station may send (BootNotification Accepted and boot statuses sent).
        self.open = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    def actions(self) -> list[str]:
        return [item.action for item in self._items]

    def put(
        self,
        action: str,
        build: Callable[[], Any],
        *,
        transactional: bool,
        on_result: Callable[[Any], Awaitable[None] | None] | None = None,
        on_give_up: Callable[[], Awaitable[None] | None] | None = None,
    ) -> asyncio.Future[Any]:
        """Queue a CALL; a non-transactional one is refused unless the outbox is open."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if not transactional and not self.open.is_set():
            future.set_exception(NotSent(f"{action}: station offline or not accepted"))
            future.exception()  # mark retrieved: callers may ignore a dropped notification
            logger.debug("dropped %s (not connected/accepted)", action)
            return future
        self._items.append(Outgoing(action, build, transactional, future, on_result, on_give_up))
        self.drained.clear()
        self._changed.set()
        return future

    def drop_volatile(self) -> None:
        """Fail every queued non-transactional CALL (the connection is gone)."""
        kept: deque[Outgoing] = deque()
        for item in self._items:
            if item.transactional:
                kept.append(item)
            elif not item.future.done():
                item.future.set_exception(NotSent(f"{item.action}: connection lost"))
                item.future.exception()
        self._items = kept
        if not self._items:
            self.drained.set()

    def cancel_all(self) -> None:
        """Fail everything (the station is stopped)."""
        for item in self._items:
            if not item.future.done():
                item.future.set_exception(NotSent(f"{item.action}: station stopped"))
                item.future.exception()
        self._items.clear()
        self.drained.set()

    def _pop(self, item: Outgoing) -> None:
        if item in self._items:
            self._items.remove(item)
        if not self._items:
            self.drained.set()

    async def run(self, call: Callable[..., Awaitable[Any]]) -> None:
        """Send queued CALLs through ``call`` (``ChargePoint.call``) until the connection closes."""
        while True:
            await self.open.wait()
            if not self._items:
                self._changed.clear()
                await self._changed.wait()
                continue
            item = self._items[0]
            try:
                payload = item.build()
            except NotSent as exc:
                logger.warning("%s not sent: %s", item.action, exc)
                await self._give_up(item, exc)
                continue
            try:
                result = await call(
                    payload, suppress=False, skip_schema_validation=not self._validate()
                )
            except ConnectionClosed:
                logger.info("connection closed while sending %s; it stays queued", item.action)
                return
            except Exception as exc:  # CALLERROR (OCPPError), time-out, invalid response
                item.attempts += 1
                if item.transactional and item.attempts < max(1, self._max_attempts()):
                    wait = self._retry_interval() * item.attempts
                    logger.warning(
                        "%s failed (%r); attempt %d, retry in %ss",
                        item.action,
                        exc,
                        item.attempts,
                        wait,
                    )
                    await self._clock.sleep(wait)
                    continue
                logger.warning("%s failed (%r); giving up", item.action, exc)
                await self._give_up(item, exc)
                continue
            self._pop(item)
            if item.on_result is not None:
                outcome = item.on_result(result)
                if outcome is not None:
                    await outcome
            if not item.future.done():
                item.future.set_result(result)

    async def _give_up(self, item: Outgoing, exc: BaseException) -> None:
        self._pop(item)
        if item.on_give_up is not None:
            outcome = item.on_give_up()
            if outcome is not None:
                await outcome
        if not item.future.done():
            item.future.set_exception(NotSent(f"{item.action}: {exc!r}"))
            item.future.exception()
