"""Mutant OCPP 2.0.1 stations of block K (Smart Charging): the reference station with ONE
defect each, in the hooks of
:mod:`~pile_interop.ocpp.v201.reference.handlers_smart_charging`.

Registered in the catalogue of :mod:`tests.mutants.stations16` with profile
``ocpp201/smart-charging-cs``; the defects are the ones vendors ship: stacking without the
stack level, a composite schedule without the station maximum, a TxProfile accepted without its
transaction or kept after it, external constraints taken from the CSMS, a clear by criteria that
clears everything, reports without tbc or with another requestId, a limit the charging does not
follow, a chargingProfile that makes a station without smart charging refuse the remote start.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ocpp.v201 import call, call_result

from pile_interop.ocpp.charging_schedule import Kind, Profile, Purpose
from pile_interop.ocpp.reference.meter import CHARGING_POWER_W
from pile_interop.ocpp.v201.reference.station import ReferenceStation
from tests.mutants.stations16 import mutant

SMART = "ocpp201/smart-charging-cs"


@mutant("TC_K_90_CS", "OCPP2.0.1 K01", profile=SMART)
class StationMaxOnAnyEvse(ReferenceStation):
    """Accepts a ChargingStationMaxProfile on an EVSE, not only on evseId 0."""

    def charging_profile_problem(self, evse_id: int, wire: dict[str, Any]) -> str | None:
        problem = super().charging_profile_problem(evse_id, wire)
        return None if problem == "StationMaxNotOnEvse0" else problem


@mutant("TC_K_91_CS", "OCPP2.0.1 K08", profile=SMART)
class StackingIgnoresStackLevel201(ReferenceStation):
    """Stacks profiles of one purpose by the order they came in, not by stackLevel."""

    def composite_profiles(self, profiles: list[Profile], evse_id: int) -> list[Profile]:
        return [dataclasses.replace(p, stack_level=0) for p in profiles]


@mutant("TC_K_92_CS", "OCPP2.0.1 K01 TxProfile", profile=SMART)
class TxProfileWithoutTransaction(ReferenceStation):
    """Accepts a TxProfile for a transaction that does not run."""

    def charging_profile_problem(self, evse_id: int, wire: dict[str, Any]) -> str | None:
        problem = super().charging_profile_problem(evse_id, wire)
        return None if problem in ("NoTransaction", "UnknownTransaction") else problem


@mutant("TC_K_92_CS", "OCPP2.0.1 K01 ExternalConstraints", profile=SMART)
class ExternalConstraintsSettable(ReferenceStation):
    """Lets the CSMS set a ChargingStationExternalConstraints profile."""

    def charging_profile_problem(self, evse_id: int, wire: dict[str, Any]) -> str | None:
        problem = super().charging_profile_problem(evse_id, wire)
        return None if problem == "ExternalConstraints" else problem


@mutant("TC_K_93_CS", "OCPP2.0.1 K08", profile=SMART)
class CompositeIgnoresStationMax201(ReferenceStation):
    """An EVSE's composite schedule leaves the ChargingStationMaxProfile out."""

    def composite_profiles(self, profiles: list[Profile], evse_id: int) -> list[Profile]:
        if evse_id == 0:
            return profiles
        return [p for p in profiles if p.purpose is not Purpose.STATION_MAX]


@mutant("TC_K_94_CS", "OCPP2.0.1 K10", profile=SMART)
class ClearByCriteriaClearsAll(ReferenceStation):
    """ClearChargingProfile with criteria clears every profile."""

    def clear_matches(
        self, profile_id: int | None, criteria: dict[str, Any], evse: int, wire: dict[str, Any]
    ) -> bool:
        return True if profile_id is None else wire.get("id") == profile_id


@mutant("TC_K_95_CS", "OCPP2.0.1 K09", profile=SMART)
class ChargingReportsWithoutTbc(ReferenceStation):
    """Sends its ReportChargingProfiles in parts, none of them with tbc."""

    def report_charging_profiles(
        self, request_id: int, found: list[tuple[int, str, dict[str, Any]]]
    ) -> list[call.ReportChargingProfiles]:
        parts = super().report_charging_profiles(request_id, found)
        for part in parts:
            part.tbc = False
        return parts


@mutant("TC_K_95_CS", "OCPP2.0.1 K09", "TC_K_94_CS", profile=SMART)
class ReportOtherRequestId(ReferenceStation):
    """Reports the charging profiles under a requestId of its own."""

    def report_charging_profiles(
        self, request_id: int, found: list[tuple[int, str, dict[str, Any]]]
    ) -> list[call.ReportChargingProfiles]:
        return super().report_charging_profiles(request_id + 1, found)


@mutant("TC_K_96_CS", "OCPP2.0.1 K05 limit", "TC_K_96_2_CS", profile=SMART)
class LimitNotApplied(ReferenceStation):
    """Reports the limit in its composite schedule but lets the EV draw its full power."""

    def charging_power(self, evse_id: int, limit_w: float) -> float:
        return CHARGING_POWER_W


@mutant("TC_K_96_CS", "OCPP2.0.1 K01 TxProfile end", profile=SMART)
class TxProfileKeptAfterTransaction201(ReferenceStation):
    """Keeps a TxProfile after its transaction ended."""

    def keep_tx_profile(self, profile: Profile, transaction: Any) -> bool:
        return True


@mutant("TC_K_96_CS", "OCPP2.0.1 K08", profile=SMART)
class RemoteStartProfileDropped(ReferenceStation):
    """Accepts a RequestStartTransaction with a TxProfile but never uses the profile."""

    def remote_start_profile(self, evse_id: int, wire: dict[str, Any], remote_id: int) -> None:
        return None


@mutant("TC_K_38_CS", "F01.FR.12", profile=SMART, features={"smart_charging": False})
class RefusesStartWithProfile(ReferenceStation):
    """Without smart charging, refuses a RequestStartTransaction that carries a profile."""

    async def handle_request_start_transaction(self, req: call.RequestStartTransaction) -> Any:
        if req.charging_profile is not None and not self.smart.supported():
            return call_result.RequestStartTransaction(status="Rejected")
        return await super().handle_request_start_transaction(req)


@mutant("TC_K_97_CS", "OCPP2.0.1 K08 external", profile=SMART)
class CompositeIgnoresExternalLimit(ReferenceStation):
    """Leaves the external constraints out of its composite schedule (and its charging)."""

    def external_constraints(self) -> list[Profile]:
        return []


@mutant("TC_K_97_CS", "OCPP2.0.1 K12", profile=SMART)
class ChargingLimitWithoutSchedule(ReferenceStation):
    """Reports an external limit without its schedule though NotifyChargingLimitWithSchedules
    is true."""

    def notify_charging_limit_request(
        self, evse: int, wire: dict[str, Any]
    ) -> call.NotifyChargingLimit:
        request = super().notify_charging_limit_request(evse, wire)
        request.charging_schedule = None
        return request


@mutant("TC_K_98_CS", "OCPP2.0.1 K08 validity", profile=SMART)
class IgnoresValidity(ReferenceStation):
    """Lets a profile rule outside its validFrom … validTo."""

    def composite_profiles(self, profiles: list[Profile], evse_id: int) -> list[Profile]:
        return [dataclasses.replace(p, valid_from=None, valid_to=None) for p in profiles]


@mutant("TC_K_99_CS", "OCPP2.0.1 K01 evse 0", profile=SMART)
class StationDefaultOnlyForEvse1(ReferenceStation):
    """Applies a TxDefaultProfile of evseId 0 to EVSE 1 only."""

    def composite_profiles(self, profiles: list[Profile], evse_id: int) -> list[Profile]:
        if evse_id <= 1:
            return profiles
        return [p for p in profiles if not (p.purpose is Purpose.TX_DEFAULT and p.connector == 0)]


@mutant("TC_K_99_CS", "OCPP2.0.1 K01 replace", profile=SMART)
class SameIdNotReplaced(ReferenceStation):
    """Keeps the old profile beside a new one with the same id."""

    def install_charging_profile(self, evse_id: int, wire: dict[str, Any]) -> None:
        kept = list(self.smart.installed)
        super().install_charging_profile(evse_id, wire)
        old = [i for i in kept if i[2].id == wire.get("id")]
        self.smart.installed = old + self.smart.installed


@mutant("TC_K_99_CS", "OCPP2.0.1 K08", profile=SMART)
class CompositeOfUnknownEvseAccepted(ReferenceStation):
    """Answers a composite schedule of an EVSE it lacks with the station's."""

    async def handle_get_composite_schedule(self, req: call.GetCompositeSchedule) -> Any:
        if req.evse_id not in self.evses.evses:
            req.evse_id = 0
        return await super().handle_get_composite_schedule(req)


@mutant("TC_K_98_2_CS", "OCPP2.0.1 K08 recurring", profile=SMART)
class RecurrenceIgnored201(ReferenceStation):
    """Runs a Recurring profile once from its startSchedule, as if it were Absolute."""

    def composite_profiles(self, profiles: list[Profile], evse_id: int) -> list[Profile]:
        return [
            dataclasses.replace(p, kind=Kind.ABSOLUTE) if p.kind is Kind.RECURRING else p
            for p in profiles
        ]


@mutant("TC_K_96_2_CS", "OCPP2.0.1 K01 TxProfile", profile=SMART)
class TxProfileForRunningTransactionRejected(ReferenceStation):
    """Rejects every SetChargingProfile TxProfile, also for the running transaction."""

    def charging_profile_problem(self, evse_id: int, wire: dict[str, Any]) -> str | None:
        if wire.get("charging_profile_purpose") == "TxProfile":
            return "TxProfileNotSupported"
        return super().charging_profile_problem(evse_id, wire)


@mutant("TC_K_96_2_CS", "OCPP2.0.1 K02 limit", profile=SMART)
class LimitOfLaterTransactionsOnly(ReferenceStation):
    """Applies a new limit only to transactions that start after it (the running one keeps
    drawing its full power)."""

    def charging_power(self, evse_id: int, limit_w: float) -> float:
        tx = self.evses.evses[evse_id].transaction
        later = [
            p
            for ev, _w, p in self.smart.installed
            if tx is not None
            and ev == evse_id
            and p.installed_at
            and p.installed_at > tx.started_at
        ]
        return CHARGING_POWER_W if later else limit_w
