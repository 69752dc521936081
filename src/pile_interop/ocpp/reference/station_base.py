"""The version-neutral machinery of the reference charging stations (1.6 and 2.0.1).

A reference station *owns* one :class:`StationBase` and talks to it both ways: it calls the
base to start, stop, reboot, go offline, spawn tasks or run its boot loop, and the base asks the
station what only the version knows through a small :class:`BasePort` (where to connect and
how, whether the CSMS's subprotocol is the right one, the link of a connection, the
BootNotification and what an answer to it means, the heartbeat interval …). The base calls
every hook through the station, so a mutant that overrides one on the station class changes
what the base does.

What the base runs:

* the connection loop: connect to the station's target, serve the connection until it closes
  or is dropped (network gone, reconnect, reboot), then retry with a back-off that doubles from
  :data:`RECONNECT_BACKOFF_MIN_S` to :data:`RECONNECT_BACKOFF_MAX_S` (a reboot waits
  :data:`BOOT_DELAY_S` and powers on again; a requested reconnect goes at once);
* on each connection: the link's receiver, the station's boot (or resume) and the outbox's
  sender, all cancelled when the connection ends;
* the boot loop: BootNotification until Accepted, not before the interval of the last
  non-Accepted answer (or :data:`DEFAULT_BOOT_RETRY_S` after no answer), unless a trigger asks
  for one now;
* the heartbeat loop, on the station's interval;
* the station's scaled :class:`~pile_interop.core.clock.Clock`, its outgoing queue
  (:class:`~pile_interop.ocpp.reference.outbox.Outbox`) and its tasks: spawned in groups
  (all, this connection's, this boot's), work deferred until a response is written, and a
  cancellation that is bounded in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from pile_interop.core.clock import Clock
from pile_interop.ocpp.reference.outbox import NotSent, Outbox

logger = logging.getLogger(__name__)

ACCEPTED = "Accepted"

# -- protocol-time constants (seconds, run through the station's clock) ----------------------
#: WebSocket opening and closing handshakes.
CONNECT_TIMEOUT_S = 30
CLOSE_TIMEOUT_S = 5
#: Reconnect back-off: doubles from the minimum up to the maximum while connecting fails.
RECONNECT_BACKOFF_MIN_S = 1
RECONNECT_BACKOFF_MAX_S = 60
#: BootNotification retry when the CSMS gave no interval (1.6 §4.2, 2.0.1 B02.FR.07) or did
#: not answer.
DEFAULT_BOOT_RETRY_S = 30
#: How long the simulated reboot takes before the station connects again.
BOOT_DELAY_S = 5

# -- real-time floors (seconds): network timeouts must not shrink to nothing at small scales --
MIN_REAL_RESPONSE_TIMEOUT = 2.0
MIN_REAL_CONNECT_TIMEOUT = 2.0
MIN_REAL_CLOSE_TIMEOUT = 0.5
MIN_REAL_PING_TIMEOUT = 5.0
#: :meth:`StationBase.stop` waits at most this long for its tasks to end.
STOP_TIMEOUT_REAL = 5.0
#: Cancelled tasks that have not ended after this long are cancelled again: on Python 3.11
#: ``asyncio.wait_for`` can swallow a cancellation that races with its result (gh-86296).
CANCEL_RETRY_REAL = 0.05


async def cancel_and_wait(tasks: list[asyncio.Task[Any]], timeout: float) -> None:
    """Cancel ``tasks`` (again and again) until they end, for at most ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        remaining = deadline - loop.time()
        if remaining <= 0:
            logger.warning("tasks did not end: %s", [t.get_name() for t in pending])
            return
        _, pending = await asyncio.wait(pending, timeout=min(CANCEL_RETRY_REAL, remaining))


def websocket_options(
    clock: Clock, *, subprotocols: list[str] | None, headers: dict[str, str], ping: int
) -> dict[str, Any]:
    """``websockets.connect`` arguments: handshake and close time-outs on the station's clock
    (with real-time floors), pings every ``ping`` protocol seconds (0: none), no compression,
    no proxy."""
    return {
        "subprotocols": None if subprotocols is None else [Subprotocol(p) for p in subprotocols],
        "additional_headers": headers or None,
        "compression": None,
        "proxy": None,
        "open_timeout": max(clock.real(CONNECT_TIMEOUT_S), MIN_REAL_CONNECT_TIMEOUT),
        "close_timeout": max(clock.real(CLOSE_TIMEOUT_S), MIN_REAL_CLOSE_TIMEOUT),
        "ping_interval": clock.real(ping) if ping > 0 else None,
        "ping_timeout": max(clock.real(ping), MIN_REAL_PING_TIMEOUT) if ping else None,
    }


class BaseLink(Protocol):
    """What the base uses of a connection's link (an ``ocpp`` ChargePoint)."""

    async def start(self) -> None:
        """Receive and route frames until the connection closes."""
        ...

    async def send_call(self, payload: Any, **kwargs: Any) -> Any:
        """Send a CALL and return its result (the outbox's sender)."""
        ...


class BasePort(Protocol):
    """What the base asks the version's station (the reference station implements it)."""

    station_id: str
    log: logging.Logger
    #: status of the last BootNotification answer (None: not registered)
    registration: str | None

    def power_on(self) -> None:
        """A fresh boot: what starts at power-on, whatever the connection."""
        ...

    def connect_target(self) -> tuple[str, dict[str, Any]]:
        """The URL and ``websockets.connect`` arguments of the next connection attempt."""
        ...

    async def serve_connection(self, ws: ClientConnection) -> None:
        """Serve an open connection (normally :meth:`StationBase.serve`) until it ends."""
        ...

    def subprotocol_agreed(self, agreed: str | None) -> bool:
        """Whether the subprotocol the CSMS agreed to is the station's."""
        ...

    def open_link(self, ws: ClientConnection) -> BaseLink:
        """The link that speaks the version's OCPP over ``ws``."""
        ...

    def on_link_open(self, link: Any) -> None:
        """The connection is up: spawn the boot (or resume a registration)."""
        ...

    def on_connect_error(self, exc: BaseException) -> None:
        """A connection attempt failed (before or while serving it)."""
        ...

    def on_disconnected(self, opened: bool) -> None:
        """The connection (``opened``: one was open) has ended."""
        ...

    async def call_boot_notification(self, link: Any, triggered: bool) -> Any:
        """Send the BootNotification over ``link`` and return its answer."""
        ...

    def boot_retry_interval(self, interval: int) -> int:
        """Protocol seconds until the next BootNotification after a non-Accepted answer."""
        ...

    def heartbeat_interval(self) -> int:
        """Protocol seconds between Heartbeats (0: none)."""
        ...

    async def send_heartbeat(self) -> None:
        """Send (or queue) one Heartbeat."""
        ...


class StationBase:
    """Connection loop, boot loop, heartbeat, clock and tasks of one reference station."""

    def __init__(
        self,
        port: BasePort,
        *,
        time_scale: float,
        max_attempts: Callable[[], int],
        retry_interval: Callable[[], int],
        validate: Callable[[], bool],
    ) -> None:
        """``time_scale``: real seconds per protocol second; the outbox retries transaction
        messages ``max_attempts()`` times, ``retry_interval()`` protocol seconds apart, and
        checks outgoing payloads against the schemas while ``validate()``."""
        self.port = port
        #: protocol time: every timer of the station runs on it
        self.clock = Clock(time_scale)
        #: the one FIFO of outgoing CALLs
        self.outbox = Outbox(
            self.clock,
            max_attempts=max_attempts,
            retry_interval=retry_interval,
            validate=validate,
        )
        #: Set while a websocket is open and the station is registered.
        self.connected = asyncio.Event()
        #: the link of the open connection (None between connections)
        self.link: Any = None
        #: clear while the network is away (:meth:`go_offline`)
        self.network_up = asyncio.Event()
        self.network_up.set()
        #: wakes the connection loop from its back-off or its wait for the network
        self.wake = asyncio.Event()
        #: ends the open connection
        self.drop = asyncio.Event()
        #: a trigger asks for a BootNotification now
        self.boot_now = asyncio.Event()
        self.rebooting = False
        #: reconnect at once, without back-off (set by :meth:`reconnect`)
        self.reconnect_now = False
        self.stopping = False
        #: station-clock monotonic seconds before which no BootNotification goes out
        self.next_boot_at = 0.0
        self.heartbeat_task: asyncio.Task[None] | None = None
        #: every task, this connection's, and this boot's (cancelled by a reboot)
        self.tasks: set[asyncio.Task[Any]] = set()
        self.conn_tasks: set[asyncio.Task[Any]] = set()
        self.boot_tasks: set[asyncio.Task[Any]] = set()
        self._main: asyncio.Task[None] | None = None
        self._after_reply: list[Callable[[], Awaitable[None] | None]] = []

    @property
    def log(self) -> logging.Logger:
        return self.port.log

    @property
    def station_id(self) -> str:
        return self.port.station_id

    # ======================================================================================
    # lifecycle
    # ======================================================================================

    async def start(self) -> None:
        """Power on and keep a connection to the CSMS (reconnecting) until :meth:`stop`."""
        if self._main is not None and not self._main.done():
            return
        self.stopping = False
        self.power_on()
        self._main = asyncio.create_task(self._run(), name=f"{self.station_id}:main")

    async def stop(self) -> None:
        """Close the connection and cancel every task. Idempotent, bounded in time."""
        self.stopping = True
        tasks = [
            t
            for t in (self._main, *self.tasks)
            if t is not None and t is not asyncio.current_task()
        ]
        await cancel_and_wait(tasks, STOP_TIMEOUT_REAL)
        self._main = None
        self.link = None
        self.connected.clear()
        self.outbox.open.clear()
        self.port.registration = None

    def power_on(self) -> None:
        """A fresh boot: the next BootNotification may go at once."""
        self.next_boot_at = 0.0
        self.boot_now.clear()
        self.port.power_on()

    def reboot(self) -> None:
        """Drop the connection and what is volatile; boot again after BOOT_DELAY_S."""
        self.port.registration = None
        self.connected.clear()
        self.outbox.open.clear()
        self.outbox.drop_volatile()
        self.rebooting = True
        self.drop.set()
        self.wake.set()

    def go_offline(self) -> None:
        """The network goes away: close the socket, no reconnect until :meth:`go_online`."""
        self.network_up.clear()
        self.drop.set()
        self.connected.clear()
        self.outbox.open.clear()

    def go_online(self) -> None:
        self.network_up.set()
        self.wake.set()

    def reconnect(self) -> None:
        """Close the connection and open a new one at once (no reboot)."""
        self.reconnect_now = True
        self.connected.clear()
        self.outbox.open.clear()
        self.drop.set()

    async def result_of(self, future: asyncio.Future[Any], action: str, timeout: float) -> Any:
        """The result of a queued CALL; None when it was not sent or not answered within
        ``timeout`` real seconds."""
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except (NotSent, TimeoutError) as exc:
            self.log.info("%s: %s not answered: %r", self.station_id, action, exc)
            return None

    def link_up(self) -> bool:
        """A connection is open and not being dropped."""
        return self.link is not None and self.network_up.is_set() and not self.drop.is_set()

    # ======================================================================================
    # connection
    # ======================================================================================

    async def _run(self) -> None:
        backoff = RECONNECT_BACKOFF_MIN_S
        while not self.stopping:
            if self.rebooting:
                await self.clock.sleep(BOOT_DELAY_S)
                self.rebooting = False
                self.power_on()
                backoff = RECONNECT_BACKOFF_MIN_S
            if not self.network_up.is_set():
                self.wake.clear()
                await self.wake.wait()
                continue
            self.drop.clear()
            self.reconnect_now = False
            url, kwargs = self.port.connect_target()
            opened = False
            try:
                async with connect(url, **kwargs) as ws:
                    opened = True
                    backoff = RECONNECT_BACKOFF_MIN_S
                    await self.port.serve_connection(ws)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # OSError, InvalidHandshake, TimeoutError, SSLError …
                self.log.info("%s: connection to %s failed: %r", self.station_id, url, exc)
                self.port.on_connect_error(exc)
            self._on_disconnected(opened)
            if (
                self.stopping
                or self.rebooting
                or self.reconnect_now
                or not self.network_up.is_set()
            ):
                continue
            self.wake.clear()
            await self._sleep_or_wake(backoff)
            backoff = min(backoff * 2, RECONNECT_BACKOFF_MAX_S)

    async def serve(self, ws: ClientConnection) -> None:
        """Serve ``ws``: the link's receiver, the boot (or resume) and the outbox's sender,
        until the CSMS closes the connection or the station drops it."""
        if not self.port.subprotocol_agreed(ws.subprotocol):
            # OCPP-J: without an agreed subprotocol the connection is not OCPP.
            self.log.error(
                "%s: CSMS did not agree to the station's subprotocol (%r); closing",
                self.station_id,
                ws.subprotocol,
            )
            return
        if self.drop.is_set():
            return
        link = self.port.open_link(ws)
        self.link = link
        receiver = self.spawn(link.start(), "receive", self.conn_tasks)
        self.port.on_link_open(link)
        self.spawn(self.outbox.run(link.send_call), "sender", self.conn_tasks)
        dropper = asyncio.create_task(self.drop.wait())
        try:
            await asyncio.wait({receiver, dropper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            dropper.cancel()
            await self.cancel(self.conn_tasks)
            self.link = None

    def _on_disconnected(self, opened: bool) -> None:
        self.connected.clear()
        self.outbox.open.clear()
        self.outbox.drop_volatile()
        self.heartbeat_task = None
        self.port.on_disconnected(opened)

    async def _sleep_or_wake(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), self.clock.real(seconds))

    # ======================================================================================
    # boot and heartbeat
    # ======================================================================================

    async def boot_loop(self, link: Any, on_accepted: Callable[[Any], Awaitable[None]]) -> None:
        """BootNotification over ``link`` until Accepted, then ``on_accepted(answer)``."""
        while True:
            wait = self.next_boot_at - self.clock.monotonic()
            if wait > 0 and not self.boot_now.is_set():
                # not before the interval of the last non-Accepted answer, unless triggered
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.boot_now.wait(), self.clock.real(wait))
            triggered = self.boot_now.is_set()
            self.boot_now.clear()
            try:
                conf = await self.port.call_boot_notification(link, triggered)
            except ConnectionClosed:
                return
            except Exception as exc:
                self.log.warning("%s: BootNotification failed: %r", self.station_id, exc)
                self.next_boot_at = self.clock.monotonic() + DEFAULT_BOOT_RETRY_S
                continue
            self.port.registration = str(conf.status)
            self.log.info("%s: BootNotification %s", self.station_id, conf.status)
            if conf.status == ACCEPTED:
                await on_accepted(conf)
                return
            retry = self.port.boot_retry_interval(conf.interval)
            self.next_boot_at = self.clock.monotonic() + retry

    def restart_heartbeat(self) -> None:
        """(Re)start the heartbeat on the current interval while connected."""
        if self.heartbeat_task is not None:
            self.heartbeat_task.cancel()
            self.heartbeat_task = None
        if self.connected.is_set():
            self.heartbeat_task = self.spawn(self._heartbeat_loop(), "heartbeat", self.conn_tasks)

    async def _heartbeat_loop(self) -> None:
        # A fixed period keeps the reference deterministic; a heartbeat interval is the
        # longest inactivity allowed, which a fixed period never exceeds.
        while True:
            interval = self.port.heartbeat_interval()
            if interval <= 0:
                return
            await self.clock.sleep(interval)
            await self.port.send_heartbeat()

    # ======================================================================================
    # tasks
    # ======================================================================================

    def defer(self, work: Callable[[], Awaitable[None] | None]) -> None:
        """Run ``work`` once the response to the CALL being handled has been sent."""
        self._after_reply.append(work)

    def run_after_reply(self) -> None:
        if not self._after_reply:
            return
        works, self._after_reply = self._after_reply, []

        async def run() -> None:
            for work in works:
                outcome = work()
                if outcome is not None:
                    await outcome

        self.spawn(run(), "after-reply")

    def spawn(
        self,
        coro: Coroutine[Any, Any, Any],
        name: str,
        group: set[asyncio.Task[Any]] | None = None,
    ) -> asyncio.Task[Any]:
        """A task of the station (named after it), also in ``group`` if given."""
        task = asyncio.create_task(coro, name=f"{self.station_id}:{name}")
        self.tasks.add(task)
        if group is not None:
            group.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        self.conn_tasks.discard(task)
        self.boot_tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None and not isinstance(exc, ConnectionClosed):
            self.log.error("%s: task %s failed", self.station_id, task.get_name(), exc_info=exc)

    async def cancel(self, group: set[asyncio.Task[Any]]) -> None:
        """Cancel the tasks of ``group`` (but the calling one), bounded in time."""
        tasks = [t for t in group if t is not asyncio.current_task()]
        await cancel_and_wait(tasks, STOP_TIMEOUT_REAL)
