"""Core of the reference OCPP 1.6J station: connection, boot, heartbeat, outbox, status.

The first layer of :class:`~pile_interop.ocpp.v16.reference.station.ReferenceStation` (see there for
the public API and the list of hooks). The version-neutral machinery (connection loop with
back-off, boot loop, heartbeat, clock, tasks) is the station's
:class:`~pile_interop.ocpp.reference.station_base.StationBase`; this layer is its
:class:`~pile_interop.ocpp.reference.station_base.BasePort` for OCPP 1.6. Every timer runs on
the station's scaled :class:`~pile_interop.core.clock.Clock`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl as ssl_module
from collections.abc import Awaitable, Callable
from typing import Any, cast

from ocpp.v16 import call
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from pile_interop.core.clock import parse_iso, utc_iso
from pile_interop.ocpp.client import basic_auth_header
from pile_interop.ocpp.reference.meter import EnergyMeter
from pile_interop.ocpp.reference.station_base import (
    DEFAULT_BOOT_RETRY_S,
    MIN_REAL_RESPONSE_TIMEOUT,
    StationBase,
    websocket_options,
)
from pile_interop.ocpp.v16.reference.station_config import Config
from pile_interop.ocpp.v16.reference.station_link import StationLink
from pile_interop.ocpp.v16.reference.station_model import AuthCache, Connector
from pile_interop.ocpp.v16.reference.station_port import LinkPort

SUBPROTOCOL = "ocpp1.6"

#: How long a CALL waits for its response (protocol seconds; OCPP-J leaves the value to the
#: implementation).
RESPONSE_TIMEOUT_S = 30


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
        #: connection loop, boot loop, heartbeat, clock, outbox and tasks (this layer is its port)
        self.base = StationBase(
            self,
            time_scale=time_scale,
            max_attempts=lambda: self.config.get_int("TransactionMessageAttempts"),
            retry_interval=lambda: self.config.get_int("TransactionMessageRetryInterval"),
            validate=lambda: self.validate_outgoing,
        )
        self.clock = self.base.clock
        self.outbox = self.base.outbox
        self.config = Config(connectors, config)
        self.cache = AuthCache()
        self.connectors: dict[int, Connector] = {
            n: Connector(n, EnergyMeter(self.clock)) for n in range(connectors + 1)
        }
        #: Set while a websocket is open and BootNotification was Accepted.
        self.connected = self.base.connected
        #: Status of the last BootNotification.conf on this connection (None before one).
        self.registration: str | None = None
        self._aligned_task: asyncio.Task[None] | None = None
        self._tx_ref = 0

    # ======================================================================================
    # lifecycle
    # ======================================================================================

    async def start(self) -> None:
        """Power on and keep a connection to the CSMS (reconnecting) until :meth:`stop`."""
        await self.base.start()

    async def stop(self) -> None:
        """Close the connection and cancel every task. Idempotent, bounded in time."""
        await self.base.stop()

    # -- the base's port: connection ------------------------------------------------------

    def connect_target(self) -> tuple[str, dict[str, Any]]:
        return self.url, self._connect_kwargs()

    def _connect_kwargs(self) -> dict[str, Any]:
        headers: dict[str, str] = {}
        if self.password is not None:
            # Security profile 1: HTTP Basic auth, user = station id (OCPP 1.6 security
            # whitepaper §2.3 / OCPP-J "Basic Authentication").
            headers["Authorization"] = basic_auth_header(self.station_id, self.password)
        kwargs = websocket_options(
            self.clock,
            subprotocols=[SUBPROTOCOL],
            headers=headers,
            ping=self.config.get_int("WebSocketPingInterval"),
        )
        if self.ssl is not None:
            kwargs["ssl"] = self.ssl
        return kwargs

    def response_timeout(self) -> float:
        """Real seconds a CALL waits for its CALLRESULT / CALLERROR."""
        return max(self.clock.real(RESPONSE_TIMEOUT_S), MIN_REAL_RESPONSE_TIMEOUT)

    async def serve_connection(self, ws: ClientConnection) -> None:
        """Serve an open connection until it ends (a mutant may wrap ``ws``)."""
        await self.base.serve(ws)

    def subprotocol_agreed(self, agreed: str | None) -> bool:
        """OCPP-J §3.1: without an agreed subprotocol the connection is not OCPP 1.6."""
        return agreed == SUBPROTOCOL

    def open_link(self, ws: ClientConnection) -> StationLink:
        # the ReferenceStation built on this core implements the link's port
        link = StationLink(cast(LinkPort, self), ws, response_timeout=self.response_timeout())
        self.log.info("%s: connected to %s", self.station_id, self.url)
        return link

    def on_link_open(self, link: StationLink) -> None:
        self.base.spawn(self._boot_sequence(link), "boot", self.base.conn_tasks)

    def on_connect_error(self, exc: BaseException) -> None:
        """Hook: a connection attempt failed."""

    def on_disconnected(self, opened: bool) -> None:
        self.registration = None

    # -- boot ---------------------------------------------------------------------------------

    async def _boot_sequence(self, link: StationLink) -> None:
        """§4.2: BootNotification until Accepted (a mutant may wrap ``link``)."""
        await self.base.boot_loop(link, self.on_boot_accepted)

    async def call_boot_notification(self, link: Any, triggered: bool) -> Any:
        return await link.call(
            self.boot_notification_payload(),
            suppress=False,
            skip_schema_validation=not self.validate_outgoing,
        )

    def boot_retry_interval(self, interval: int) -> int:
        """Pending: answer the CSMS but send nothing else; Rejected: not even answer. The
        next BootNotification after the interval (§4.2), DEFAULT_BOOT_RETRY_S without one."""
        return interval if interval > 0 else DEFAULT_BOOT_RETRY_S

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
        self.base.restart_heartbeat()
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
        link = self.base.link
        if link is None:
            return None
        try:
            return await link.call(
                payload, suppress=False, skip_schema_validation=not self.validate_outgoing
            )
        except ConnectionClosed:
            raise
        except Exception as exc:
            self.log.warning("%s: %s failed: %r", self.station_id, type(payload).__name__, exc)
            return None

    # -- heartbeat ------------------------------------------------------------------------

    def heartbeat_interval(self) -> int:
        """Protocol seconds between Heartbeat.req (HeartbeatInterval, set by BootNotification).
        The period is fixed, which keeps the reference deterministic; §9.1.10 defines the key
        as the interval of inactivity, which a fixed period never exceeds."""
        return self.config.get_int("HeartbeatInterval")

    async def send_heartbeat(self) -> None:
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
        if self.base.network_up.is_set() and not self.outbox.open.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.outbox.open.wait(), self.response_timeout())
        future = self.send(action, build)
        return await self.base.result_of(future, action, 3 * self.response_timeout())

    async def go_offline(self) -> None:
        """The network goes away: close the socket and do not reconnect until go_online().

        Nothing can be sent from this moment on, so the station is offline at once (not only
        once the socket has closed): what happens next follows the offline rules (§3.5.2)."""
        self.base.go_offline()
        self.registration = None

    async def go_online(self) -> None:
        self.base.go_online()

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
            "online": self.base.network_up.is_set(),
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

    def power_on(self) -> None:
        """The base's port: start what runs from power-on regardless of the connection."""
        self.on_power_on()

    def on_power_on(self) -> None:
        """Hook: start the timers of a freshly booted station."""

    def on_reboot(self) -> None:
        """Hook: drop the volatile session state (authorizations, timers, transactions)."""

    def reboot(self) -> None:
        """Lose volatile state, drop the connection, and boot again after BOOT_DELAY_S.

        The caller has already stopped the transactions with the reason that applies."""
        self.log.info("%s: rebooting", self.station_id)
        for task in list(self.base.boot_tasks):
            task.cancel()
        self.on_reboot()
        self.base.reboot()

    # ======================================================================================
    # tasks
    # ======================================================================================

    def defer(self, work: Callable[[], Awaitable[None] | None]) -> None:
        """Run ``work`` once the response to the CALL being handled has been sent."""
        self.base.defer(work)

    def run_after_reply(self) -> None:
        self.base.run_after_reply()
