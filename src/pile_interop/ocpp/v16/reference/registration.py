"""Registration of the reference OCPP 1.6J station: the 1.6 side of the station base.

The version-neutral machinery (connection loop with back-off, boot loop, heartbeat, clock,
outbox, tasks) is the station's :class:`~pile_interop.ocpp.reference.station_base.StationBase`;
the station is its :class:`~pile_interop.ocpp.reference.station_base.BasePort` and hands the
1.6 answers to :class:`Registrar`: where and how to connect (subprotocol ``ocpp1.6``, HTTP
Basic auth, pings), the link of a connection, the BootNotification and what its answer means
(§4.2: heartbeat interval, clock, a StatusNotification per connector), the heartbeat, and the
connectors' status (§4.9, §7.7 ChargePointStatus). Every hook goes through the station
(:class:`RegistrarPort`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl as ssl_module
from collections.abc import Callable
from typing import Any, Protocol

from ocpp.v16 import call
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from pile_interop.core.clock import parse_iso, utc_iso
from pile_interop.ocpp.client import basic_auth_header
from pile_interop.ocpp.reference.station_base import (
    DEFAULT_BOOT_RETRY_S,
    MIN_REAL_RESPONSE_TIMEOUT,
    websocket_options,
)
from pile_interop.ocpp.v16.reference.station_hooks import StationState
from pile_interop.ocpp.v16.reference.station_link import StationLink
from pile_interop.ocpp.v16.reference.station_model import Connector
from pile_interop.ocpp.v16.reference.station_port import LinkPort

SUBPROTOCOL = "ocpp1.6"

#: How long a CALL waits for its response (protocol seconds; OCPP-J leaves the value to the
#: implementation).
RESPONSE_TIMEOUT_S = 30


class RegistrarPort(StationState, LinkPort, Protocol):
    """What registration needs from the station (the link's port included)."""

    url: str
    password: str | None
    ssl: ssl_module.SSLContext | None
    vendor: str
    model: str
    serial: str
    firmware: str
    validate_outgoing: bool

    def _connect_kwargs(self) -> dict[str, Any]: ...
    async def _boot_sequence(self, link: StationLink) -> None: ...
    def boot_notification_payload(self) -> call.BootNotification: ...
    async def on_boot_accepted(self, conf: Any) -> None: ...
    def boot_status_notifications(self) -> list[call.StatusNotification]: ...
    def sync_clock(self, current_time: str) -> None: ...
    def derive_status(self, conn: Connector) -> tuple[str, str]: ...
    def status_notification_payload(
        self, connector_id: int, status: str, error_code: str
    ) -> call.StatusNotification: ...
    def heartbeat_interval(self) -> int: ...


class Registrar:
    """Connection, boot, heartbeat and status reporting of one 1.6 station."""

    def __init__(self, station: RegistrarPort) -> None:
        self.station = station

    # -- connection ---------------------------------------------------------------------------

    def connect_kwargs(self) -> dict[str, Any]:
        st = self.station
        headers: dict[str, str] = {}
        if st.password is not None:
            # Security profile 1: HTTP Basic auth, user = station id (OCPP 1.6 security
            # whitepaper §2.3 / OCPP-J "Basic Authentication").
            headers["Authorization"] = basic_auth_header(st.station_id, st.password)
        kwargs = websocket_options(
            st.clock,
            subprotocols=[SUBPROTOCOL],
            headers=headers,
            ping=st.config.get_int("WebSocketPingInterval"),
        )
        if st.ssl is not None:
            kwargs["ssl"] = st.ssl
        return kwargs

    def response_timeout(self) -> float:
        return max(self.station.clock.real(RESPONSE_TIMEOUT_S), MIN_REAL_RESPONSE_TIMEOUT)

    def subprotocol_agreed(self, agreed: str | None) -> bool:
        return agreed == SUBPROTOCOL

    def open_link(self, ws: ClientConnection) -> StationLink:
        st = self.station
        link = StationLink(st, ws, response_timeout=st.response_timeout())
        st.log.info("%s: connected to %s", st.station_id, st.url)
        return link

    def on_link_open(self, link: StationLink) -> None:
        st = self.station
        st.base.spawn(st._boot_sequence(link), "boot", st.base.conn_tasks)

    async def request(self, action: str, build: Callable[[], Any]) -> Any:
        """Send a CALL and wait for its result; None when it was not answered. Asked for while
        the station is online but still registering (its boot's StatusNotifications), the CALL
        waits for the registration to finish (within the response time-out)."""
        st = self.station
        if st.base.network_up.is_set() and not st.outbox.open.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(st.outbox.open.wait(), st.response_timeout())
        future = st.send(action, build)
        return await st.base.result_of(future, action, 3 * st.response_timeout())

    # -- boot ---------------------------------------------------------------------------------

    async def boot_sequence(self, link: StationLink) -> None:
        await self.station.base.boot_loop(link, self.station.on_boot_accepted)

    async def call_boot_notification(self, link: Any) -> Any:
        st = self.station
        return await link.call(
            st.boot_notification_payload(),
            suppress=False,
            skip_schema_validation=not st.validate_outgoing,
        )

    @staticmethod
    def boot_retry_interval(interval: int) -> int:
        """Pending: answer the CSMS but send nothing else; Rejected: not even answer. The
        next BootNotification after the interval (§4.2), DEFAULT_BOOT_RETRY_S without one."""
        return interval if interval > 0 else DEFAULT_BOOT_RETRY_S

    def boot_notification_payload(self) -> call.BootNotification:
        st = self.station
        return call.BootNotification(
            charge_point_model=st.model,
            charge_point_vendor=st.vendor,
            charge_point_serial_number=st.serial,
            firmware_version=st.firmware,
        )

    async def on_boot_accepted(self, conf: Any) -> None:
        st = self.station
        st.config.set("HeartbeatInterval", str(max(0, int(conf.interval))))
        st.sync_clock(conf.current_time)
        for payload in st.boot_status_notifications():
            await self._call_now(payload)
        st.connected.set()
        st.outbox.open.set()  # queued transaction messages follow, in order
        st.base.restart_heartbeat()
        for conn in st.connectors.values():  # anything that changed during the boot reports
            st.update_status(conn)

    def boot_status_notifications(self) -> list[call.StatusNotification]:
        st = self.station
        payloads = []
        for conn in st.connectors.values():
            conn.status, conn.error_code = st.derive_status(conn)
            payloads.append(st.status_notification_payload(conn.id, conn.status, conn.error_code))
        return payloads

    def sync_clock(self, current_time: str) -> None:
        st = self.station
        try:
            st.clock.set_now(parse_iso(current_time))
        except ValueError:
            st.log.warning("%s: bad currentTime %r", st.station_id, current_time)

    async def _call_now(self, payload: Any) -> Any:
        """Send a CALL right away (boot sequence only, before the outbox opens)."""
        st = self.station
        link = st.base.link
        if link is None:
            return None
        try:
            return await link.call(
                payload, suppress=False, skip_schema_validation=not st.validate_outgoing
            )
        except ConnectionClosed:
            raise
        except Exception as exc:
            st.log.warning("%s: %s failed: %r", st.station_id, type(payload).__name__, exc)
            return None

    # -- heartbeat ----------------------------------------------------------------------------

    def heartbeat_interval(self) -> int:
        """Protocol seconds between Heartbeat.req (HeartbeatInterval, set by BootNotification).
        The period is fixed, which keeps the reference deterministic; §9.1.10 defines the key
        as the interval of inactivity, which a fixed period never exceeds."""
        return self.station.config.get_int("HeartbeatInterval")

    async def send_heartbeat(self) -> None:
        self.station.send("Heartbeat", call.Heartbeat)

    # -- status -------------------------------------------------------------------------------

    def derive_status(self, conn: Connector) -> tuple[str, str]:
        connectors = self.station.connectors
        station = connectors[0]
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
        st = self.station
        status, error = st.derive_status(conn)
        if (status, error) == (conn.status, conn.error_code):
            return
        if not st.outbox.open.is_set():
            return  # offline / not accepted: the boot sequence reports the state then
        conn.status, conn.error_code = status, error
        payload = st.status_notification_payload(conn.id, status, error)
        st.send("StatusNotification", lambda: payload)

    def status_notification_payload(
        self, connector_id: int, status: str, error_code: str
    ) -> call.StatusNotification:
        return call.StatusNotification(
            connector_id=connector_id,
            error_code=error_code,  # type: ignore[arg-type]
            status=status,  # type: ignore[arg-type]
            timestamp=utc_iso(self.station.clock.now()),
        )

    # -- the station's state ------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        st = self.station
        connectors = {}
        for conn in st.connectors.values():
            status, error = st.derive_status(conn)
            summary = conn.summary()
            if conn.id == 0:  # the main meter: every connector's register
                summary["energyWh"] = sum(c.meter.register_wh() for c in st._outlets())
            connectors[conn.id] = {
                **summary,
                "status": str(status),
                "errorCode": str(error),
                "reportedStatus": str(conn.status),
            }
        return {
            "stationId": st.station_id,
            "url": st.url,
            "online": st.base.network_up.is_set(),
            "connected": st.connected.is_set(),
            "registration": st.registration,
            "clock": utc_iso(st.clock.now()),
            "connectors": connectors,
            "transactions": [
                c.transaction.summary() for c in st._outlets() if c.transaction is not None
            ],
            "queue": st.outbox.actions(),
            "config": st.config.as_dict(),
            "authCache": st.cache.as_dict(),
        }
