"""Core of the reference OCPP 1.6J station: connection, boot, heartbeat, outbox, status.

The first layer of :class:`~pile_interop.ocpp.v16.reference.station.ReferenceStation` (see there for
the public API and the list of hooks). Every timer runs on the station's scaled
:class:`~pile_interop.core.clock.Clock`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import ssl as ssl_module
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, cast

from ocpp.v16 import call
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus, RegistrationStatus
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from pile_interop.core.clock import Clock, parse_iso, utc_iso
from pile_interop.ocpp.reference.meter import EnergyMeter
from pile_interop.ocpp.reference.outbox import NotSent, Outbox
from pile_interop.ocpp.v16.reference.station_config import Config
from pile_interop.ocpp.v16.reference.station_link import StationLink
from pile_interop.ocpp.v16.reference.station_model import AuthCache, Connector

if TYPE_CHECKING:
    from pile_interop.ocpp.v16.reference.station import ReferenceStation

logger = logging.getLogger(__name__)

SUBPROTOCOL = "ocpp1.6"

# -- protocol-time constants (seconds, run through the station's clock) ----------------------
#: How long a CALL waits for its response (OCPP-J leaves the value to the implementation).
RESPONSE_TIMEOUT_S = 30
#: WebSocket opening and closing handshakes.
CONNECT_TIMEOUT_S = 30
CLOSE_TIMEOUT_S = 5
#: Reconnect back-off: doubles from the minimum up to the maximum while connecting fails.
RECONNECT_BACKOFF_MIN_S = 1
RECONNECT_BACKOFF_MAX_S = 60
#: BootNotification retry when the CSMS gave no interval (§4.2: "If that interval value is
#: zero, the Charge Point chooses a waiting interval on its own") or did not answer.
DEFAULT_BOOT_RETRY_S = 30
#: How long the simulated reboot takes before the station connects again.
BOOT_DELAY_S = 5

# -- real-time floors (seconds): network timeouts must not shrink to nothing at small scales --
MIN_REAL_RESPONSE_TIMEOUT = 2.0
MIN_REAL_CONNECT_TIMEOUT = 2.0
MIN_REAL_CLOSE_TIMEOUT = 0.5
MIN_REAL_PING_TIMEOUT = 5.0
#: :meth:`ReferenceStation.stop` waits at most this long for its tasks to end.
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


class StationCore:
    """Connection, boot, heartbeat, outgoing queue and status reporting."""

    #: Our vendorId for DataTransfer (both directions).
    vendor_id = "pile-interop"
    #: Check outgoing requests against the 1.6 JSON schemas before sending. A mutant that
    #: must put an invalid payload on the wire sets this to False.
    validate_outgoing = True

    def __init__(
        self,
        csms_url: str,
        station_id: str,
        *,
        connectors: int = 2,
        time_scale: float = 1.0,
        password: str | None = None,
        ssl: ssl_module.SSLContext | None = None,
        vendor: str = "pile-interop",
        model: str = "RefStation16",
        serial: str = "REF-0001",
        firmware: str = "0.1.0",
        config: dict[str, str] | None = None,
        fixed_cable: bool = False,
        logger: logging.Logger | None = None,
    ) -> None:
        if connectors < 1:
            raise ValueError("a station needs at least one connector")
        if not csms_url.startswith(("ws://", "wss://")):
            raise ValueError(f"CSMS URL must be ws:// or wss://, got {csms_url!r}")
        if ssl is not None and not csms_url.startswith("wss://"):
            raise ValueError("an SSL context needs a wss:// CSMS URL")
        self.csms_url = csms_url
        self.station_id = station_id
        self.url = f"{csms_url.rstrip('/')}/{station_id}"
        self.password = password
        self.ssl = ssl
        self.vendor, self.model, self.serial, self.firmware = vendor, model, serial, firmware
        self.fixed_cable = fixed_cable
        self.log = logger or logging.getLogger(
            f"pile_interop.ocpp.v16.reference.station.{station_id}"
        )
        self.clock = Clock(time_scale)
        self.config = Config(connectors, config)
        self.cache = AuthCache()
        self.connectors: dict[int, Connector] = {
            n: Connector(n, EnergyMeter(self.clock)) for n in range(connectors + 1)
        }
        self.outbox = Outbox(
            self.clock,
            max_attempts=lambda: self.config.get_int("TransactionMessageAttempts"),
            retry_interval=lambda: self.config.get_int("TransactionMessageRetryInterval"),
            validate=lambda: self.validate_outgoing,
        )
        #: Set while a websocket is open and BootNotification was Accepted.
        self.connected = asyncio.Event()
        #: Status of the last BootNotification.conf on this connection (None before one).
        self.registration: str | None = None
        self._link: StationLink | None = None
        self._main: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._conn_tasks: set[asyncio.Task[Any]] = set()
        self._boot_tasks: set[asyncio.Task[Any]] = set()
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._aligned_task: asyncio.Task[None] | None = None
        self._network_up = asyncio.Event()
        self._network_up.set()
        self._wake = asyncio.Event()
        self._drop = asyncio.Event()
        self._rebooting = False
        self._stopping = False
        self._after_reply: list[Callable[[], Awaitable[None] | None]] = []
        self._tx_ref = 0
        self._next_boot_at = 0.0

    # ======================================================================================
    # lifecycle
    # ======================================================================================

    async def start(self) -> None:
        """Power on and keep a connection to the CSMS (reconnecting) until :meth:`stop`."""
        if self._main is not None and not self._main.done():
            return
        self._stopping = False
        self._power_on()
        self._main = asyncio.create_task(self._run(), name=f"{self.station_id}:main")

    async def stop(self) -> None:
        """Close the connection and cancel every task. Idempotent, bounded in time."""
        self._stopping = True
        tasks = [
            t
            for t in (self._main, *self._tasks)
            if t is not None and t is not asyncio.current_task()
        ]
        await cancel_and_wait(tasks, STOP_TIMEOUT_REAL)
        self._main = None
        self._link = None
        self.connected.clear()
        self.outbox.open.clear()
        self.registration = None

    async def _run(self) -> None:
        backoff = RECONNECT_BACKOFF_MIN_S
        while not self._stopping:
            if self._rebooting:
                await self.clock.sleep(BOOT_DELAY_S)
                self._rebooting = False
                self._power_on()
                backoff = RECONNECT_BACKOFF_MIN_S
            if not self._network_up.is_set():
                self._wake.clear()
                await self._wake.wait()
                continue
            self._drop.clear()
            try:
                async with connect(self.url, **self._connect_kwargs()) as ws:
                    backoff = RECONNECT_BACKOFF_MIN_S
                    await self._serve_connection(ws)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # OSError, InvalidHandshake, TimeoutError, ConnectionClosed
                self.log.info("%s: connection to %s failed: %r", self.station_id, self.url, exc)
            self._on_disconnected()
            if self._stopping or self._rebooting or not self._network_up.is_set():
                continue
            self._wake.clear()
            await self._sleep_or_wake(backoff)
            backoff = min(backoff * 2, RECONNECT_BACKOFF_MAX_S)

    def _connect_kwargs(self) -> dict[str, Any]:
        headers: dict[str, str] = {}
        if self.password is not None:
            # Security profile 1: HTTP Basic auth, user = station id (OCPP 1.6 security
            # whitepaper §2.3 / OCPP-J "Basic Authentication").
            token = base64.b64encode(f"{self.station_id}:{self.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        ping = self.config.get_int("WebSocketPingInterval")
        kwargs: dict[str, Any] = {
            "subprotocols": [Subprotocol(SUBPROTOCOL)],
            "additional_headers": headers or None,
            "compression": None,
            "proxy": None,
            "open_timeout": max(self.clock.real(CONNECT_TIMEOUT_S), MIN_REAL_CONNECT_TIMEOUT),
            "close_timeout": max(self.clock.real(CLOSE_TIMEOUT_S), MIN_REAL_CLOSE_TIMEOUT),
            "ping_interval": self.clock.real(ping) if ping > 0 else None,
            "ping_timeout": max(self.clock.real(ping), MIN_REAL_PING_TIMEOUT) if ping else None,
        }
        if self.ssl is not None:
            kwargs["ssl"] = self.ssl
        return kwargs

    def response_timeout(self) -> float:
        """Real seconds a CALL waits for its CALLRESULT / CALLERROR."""
        return max(self.clock.real(RESPONSE_TIMEOUT_S), MIN_REAL_RESPONSE_TIMEOUT)

    async def _serve_connection(self, ws: ClientConnection) -> None:
        if ws.subprotocol != SUBPROTOCOL:
            # OCPP-J §3.1: without an agreed subprotocol the connection is not OCPP 1.6.
            self.log.error("%s: CSMS did not agree to %s; closing", self.station_id, SUBPROTOCOL)
            return
        if self._drop.is_set():
            return
        link = StationLink(
            cast("ReferenceStation", self), ws, response_timeout=self.response_timeout()
        )
        self._link = link
        self.log.info("%s: connected to %s", self.station_id, self.url)
        receiver = self._spawn(link.start(), "receive", self._conn_tasks)
        self._spawn(self._boot_sequence(link), "boot", self._conn_tasks)
        self._spawn(self.outbox.run(link.call), "sender", self._conn_tasks)
        dropper = asyncio.create_task(self._drop.wait())
        try:
            await asyncio.wait({receiver, dropper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            dropper.cancel()
            await self._cancel(self._conn_tasks)
            self._link = None

    def _on_disconnected(self) -> None:
        self.registration = None
        self.connected.clear()
        self.outbox.open.clear()
        self.outbox.drop_volatile()
        self._heartbeat_task = None

    async def _sleep_or_wake(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.clock.real(seconds))

    # -- boot ---------------------------------------------------------------------------------

    async def _boot_sequence(self, link: StationLink) -> None:
        while True:
            wait = self._next_boot_at - self.clock.monotonic()
            if wait > 0:
                # §4.2: not before the interval of the previous non-Accepted conf expired.
                await self.clock.sleep(wait)
            try:
                conf = await link.call(
                    self.boot_notification_payload(),
                    suppress=False,
                    skip_schema_validation=not self.validate_outgoing,
                )
            except ConnectionClosed:
                return
            except Exception as exc:
                self.log.warning("%s: BootNotification failed: %r", self.station_id, exc)
                self._next_boot_at = self.clock.monotonic() + DEFAULT_BOOT_RETRY_S
                continue
            self.registration = str(conf.status)
            self.log.info("%s: BootNotification %s", self.station_id, conf.status)
            if conf.status == RegistrationStatus.accepted:
                await self.on_boot_accepted(conf)
                return
            # Pending: answer the CSMS but send nothing else; Rejected: not even answer.
            interval = conf.interval if conf.interval > 0 else DEFAULT_BOOT_RETRY_S
            self._next_boot_at = self.clock.monotonic() + interval

    def boot_notification_payload(self) -> call.BootNotification:
        return call.BootNotification(
            charge_point_model=self.model,
            charge_point_vendor=self.vendor,
            charge_point_serial_number=self.serial,
            firmware_version=self.firmware,
        )

    async def on_boot_accepted(self, conf: Any) -> None:
        """§4.2: adopt the heartbeat interval, set the clock, report every connector, go."""
        self.config.set("HeartbeatInterval", str(max(0, int(conf.interval))))
        self.sync_clock(conf.current_time)
        for payload in self.boot_status_notifications():
            await self._call_now(payload)
        self.connected.set()
        self.outbox.open.set()  # queued transaction messages follow, in order
        self._restart_heartbeat()
        for conn in self.connectors.values():  # anything that changed during the boot reports
            self.update_status(conn)

    def boot_status_notifications(self) -> list[call.StatusNotification]:
        """StatusNotification.req for connector 0 and every connector, in their current state."""
        payloads = []
        for conn in self.connectors.values():
            conn.status, conn.error_code = self.derive_status(conn)
            payloads.append(self.status_notification_payload(conn.id, conn.status, conn.error_code))
        return payloads

    def sync_clock(self, current_time: str) -> None:
        """§4.2: "it is RECOMMENDED to synchronize its internal clock" with currentTime."""
        try:
            self.clock.set_now(parse_iso(current_time))
        except ValueError:
            self.log.warning("%s: bad currentTime %r", self.station_id, current_time)

    async def _call_now(self, payload: Any) -> Any:
        """Send a CALL right away (boot sequence only, before the outbox opens)."""
        if self._link is None:
            return None
        try:
            return await self._link.call(
                payload, suppress=False, skip_schema_validation=not self.validate_outgoing
            )
        except ConnectionClosed:
            raise
        except Exception as exc:
            self.log.warning("%s: %s failed: %r", self.station_id, type(payload).__name__, exc)
            return None

    # -- heartbeat ------------------------------------------------------------------------

    def heartbeat_interval(self) -> int:
        """Protocol seconds between Heartbeat.req (HeartbeatInterval, set by BootNotification)."""
        return self.config.get_int("HeartbeatInterval")

    def _restart_heartbeat(self) -> None:
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            self._heartbeat_task = None
        if self.connected.is_set():
            self._heartbeat_task = self._spawn(
                self._heartbeat_loop(), "heartbeat", self._conn_tasks
            )

    async def _heartbeat_loop(self) -> None:
        # A fixed period keeps the reference deterministic; §9.1.10 defines the key as the
        # interval of inactivity, which a fixed period never exceeds.
        while True:
            interval = self.heartbeat_interval()
            if interval <= 0:
                return
            await self.clock.sleep(interval)
            self.send("Heartbeat", call.Heartbeat)

    # -- outgoing ---------------------------------------------------------------------------

    def send(
        self,
        action: str,
        build: Callable[[], Any],
        *,
        on_result: Callable[[Any], Awaitable[None] | None] | None = None,
    ) -> asyncio.Future[Any]:
        """Queue a CALL that is dropped when the station is offline or not accepted."""
        return self.outbox.put(action, build, transactional=False, on_result=on_result)

    def send_transactional(
        self,
        action: str,
        build: Callable[[], Any],
        *,
        on_result: Callable[[Any], Awaitable[None] | None] | None = None,
        on_give_up: Callable[[], Awaitable[None] | None] | None = None,
    ) -> asyncio.Future[Any]:
        """Queue a transaction-related CALL: kept while offline, retried on errors (§3.7)."""
        return self.outbox.put(
            action, build, transactional=True, on_result=on_result, on_give_up=on_give_up
        )

    async def request(self, action: str, build: Callable[[], Any]) -> Any:
        """Send a CALL and wait for its result; None when it was not answered. Asked for while
        the station is online but still registering (its boot's StatusNotifications), the CALL
        waits for the registration to finish (within the response time-out)."""
        if self._network_up.is_set() and not self.outbox.open.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.outbox.open.wait(), self.response_timeout())
        future = self.send(action, build)
        try:
            return await asyncio.wait_for(asyncio.shield(future), 3 * self.response_timeout())
        except (NotSent, TimeoutError) as exc:
            self.log.info("%s: %s not answered: %r", self.station_id, action, exc)
            return None

    async def go_offline(self) -> None:
        """The network goes away: close the socket and do not reconnect until go_online().

        Nothing can be sent from this moment on, so the station is offline at once (not only
        once the socket has closed): what happens next follows the offline rules (§3.5.2)."""
        self._network_up.clear()
        self._drop.set()
        self.registration = None
        self.connected.clear()
        self.outbox.open.clear()

    async def go_online(self) -> None:
        self._network_up.set()
        self._wake.set()

    def snapshot(self) -> dict[str, Any]:
        """The station's state, for debugging and tests."""
        connectors = {}
        for conn in self.connectors.values():
            status, error = self.derive_status(conn)
            summary = conn.summary()
            if conn.id == 0:  # the main meter: every connector's register
                summary["energyWh"] = sum(c.meter.register_wh() for c in self._outlets())
            connectors[conn.id] = {
                **summary,
                "status": str(status),
                "errorCode": str(error),
                "reportedStatus": str(conn.status),
            }
        return {
            "stationId": self.station_id,
            "url": self.url,
            "online": self._network_up.is_set(),
            "connected": self.connected.is_set(),
            "registration": self.registration,
            "clock": utc_iso(self.clock.now()),
            "connectors": connectors,
            "transactions": [
                c.transaction.summary() for c in self._outlets() if c.transaction is not None
            ],
            "queue": self.outbox.actions(),
            "config": self.config.as_dict(),
            "authCache": self.cache.as_dict(),
        }

    # ======================================================================================
    # status
    # ======================================================================================

    def _outlets(self) -> list[Connector]:
        return [c for c in self.connectors.values() if c.id > 0]

    def derive_status(self, conn: Connector) -> tuple[str, str]:
        """The (status, errorCode) a connector is in now (§4.9 and §7.7 ChargePointStatus)."""
        station = self.connectors[0]
        if conn.fault is not None:
            return ChargePointStatus.faulted, conn.fault
        if conn.id == 0:
            if not station.operative:
                return ChargePointStatus.unavailable, ChargePointErrorCode.no_error
            return ChargePointStatus.available, ChargePointErrorCode.no_error
        ok = ChargePointErrorCode.no_error
        tx = conn.transaction
        if tx is not None:
            if not conn.ev_connected:
                return ChargePointStatus.suspended_ev, ok
            if tx.suspended_evse:
                return ChargePointStatus.suspended_evse, ok
            # Charging is reported once StartTransaction.conf is in (§4.8: the transaction
            # may still be refused); until then the connector stays Preparing.
            return (
                ChargePointStatus.charging if tx.start_confirmed else ChargePointStatus.preparing
            ), ok
        if not (conn.operative and station.operative):
            return ChargePointStatus.unavailable, ok
        if conn.ev_connected:
            return (
                ChargePointStatus.finishing if conn.session_ended else ChargePointStatus.preparing
            ), ok
        if conn.cable_held:
            return ChargePointStatus.finishing, ok
        if conn.authorization is not None:
            return ChargePointStatus.preparing, ok
        return ChargePointStatus.available, ok

    def update_status(self, conn: Connector) -> None:
        """Send StatusNotification.req if the connector's status changed (§4.9)."""
        status, error = self.derive_status(conn)
        if (status, error) == (conn.status, conn.error_code):
            return
        if not self.outbox.open.is_set():
            return  # offline / not accepted: the boot sequence reports the state then
        conn.status, conn.error_code = status, error
        payload = self.status_notification_payload(conn.id, status, error)
        self.send("StatusNotification", lambda: payload)

    def status_notification_payload(
        self, connector_id: int, status: str, error_code: str
    ) -> call.StatusNotification:
        return call.StatusNotification(
            connector_id=connector_id,
            error_code=error_code,  # type: ignore[arg-type]
            status=status,  # type: ignore[arg-type]
            timestamp=utc_iso(self.clock.now()),
        )

    # ======================================================================================
    # power-on and reboot
    # ======================================================================================

    def _power_on(self) -> None:
        """Start what runs from power-on regardless of the connection."""
        self._next_boot_at = 0.0
        self.on_power_on()

    def on_power_on(self) -> None:
        """Hook: start the timers of a freshly booted station."""

    def on_reboot(self) -> None:
        """Hook: drop the volatile session state (authorizations, timers, transactions)."""

    def reboot(self) -> None:
        """Lose volatile state, drop the connection, and boot again after BOOT_DELAY_S.

        The caller has already stopped the transactions with the reason that applies."""
        self.log.info("%s: rebooting", self.station_id)
        for task in list(self._boot_tasks):
            task.cancel()
        self.on_reboot()
        self.registration = None
        self.connected.clear()
        self.outbox.open.clear()
        self.outbox.drop_volatile()
        self._rebooting = True
        self._drop.set()
        self._wake.set()

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

        self._spawn(run(), "after-reply")

    def _spawn(
        self,
        coro: Coroutine[Any, Any, Any],
        name: str,
        group: set[asyncio.Task[Any]] | None = None,
    ) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=f"{self.station_id}:{name}")
        self._tasks.add(task)
        if group is not None:
            group.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        self._conn_tasks.discard(task)
        self._boot_tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None and not isinstance(exc, ConnectionClosed):
            self.log.error("%s: task %s failed", self.station_id, task.get_name(), exc_info=exc)

    async def _cancel(self, group: set[asyncio.Task[Any]]) -> None:
        tasks = [t for t in group if t is not asyncio.current_task()]
        await cancel_and_wait(tasks, STOP_TIMEOUT_REAL)
