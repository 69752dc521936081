"""Mutant OCPP 2.0.1 CSMSs of block K (Smart Charging): the reference CSMS with ONE defect
each, in its Smart Charging operator actions
(:mod:`~pile_interop.ocpp.v201.reference.csms_smart_charging`) or its link's handlers.

Registered in the catalogue of :mod:`tests.mutants.stations16` with profile
``ocpp201/smart-charging-csms``; the defects a CSMS ships: a station maximum or a TxProfile on the
wrong EVSE, a TxProfile without its transaction, a remote start's profile of another purpose, a
clear by criteria sent without the criteria, the station's reports and limits left unanswered.
"""

from __future__ import annotations

from typing import Any

from ocpp.v201 import call

from pile_interop.ocpp.v201.reference.csms import ReferenceCsms
from pile_interop.ocpp.v201.reference.csms_link import CsmsLink
from tests.mutants.stations16 import mutant

SMART = "ocpp201/smart-charging-csms"


@mutant("TC_K_90_CSMS", "OCPP2.0.1 K01", profile=SMART)
class StationMaxOnEvse1(ReferenceCsms):
    """Sends a ChargingStationMaxProfile for EVSE 1 instead of evseId 0."""

    def charging_profile_request(self, *args: Any, **kwargs: Any) -> call.SetChargingProfile:
        request = super().charging_profile_request(*args, **kwargs)
        if request.charging_profile["charging_profile_purpose"] == "ChargingStationMaxProfile":
            request.evse_id = 1
        return request


@mutant("TC_K_91_CSMS", "OCPP2.0.1 K01 TxProfile", profile=SMART)
class TxProfileOnEvse0(ReferenceCsms):
    """Sends a TxProfile for evseId 0."""

    def charging_profile_request(self, *args: Any, **kwargs: Any) -> call.SetChargingProfile:
        request = super().charging_profile_request(*args, **kwargs)
        if request.charging_profile["charging_profile_purpose"] == "TxProfile":
            request.evse_id = 0
        return request


@mutant("TC_K_91_CSMS", "OCPP2.0.1 K01 TxProfile", profile=SMART)
class TxProfileWithoutTransactionId(ReferenceCsms):
    """Sends a TxProfile without the transactionId of the running transaction."""

    def charging_profile_request(self, *args: Any, **kwargs: Any) -> call.SetChargingProfile:
        request = super().charging_profile_request(*args, **kwargs)
        request.charging_profile.pop("transaction_id", None)
        return request


@mutant("TC_K_92_CSMS", "OCPP2.0.1 K05", profile=SMART)
class StartProfileWrongPurpose(ReferenceCsms):
    """Puts a TxDefaultProfile into a RequestStartTransaction."""

    def start_profile(self, limit: float, unit: str) -> dict[str, Any]:
        profile = super().start_profile(limit, unit)
        profile["charging_profile_purpose"] = "TxDefaultProfile"
        return profile


@mutant("TC_K_93_CSMS", "OCPP2.0.1 K10", profile=SMART)
class ClearWithoutCriteria201(ReferenceCsms):
    """Clears by criteria with an empty request: every profile of the station goes."""

    def clear_request(
        self, profile_id: int | None, criteria: dict[str, Any]
    ) -> call.ClearChargingProfile:
        return super().clear_request(profile_id, {})


def _without(action: str) -> type[CsmsLink]:
    class Link(CsmsLink):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.route_map.pop(action, None)

    return Link


@mutant("TC_K_93_CSMS", "OCPP2.0.1 K09", profile=SMART)
class ReportChargingProfilesUnanswered(ReferenceCsms):
    """Answers the station's ReportChargingProfiles with a CALLERROR (no handler)."""

    def new_link(self, station_id: str, connection: Any) -> CsmsLink:
        return _without("ReportChargingProfiles")(self, station_id, connection)


@mutant("TC_K_94_CSMS", "OCPP2.0.1 K12", profile=SMART)
class ChargingLimitUnanswered(ReferenceCsms):
    """Answers the station's NotifyChargingLimit with a CALLERROR (no handler)."""

    def new_link(self, station_id: str, connection: Any) -> CsmsLink:
        return _without("NotifyChargingLimit")(self, station_id, connection)


@mutant("TC_K_95_CSMS", "OCPP2.0.1 K01 TxDefaultProfile", profile=SMART)
class StackLevelDropped(ReferenceCsms):
    """Sends every charging profile at stack level 0, whatever the operator chose."""

    def charging_profile_request(self, *args: Any, **kwargs: Any) -> call.SetChargingProfile:
        request = super().charging_profile_request(*args, **kwargs)
        request.charging_profile["stack_level"] = 0
        return request


@mutant("TC_K_90_CSMS", "OCPP2.0.1 K08", profile=SMART)
class CompositeOfEvse1(ReferenceCsms):
    """Asks for the composite schedule of EVSE 1 when the operator asked for the station's."""

    async def get_composite_schedule(
        self,
        evse: Any = 0,
        duration: Any = 300,
        unit: str | None = None,
        station: str | None = None,
    ) -> Any:
        return await super().get_composite_schedule(1, duration, unit, station)
