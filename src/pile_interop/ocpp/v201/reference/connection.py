"""Connection, registration and outgoing CALLs of the reference OCPP 2.0.1 station.

:class:`Connection` is the OCPP 2.0.1 side of the version-neutral
:class:`~pile_interop.ocpp.reference.station_base.StationBase`: its
:class:`~pile_interop.ocpp.reference.station_base.BasePort`. The base runs the connection loop
with back-off, the boot loop, the heartbeat, the clock and the tasks; this component tells it
where to connect and how, what a BootNotification and its answer are, and what a new or lost
connection means. Every hook goes through the station (``ReferenceStation``, typed as
:class:`ConnectionStation`), so that a mutant overriding it on the station changes it here; the
component never imports the station. Every timer runs on the station's scaled
:class:`~pile_interop.core.clock.Clock`.

Connection (Part 2 block A / B10, Part 4): the station connects to the NetworkConnectionProfile
slot first in ``OCPPCommCtrlr.NetworkConfigurationPriority`` (slot 1 is the URL, password and
TLS context given to the constructor), with subprotocol ``ocpp2.0.1`` (or ``ocpp2.1``), HTTP
Basic auth (user = station id) for security profiles 1 and 2 and TLS for 2 and 3. A failed
connection is retried with a doubling back-off; after ``NetworkProfileConnectionAttempts``
failures the next slot of the priority list is tried (B10). The priority list is read at boot,
so a changed priority takes effect with the next reset (A05).

Boot (B01–B03): a BootNotification after every (re)boot — first start, power cycle, Reset —
with the reason of that boot (PowerUp, RemoteReset, ScheduledReset …; Triggered when a
TriggerMessage asked for it). Accepted: adopt the heartbeat interval, set the clock, let the
EVSEs report (``Evses.on_registered``: a StatusNotification per connector), then send what is
queued, in order. Pending: retry after the interval, answer the CSMS's requests, send nothing
else (B02.FR.02) but what a TriggerMessage asked for and the NotifyReports of a requested report.
Rejected: send nothing until the interval has passed (B03.FR.02); the CSMS's requests get a
SecurityError, a TriggerMessage for a BootNotification excepted (B03.FR.08).

Reconnect (B04, Part 4): an Accepted registration outlives the connection. A plain reconnect
(network back, the CSMS closed the socket, a new password) through the same network profile
sends no BootNotification: the heartbeat and the queue resume, and the connectors are reported
per B04 — all of them after an outage longer than ``OCPPCommCtrlr.OfflineThreshold``
(B04.FR.01, ``Evses.on_registered``), else only those whose status changed while offline
(B04.FR.02: the EVSE half notices the station back online). A registration that was still
Pending or Rejected is not kept: the station boots again on the new connection. The station's
class flag ``boot_on_every_connection`` brings back a station that boots on every connection
(a mutant).

Outgoing CALLs go through one FIFO (:class:`~pile_interop.ocpp.reference.outbox.Outbox`):
TransactionEvents and SecurityEventNotifications are queued while offline or not registered,
survive reboots and are retried ``MessageAttempts`` times, ``MessageAttemptInterval`` apart
(instance TransactionEvent); any other CALL is sent only while registered.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from functools import partial
from typing import Any, Protocol, cast

from ocpp.v201 import call
from ocpp.v201.enums import BootReasonEnumType, RegistrationStatusEnumType
from websockets.asyncio.client import ClientConnection

from pile_interop.core.clock import parse_iso, utc_iso
from pile_interop.ocpp.client import basic_auth_header, station_url
from pile_interop.ocpp.reference.station_base import (
    DEFAULT_BOOT_RETRY_S,
    MIN_REAL_RESPONSE_TIMEOUT,
    StationBase,
    websocket_options,
)
from pile_interop.ocpp.v201.reference.station_link import StationLink
from pile_interop.ocpp.v201.reference.station_model import DeviceModel
from pile_interop.ocpp.v201.reference.station_port import LinkPort

SUBPROTOCOLS = {"ocpp2.0.1": "2.0.1", "ocpp2.1": "2.1"}
ACCEPTED = RegistrationStatusEnumType.accepted.value
PENDING = RegistrationStatusEnumType.pending.value
REJECTED = RegistrationStatusEnumType.rejected.value

#: While Pending (B02.FR.01) the CSMS may read and configure the station and trigger messages.
PENDING_ALLOWED = frozenset(
    {"GetVariables", "SetVariables", "GetBaseReport", "GetReport", "TriggerMessage"}
)
#: While Pending RequestStart/StopTransaction are answered Rejected (B02.FR.05).
PENDING_REJECTED = frozenset({"RequestStartTransaction", "RequestStopTransaction"})
#: The EVSEs' reports after an accepted boot (``Evses.on_registered``) take at most this long
#: (protocol seconds).
REGISTER_TIMEOUT_S = 120
#: A clock correction larger than this is a SettingSystemTime security event (A04).
CLOCK_EVENT_THRESHOLD_S = 3600


def check_arguments(url: str, evses: int, subprotocol: str) -> None:
    """ValueError for a station without EVSEs, a URL that is not ws:// or wss://, or a
    subprotocol that is not OCPP 2.0.1 / 2.1."""
    if evses < 1:
        raise ValueError("a station needs at least one EVSE")
    if not url.startswith(("ws://", "wss://")):
        raise ValueError(f"CSMS URL must be ws:// or wss://, got {url!r}")
    if subprotocol not in SUBPROTOCOLS:
        raise ValueError(f"subprotocol must be one of {sorted(SUBPROTOCOLS)}")


class ConnectionStation(Protocol):
    """What the connection, the boot and the outgoing CALLs need from the station."""

    station_id: str
    log: logging.Logger
    #: status of the last BootNotificationResponse since the last boot (None before one)
    registration: str | None
    boot_reason: str
    csms_url: str
    password: str | None
    subprotocol: str
    ocpp_version: str
    vendor: str
    model_name: str
    serial: str
    firmware: str
    network_profiles: dict[int, dict[str, Any]]
    model: DeviceModel
    #: the scaled clock
    clock: Any
    base: StationBase
    #: the transaction half (``Evses``)
    evses: Any
    boot_on_every_connection: bool
    validate_outgoing: bool
    #: CALLs a TriggerMessage allowed before the station is registered (B02.FR.02)
    _trigger_allow: set[str]

    def _int_var(
        self, component: str, variable: str, default: int, *, instance: str | None = None
    ) -> int: ...
    def _link_up(self) -> bool: ...
    def security_event(self, kind: str, tech_info: str | None = None) -> None: ...
    async def send(self, request: Any) -> Any: ...
    # -- hooks --
    def _target(self, slot: int) -> tuple[str, dict[str, Any]]: ...
    def tls_for_profile(self, level: int) -> Any: ...
    def offered_subprotocols(self) -> list[str]: ...
    def subprotocol_agreed(self, agreed: str | None) -> bool: ...
    def on_connect_error(self, exc: BaseException) -> None: ...
    def boot_retry_interval(self, interval: int) -> int: ...
    def boot_notification_payload(self, reason: str) -> call.BootNotification: ...
    def heartbeat_interval(self) -> int: ...
    def sync_clock(self, current_time: str) -> None: ...
    def priority_slots(self) -> list[int]: ...
    def on_power_on(self, reason: str) -> None: ...
    def on_network_profile_connected(self, slot: int) -> None: ...
    def security_event_payload(
        self, kind: str, tech_info: str | None
    ) -> call.SecurityEventNotification: ...


class Connection:
    """The station's :class:`~pile_interop.ocpp.reference.station_base.BasePort`: network
    slots, targets, subprotocols, boot, resume, and the rules of what may be sent when."""

    def __init__(self, station: ConnectionStation) -> None:
        self.st = station
        #: the network profile slot the registration was accepted through
        self.registered_slot: int | None = None
        #: station-clock monotonic seconds when the registered station lost its connection
        self.offline_since: float | None = None
        #: the reason of the next boot (set by a reboot)
        self.next_reason = BootReasonEnumType.power_up.value
        #: set while the EVSEs report after a boot or resume (their CALLs go out directly)
        self.registering = False
        #: the slots tried at this boot, in order, and where the station is in that list
        self.slot_order: list[int] = [1]
        self.slot_index = 0
        self.slot_failures = 0
        #: the slot of the connection being opened or served
        self.slot = 1

    def new_base(self, time_scale: float) -> StationBase:
        """The station's base, with this component as its port: the outbox retries
        TransactionEvents MessageAttempts times, MessageAttemptInterval apart, and checks the
        payloads while the station's ``validate_outgoing``."""
        st = self.st
        return StationBase(
            self,
            time_scale=time_scale,
            max_attempts=lambda: st._int_var(
                "OCPPCommCtrlr", "MessageAttempts", 3, instance="TransactionEvent"
            ),
            retry_interval=lambda: st._int_var(
                "OCPPCommCtrlr", "MessageAttemptInterval", 10, instance="TransactionEvent"
            ),
            validate=lambda: st.validate_outgoing,
        )

    # -- what the base reads of its port ----------------------------------------------------

    @property
    def station_id(self) -> str:
        return self.st.station_id

    @station_id.setter
    def station_id(self, value: str) -> None:
        self.st.station_id = value

    @property
    def log(self) -> logging.Logger:
        return self.st.log

    @log.setter
    def log(self, value: logging.Logger) -> None:
        self.st.log = value

    @property
    def registration(self) -> str | None:
        return self.st.registration

    @registration.setter
    def registration(self, value: str | None) -> None:
        self.st.registration = value

    # ======================================================================================
    # outgoing CALLs (the station's StationPort sends through here)
    # ======================================================================================

    async def send(self, request: Any) -> Any:
        """A non-transaction CALL now; its result, or None when offline / not answered."""
        st = self.st
        action = type(request).__name__
        if st.base.link is not None and (self.registering or self.may_send_unregistered(action)):
            return await self.call_direct(request)
        if not st.base.outbox.open.is_set():
            st.log.debug("%s: %s not sent (not registered)", st.station_id, action)
            return None
        future = st.base.outbox.put(action, lambda: request, transactional=False)
        return await st.base.result_of(future, action, 3 * self.response_timeout())

    async def send_tx(self, request: Any) -> Any:
        """A transaction-related CALL: sent now (its result), or queued (None) while offline or
        not registered; queued while offline it carries ``offline: true``."""
        st = self.st
        action = type(request).__name__
        if not st._link_up() and hasattr(request, "offline"):
            request.offline = True
        future = st.base.outbox.put(action, lambda: request, transactional=True)
        if not st.base.outbox.open.is_set():
            return None
        return await st.base.result_of(future, action, 3 * self.response_timeout())

    def security_event(self, kind: str, tech_info: str | None) -> None:
        """A SecurityEventNotification (A04), timestamped now; queued while offline."""
        st = self.st
        request = st.security_event_payload(kind, tech_info)
        st.log.info("%s: security event %s", st.station_id, kind)
        st.base.outbox.put("SecurityEventNotification", lambda: request, transactional=True)

    def security_event_payload(
        self, kind: str, tech_info: str | None
    ) -> call.SecurityEventNotification:
        return call.SecurityEventNotification(
            type=kind,
            timestamp=utc_iso(self.st.clock.now()),
            tech_info=tech_info[:255] if tech_info else None,
        )

    def may_send_unregistered(self, action: str) -> bool:
        """Before Accepted only what a TriggerMessage asked for, and the NotifyReports of a
        report requested while Pending (B02.FR.01 / B02.FR.02)."""
        if self.st.registration == ACCEPTED or self.st.registration == REJECTED:
            return False
        if action in self.st._trigger_allow:
            self.st._trigger_allow.discard(action)
            return True
        return action == "NotifyReport"

    async def call_direct(self, request: Any) -> Any:
        st = self.st
        link = st.base.link
        if link is None:
            return None
        try:
            return await link.send_call(
                request, suppress=False, skip_schema_validation=not st.validate_outgoing
            )
        except Exception as exc:  # CALLERROR, time-out, closed connection
            st.log.info("%s: %s failed: %r", st.station_id, type(request).__name__, exc)
            return None

    def response_timeout(self) -> float:
        """Real seconds a CALL waits for its response (OCPPCommCtrlr.MessageTimeout)."""
        seconds = self.st._int_var("OCPPCommCtrlr", "MessageTimeout", 30, instance="Default")
        return max(self.st.clock.real(seconds), MIN_REAL_RESPONSE_TIMEOUT)

    def incoming_call_gate(self, action: str, payload: dict[str, Any]) -> tuple[str, Any] | None:
        """Before the BootNotification is Accepted: None (handle it), ``("result", payload)``
        or ``(error code, description)``. Pending: the CSMS may read and configure and trigger
        (B02.FR.01), RequestStart/StopTransaction are Rejected (B02.FR.05), the rest is a
        SecurityError (the station-side mirror of B02.FR.09); Rejected: only a TriggerMessage
        for a BootNotification (B03 / TC_B_31), else SecurityError."""
        registration = self.st.registration
        if registration == ACCEPTED:
            return None
        if registration == REJECTED:
            if action == "TriggerMessage" and payload.get("requestedMessage") == "BootNotification":
                return None
            return ("SecurityError", f"{action} while the registration is Rejected")
        if action in PENDING_REJECTED:
            return ("result", {"status": "Rejected"})
        if action in PENDING_ALLOWED:
            return None
        return ("SecurityError", f"{action} before the registration is Accepted")

    # ======================================================================================
    # BasePort: connection
    # ======================================================================================

    def connect_target(self) -> tuple[str, dict[str, Any]]:
        self.slot = self.current_slot()
        return self.st._target(self.slot)

    def on_connect_error(self, exc: BaseException) -> None:
        self.st.on_connect_error(exc)

    def subprotocol_agreed(self, agreed: str | None) -> bool:
        return self.st.subprotocol_agreed(agreed)

    def current_slot(self) -> int:
        return self.slot_order[self.slot_index % len(self.slot_order)]

    def connect_failed(self) -> None:
        """B10: after NetworkProfileConnectionAttempts failures try the next priority slot."""
        st = self.st
        self.slot_failures += 1
        attempts = st._int_var("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", 3)
        if self.slot_failures >= max(1, attempts) and len(self.slot_order) > 1:
            self.slot_failures = 0
            self.slot_index = (self.slot_index + 1) % len(self.slot_order)
            st.log.info("%s: trying network profile slot %d", st.station_id, self.current_slot())

    def target(self, slot: int) -> tuple[str, dict[str, Any]]:
        """The URL and ``websockets.connect`` arguments of a profile slot."""
        st = self.st
        profile = st.network_profiles.get(slot) or st.network_profiles[1]
        base = str(profile.get("ocppCsmsUrl", st.csms_url))
        level = int(profile.get("securityProfile", 1))
        url = station_url(base, st.station_id)
        headers: dict[str, str] = {}
        if st.password is not None and level in (1, 2):
            headers["Authorization"] = basic_auth_header(st.station_id, st.password)
        kwargs = websocket_options(
            st.clock,
            subprotocols=st.offered_subprotocols(),
            headers=headers,
            ping=st._int_var("OCPPCommCtrlr", "WebSocketPingInterval", 0),
        )
        if url.startswith("wss://"):
            kwargs["ssl"] = st.tls_for_profile(level)
        return url, kwargs

    async def serve_connection(self, ws: ClientConnection) -> None:
        """Serve an open connection until it ends (B10: the slot's failures start again)."""
        self.slot_failures = 0
        await self.st.base.serve(ws)

    def open_link(self, ws: ClientConnection) -> StationLink:
        st = self.st
        # the station implements the link's port (its handle_* methods included)
        link = StationLink(
            cast(LinkPort, st),
            ws,
            response_timeout=self.response_timeout(),
            ocpp_version=st.ocpp_version,
        )
        st.log.info("%s: connected to %s (slot %d)", st.station_id, ws.request, self.slot)
        return link

    def on_link_open(self, link: StationLink) -> None:
        slot = self.slot
        if self.resumable(slot):
            self.resume()
        else:
            base = self.st.base
            base.spawn(self.boot_sequence(link, slot), "boot", base.conn_tasks)

    def on_disconnected(self, opened: bool) -> None:
        st = self.st
        if not opened:
            self.connect_failed()
        if st.boot_on_every_connection or st.registration != ACCEPTED:
            st.registration = None
        elif self.offline_since is None:
            self.offline_since = st.clock.monotonic()
        st._trigger_allow.clear()
        if opened:
            st.evses.on_connection_lost()

    # ======================================================================================
    # BasePort: boot, resume, heartbeat
    # ======================================================================================

    def resumable(self, slot: int) -> bool:
        """A new connection without a reboot: the registration still holds (B01 boots after a
        reboot, not after a reconnect) when it was Accepted through this same slot."""
        return (
            not self.st.boot_on_every_connection
            and self.st.registration == ACCEPTED
            and self.registered_slot == slot
        )

    def resume(self) -> None:
        """Registered on a new connection (no BootNotification). B04.FR.01: offline longer than
        OfflineThreshold → every connector is reported before the queue goes on; B04.FR.02:
        else the EVSE half reports the connectors whose status changed (once it sees the
        station online). Runs without awaiting: nothing the EVSEs send in between is lost."""
        st = self.st
        since = self.offline_since
        self.offline_since = None
        offline = st.clock.monotonic() - since if since is not None else 0.0
        threshold = st._int_var("OCPPCommCtrlr", "OfflineThreshold", 0)
        st.log.info(
            "%s: reconnected after %.0f s offline, still registered", st.station_id, offline
        )
        if offline > threshold:
            self.registering = True  # the statuses go before anything queued
            st.base.spawn(self.report_all_then_open(), "resume", st.base.conn_tasks)
        else:
            self.open_registered()

    async def report_all_then_open(self, what: str = "reports") -> None:
        """The EVSEs report every connector (bounded), then the queue goes out."""
        st = self.st
        try:
            await asyncio.wait_for(
                st.evses.on_registered(), st.clock.real(REGISTER_TIMEOUT_S) + 5.0
            )
        except TimeoutError:
            st.log.warning("%s: the EVSEs' %s took too long", st.station_id, what)
        finally:
            self.registering = False
        self.open_registered()

    def open_registered(self) -> None:
        """Registered and reported: the queue goes out, in order, and the heartbeat runs."""
        base = self.st.base
        base.connected.set()
        base.outbox.open.set()
        base.restart_heartbeat()

    async def boot_sequence(self, link: StationLink, slot: int) -> None:
        """B01-B03: BootNotification until Accepted through ``slot``."""
        await self.st.base.boot_loop(link, partial(self.registered, slot=slot))

    async def call_boot_notification(self, link: Any, triggered: bool) -> Any:
        """With the reason of this boot, or Triggered when a TriggerMessage asked for it."""
        st = self.st
        reason = BootReasonEnumType.triggered.value if triggered else st.boot_reason
        link.boot_unique_id = str(uuid.uuid4())
        return await link.call(
            st.boot_notification_payload(reason),
            suppress=False,
            unique_id=link.boot_unique_id,
            skip_schema_validation=not st.validate_outgoing,
        )

    def boot_retry_interval(self, interval: int) -> int:
        return self.st.boot_retry_interval(interval)

    @staticmethod
    def default_boot_retry_interval(interval: int) -> int:
        """Protocol seconds until the next BootNotification after a Pending / Rejected answer:
        its interval (B02.FR.04 / B03.FR.04), DEFAULT_BOOT_RETRY_S without one (B02.FR.07)."""
        return interval if interval > 0 else DEFAULT_BOOT_RETRY_S

    def boot_notification_payload(self, reason: str) -> call.BootNotification:
        """The BootNotificationRequest (B01): the station and why it booted."""
        st = self.st
        return call.BootNotification(
            charging_station={
                "model": st.model_name,
                "vendor_name": st.vendor,
                "serial_number": st.serial,
                "firmware_version": st.firmware,
            },
            reason=reason,
        )

    async def registered(self, conf: Any, slot: int) -> None:
        """Accepted (B01.FR.?): heartbeat interval, clock, the EVSEs report, then the queue."""
        st = self.st
        st.model.set("OCPPCommCtrlr", "HeartbeatInterval", str(max(0, int(conf.interval))))
        st.sync_clock(conf.current_time)
        self.registered_slot = slot
        self.offline_since = None
        st.on_network_profile_connected(slot)
        self.registering = True
        # queued transaction messages and events follow the reports, in order
        await self.report_all_then_open("boot reports")

    def sync_clock(self, current_time: str) -> None:
        """B01: set the clock to the CSMS's ``currentTime``; a large correction is a
        SettingSystemTime security event."""
        st = self.st
        try:
            when = parse_iso(current_time)
        except ValueError:
            st.log.warning("%s: bad currentTime %r", st.station_id, current_time)
            return
        jump = abs((when - st.clock.now()).total_seconds())
        st.clock.set_now(when)
        if jump > CLOCK_EVENT_THRESHOLD_S:
            st.security_event("SettingSystemTime", f"clock corrected by {jump:.0f} s")

    def heartbeat_interval(self) -> int:
        return self.st.heartbeat_interval()

    async def send_heartbeat(self) -> None:
        await self.st.send(call.Heartbeat())

    # ======================================================================================
    # BasePort: power
    # ======================================================================================

    def power_on(self) -> None:
        """A fresh boot with the reason of the last reboot: not registered until a
        BootNotification is Accepted."""
        st = self.st
        reason = self.next_reason
        st.registration = None
        self.registered_slot = None
        self.offline_since = None
        st.boot_reason = reason
        self.slot_order = st.priority_slots() or [1]
        self.slot_index = 0
        self.slot_failures = 0
        st.on_power_on(reason)

    def priority_slots(self) -> list[int]:
        """The configured slots of NetworkConfigurationPriority, in order (read at boot)."""
        slots = []
        st = self.st
        for item in st.model.get("OCPPCommCtrlr", "NetworkConfigurationPriority").split(","):
            item = item.strip()
            if item.isdigit() and int(item) in st.network_profiles:
                slots.append(int(item))
        return slots

    def reboot(self, reason: str) -> None:
        st = self.st
        st.log.info("%s: rebooting (%s)", st.station_id, reason)
        self.next_reason = reason
        st.base.reboot()
