"""Reference OCPP 2.0.1 charging station: the SUT the suite tests itself against.

A simulator of an OCPP 2.0.1 Core charging station built on ``ocpp.v201`` and ``websockets``
(also speaking ``ocpp2.1``: the same messages). Every timer runs on a scaled
:class:`~pile_interop.core.clock.Clock`: a ``time_scale`` of 0.1 makes a 30 s heartbeat interval
take 3 real seconds.

Public API: the constructor, :meth:`tls_context`, :meth:`start`, :meth:`stop`, the manual
actions (:meth:`plug_in`, :meth:`unplug`, :meth:`present_id_tag`, :meth:`raise_fault`,
:meth:`clear_fault`, :meth:`set_lock_failure`, :meth:`ev_suspend`, :meth:`ev_resume` — the EVSE
half's — and :meth:`power_cycle`, :meth:`go_offline`, :meth:`go_online`,
:meth:`send_data_transfer`), :meth:`settle`, :meth:`snapshot`, and the ``clock`` and
``connected`` attributes.

Layers: :mod:`station201_core` (connection, boot, heartbeat, outgoing queue: the
:class:`~pile_interop.ocpp.v201.reference.station_port.StationPort` of the EVSE half),
:mod:`station201_security` (password, security events, certificates, security profiles) and
this module (the CSMS's requests of blocks B, F, M, P). The handler families are components
the station composes, each typed against a small Protocol of what it needs from the station:
:mod:`handlers_device_model` (GetVariables, SetVariables, reports), :mod:`handlers_reset`,
:mod:`handlers_network` (SetNetworkProfile), :mod:`handlers_trigger` (TriggerMessage) and
:mod:`handlers_certificates` (the V2G chain); the hooks stay methods of this class (they call
the component's default), and the components call the hooks through the station, so that a
mutant overriding one changes it everywhere. The device model is
:mod:`station201_model`; EVSEs, authorization and transactions are ``Evses``
(:mod:`station201_tx`), to which the EVSE-level requests (RequestStart/StopTransaction,
UnlockConnector, ChangeAvailability, GetTransactionStatus, ClearCache, TriggerMessage of
StatusNotification / MeterValues / TransactionEvent) go.

Behaviour is split into small overridable methods so the suite can build *mutants* (a subclass
with one defect). The hooks:

* boot: :meth:`boot_notification_payload`, :meth:`boot_retry_interval`, :meth:`sync_clock`,
  :meth:`heartbeat_interval`, :meth:`incoming_call_gate` (what is answered before the boot is
  Accepted); the class flag ``boot_on_every_connection``
* device model: :meth:`get_variable_result`, :meth:`set_variable_status`,
  :meth:`apply_variable`, :meth:`on_variable_changed`, :meth:`password_status`,
  :meth:`priority_status`
* reports: :meth:`base_report_status`, :meth:`base_report_variables`,
  :meth:`report_variables`, :meth:`report_parts`
* reset: :meth:`reset_status`, :meth:`perform_reset`, :meth:`reset_stopped_reason`,
  :meth:`reset_boot_reason`
* connection: :meth:`offered_subprotocols`, :meth:`subprotocol_agreed`
* certificates: :meth:`initial_certificates`, :meth:`v2g_chain_entry`
* network: :meth:`network_profile_status`, :meth:`profile_problem`
* trigger: :meth:`trigger_status`
* security: :meth:`csr_subject`, :meth:`certificate_signed_problem`,
  :meth:`install_certificate_decision`, :meth:`delete_certificate_status`,
  :meth:`security_event_payload`
* data transfer: :meth:`data_transfer_response`

Requests the station does not handle are answered NotSupported (a 2.0.1 action) or
NotImplemented (not an action at all); see :mod:`station201_link`.

What survives a reboot: the device model, network profiles, certificates, the password, the
queued TransactionEvents and security events, and what the EVSE half keeps (the physical world).
"""

from __future__ import annotations

import asyncio
import re
import ssl
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from ocpp.v201 import call, call_result
from ocpp.v201.enums import (
    BootReasonEnumType,
    DataTransferStatusEnumType,
    GenericDeviceModelStatusEnumType,
    InstallCertificateUseEnumType,
)

from pile_interop.core.clock import utc_iso
from pile_interop.core.config import TlsFiles
from pile_interop.ocpp.reference.station_base import (
    BOOT_DELAY_S,
    DEFAULT_BOOT_RETRY_S,
    RECONNECT_BACKOFF_MAX_S,
    RECONNECT_BACKOFF_MIN_S,
)
from pile_interop.ocpp.v201.reference.handlers_certificates import (
    CertificateHandlers,
    v2g_certificate_chain,
)
from pile_interop.ocpp.v201.reference.handlers_device_model import DeviceModelHandlers
from pile_interop.ocpp.v201.reference.handlers_network import NetworkHandlers
from pile_interop.ocpp.v201.reference.handlers_reset import ResetHandlers
from pile_interop.ocpp.v201.reference.handlers_trigger import TriggerHandlers
from pile_interop.ocpp.v201.reference.station_core import ACCEPTED, REJECTED
from pile_interop.ocpp.v201.reference.station_model import WRITE_ONLY, Variable
from pile_interop.ocpp.v201.reference.station_security import InstalledCertificate, StationSecurity
from pile_interop.security.certhash import certificate_hash_data, same_certificate
from pile_interop.security.pki import CertFiles, client_context

__all__ = [
    "BOOT_DELAY_S",
    "DEFAULT_BOOT_RETRY_S",
    "RECONNECT_BACKOFF_MAX_S",
    "RECONNECT_BACKOFF_MIN_S",
    "ReferenceStation",
]

#: While Pending (B02.FR.01) the CSMS may read and configure the station and trigger messages.
PENDING_ALLOWED = frozenset(
    {"GetVariables", "SetVariables", "GetBaseReport", "GetReport", "TriggerMessage"}
)
#: While Pending RequestStart/StopTransaction are answered Rejected (B02.FR.05).
PENDING_REJECTED = frozenset({"RequestStartTransaction", "RequestStopTransaction"})
#: The EVSE-level requests the transaction half answers: action → Evses method
EVSE_REQUESTS = {
    "RequestStartTransaction": "request_start",
    "RequestStopTransaction": "request_stop",
    "UnlockConnector": "unlock_connector",
    "ChangeAvailability": "change_availability",
    "GetTransactionStatus": "get_transaction_status",
    "ClearCache": "clear_cache",
}
CSMS_ROOT = InstallCertificateUseEnumType.csms_root_certificate.value


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class ReferenceStation(StationSecurity):
    """A simulated OCPP 2.0.1 charging station (client side of the websocket).

    ``ReferenceStation(url, station_id, *, evses=2, time_scale=1.0, password=None, ssl=None,
    vendor=..., model=..., serial=..., firmware=..., fixed_cable=False, features=None,
    subprotocol="ocpp2.0.1", security_profile=None, logger=None)``: connects to
    ``f"{url.rstrip('/')}/{station_id}"``; ``password`` adds HTTP Basic auth (security profiles
    1 and 2), ``ssl`` is the TLS context of wss:// URLs (profiles 2 and 3; it may come with a
    ws:// URL, for a later upgrade). ``security_profile`` defaults to 2 for a wss:// URL (3 with
    the feature ``client_certificate``), else 1.
    ``features``: the device descriptor's (``reset_evse``: Reset of one EVSE is supported).
    """

    @classmethod
    def tls_context(cls, files: TlsFiles) -> ssl.SSLContext:
        """Security profiles 2 and 3: trust ``files.ca_cert`` only (hostname checked, TLS 1.2
        or newer) and present ``files.client_cert`` when the CSMS asks for one."""
        client = None
        if files.client_cert and files.client_key:
            client = CertFiles(Path(files.client_cert), Path(files.client_key))
        return client_context(files.ca_cert, cert=client)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # the handler families (they keep nothing but the station)
        self._dm = DeviceModelHandlers(self)
        self._resets = ResetHandlers(self)
        self._network = NetworkHandlers(self)
        self._triggers = TriggerHandlers(self)
        self._v2g = CertificateHandlers(self)
        super().__init__(*args, **kwargs)
        for installed in self.initial_certificates():
            if not any(
                same_certificate(c.hash_data, installed.hash_data) for c in self.certificates
            ):
                self.certificates.append(installed)
        #: the station's V2G certificate chain, leaf first (feature ``iso15118``), see M03
        self.v2g_chain: list[x509.Certificate] = (
            v2g_certificate_chain(self.station_id) if self.features.get("iso15118") else []
        )
        for var in self.model:
            if var.variable == "AvailabilityState" and var.component in (
                "ChargingStation",
                "EVSE",
                "Connector",
            ):
                var.live = self._availability_reader(var)

    def initial_certificates(self) -> list[InstalledCertificate]:
        """What the certificate store holds from the factory: the CSMS root(s) the TLS
        context trusts (security profiles 2 and 3: the station names the root it relies on,
        M03, and another installed root may then be deleted, M04)."""
        if self.ssl is None:
            return []
        out = []
        for der in self.ssl.get_ca_certs(binary_form=True):
            cert = x509.load_der_x509_certificate(der)
            pem = cert.public_bytes(serialization.Encoding.PEM).decode()
            out.append(InstalledCertificate(CSMS_ROOT, pem, certificate_hash_data(cert)))
        return out

    def _availability_reader(self, var: Variable) -> Any:
        def read() -> str:
            return self.availability_state(var.evse) or var.value

        return read

    def availability_state(self, evse: int | None) -> str | None:
        """AvailabilityState of the station (``evse`` None) or of an EVSE and its connector,
        as the EVSE half sees it (None: unknown, the stored value is reported)."""
        try:
            if evse is None:
                operative = getattr(self.evses, "station_operative", True)
                return "Available" if operative else "Unavailable"
            status = getattr(self.evses, "connector_status", None)
            slots = getattr(self.evses, "evses", None)
            if status is None or not isinstance(slots, dict) or evse not in slots:
                return None
            return str(status(slots[evse]))
        except Exception:  # the EVSE half's internals are not part of the port
            return None

    def handled_actions(self) -> dict[str, str]:
        """CSMS action → the station's handler method (``handle_<snake_case action>``)."""
        actions = [
            "GetVariables",
            "SetVariables",
            "GetBaseReport",
            "GetReport",
            "Reset",
            "SetNetworkProfile",
            "TriggerMessage",
            "DataTransfer",
            "InstallCertificate",
            "GetInstalledCertificateIds",
            "DeleteCertificate",
            "CertificateSigned",
            *EVSE_REQUESTS,
        ]
        return {action: f"handle_{_snake(action)}" for action in actions}

    def incoming_call_gate(self, action: str, payload: dict[str, Any]) -> tuple[str, Any] | None:
        """Before the BootNotification is Accepted: None (handle it), ``("result", payload)``
        or ``(error code, description)``. Pending: the CSMS may read and configure and trigger
        (B02.FR.01), RequestStart/StopTransaction are Rejected (B02.FR.05), the rest is a
        SecurityError (the station-side mirror of B02.FR.09); Rejected: only a TriggerMessage
        for a BootNotification (B03 / TC_B_31), else SecurityError."""
        if self.registration == ACCEPTED:
            return None
        if self.registration == REJECTED:
            if action == "TriggerMessage" and payload.get("requestedMessage") == "BootNotification":
                return None
            return ("SecurityError", f"{action} while the registration is Rejected")
        if action in PENDING_REJECTED:
            return ("result", {"status": "Rejected"})
        if action in PENDING_ALLOWED:
            return None
        return ("SecurityError", f"{action} before the registration is Accepted")

    # ======================================================================================
    # B05 / B06: GetVariables, SetVariables (handlers_device_model.py)
    # ======================================================================================

    def _items_per_message(self, instance: str) -> int:
        return self._dm.items_per_message(instance)

    def _check_items(self, count: int, instance: str) -> None:
        self._dm.check_items(count, instance)

    async def handle_get_variables(self, req: call.GetVariables) -> call_result.GetVariables:
        return await self._dm.get_variables(req)

    def get_variable_result(self, item: dict[str, Any]) -> dict[str, Any]:
        """GetVariableResultType of one request item: UnknownComponent, UnknownVariable,
        NotSupportedAttributeType (only Actual exists), Rejected (write-only), Accepted."""
        return self._dm.get_variable_result(item)

    async def handle_set_variables(self, req: call.SetVariables) -> call_result.SetVariables:
        return await self._dm.set_variables(req)

    def set_variable_status(self, var: Variable, value: str) -> tuple[str, str | None]:
        """(status, why) of setting ``var`` to ``value``: Rejected for a read-only variable
        or an invalid value (B05.FR.? / TC_B_11), the password and priority checks, else
        Accepted (RebootRequired when it takes effect only after a reboot)."""
        return self._dm.set_variable_status(var, value)

    def apply_variable(self, var: Variable, value: str) -> None:
        """Store an accepted value (the password only in memory: it is write-only)."""
        self._dm.apply_variable(var, value)

    def on_variable_changed(self, var: Variable) -> None:
        """A new value takes effect at once (B05: Accepted means applied)."""
        if var.variable == "HeartbeatInterval":
            self.base.restart_heartbeat()

    def priority_status(self, value: str) -> str | None:
        """Why a NetworkConfigurationPriority cannot be set (None: it can): every slot must
        hold a profile, none a lower security profile (A05: no downgrade), and the station must
        be able to use each (A_20 / A_21)."""
        return self._dm.priority_status(value)

    # ======================================================================================
    # B07 / B08: reports (handlers_device_model.py)
    # ======================================================================================

    async def handle_get_base_report(self, req: call.GetBaseReport) -> call_result.GetBaseReport:
        return await self._dm.get_base_report(req)

    def base_report_status(self, report_base: str) -> str:
        return GenericDeviceModelStatusEnumType.accepted

    def base_report_variables(self, report_base: str) -> list[Variable]:
        """The variables of a base report (B07): ConfigurationInventory the writable ones,
        FullInventory all, SummaryInventory the availability and problem states."""
        return self.model.base_report(report_base)

    async def handle_get_report(self, req: call.GetReport) -> call_result.GetReport:
        return await self._dm.get_report(req)

    def report_variables(
        self, selectors: list[dict[str, Any]], criteria: list[str]
    ) -> list[Variable]:
        """The variables a GetReport asks for (B08); empty → EmptyResultSet."""
        return self.model.custom_report(selectors, criteria)

    async def send_report(self, request_id: int, variables: list[Variable]) -> None:
        """NotifyReport parts, one after the other (each waits for its response)."""
        await self._dm.send_report(request_id, variables)

    def report_parts(self, request_id: int, variables: list[Variable]) -> list[call.NotifyReport]:
        """NotifyReport parts of ItemsPerMessage[GetReport] entries: seqNo 0..n, tbc true on
        all but the last, the same generatedAt."""
        return self._dm.report_parts(request_id, variables)

    # ======================================================================================
    # B11 / B12: Reset (handlers_reset.py)
    # ======================================================================================

    async def handle_reset(self, req: call.Reset) -> call_result.Reset:
        return await self._resets.reset(req)

    def reset_status(self, kind: str, evse_id: int | None) -> str:
        """An EVSE reset needs the feature ``reset_evse`` and a known EVSE (else Rejected,
        TC_B_28); OnIdle with a transaction running (there) is Scheduled (B11 / B12)."""
        return self._resets.reset_status(kind, evse_id)

    async def perform_reset(
        self, kind: str, evse_id: int | None, *, scheduled: bool = False
    ) -> None:
        """OnIdle waits for the transactions to end. Immediate ends them first (stoppedReason
        ImmediateReset; their TransactionEvents go out before the reboot). The station then
        reboots (BootNotification reason :meth:`reset_boot_reason`); an EVSE reset only resets
        that EVSE."""
        await self._resets.perform_reset(kind, evse_id, scheduled=scheduled)

    def reset_stopped_reason(self, kind: str) -> str | None:
        """How a reset ends the transactions still running: an Immediate reset with
        stoppedReason ImmediateReset before the reboot (B12.FR.02 / B12.FR.04); None: they end
        with the power loss."""
        return self._resets.reset_stopped_reason(kind)

    def reset_boot_reason(self, kind: str, scheduled: bool) -> str:
        """The BootNotification reason after a Reset: ScheduledReset for one that was answered
        Scheduled and waited for the transactions to end (B12.FR.03), else RemoteReset
        (B11)."""
        return self._resets.reset_boot_reason(scheduled)

    async def _wait_idle(self, evse_id: int | None) -> None:
        await self._resets.wait_idle(evse_id)

    async def _power_loss(self, reason: str | None) -> None:
        """A reboot: a reset first ends the transactions with its ``reason``
        (``Evses.end_all``: stoppedReason ImmediateReset, triggerReason ResetCommand), then
        ``Evses.on_power_loss`` drops the volatile state (and ends what is left: PowerLoss)."""
        await self._resets.power_loss(reason)

    # ======================================================================================
    # B09: SetNetworkProfile (handlers_network.py)
    # ======================================================================================

    async def handle_set_network_profile(
        self, req: call.SetNetworkProfile
    ) -> call_result.SetNetworkProfile:
        return await self._network.set_network_profile(req)

    def network_profile_status(self, slot: int, data: dict[str, Any]) -> str:
        """Rejected for a slot not in NetworkConfigurationPriority's valuesList, a transport
        other than JSON, a URL that does not fit the security profile, and a security profile
        lower than the current one (A_22: no downgrade); else Accepted (stored; used once the
        priority names it and the station resets)."""
        return self._network.network_profile_status(slot, data)

    # ======================================================================================
    # F06: TriggerMessage (handlers_trigger.py)
    # ======================================================================================

    async def handle_trigger_message(self, req: call.TriggerMessage) -> call_result.TriggerMessage:
        return await self._triggers.trigger_message(req)

    def trigger_status(self, requested: str) -> str | None:
        """The station's own triggers: BootNotification (Rejected once Accepted, F06.FR.17),
        Heartbeat, SignChargingStationCertificate; None for the EVSE messages; NotImplemented
        for the rest."""
        return self._triggers.trigger_status(requested)

    # ======================================================================================
    # M03: the V2G certificate chain (handlers_certificates.py)
    # ======================================================================================

    async def handle_get_installed_certificate_ids(
        self, req: call.GetInstalledCertificateIds
    ) -> call_result.GetInstalledCertificateIds:
        """The installed CA certificates, and the V2G chain when asked for (M03.FR.05)."""
        result = await super().handle_get_installed_certificate_ids(req)
        return self._v2g.with_v2g_chain(req, result)

    def v2g_chain_entry(self) -> dict[str, Any] | None:
        """CertificateHashDataChainType of the V2G chain: the leaf's hash data, the sub-CAs'
        in childCertificateHashData (M03.FR.05); None without a chain."""
        return self._v2g.v2g_chain_entry()

    # ======================================================================================
    # P: DataTransfer; the EVSE-level requests
    # ======================================================================================

    async def handle_data_transfer(self, req: call.DataTransfer) -> call_result.DataTransfer:
        return self.data_transfer_response(req.vendor_id, req.message_id, req.data)

    def data_transfer_response(
        self, vendor_id: str, message_id: str | None, data: Any
    ) -> call_result.DataTransfer:
        """The station implements no vendor extension (P01.FR.?: UnknownVendorId)."""
        return call_result.DataTransfer(status=DataTransferStatusEnumType.unknown_vendor_id)

    async def handle_request_start_transaction(self, req: call.RequestStartTransaction) -> Any:
        return await self.evses.request_start(req)

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

    # ======================================================================================
    # control surface
    # ======================================================================================

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
        """Power loss and reboot (BootNotification reason PowerUp); what the EVSE half queues
        for the power loss goes out after the next accepted boot."""
        self.outbox.open.clear()  # no power: nothing more goes out
        await self._power_loss(None)
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
        """Back to idle for the next case: online, registered, the EVSE half idle (no
        transaction, cables out, no fault), nothing left to send. TimeoutError after
        ``timeout`` real seconds."""

        async def _settle() -> None:
            await self.go_online()
            await self.connected.wait()
            await self.evses.settle(timeout)
            while not (self.connected.is_set() and self.outbox.drained.is_set()):
                await self.outbox.drained.wait()
                await self.connected.wait()

        await asyncio.wait_for(_settle(), timeout)

    def snapshot(self) -> dict[str, Any]:
        """The station's state, for debugging and tests (no password, no key)."""
        return {
            "stationId": self.station_id,
            "url": self._target(self.active_slot)[0],
            "online": self.base.network_up.is_set(),
            "connected": self.connected.is_set(),
            "registration": self.registration,
            "bootReason": self.boot_reason,
            "clock": utc_iso(self.clock.now()),
            "queue": self.outbox.actions(),
            "variables": {
                var.name: var.actual() for var in self.model if var.mutability != WRITE_ONLY
            },
            "networkProfiles": {slot: dict(p) for slot, p in self.network_profiles.items()},
            "activeSlot": self.active_slot,
            "certificates": [
                {"certificateType": c.certificate_type, **c.hash_data} for c in self.certificates
            ],
            "clientCertificate": self.client_certificate is not None,
            "evses": self.evses.snapshot(),
        }
