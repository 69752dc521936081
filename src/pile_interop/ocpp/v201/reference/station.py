"""Reference OCPP 2.0.1 charging station: the SUT the suite tests itself against.

A simulator of an OCPP 2.0.1 Core charging station on ``ocpp.v201`` and ``websockets`` (also
speaking ``ocpp2.1``), every timer on a scaled :class:`~pile_interop.core.clock.Clock`.

Public API: the constructor, :meth:`tls_context`, :meth:`start`, :meth:`stop`, the manual
actions (:meth:`plug_in`, :meth:`unplug`, :meth:`present_id_tag`, :meth:`raise_fault`,
:meth:`clear_fault`, :meth:`set_lock_failure`, :meth:`ev_suspend`, :meth:`ev_resume` — the EVSE
half's — and :meth:`power_cycle`, :meth:`go_offline`, :meth:`go_online`,
:meth:`send_data_transfer`), :meth:`settle`, :meth:`snapshot`, and the ``clock`` and
``connected`` attributes.

Composition: one class owning its components and keeping their hooks. ``base`` is the
version-neutral :class:`~pile_interop.ocpp.reference.station_base.StationBase`, whose port is
:mod:`connection` (slots, subprotocols, boot, resume, what may be sent when); :mod:`security`
(password, events, TLS version probe, security profiles), :mod:`certificates` (the store, CSR,
CertificateSigned, TLS context), :mod:`device_access` (set-up, computed values, snapshot), the
handler families ``handlers_*`` and the transaction half ``Evses`` (:mod:`station_tx`, which
sees the station as its :class:`~pile_interop.ocpp.v201.reference.station_port.StationPort`).
Each component is typed against a small Protocol of what it needs from the station and never
imports this module; the hooks are methods of this class (calling the component's default), and
the components call them through the station: a mutant overriding one changes it everywhere.

Behaviour is split into small overridable methods so the suite can build *mutants* (a subclass
with one defect). The hooks — boot: :meth:`boot_notification_payload`,
:meth:`boot_retry_interval`, :meth:`sync_clock`, :meth:`heartbeat_interval`,
:meth:`incoming_call_gate`, :meth:`on_power_on`, the class flag ``boot_on_every_connection``;
connection: :meth:`offered_subprotocols`, :meth:`subprotocol_agreed`, :meth:`tls_for_profile`,
:meth:`on_connect_error`, :meth:`priority_slots`, :meth:`on_network_profile_connected`; device
model: :meth:`get_variable_result`, :meth:`set_variable_status`, :meth:`apply_variable`,
:meth:`on_variable_changed`, :meth:`password_status`, :meth:`set_password`,
:meth:`priority_status`; reports: :meth:`base_report_status`, :meth:`base_report_variables`,
:meth:`report_variables`, :meth:`report_parts`; reset: :meth:`reset_status`,
:meth:`perform_reset`, :meth:`reset_stopped_reason`, :meth:`reset_boot_reason`; certificates:
:meth:`initial_certificates`, :meth:`v2g_chain_entry`, :meth:`install_certificate_decision`,
:meth:`store_certificate`, :meth:`delete_certificate_status`; network:
:meth:`network_profile_status`, :meth:`profile_problem`; trigger: :meth:`trigger_status`;
security: :meth:`csr_subject`, :meth:`certificate_signed_problem`, :meth:`security_event`,
:meth:`security_event_payload`; data transfer: :meth:`data_transfer_response`.

Unhandled requests: NotSupported (a 2.0.1 action) or NotImplemented (none); see
:mod:`station_link`. A reboot keeps the device model, network profiles, certificates, the
password, queued TransactionEvents and security events, and the EVSE half's physical world.
"""

from __future__ import annotations

import importlib
import logging
import ssl as ssl_module
from collections.abc import Awaitable, Callable
from typing import Any

from cryptography import x509
from ocpp.v201 import call, call_result
from ocpp.v201.enums import (
    BootReasonEnumType,
    DataTransferStatusEnumType,
    GenericDeviceModelStatusEnumType,
)

from pile_interop.core.config import TlsFiles
from pile_interop.ocpp.reference.station_base import (
    BOOT_DELAY_S,
    DEFAULT_BOOT_RETRY_S,
    RECONNECT_BACKOFF_MAX_S,
    RECONNECT_BACKOFF_MIN_S,
    StationBase,
)
from pile_interop.ocpp.v201.reference.certificates import (
    Certificates,
    InstalledCertificate,
    files_tls_context,
)
from pile_interop.ocpp.v201.reference.connection import (
    ACCEPTED,
    SUBPROTOCOLS,
    Connection,
    check_arguments,
)
from pile_interop.ocpp.v201.reference.device_access import (
    DeviceAccess,
    default_security_profile,
    first_network_profile,
    handler_names,
    station_device_model,
)
from pile_interop.ocpp.v201.reference.handlers_certificates import (
    CertificateHandlers,
    v2g_certificate_chain,
)
from pile_interop.ocpp.v201.reference.handlers_device_model import DeviceModelHandlers
from pile_interop.ocpp.v201.reference.handlers_network import NetworkHandlers
from pile_interop.ocpp.v201.reference.handlers_reset import ResetHandlers
from pile_interop.ocpp.v201.reference.handlers_smart_charging import SmartChargingStation
from pile_interop.ocpp.v201.reference.handlers_trigger import TriggerHandlers
from pile_interop.ocpp.v201.reference.local_list import install_local_list
from pile_interop.ocpp.v201.reference.reservations import install_reservations
from pile_interop.ocpp.v201.reference.security import Security
from pile_interop.ocpp.v201.reference.station_model import Variable, tx_variable

__all__ = [
    "BOOT_DELAY_S",
    "DEFAULT_BOOT_RETRY_S",
    "RECONNECT_BACKOFF_MAX_S",
    "RECONNECT_BACKOFF_MIN_S",
    "InstalledCertificate",
    "ReferenceStation",
]


class ReferenceStation(SmartChargingStation):
    """A simulated OCPP 2.0.1 charging station (client side of the websocket): connects to
    ``station_url(url, station_id)``; ``password`` adds HTTP Basic auth (security profiles
    1 and 2), ``ssl`` is the TLS context of wss:// URLs (profiles 2 and 3; it may come with a
    ws:// URL, for a later upgrade). ``security_profile`` defaults to 2 for a wss:// URL (3 with
    the feature ``client_certificate`` and no password), else 1. ``features``: the device
    descriptor's (``reset_evse``: Reset of one EVSE is supported)."""

    #: Check outgoing requests against the JSON schemas before sending (a mutant that must
    #: put an invalid payload on the wire sets this to False).
    validate_outgoing = True
    #: Validate incoming requests (a mutant sets False: then it handles anything).
    validates_requests = True
    #: Answer unknown / unsupported actions NotImplemented / NotSupported (else the package).
    answers_unknown_actions = True
    #: Forget the registration when the connection closes and send a BootNotification on
    #: every new connection, not only after a reboot (a mutant's defect; see
    #: :mod:`~pile_interop.ocpp.v201.reference.connection`).
    boot_on_every_connection = False
    #: The class of the transaction half: ``(port, evses, fixed_cable=...) -> Evses``;
    #: None: ``pile_interop.ocpp.v201.reference.station_tx.Evses``.
    evses_class: Any = None
    #: The classes of the optional blocks' components (D: ``local_list.LocalAuthList``, H:
    #: ``reservations.Reservations``); None: those
    local_list_class: Any = None
    reservations_class: Any = None

    @classmethod
    def tls_context(cls, files: TlsFiles) -> ssl_module.SSLContext:
        """Security profiles 2 and 3: trust ``files.ca_cert`` only (hostname checked, TLS 1.2
        or newer) and present ``files.client_cert`` when the CSMS asks for one."""
        return files_tls_context(files)

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
        check_arguments(url, evses, subprotocol)
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
        #: the 2.0.1 side of the base: connection, boot, resume, outgoing CALLs
        self._conn = Connection(self)
        #: connection loop, boot loop, heartbeat, clock, outbox and tasks (its port: _conn)
        self.base: StationBase = self._conn.new_base(time_scale)
        self.clock = self.base.clock
        self.outbox = self.base.outbox
        if security_profile is None:
            security_profile = default_security_profile(url, password, self.features)
        self.model = station_device_model(self, security_profile)
        #: NetworkConnectionProfile slots (camelCase NetworkConnectionProfileType)
        self.network_profiles = {1: first_network_profile(url, security_profile)}
        #: Set while a websocket is open, BootNotification Accepted and the EVSEs reported.
        self.connected = self.base.connected
        #: Status of the last BootNotificationResponse since the last boot (None before one);
        #: an Accepted one outlives the connection (B04).
        self.registration: str | None = None
        self.boot_reason = BootReasonEnumType.power_up.value
        self.active_slot = 1
        #: CALLs a TriggerMessage lets out before the registration is Accepted (B02.FR.02)
        self._trigger_allow: set[str] = set()
        #: the installed CA certificates; the station certificate chain (PEM) accepted with
        #: CertificateSigned (its key stays in the certificate store)
        self.certificates: list[InstalledCertificate] = []
        self.client_certificate: str | None = None
        self._security = Security(self)
        self._certs = Certificates(self)
        self._access = DeviceAccess(self)
        # the handler families (they keep nothing but the station)
        self._dm = DeviceModelHandlers(self)
        self._resets = ResetHandlers(self)
        self._network = NetworkHandlers(self)
        self._triggers = TriggerHandlers(self)
        self._v2g = CertificateHandlers(self)
        cls = self.evses_class
        if cls is None:
            cls = importlib.import_module("pile_interop.ocpp.v201.reference.station_tx").Evses
        self.evses = cls(self, self.evse_count, fixed_cable=self.fixed_cable)
        for component, evse, variable, default, read_only in self.evses.variables():
            self.model.add(tx_variable(component, evse, variable, default, read_only))
        self.local_list = install_local_list(self)  # block D: local_list.py
        self.reservations = install_reservations(self)  # block H: reservations.py
        self._certs.add_initial(self.initial_certificates())
        #: the station's V2G certificate chain, leaf first (feature ``iso15118``), see M03
        self.v2g_chain: list[x509.Certificate] = (
            v2g_certificate_chain(self.station_id) if self.features.get("iso15118") else []
        )
        self._access.attach_live_values()

    # -- StationPort (the transaction half's view) and outgoing CALLs: connection.py ---------

    @property
    def online(self) -> bool:
        """Connected and registered (BootNotification Accepted)."""
        return self._link_up() and self.registration == ACCEPTED

    def var(self, component: str, variable: str, evse: int | None = None) -> str:
        return self.model.get(component, variable, evse)

    def set_var(self, component: str, variable: str, value: str, evse: int | None = None) -> None:
        """Set a device-model value from inside the station; no mutability check."""
        self.model.set(component, variable, value, evse=evse)

    async def send(self, request: Any) -> Any:
        return await self._conn.send(request)

    async def send_tx(self, request: Any) -> Any:
        return await self._conn.send_tx(request)

    def security_event(self, kind: str, tech_info: str | None = None) -> None:
        self._conn.security_event(kind, tech_info)

    def security_event_payload(
        self, kind: str, tech_info: str | None
    ) -> call.SecurityEventNotification:
        return self._conn.security_event_payload(kind, tech_info)

    def _link_up(self) -> bool:
        return self.base.link_up()

    def _int_var(
        self, component: str, variable: str, default: int, *, instance: str | None = None
    ) -> int:
        try:
            return int(self.model.get(component, variable, instance=instance))
        except ValueError:
            return default

    # -- lifecycle, connection, boot: connection.py (the base's port) -----------------------

    async def start(self) -> None:
        """Power on and keep a connection to the CSMS (reconnecting) until :meth:`stop`."""
        await self.base.start()

    async def stop(self) -> None:
        """Close the connection and cancel every task. Idempotent, bounded in time."""
        await self.base.stop()

    def _target(self, slot: int) -> tuple[str, dict[str, Any]]:
        """The URL and ``websockets.connect`` arguments of a network profile slot."""
        return self._conn.target(slot)

    def current_target(self) -> tuple[str, dict[str, Any]]:
        """The target of the slot the station connects to now."""
        return self._target(self._conn.current_slot())

    def tls_for_profile(self, level: int) -> ssl_module.SSLContext | None:
        return self._certs.tls_for_profile(level)

    def offered_subprotocols(self) -> list[str]:
        """Sec-WebSocket-Protocol of the opening handshake: the station's one version."""
        return [self.subprotocol]

    def subprotocol_agreed(self, agreed: str | None) -> bool:
        """Whether the CSMS agreed to the station's version (Part 4 §3.1)."""
        return agreed == self.subprotocol

    def on_connect_error(self, exc: BaseException) -> None:
        self._security.on_connect_error(exc)

    def reconnect(self) -> None:
        """A new connection at once (no reboot): a new password or certificate is used."""
        self.base.reconnect()

    def incoming_call_gate(self, action: str, payload: dict[str, Any]) -> tuple[str, Any] | None:
        return self._conn.incoming_call_gate(action, payload)

    def boot_retry_interval(self, interval: int) -> int:
        return self._conn.default_boot_retry_interval(interval)

    def boot_notification_payload(self, reason: str) -> call.BootNotification:
        return self._conn.boot_notification_payload(reason)

    def trigger_boot(self) -> None:
        """A TriggerMessage asked for a BootNotification: send it now (B02 / B03, F06)."""
        self.base.boot_now.set()

    def sync_clock(self, current_time: str) -> None:
        self._conn.sync_clock(current_time)

    def on_network_profile_connected(self, slot: int) -> None:
        """Registered through ``slot`` (A05: its security profile is now the station's)."""
        self._security.on_network_profile_connected(slot)

    def heartbeat_interval(self) -> int:
        """Protocol seconds between Heartbeats (OCPPCommCtrlr.HeartbeatInterval)."""
        return self._int_var("OCPPCommCtrlr", "HeartbeatInterval", 0)

    def priority_slots(self) -> list[int]:
        return self._conn.priority_slots()

    def on_power_on(self, reason: str) -> None:
        """A freshly booted station (StartupOfTheDevice after a power-up)."""
        self._security.on_power_on(reason)

    async def go_offline(self) -> None:
        """The network goes away (the registration holds) until :meth:`go_online`."""
        self.base.go_offline()

    async def go_online(self) -> None:
        self.base.go_online()

    def reboot(self, reason: str) -> None:
        """Drop the connection and volatile state; boot again with ``reason``."""
        self._conn.reboot(reason)

    def defer(self, work: Callable[[], Awaitable[None] | None]) -> None:
        """Run ``work`` once the response to the CALL being handled has been sent."""
        self.base.defer(work)

    def run_after_reply(self) -> None:
        self.base.run_after_reply()

    # -- A01 / A02 / A05: password, security profiles: security.py ---------------------------

    def password_status(self, value: str) -> str:
        """Accepted for 16-40 printable ASCII characters, else Rejected (A_10)."""
        return self._security.password_status(value)

    def set_password(self, value: str) -> None:
        self._security.set_password(value)

    def security_level(self) -> int:
        return self._security.security_level()

    def profile_problem(self, level: int) -> str | None:
        """Why the station cannot connect with security profile ``level`` (None: it can)."""
        return self._security.profile_problem(level)

    # -- A02 / A03, M03 – M05: certificates: certificates.py ---------------------------------

    def initial_certificates(self) -> list[InstalledCertificate]:
        """The factory's store: the CSMS root(s) the TLS context trusts (M03)."""
        return self._certs.initial_certificates()

    async def handle_install_certificate(
        self, req: call.InstallCertificate
    ) -> call_result.InstallCertificate:
        return await self._certs.install_certificate(req)

    def install_certificate_decision(
        self, certificate_type: str, pem: str
    ) -> tuple[str, x509.Certificate | None]:
        """Rejected for a text without a PEM certificate or an expired one (M05.FR.?)."""
        return self._certs.install_certificate_decision(certificate_type, pem)

    def store_certificate(self, certificate_type: str, cert: x509.Certificate) -> None:
        self._certs.store_certificate(certificate_type, cert)

    async def handle_get_installed_certificate_ids(
        self, req: call.GetInstalledCertificateIds
    ) -> call_result.GetInstalledCertificateIds:
        """The installed CA certificates, and the V2G chain when asked for (M03.FR.05)."""
        result = self._certs.installed_certificate_ids(req)
        return self._v2g.with_v2g_chain(req, result)

    def v2g_chain_entry(self) -> dict[str, Any] | None:
        """The V2G chain's CertificateHashDataChainType (M03.FR.05)."""
        return self._v2g.v2g_chain_entry()

    async def handle_delete_certificate(
        self, req: call.DeleteCertificate
    ) -> call_result.DeleteCertificate:
        return self._certs.delete_certificate(req)

    def delete_certificate_status(self, found: InstalledCertificate | None) -> str:
        """NotFound; Failed for the last CSMS root under TLS; Accepted."""
        return self._certs.delete_certificate_status(found)

    def csr_subject(self) -> x509.Name:
        """The CSR's subject: O = SecurityCtrlr.OrganizationName, CN = the station id."""
        return self._certs.csr_subject()

    async def request_certificate_signing(self) -> None:
        await self._certs.request_certificate_signing()

    async def handle_certificate_signed(
        self, req: call.CertificateSigned
    ) -> call_result.CertificateSigned:
        return self._certs.certificate_signed(req)

    def certificate_signed_problem(self, chain: str, certificate_type: str | None) -> str | None:
        """Why a CertificateSigned chain is refused (None: accepted), A02 / A03."""
        return self._certs.certificate_signed_problem(chain, certificate_type)

    # -- the CSMS's requests (the link's port) -----------------------------------------------

    def handled_actions(self) -> dict[str, str]:
        """CSMS action → the station's handler method (``handle_<snake_case action>``)."""
        return handler_names(self)

    # -- B05 / B06: GetVariables, SetVariables: handlers_device_model.py ---------------------

    def _check_items(self, count: int, instance: str) -> None:
        self._dm.check_items(count, instance)

    async def handle_get_variables(self, req: call.GetVariables) -> call_result.GetVariables:
        return await self._dm.get_variables(req)

    def get_variable_result(self, item: dict[str, Any]) -> dict[str, Any]:
        """GetVariableResultType of one item (B06)."""
        return self._dm.get_variable_result(item)

    async def handle_set_variables(self, req: call.SetVariables) -> call_result.SetVariables:
        return await self._dm.set_variables(req)

    def set_variable_status(self, var: Variable, value: str) -> tuple[str, str | None]:
        """(status, why) of setting ``var`` to ``value`` (B05)."""
        return self._dm.set_variable_status(var, value)

    def apply_variable(self, var: Variable, value: str) -> None:
        """Store an accepted value (the password only in memory: it is write-only)."""
        self._dm.apply_variable(var, value)

    def on_variable_changed(self, var: Variable) -> None:
        """A new value takes effect at once (B05: Accepted means applied)."""
        if var.variable == "HeartbeatInterval":
            self.base.restart_heartbeat()

    def priority_status(self, value: str) -> str | None:
        """Why a NetworkConfigurationPriority cannot be set (None: it can, A05)."""
        return self._dm.priority_status(value)

    # -- B07 / B08: reports: handlers_device_model.py ----------------------------------------

    async def handle_get_base_report(self, req: call.GetBaseReport) -> call_result.GetBaseReport:
        return await self._dm.get_base_report(req)

    def base_report_status(self, report_base: str) -> str:
        return GenericDeviceModelStatusEnumType.accepted

    def base_report_variables(self, report_base: str) -> list[Variable]:
        """The variables of a base report (B07)."""
        return self.model.base_report(report_base)

    async def handle_get_report(self, req: call.GetReport) -> call_result.GetReport:
        return await self._dm.get_report(req)

    def report_variables(
        self, selectors: list[dict[str, Any]], criteria: list[str]
    ) -> list[Variable]:
        """The variables a GetReport asks for (B08); empty → EmptyResultSet."""
        return self.model.custom_report(selectors, criteria)

    def report_parts(self, request_id: int, variables: list[Variable]) -> list[call.NotifyReport]:
        """NotifyReport parts of ItemsPerMessage[GetReport] entries (B07 / B08)."""
        return self._dm.report_parts(request_id, variables)

    # -- B11 / B12: Reset: handlers_reset.py -------------------------------------------------

    async def handle_reset(self, req: call.Reset) -> call_result.Reset:
        return await self._resets.reset(req)

    def reset_status(self, kind: str, evse_id: int | None) -> str:
        """Accepted, Scheduled (OnIdle, a transaction runs) or Rejected (B11 / B12)."""
        return self._resets.reset_status(kind, evse_id)

    async def perform_reset(
        self, kind: str, evse_id: int | None, *, scheduled: bool = False
    ) -> None:
        """The reset itself: wait for / end the transactions, then reboot (B11 / B12)."""
        await self._resets.perform_reset(kind, evse_id, scheduled=scheduled)

    def reset_stopped_reason(self, kind: str) -> str | None:
        """ImmediateReset for an Immediate reset (B12.FR.02); None: PowerLoss."""
        return self._resets.reset_stopped_reason(kind)

    def reset_boot_reason(self, kind: str, scheduled: bool) -> str:
        """ScheduledReset after a Scheduled reset (B12.FR.03), else RemoteReset."""
        return self._resets.reset_boot_reason(scheduled)

    # -- B09: SetNetworkProfile: handlers_network.py; F06: TriggerMessage: handlers_trigger.py

    async def handle_set_network_profile(
        self, req: call.SetNetworkProfile
    ) -> call_result.SetNetworkProfile:
        return await self._network.set_network_profile(req)

    def network_profile_status(self, slot: int, data: dict[str, Any]) -> str:
        """Accepted or Rejected for a SetNetworkProfile (B09, A_22)."""
        return self._network.network_profile_status(slot, data)

    async def handle_trigger_message(self, req: call.TriggerMessage) -> call_result.TriggerMessage:
        return await self._triggers.trigger_message(req)

    def trigger_status(self, requested: str) -> str | None:
        """The station's own triggers' status; None for the EVSE messages (F06)."""
        return self._triggers.trigger_status(requested)

    # -- P: DataTransfer; the EVSE-level requests (the transaction half) --------------------

    async def handle_data_transfer(self, req: call.DataTransfer) -> call_result.DataTransfer:
        return self.data_transfer_response(req.vendor_id, req.message_id, req.data)

    def data_transfer_response(
        self, vendor_id: str, message_id: str | None, data: Any
    ) -> call_result.DataTransfer:
        """The station implements no vendor extension (P01.FR.?: UnknownVendorId)."""
        return call_result.DataTransfer(status=DataTransferStatusEnumType.unknown_vendor_id)

    async def handle_request_stop_transaction(self, req: call.RequestStopTransaction) -> Any:
        return await self.evses.request_stop(req)

    async def handle_unlock_connector(self, req: call.UnlockConnector) -> Any:
        return await self.evses.unlock_connector(req)

    async def handle_change_availability(self, req: call.ChangeAvailability) -> Any:
        return await self.evses.change_availability(req)

    async def handle_get_transaction_status(self, req: call.GetTransactionStatus) -> Any:
        return await self.evses.get_transaction_status(req)

    async def handle_clear_cache(self, req: call.ClearCache) -> Any:
        return await self.evses.clear_cache(req)

    # -- control surface ---------------------------------------------------------------------

    async def plug_in(self, evse: int = 1) -> None:
        await self.evses.plug_in(evse)

    async def unplug(self, evse: int = 1) -> None:
        await self.evses.unplug(evse)

    async def present_id_tag(self, id_tag: str, evse: int | None = None) -> None:
        await self.evses.present_id_tag(id_tag, evse)

    async def raise_fault(self, evse: int = 1) -> None:
        await self.evses.raise_fault(evse)

    async def clear_fault(self, evse: int = 1) -> None:
        await self.evses.clear_fault(evse)

    async def set_lock_failure(self, evse: int = 1, failing: bool = True) -> None:
        await self.evses.set_lock_failure(evse, failing)

    async def ev_suspend(self, evse: int = 1) -> None:
        await self.evses.ev_suspend(evse)

    async def ev_resume(self, evse: int = 1) -> None:
        await self.evses.ev_resume(evse)

    async def power_cycle(self) -> None:
        """Power loss and reboot (BootNotification reason PowerUp)."""
        self.outbox.open.clear()  # no power: nothing more goes out
        await self._resets.power_loss(None)
        self.reboot(BootReasonEnumType.power_up.value)

    async def send_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: Any = None
    ) -> dict[str, Any] | None:
        """DataTransferRequest to the CSMS; the response as a wire dict, None if unanswered."""
        result = await self.send(
            call.DataTransfer(vendor_id=vendor_id, message_id=message_id, data=data)
        )
        if result is None:
            return None
        out: dict[str, Any] = {"status": str(result.status)}
        if result.data is not None:
            out["data"] = result.data
        return out

    async def settle(self, timeout: float = 5.0) -> None:
        """Back to idle for the next case (TimeoutError after ``timeout`` real s)."""
        await self._access.settle(timeout)

    def snapshot(self) -> dict[str, Any]:
        """The station's state, for debugging and tests (no password, no key)."""
        return self._access.snapshot()
