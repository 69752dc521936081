"""Mutant OCPP 2.0.1 SUTs (stations201): the reference SUT with ONE deliberate defect each.

See tests/mutants/stations16.py for the catalogue entry (`mutant(catches, requirement, *also,
profile=...)`). These cover the station half of the reference (blocks B, M, P of
ocpp201/core-cs): each overrides one hook of
:class:`~pile_interop.ocpp.v201.reference.station.ReferenceStation` (or sets one class flag).
"""

from __future__ import annotations

from typing import Any

from ocpp.v201 import call, call_result
from ocpp.v201.enums import (
    BootReasonEnumType,
    DataTransferStatusEnumType,
    DeleteCertificateStatusEnumType,
    GenericDeviceModelStatusEnumType,
    InstallCertificateStatusEnumType,
    ResetStatusEnumType,
    SetNetworkProfileStatusEnumType,
    SetVariableStatusEnumType,
    TriggerMessageStatusEnumType,
)

from pile_interop.ocpp.v201.reference.connection import PENDING, REJECTED
from pile_interop.ocpp.v201.reference.station import ReferenceStation
from pile_interop.ocpp.v201.reference.station_model import READ_ONLY, Variable
from pile_interop.ocpp.v201.reference.station_tx import Evses
from tests.mutants.stations16 import mutant

PROFILE = "ocpp201/core-cs"

# -- boot, reconnect (B01 – B04) ---------------------------------------------------------------


class _SilentEvses(Evses):
    """The real EVSE half, except that it reports nothing after an accepted boot."""

    async def on_registered(self) -> None:
        self._was_online = self.port.online  # (else the meter loop reports them as changes)
        self._ensure_ticker()


@mutant(
    "TC_B_01_CS",
    "B01.FR.05",
    "TC_B_02_CS",
    "TC_B_03_CS",
    "TC_B_20_CS",
    "TC_B_22_CS",
    "TC_B_31_CS",
    "TC_B_90_CS",
    profile=PROFILE,
)
class NoStatusAfterBoot201(ReferenceStation):
    """Reports no connector after an accepted BootNotification."""

    evses_class = _SilentEvses


@mutant("TC_B_90_CS", "OCPP2.0.1 B04", profile=PROFILE)
class BootsOnEveryConnection(ReferenceStation):
    """Forgets its registration when the connection closes and boots again on a reconnect."""

    boot_on_every_connection = True


@mutant("TC_B_02_CS", "B02.FR.08", profile=PROFILE)
class PendingIgnoresBootTrigger(ReferenceStation):
    """Rejects TriggerMessage(BootNotification) while Pending: it waits for the interval."""

    def trigger_status(self, requested: str) -> str | None:
        if requested == "BootNotification" and self.registration == PENDING:
            return TriggerMessageStatusEnumType.rejected
        return super().trigger_status(requested)


@mutant("TC_B_03_CS", "B03.FR.04", "TC_B_30_CS", profile=PROFILE)
class IgnoresBootRetryInterval(ReferenceStation):
    """Retries a Rejected (or Pending) BootNotification after its own 60 s, whatever interval
    the CSMS gave."""

    def boot_retry_interval(self, interval: int) -> int:
        return 60


@mutant("TC_B_30_CS", "B03.FR.08", profile=PROFILE)
class RejectedActsOnRequests(ReferenceStation):
    """While Rejected it answers and acts on the CSMS's requests instead of a SecurityError."""

    def incoming_call_gate(self, action: str, payload: dict[str, Any]) -> tuple[str, Any] | None:
        if self.registration == REJECTED:
            return None
        return super().incoming_call_gate(action, payload)


# it stays Rejected for the case's long interval: the next cases cannot start (error)
@mutant("TC_B_31_CS", "F06.FR.17", "TC_B_42_CS", "TC_B_44_CS", profile=PROFILE)
class RejectedRefusesBootTrigger(ReferenceStation):
    """While Rejected it answers even TriggerMessage(BootNotification) with a SecurityError."""

    def incoming_call_gate(self, action: str, payload: dict[str, Any]) -> tuple[str, Any] | None:
        if self.registration == REJECTED:
            return ("SecurityError", f"{action} while the registration is Rejected")
        return super().incoming_call_gate(action, payload)


@mutant("TC_B_58_CS", "OCPP-J2.0.1 §3.1.2", profile=PROFILE)
class SpeaksOverAnySubprotocol(ReferenceStation):
    """Offers ocpp1.6 too and speaks OCPP 2.0.1 over whatever subprotocol the CSMS agrees."""

    def offered_subprotocols(self) -> list[str]:
        return [self.subprotocol, "ocpp1.6"]

    def subprotocol_agreed(self, agreed: str | None) -> bool:
        return agreed is not None


# -- device model (B05 / B06) -------------------------------------------------------------------


@mutant("TC_B_06_CS", "B06.FR.03", profile=PROFILE)
class GetVariablesWithoutAttributeType(ReferenceStation):
    """Leaves the requested attributeType out of its GetVariableResult."""

    def get_variable_result(self, item: dict[str, Any]) -> dict[str, Any]:
        result = super().get_variable_result(item)
        result.pop("attributeType", None)
        return result


@mutant("TC_B_07_CS", "B06.FR.01", "TC_B_10_CS", "TC_B_11_CS", profile=PROFILE)
class GetVariablesAnswersFirstItemOnly(ReferenceStation):
    """Answers only the first item of a GetVariablesRequest."""

    async def handle_get_variables(self, req: call.GetVariables) -> call_result.GetVariables:
        result = await super().handle_get_variables(req)
        return call_result.GetVariables(get_variable_result=result.get_variable_result[:1])


@mutant("TC_B_91_CS", "B06.FR.06", profile=PROFILE, defect_class="device-model-lookup")
class IgnoresEvseInLookups(ReferenceStation):
    """Looks a component up by name and instance only: a GetVariables or SetVariables for an
    EVSE (or connector) it does not have is answered from EVSE 1 connector 1."""

    def get_variable_result(self, item: dict[str, Any]) -> dict[str, Any]:
        return {**super().get_variable_result(_first_evse(item)), "component": item["component"]}

    async def handle_set_variables(self, req: call.SetVariables) -> call_result.SetVariables:
        items = [_first_evse(i) for i in req.set_variable_data]
        return await super().handle_set_variables(call.SetVariables(set_variable_data=items))


def _first_evse(item: dict[str, Any]) -> dict[str, Any]:
    evse = item["component"].get("evse")
    if not evse:
        return item
    first = {"id": 1, **({"connectorId": 1} if "connectorId" in evse else {})}
    return {**item, "component": {**item["component"], "evse": first}}


@mutant("TC_B_08_CS", "B06.FR.16", profile=PROFILE)
class IgnoresItemsPerMessage(ReferenceStation):
    """Answers any number of items, whatever DeviceDataCtrlr.ItemsPerMessage says."""

    def _check_items(self, count: int, instance: str) -> None:
        return None


@mutant("TC_B_09_CS", "B05.FR.09", "TC_B_10_CS", "TC_B_11_CS", profile=PROFILE)
class SetsReadOnlyVariables(ReferenceStation):
    """Accepts (and applies) a SetVariables for a read-only variable."""

    def set_variable_status(self, var: Variable, value: str) -> tuple[str, str | None]:
        if var.mutability == READ_ONLY:
            return SetVariableStatusEnumType.accepted, None
        return super().set_variable_status(var, value)


@mutant("TC_B_10_CS", "B05.FR.10", profile=PROFILE)
class AppliesFirstSetVariableOnly(ReferenceStation):
    """Answers every item of a SetVariablesRequest Accepted but applies only the first one."""

    async def handle_set_variables(self, req: call.SetVariables) -> call_result.SetVariables:
        self._applied = 0
        return await super().handle_set_variables(req)

    def apply_variable(self, var: Variable, value: str) -> None:
        self._applied = getattr(self, "_applied", 0) + 1
        if self._applied == 1:
            super().apply_variable(var, value)


@mutant("TC_B_92_CS", "B05.FR.10", profile=PROFILE, defect_class="setting-not-applied")
class HeartbeatIntervalAcceptedNotApplied201(ReferenceStation):
    """Accepts a new OCPPCommCtrlr.HeartbeatInterval and reads it back, but its heartbeat timer
    keeps the interval of the last accepted BootNotification (taken once, when registered)."""

    boot_interval: int | None = None

    def sync_clock(self, current_time: str) -> None:
        # registered: the BootNotificationResponse's interval has just been stored
        self.boot_interval = super().heartbeat_interval()
        super().sync_clock(current_time)

    def heartbeat_interval(self) -> int:
        if self.boot_interval is None:
            return super().heartbeat_interval()
        return self.boot_interval


@mutant("TC_B_11_CS", "B05.FR.07", profile=PROFILE)
class AcceptsMalformedValues(ReferenceStation):
    """Accepts values that do not fit the variable's data type (a decimal for an integer)."""

    def set_variable_status(self, var: Variable, value: str) -> tuple[str, str | None]:
        status, why = super().set_variable_status(var, value)
        if var.variable == "OfflineThreshold" and status == SetVariableStatusEnumType.rejected:
            return SetVariableStatusEnumType.accepted, None
        return status, why

    def apply_variable(self, var: Variable, value: str) -> None:
        if var.variable == "OfflineThreshold":
            var.value = value  # stored as it came
            return
        super().apply_variable(var, value)


# -- reports (B07 / B08) ------------------------------------------------------------------------


@mutant("TC_B_12_CS", "B07.FR.07", profile=PROFILE)
class ConfigurationInventoryWithReadOnly(ReferenceStation):
    """Sends the FullInventory (read-only variables too) for a ConfigurationInventory."""

    def base_report_variables(self, report_base: str) -> list[Variable]:
        if report_base == "ConfigurationInventory":
            report_base = "FullInventory"
        return super().base_report_variables(report_base)


@mutant("TC_B_13_CS", "B07.FR.04", "TC_B_12_CS", profile=PROFILE)
class ReportWithoutTbc(ReferenceStation):
    """Never sets tbc on its NotifyReport parts: every part of a long report looks like the
    last."""

    def report_parts(self, request_id: int, variables: list[Variable]) -> list[call.NotifyReport]:
        parts = super().report_parts(request_id, variables)
        for part in parts:
            part.tbc = None
        return parts


@mutant("TC_B_14_CS", "B07.FR.01", profile=PROFILE)
class NoSummaryInventory(ReferenceStation):
    """Answers GetBaseReport SummaryInventory NotSupported although it declares it."""

    def base_report_status(self, report_base: str) -> str:
        if report_base == "SummaryInventory":
            return GenericDeviceModelStatusEnumType.not_supported
        return super().base_report_status(report_base)


@mutant("TC_B_18_CS", "B08.FR.05", profile=PROFILE)
class CustomReportIgnoresCriteria(ReferenceStation):
    """Ignores componentCriteria in a GetReportRequest: never an EmptyResultSet for them."""

    def report_variables(
        self, selectors: list[dict[str, Any]], criteria: list[str]
    ) -> list[Variable]:
        return super().report_variables(selectors, [])


# -- reset (B11 / B12) --------------------------------------------------------------------------


@mutant("TC_B_20_CS", "B01.FR.03", "TC_B_21_CS", "TC_B_22_CS", profile=PROFILE)
class ResetBootsAsPowerUp(ReferenceStation):
    """Names every reboot after a Reset PowerUp in its BootNotification."""

    def reset_boot_reason(self, kind: str, scheduled: bool) -> str:
        return BootReasonEnumType.power_up.value


@mutant("TC_B_21_CS", "B12.FR.03", profile=PROFILE)
class ScheduledResetAsRemoteReset(ReferenceStation):
    """Boots with reason RemoteReset after a reset that was Scheduled (not ScheduledReset)."""

    def reset_boot_reason(self, kind: str, scheduled: bool) -> str:
        return BootReasonEnumType.remote_reset.value


@mutant("TC_B_22_CS", "B12.FR.04", profile=PROFILE)
class ImmediateResetLosesStopReason(ReferenceStation):
    """Reboots on an Immediate reset without ending the transactions first: they end with the
    power loss (stoppedReason PowerLoss, not ImmediateReset)."""

    def reset_stopped_reason(self, kind: str) -> str | None:
        return None


@mutant("TC_B_25_CS", "B11.FR.08", profile=PROFILE)
class EvseResetRebootsStation(ReferenceStation):
    """Reboots the whole station on a Reset of one EVSE."""

    async def perform_reset(
        self, kind: str, evse_id: int | None, *, scheduled: bool = False
    ) -> None:
        await super().perform_reset(kind, None, scheduled=scheduled)


@mutant("TC_B_26_CS", "B12.FR.07", profile=PROFILE)
class EvseResetNeverScheduled(ReferenceStation):
    """Answers a Reset OnIdle of an EVSE with a running transaction Accepted, not Scheduled."""

    def reset_status(self, kind: str, evse_id: int | None) -> str:
        status = super().reset_status(kind, evse_id)
        if evse_id is not None and status == ResetStatusEnumType.scheduled:
            return ResetStatusEnumType.accepted
        return status


@mutant("TC_B_27_CS", "B12.FR.04", profile=PROFILE)
class EvseResetDoesNothing(ReferenceStation):
    """Answers a Reset of one EVSE Accepted and does nothing: its transaction goes on."""

    async def perform_reset(
        self, kind: str, evse_id: int | None, *, scheduled: bool = False
    ) -> None:
        if evse_id is None:
            await super().perform_reset(kind, evse_id, scheduled=scheduled)


@mutant("TC_B_28_CS", "B11.FR.09", profile=PROFILE, features={"reset_evse": False})
class EvseResetWithoutSupport(ReferenceStation):
    """Accepts a Reset of one EVSE although it cannot reset a single EVSE."""

    def reset_status(self, kind: str, evse_id: int | None) -> str:
        if evse_id is not None and 1 <= evse_id <= self.evse_count:
            return ResetStatusEnumType.accepted
        return super().reset_status(kind, evse_id)


# -- network profiles (B09) ---------------------------------------------------------------------


@mutant("TC_B_42_CS", "B09.FR.01", profile=PROFILE)
class RejectsEveryNetworkProfile(ReferenceStation):
    """Rejects every SetNetworkProfileRequest, valid or not."""

    def network_profile_status(self, slot: int, data: dict[str, Any]) -> str:
        return SetNetworkProfileStatusEnumType.rejected


@mutant("TC_B_44_CS", "B09.FR.02", profile=PROFILE)
class AcceptsAnyNetworkSlot(ReferenceStation):
    """Accepts a network connection profile for a configurationSlot it does not have."""

    def network_profile_status(self, slot: int, data: dict[str, Any]) -> str:
        return super().network_profile_status(1, data)


# -- certificates (M03 / M04 / M05) ------------------------------------------------------------


@mutant(
    "TC_M_01_CS",
    "M03.FR.03",
    "TC_M_02_CS",
    "TC_M_03_CS",
    "TC_M_04_CS",
    "TC_M_12_CS",
    "TC_M_13_CS",
    "TC_M_14_CS",
    "TC_M_16_CS",
    "TC_M_17_CS",
    "TC_M_18_CS",
    "TC_M_20_CS",
    profile=PROFILE,
)
class ForgetsInstalledCertificates(ReferenceStation):
    """Answers InstallCertificate Accepted but stores nothing."""

    def store_certificate(self, certificate_type: str, cert: Any) -> None:
        return None


def _refusing(kind: str) -> Any:
    def decision(self: Any, certificate_type: str, pem: str) -> tuple[str, Any]:
        if certificate_type == kind:
            return InstallCertificateStatusEnumType.rejected, None
        return ReferenceStation.install_certificate_decision(self, certificate_type, pem)

    return decision


@mutant("TC_M_02_CS", "M05.FR.02", "TC_M_13_CS", "TC_M_17_CS", "TC_M_18_CS", profile=PROFILE)
class RejectsManufacturerRoots(ReferenceStation):
    """Rejects every ManufacturerRootCertificate although it declares signed firmware."""

    install_certificate_decision = _refusing("ManufacturerRootCertificate")


@mutant("TC_M_03_CS", "M05.FR.02", "TC_M_14_CS", profile=PROFILE)
class RejectsV2GRoots(ReferenceStation):
    """Rejects every V2GRootCertificate although it declares ISO 15118."""

    install_certificate_decision = _refusing("V2GRootCertificate")


@mutant("TC_M_04_CS", "M05.FR.02", "TC_M_16_CS", profile=PROFILE)
class RejectsMORoots(ReferenceStation):
    """Rejects every MORootCertificate although it declares ISO 15118."""

    install_certificate_decision = _refusing("MORootCertificate")


@mutant("TC_M_05_CS", "M05.FR.07", profile=PROFILE)
class AcceptsBrokenCertificates(ReferenceStation):
    """Answers Accepted for a certificate it cannot even parse (and stores nothing)."""

    def install_certificate_decision(self, certificate_type: str, pem: str) -> tuple[str, Any]:
        status, cert = super().install_certificate_decision(certificate_type, pem)
        if cert is None:
            return InstallCertificateStatusEnumType.accepted, None
        return status, cert


@mutant("TC_M_15_CS", "M03.FR.05", profile=PROFILE)
class V2GChainWithoutSubCAs(ReferenceStation):
    """Names its V2G certificate chain by the leaf only (no childCertificateHashData)."""

    def v2g_chain_entry(self) -> dict[str, Any] | None:
        entry = super().v2g_chain_entry()
        if entry is not None:
            entry.pop("childCertificateHashData", None)
        return entry


@mutant(
    "TC_M_19_CS",
    "M03.FR.02",
    "TC_M_05_CS",
    "TC_M_12_CS",
    "TC_M_13_CS",
    "TC_M_14_CS",
    "TC_M_16_CS",
    "TC_M_17_CS",
    profile=PROFILE,
)
class IgnoresCertificateTypeFilter(ReferenceStation):
    """Lists every installed certificate whatever certificateType the CSMS asked for."""

    async def handle_get_installed_certificate_ids(
        self, req: call.GetInstalledCertificateIds
    ) -> call_result.GetInstalledCertificateIds:
        return await super().handle_get_installed_certificate_ids(call.GetInstalledCertificateIds())


# the MORootCertificate of TC_M_16_CS stays: TC_M_19_CS finds one
@mutant("TC_M_20_CS", "M04.FR.02", "TC_M_19_CS", profile=PROFILE)
class DeleteKeepsCertificate(ReferenceStation):
    """Answers DeleteCertificate Accepted but keeps the certificate installed."""

    async def handle_delete_certificate(
        self, req: call.DeleteCertificate
    ) -> call_result.DeleteCertificate:
        kept = list(self.certificates)
        result = await super().handle_delete_certificate(req)
        self.certificates[:] = kept
        return result


@mutant("TC_M_21_CS", "M04.FR.04", profile=PROFILE)
class DeleteUnknownAccepted(ReferenceStation):
    """Answers DeleteCertificate Accepted for a certificate it does not have."""

    def delete_certificate_status(self, found: Any) -> str:
        if found is None:
            return DeleteCertificateStatusEnumType.accepted
        return super().delete_certificate_status(found)


# -- data transfer (P01 / P02) ------------------------------------------------------------------


@mutant("TC_P_01_CS", "P01.FR.02", profile=PROFILE)
class DataTransferAlwaysAccepted(ReferenceStation):
    """Answers Accepted to a DataTransfer of a vendor it has no extension for."""

    def data_transfer_response(
        self, vendor_id: str, message_id: str | None, data: Any
    ) -> call_result.DataTransfer:
        return call_result.DataTransfer(status=DataTransferStatusEnumType.accepted)


@mutant("TC_P_02_CS", "OCPP2.0.1 P02", "TC_P_02_2_CS", "TC_P_02_3_CS", profile=PROFILE)
class RepeatsRefusedDataTransfer(ReferenceStation):
    """Sends a DataTransfer again at once when the CSMS did not accept it."""

    async def send_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: Any = None
    ) -> dict[str, Any] | None:
        answer = await super().send_data_transfer(vendor_id, message_id, data)
        if answer is not None and answer.get("status") != "Accepted":
            answer = await super().send_data_transfer(vendor_id, message_id, data)
        return answer


@mutant("TC_E_91_CS", "OCPP2.0.1 TransactionEventRequest.offline", profile=PROFILE)
class OfflineEventsNotMarked(ReferenceStation):
    """Queues the TransactionEvents of an offline transaction without ``offline: true``."""

    async def send_tx(self, request: Any) -> Any:
        if getattr(request, "offline", None) is not None:
            request.offline = None
        was_up = self._link_up
        self._link_up = lambda: True  # type: ignore[method-assign]  # never marks it offline
        try:
            return await super().send_tx(request)
        finally:
            self._link_up = was_up  # type: ignore[method-assign]
