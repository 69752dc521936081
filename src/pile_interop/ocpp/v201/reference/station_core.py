"""Core of the reference OCPP 2.0.1 station: connection, boot, heartbeat, outgoing queue.

The first layer of :class:`~pile_interop.ocpp.v201.reference.station.ReferenceStation` (see
there for the public API and the hooks). The version-neutral machinery (connection loop with
back-off, boot loop, heartbeat, clock, tasks) is the station's
:class:`~pile_interop.ocpp.reference.station_base.StationBase`; this layer is its
:class:`~pile_interop.ocpp.reference.station_base.BasePort` for OCPP 2.0.1. Every timer runs on
the station's scaled :class:`~pile_interop.core.clock.Clock`.

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
Pending or Rejected is not kept: the station boots again on the new connection. The class flag
:attr:`StationCore.boot_on_every_connection` brings back a station that boots on every
connection (a mutant).

Outgoing CALLs go through one FIFO (:class:`~pile_interop.ocpp.reference.outbox.Outbox`):
TransactionEvents and SecurityEventNotifications are queued while offline or not registered,
survive reboots and are retried ``MessageAttempts`` times, ``MessageAttemptInterval`` apart
(instance TransactionEvent); any other CALL is sent only while registered.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import ssl as ssl_module
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, cast

from ocpp.v201 import call
from ocpp.v201.enums import BootReasonEnumType, RegistrationStatusEnumType
from websockets.asyncio.client import ClientConnection

from pile_interop.core.clock import parse_iso, utc_iso
from pile_interop.ocpp.client import basic_auth_header
from pile_interop.ocpp.reference.station_base import (
    DEFAULT_BOOT_RETRY_S,
    MIN_REAL_RESPONSE_TIMEOUT,
    StationBase,
    websocket_options,
)
from pile_interop.ocpp.v201.reference.station_link import StationLink
from pile_interop.ocpp.v201.reference.station_model import (
    DeviceModel,
    StationFacts,
    station_variables,
    tx_variable,
)
from pile_interop.ocpp.v201.reference.station_port import LinkPort

SUBPROTOCOLS = {"ocpp2.0.1": "2.0.1", "ocpp2.1": "2.1"}
ACCEPTED = RegistrationStatusEnumType.accepted.value
PENDING = RegistrationStatusEnumType.pending.value
REJECTED = RegistrationStatusEnumType.rejected.value

#: The EVSEs' reports after an accepted boot (``Evses.on_registered``) take at most this long
#: (protocol seconds).
REGISTER_TIMEOUT_S = 120
#: A clock correction larger than this is a SettingSystemTime security event (A04).
CLOCK_EVENT_THRESHOLD_S = 3600


class StationCore:
    """Connection, boot, heartbeat and the outgoing queue; the :class:`StationPort` the
    transaction half (``Evses``) uses."""

    #: Check outgoing requests against the JSON schemas before sending (a mutant that must
    #: put an invalid payload on the wire sets this to False).
    validate_outgoing = True
    #: Validate incoming requests (a mutant sets False: then it handles anything).
    validates_requests = True
    #: Answer unknown / unsupported actions NotImplemented / NotSupported (else the package).
    answers_unknown_actions = True
    #: Forget the registration when the connection closes and send a BootNotification on
    #: every new connection, not only after a reboot (a mutant's defect; see the module
    #: docstring).
    boot_on_every_connection = False
    #: The class of the transaction half: ``(port, evses, fixed_cable=...) -> Evses``;
    #: None: ``pile_interop.ocpp.v201.reference.station_tx.Evses``.
    evses_class: Any = None

    def __init__(
        self,
        url: str,
        station_id: str,
        *,
        evses: int = 2,
        time_scale: float = 1.0,
        password: str | None = None,
        ssl: ssl_module.SSLContext | None = None,
        vendor: str = "pile-interop",
        model: str = "RefStation201",
        serial: str = "REF-201-0001",
        firmware: str = "0.1.0",
        fixed_cable: bool = False,
        features: dict[str, Any] | None = None,
        subprotocol: str = "ocpp2.0.1",
        security_profile: int | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        if evses < 1:
            raise ValueError("a station needs at least one EVSE")
        if not url.startswith(("ws://", "wss://")):
            raise ValueError(f"CSMS URL must be ws:// or wss://, got {url!r}")
        if subprotocol not in SUBPROTOCOLS:
            raise ValueError(f"subprotocol must be one of {sorted(SUBPROTOCOLS)}")
        self.csms_url = url
        self.station_id = station_id
        self.password = password
        #: TLS context for wss:// slots (may be given with a ws:// URL: used after an upgrade)
        self.ssl = ssl
        self.subprotocol = subprotocol
        self.ocpp_version = SUBPROTOCOLS[subprotocol]
        self.vendor, self.model_name, self.serial, self.firmware = vendor, model, serial, firmware
        self.fixed_cable = fixed_cable
        self.features = dict(features or {})
        self.evse_count = evses
        self.log = logger or logging.getLogger(
            f"pile_interop.ocpp.v201.reference.station.{station_id}"
        )
        #: connection loop, boot loop, heartbeat, clock, outbox and tasks (this layer is its port)
        self.base = StationBase(
            self,
            time_scale=time_scale,
            max_attempts=lambda: self._int_var(
                "OCPPCommCtrlr", "MessageAttempts", 3, instance="TransactionEvent"
            ),
            retry_interval=lambda: self._int_var(
                "OCPPCommCtrlr", "MessageAttemptInterval", 10, instance="TransactionEvent"
            ),
            validate=lambda: self.validate_outgoing,
        )
        self.clock = self.base.clock
        self.outbox = self.base.outbox
        if security_profile is None:
            # wss: 2, or 3 when the descriptor says the TLS context presents a client certificate
            security_profile = 1
            if url.startswith("wss://"):
                security_profile = 3 if self.features.get("client_certificate") else 2
        self.model = DeviceModel(
            station_variables(
                StationFacts(
                    station_id=station_id,
                    vendor=vendor,
                    model=model,
                    serial=serial,
                    firmware=firmware,
                    evses=evses,
                    security_profile=security_profile,
                    reset_evse=bool(self.features.get("reset_evse", False)),
                )
            )
        )
        #: NetworkConnectionProfile slots (camelCase NetworkConnectionProfileType)
        self.network_profiles: dict[int, dict[str, Any]] = {
            1: {
                "ocppVersion": "OCPP20",
                "ocppTransport": "JSON",
                "ocppCsmsUrl": url,
                "messageTimeout": 30,
                "securityProfile": security_profile,
                "ocppInterface": "Wired0",
            }
        }
        #: Set while a websocket is open, BootNotification Accepted and the EVSEs reported.
        self.connected = self.base.connected
        #: Status of the last BootNotificationResponse since the last boot (None before one);
        #: an Accepted one outlives the connection (B04).
        self.registration: str | None = None
        #: the network profile slot the registration was accepted through
        self._registered_slot: int | None = None
        #: station-clock monotonic seconds when the registered station lost its connection
        self._offline_since: float | None = None
        self.boot_reason = BootReasonEnumType.power_up.value
        self._next_reason = BootReasonEnumType.power_up.value
        self._registering = False
        #: CALLs a TriggerMessage allowed before the station is registered (B02.FR.02)
        self._trigger_allow: set[str] = set()
        #: the slots tried at this boot, in order, and where the station is in that list
        self._slot_order: list[int] = [1]
        self._slot_index = 0
        self._slot_failures = 0
        #: the slot of the connection being opened or served
        self._slot = 1
        self.active_slot = 1
        self.evses = self._make_evses()
        for component, evse, variable, default, read_only in self.evses.variables():
            self.model.add(tx_variable(component, evse, variable, default, read_only))

    def _make_evses(self) -> Any:
        cls = self.evses_class
        if cls is None:
            cls = importlib.import_module("pile_interop.ocpp.v201.reference.station_tx").Evses
        return cls(self, self.evse_count, fixed_cable=self.fixed_cable)

    # ======================================================================================
    # StationPort (what the transaction half uses)
    # ======================================================================================

    @property
    def online(self) -> bool:
        """Connected and registered (BootNotification Accepted); False from the moment the
        station drops its connection (network gone, reconnect, reboot)."""
        return self._link_up() and self.registration == ACCEPTED

    def var(self, component: str, variable: str, evse: int | None = None) -> str:
        return self.model.get(component, variable, evse)

    def set_var(self, component: str, variable: str, value: str, evse: int | None = None) -> None:
        """Set a device-model value from inside the station (e.g. an AvailabilityState the
        transaction half tracks); no mutability check."""
        self.model.set(component, variable, value, evse=evse)

    async def send(self, request: Any) -> Any:
        """A non-transaction CALL now; its result, or None when offline / not answered."""
        action = type(request).__name__
        if self.base.link is not None and (
            self._registering or self._may_send_unregistered(action)
        ):
            return await self._call_direct(request)
        if not self.outbox.open.is_set():
            self.log.debug("%s: %s not sent (not registered)", self.station_id, action)
            return None
        future = self.outbox.put(action, lambda: request, transactional=False)
        return await self.base.result_of(future, action, 3 * self.response_timeout())

    async def send_tx(self, request: Any) -> Any:
        """A transaction-related CALL: sent now (its result), or queued (None) while offline or
        not registered; queued while offline it carries ``offline: true``."""
        action = type(request).__name__
        if not self._link_up() and hasattr(request, "offline"):
            request.offline = True
        future = self.outbox.put(action, lambda: request, transactional=True)
        if not self.outbox.open.is_set():
            return None
        return await self.base.result_of(future, action, 3 * self.response_timeout())

    def security_event(self, kind: str, tech_info: str | None = None) -> None:
        """A SecurityEventNotification (A04), timestamped now; queued while offline."""
        request = self.security_event_payload(kind, tech_info)
        self.log.info("%s: security event %s", self.station_id, kind)
        self.outbox.put("SecurityEventNotification", lambda: request, transactional=True)

    def security_event_payload(
        self, kind: str, tech_info: str | None
    ) -> call.SecurityEventNotification:
        return call.SecurityEventNotification(
            type=kind,
            timestamp=utc_iso(self.clock.now()),
            tech_info=tech_info[:255] if tech_info else None,
        )

    def _may_send_unregistered(self, action: str) -> bool:
        """Before Accepted only what a TriggerMessage asked for, and the NotifyReports of a
        report requested while Pending (B02.FR.01 / B02.FR.02)."""
        if self.registration == ACCEPTED or self.registration == REJECTED:
            return False
        if action in self._trigger_allow:
            self._trigger_allow.discard(action)
            return True
        return action == "NotifyReport"

    async def _call_direct(self, request: Any) -> Any:
        link = self.base.link
        if link is None:
            return None
        try:
            return await link.send_call(
                request, suppress=False, skip_schema_validation=not self.validate_outgoing
            )
        except Exception as exc:  # CALLERROR, time-out, closed connection
            self.log.info("%s: %s failed: %r", self.station_id, type(request).__name__, exc)
            return None

    def _link_up(self) -> bool:
        return self.base.link_up()

    def _int_var(
        self, component: str, variable: str, default: int, *, instance: str | None = None
    ) -> int:
        try:
            return int(self.model.get(component, variable, instance=instance))
        except ValueError:
            return default

    # ======================================================================================
    # lifecycle
    # ======================================================================================

    async def start(self) -> None:
        """Power on and keep a connection to the CSMS (reconnecting) until :meth:`stop`."""
        await self.base.start()

    async def stop(self) -> None:
        """Close the connection and cancel every task. Idempotent, bounded in time."""
        await self.base.stop()

    # -- the base's port: connection --------------------------------------------------------

    def connect_target(self) -> tuple[str, dict[str, Any]]:
        self._slot = self._current_slot()
        return self._target(self._slot)

    def on_connect_error(self, exc: BaseException) -> None:
        """Hook: a connection attempt failed (e.g. the CSMS's certificate did not verify)."""

    def _current_slot(self) -> int:
        return self._slot_order[self._slot_index % len(self._slot_order)]

    def _connect_failed(self) -> None:
        """B10: after NetworkProfileConnectionAttempts failures try the next priority slot."""
        self._slot_failures += 1
        attempts = self._int_var("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", 3)
        if self._slot_failures >= max(1, attempts) and len(self._slot_order) > 1:
            self._slot_failures = 0
            self._slot_index = (self._slot_index + 1) % len(self._slot_order)
            self.log.info(
                "%s: trying network profile slot %d", self.station_id, self._current_slot()
            )

    def _target(self, slot: int) -> tuple[str, dict[str, Any]]:
        """The URL and ``websockets.connect`` arguments of a profile slot."""
        profile = self.network_profiles.get(slot) or self.network_profiles[1]
        base = str(profile.get("ocppCsmsUrl", self.csms_url))
        level = int(profile.get("securityProfile", 1))
        url = f"{base.rstrip('/')}/{self.station_id}"
        headers: dict[str, str] = {}
        if self.password is not None and level in (1, 2):
            headers["Authorization"] = basic_auth_header(self.station_id, self.password)
        kwargs = websocket_options(
            self.clock,
            subprotocols=self.offered_subprotocols(),
            headers=headers,
            ping=self._int_var("OCPPCommCtrlr", "WebSocketPingInterval", 0),
        )
        if url.startswith("wss://"):
            kwargs["ssl"] = self.tls_for_profile(level)
        return url, kwargs

    def tls_for_profile(self, level: int) -> ssl_module.SSLContext | None:
        """The TLS context of security profile ``level`` (2 or 3)."""
        return self.ssl

    def offered_subprotocols(self) -> list[str]:
        """Sec-WebSocket-Protocol of the opening handshake: the station's one version."""
        return [self.subprotocol]

    def subprotocol_agreed(self, agreed: str | None) -> bool:
        """Whether the CSMS agreed to the station's version (Part 4 §3.1: without it the
        connection is not OCPP 2.0.1; websockets already fails a handshake that names a
        subprotocol the station did not offer, RFC 6455 §4.1)."""
        return agreed == self.subprotocol

    def response_timeout(self) -> float:
        """Real seconds a CALL waits for its response (OCPPCommCtrlr.MessageTimeout)."""
        seconds = self._int_var("OCPPCommCtrlr", "MessageTimeout", 30, instance="Default")
        return max(self.clock.real(seconds), MIN_REAL_RESPONSE_TIMEOUT)

    async def serve_connection(self, ws: ClientConnection) -> None:
        """Serve an open connection until it ends (B10: the slot's failures start again)."""
        self._slot_failures = 0
        await self.base.serve(ws)

    def open_link(self, ws: ClientConnection) -> StationLink:
        # the ReferenceStation built on this core implements the link's port
        link = StationLink(
            cast(LinkPort, self),
            ws,
            response_timeout=self.response_timeout(),
            ocpp_version=self.ocpp_version,
        )
        self.log.info("%s: connected to %s (slot %d)", self.station_id, ws.request, self._slot)
        return link

    def on_link_open(self, link: StationLink) -> None:
        slot = self._slot
        if self._resumable(slot):
            self._resume()
        else:
            self.base.spawn(self._boot_sequence(link, slot), "boot", self.base.conn_tasks)

    def on_disconnected(self, opened: bool) -> None:
        if not opened:
            self._connect_failed()
        if self.boot_on_every_connection or self.registration != ACCEPTED:
            self.registration = None
        elif self._offline_since is None:
            self._offline_since = self.clock.monotonic()
        self._trigger_allow.clear()
        if opened:
            self.evses.on_connection_lost()

    def reconnect(self) -> None:
        """Close the connection and open a new one at once (no reboot, so no new
        BootNotification): a new password or client certificate is used from the next
        connection on."""
        self.base.reconnect()

    # -- boot ---------------------------------------------------------------------------------

    def _resumable(self, slot: int) -> bool:
        """A new connection without a reboot: the registration still holds (B01 boots after a
        reboot, not after a reconnect) when it was Accepted through this same slot."""
        return (
            not self.boot_on_every_connection
            and self.registration == ACCEPTED
            and self._registered_slot == slot
        )

    def _resume(self) -> None:
        """Registered on a new connection (no BootNotification). B04.FR.01: offline longer than
        OfflineThreshold → every connector is reported before the queue goes on; B04.FR.02:
        else the EVSE half reports the connectors whose status changed (once it sees the
        station online). Runs without awaiting: nothing the EVSEs send in between is lost."""
        since = self._offline_since
        self._offline_since = None
        offline = self.clock.monotonic() - since if since is not None else 0.0
        threshold = self._int_var("OCPPCommCtrlr", "OfflineThreshold", 0)
        self.log.info(
            "%s: reconnected after %.0f s offline, still registered", self.station_id, offline
        )
        if offline > threshold:
            self._registering = True  # the statuses go before anything queued
            self.base.spawn(self._report_all_then_open(), "resume", self.base.conn_tasks)
        else:
            self._open_registered()

    async def _report_all_then_open(self, what: str = "reports") -> None:
        """The EVSEs report every connector (bounded), then the queue goes out."""
        try:
            await asyncio.wait_for(
                self.evses.on_registered(), self.clock.real(REGISTER_TIMEOUT_S) + 5.0
            )
        except TimeoutError:
            self.log.warning("%s: the EVSEs' %s took too long", self.station_id, what)
        finally:
            self._registering = False
        self._open_registered()

    def _open_registered(self) -> None:
        """Registered and reported: the queue goes out, in order, and the heartbeat runs."""
        self.connected.set()
        self.outbox.open.set()
        self.base.restart_heartbeat()

    async def _boot_sequence(self, link: StationLink, slot: int) -> None:
        """B01-B03: BootNotification until Accepted through ``slot``."""
        await self.base.boot_loop(link, partial(self._registered, slot=slot))

    async def call_boot_notification(self, link: Any, triggered: bool) -> Any:
        """With the reason of this boot, or Triggered when a TriggerMessage asked for it."""
        reason = BootReasonEnumType.triggered.value if triggered else self.boot_reason
        link.boot_unique_id = str(uuid.uuid4())
        return await link.call(
            self.boot_notification_payload(reason),
            suppress=False,
            unique_id=link.boot_unique_id,
            skip_schema_validation=not self.validate_outgoing,
        )

    def boot_retry_interval(self, interval: int) -> int:
        """Protocol seconds until the next BootNotification after a Pending / Rejected answer:
        its interval (B02.FR.04 / B03.FR.04), DEFAULT_BOOT_RETRY_S without one (B02.FR.07)."""
        return interval if interval > 0 else DEFAULT_BOOT_RETRY_S

    def boot_notification_payload(self, reason: str) -> call.BootNotification:
        """The BootNotificationRequest (B01): the station and why it booted."""
        return call.BootNotification(
            charging_station={
                "model": self.model_name,
                "vendor_name": self.vendor,
                "serial_number": self.serial,
                "firmware_version": self.firmware,
            },
            reason=reason,
        )

    def trigger_boot(self) -> None:
        """A TriggerMessage asked for a BootNotification: send it now (B02 / B03, F06)."""
        self.base.boot_now.set()

    async def _registered(self, conf: Any, slot: int) -> None:
        """Accepted (B01.FR.?): heartbeat interval, clock, the EVSEs report, then the queue."""
        self.model.set("OCPPCommCtrlr", "HeartbeatInterval", str(max(0, int(conf.interval))))
        self.sync_clock(conf.current_time)
        self._registered_slot = slot
        self._offline_since = None
        self.on_network_profile_connected(slot)
        self._registering = True
        # queued transaction messages and events follow the reports, in order
        await self._report_all_then_open("boot reports")

    def on_network_profile_connected(self, slot: int) -> None:
        """Hook: registered through ``slot`` (A05: the security profile is now that slot's)."""

    def sync_clock(self, current_time: str) -> None:
        """B01.FR.?: set the clock to the CSMS's ``currentTime``; a large correction is a
        SettingSystemTime security event."""
        try:
            when = parse_iso(current_time)
        except ValueError:
            self.log.warning("%s: bad currentTime %r", self.station_id, current_time)
            return
        jump = abs((when - self.clock.now()).total_seconds())
        self.clock.set_now(when)
        if jump > CLOCK_EVENT_THRESHOLD_S:
            self.security_event("SettingSystemTime", f"clock corrected by {jump:.0f} s")

    # -- heartbeat ------------------------------------------------------------------------

    def heartbeat_interval(self) -> int:
        """Protocol seconds between Heartbeats (OCPPCommCtrlr.HeartbeatInterval)."""
        return self._int_var("OCPPCommCtrlr", "HeartbeatInterval", 0)

    async def send_heartbeat(self) -> None:
        await self.send(call.Heartbeat())

    # ======================================================================================
    # network, power, reboot
    # ======================================================================================

    async def go_offline(self) -> None:
        """The network goes away: close the socket and do not reconnect until go_online()
        (the registration holds: no BootNotification when the network is back)."""
        self.base.go_offline()

    async def go_online(self) -> None:
        self.base.go_online()

    def power_on(self) -> None:
        """The base's port: a fresh boot with the reason of the last reboot."""
        self._power_on(self._next_reason)

    def _power_on(self, reason: str) -> None:
        """Start what runs from power-on regardless of the connection: a fresh boot, so not
        registered until a BootNotification is Accepted."""
        self.registration = None
        self._registered_slot = None
        self._offline_since = None
        self.boot_reason = reason
        self._slot_order = self.priority_slots() or [1]
        self._slot_index = 0
        self._slot_failures = 0
        self.on_power_on(reason)

    def priority_slots(self) -> list[int]:
        """The configured slots of NetworkConfigurationPriority, in order."""
        slots = []
        for item in self.model.get("OCPPCommCtrlr", "NetworkConfigurationPriority").split(","):
            item = item.strip()
            if item.isdigit() and int(item) in self.network_profiles:
                slots.append(int(item))
        return slots

    def on_power_on(self, reason: str) -> None:
        """Hook: a freshly booted station (security events of the boot)."""

    def reboot(self, reason: str) -> None:
        """Lose volatile state, drop the connection and boot again after BOOT_DELAY_S with
        ``reason``. The caller has already ended what must end (``Evses.on_power_loss``)."""
        self.log.info("%s: rebooting (%s)", self.station_id, reason)
        self._next_reason = reason
        self.base.reboot()

    # ======================================================================================
    # tasks
    # ======================================================================================

    def defer(self, work: Callable[[], Awaitable[None] | None]) -> None:
        """Run ``work`` once the response to the CALL being handled has been sent."""
        self.base.defer(work)

    def run_after_reply(self) -> None:
        self.base.run_after_reply()
