"""Mutant OCPP 1.6 Central Systems of the optional feature profiles (Smart Charging, Local Auth
List Management, Reservation, Remote Trigger): the reference CSMS with ONE deliberate defect
each, of a kind a vendor ships. Each names the case meant to catch it, the requirement that
case's reason must name, and every case of its profile its defect may break.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.v16 import call, call_result
from websockets.asyncio.server import ServerConnection

from pile_interop.ocpp.v16.reference.csms import CsmsLink, ReferenceCsms
from tests.mutants.stations16 import mutant

SMART = "ocpp16/smart-charging-csms"
LOCAL_LIST = "ocpp16/local-auth-list-csms"
RESERVATION = "ocpp16/reservation-csms"
TRIGGER = "ocpp16/remote-trigger-csms"


def _profile(request: call.SetChargingProfile) -> dict[str, Any]:
    profile = request.cs_charging_profiles
    assert isinstance(profile, dict)
    return profile


# -- Smart Charging ---------------------------------------------------------------------------


@mutant("TC_057_CSMS", "OCPP1.6 §5.16", "TC_067_CSMS", profile=SMART)
class TxProfileOnConnectorZero(ReferenceCsms):
    """Sends a TxProfile with connectorId 0 (the whole station) instead of the transaction's
    connector."""

    def set_charging_profile_request(
        self, connector: int, profile: dict[str, Any]
    ) -> call.SetChargingProfile:
        if profile.get("chargingProfilePurpose") == "TxProfile":
            connector = 0
        return super().set_charging_profile_request(connector, profile)


@mutant("TC_067_CSMS", "OCPP1.6 §3.13.1", profile=SMART)
class StationMaximumOnAConnector(ReferenceCsms):
    """Sets a ChargePointMaxProfile on connector 1 instead of connector 0."""

    def set_charging_profile_request(
        self, connector: int, profile: dict[str, Any]
    ) -> call.SetChargingProfile:
        if profile.get("chargingProfilePurpose") == "ChargePointMaxProfile":
            connector = 1
        return super().set_charging_profile_request(connector, profile)


@mutant("TC_056_CSMS", "OCPP1.6 §3.13.1", "TC_067_CSMS", profile=SMART)
class IgnoresStackLevel(ReferenceCsms):
    """Sends every charging profile at stack level 0, whatever the operator chose."""

    def set_charging_profile_request(
        self, connector: int, profile: dict[str, Any]
    ) -> call.SetChargingProfile:
        return super().set_charging_profile_request(connector, {**profile, "stackLevel": 0})


@mutant("TC_057_CSMS", "OCPP1.6 §5.16", "TC_067_CSMS", profile=SMART)
class IgnoresPurpose(ReferenceCsms):
    """Sends every charging profile as a TxDefaultProfile, whatever the operator chose."""

    def set_charging_profile_request(
        self, connector: int, profile: dict[str, Any]
    ) -> call.SetChargingProfile:
        profile = {**profile, "chargingProfilePurpose": "TxDefaultProfile"}
        profile.pop("transactionId", None)
        return super().set_charging_profile_request(connector, profile)


@mutant(
    "TC_057_CSMS", "OCPP1.6 §3.13.1", "TC_056_CSMS", defect_class="one-form-only", profile=SMART
)
class RelativeWithStartSchedule(ReferenceCsms):
    """Gives a Relative profile a startSchedule (the time it was made)."""

    def set_charging_profile_request(
        self, connector: int, profile: dict[str, Any]
    ) -> call.SetChargingProfile:
        if profile.get("chargingProfileKind") == "Relative":
            schedule = {**profile["chargingSchedule"], "startSchedule": "2026-01-01T00:00:00Z"}
            profile = {**profile, "chargingSchedule": schedule}
        return super().set_charging_profile_request(connector, profile)


@mutant("TC_067_CSMS", "OCPP1.6 §5.5", profile=SMART)
class ClearWithoutCriteria(ReferenceCsms):
    """Sends ClearChargingProfile without any criteria unless it clears by id (it clears every
    profile where the operator asked for some)."""

    def clear_charging_profile_request(
        self,
        profile_id: int | None,
        connector: int | None,
        purpose: str | None,
        stack_level: int | None,
    ) -> call.ClearChargingProfile:
        if profile_id is None:
            return call.ClearChargingProfile()
        return super().clear_charging_profile_request(profile_id, connector, purpose, stack_level)


@mutant("TC_066_CSMS", "OCPP1.6 §5.7", profile=SMART)
class CompositeScheduleWithoutUnit(ReferenceCsms):
    """Asks for a composite schedule without the rate unit the operator chose."""

    def get_composite_schedule_request(
        self, connector: int, duration: int, unit: str | None
    ) -> call.GetCompositeSchedule:
        return super().get_composite_schedule_request(connector, duration, None)


@mutant("TC_059_CSMS", "OCPP1.6 §5.11", profile=SMART)
class RemoteStartWithDefaultProfile(ReferenceCsms):
    """Sends the charging profile of a remote start as a TxDefaultProfile."""

    def remote_start_profile(self, spec: dict[str, Any]) -> dict[str, Any]:
        return {**super().remote_start_profile(spec), "chargingProfilePurpose": "TxDefaultProfile"}


# -- Local Auth List Management -----------------------------------------------------------------


@mutant("TC_043_4_CSMS", "OCPP1.6 §5.15", profile=LOCAL_LIST)
class FullListAsDifferential(ReferenceCsms):
    """Sends a full local list with updateType Differential."""

    def send_local_list_request(
        self, update_type: str, version: int, entries: list[dict[str, Any]]
    ) -> call.SendLocalList:
        return super().send_local_list_request("Differential", version, entries)


@mutant("TC_043_5_CSMS", "OCPP1.6 §5.15", profile=LOCAL_LIST)
class DifferentialWithoutNewVersion(ReferenceCsms):
    """Sends a differential update with the list's current version (not a higher one)."""

    def send_local_list_request(
        self, update_type: str, version: int, entries: list[dict[str, Any]]
    ) -> call.SendLocalList:
        if update_type == "Differential":
            version -= 1
        return super().send_local_list_request(update_type, version, entries)


@mutant("TC_008_CSMS", "OCPP1.6 §3.5", "TC_043_4_CSMS", "TC_043_5_CSMS", profile=LOCAL_LIST)
class LocalListWithoutIdTagInfo(ReferenceCsms):
    """Sends local list entries without their idTagInfo (only the id tags)."""

    def local_list_entry(self, id_tag: str) -> dict[str, Any]:
        return {"idTag": id_tag}


@dataclass
class GetLocalListVersion:
    """A GetLocalListVersion.req with a field the message does not have."""

    connector_id: int = 1


@mutant(
    "TC_042_2_CSMS",
    "OCPP1.6 §5.10",
    "TC_008_CSMS",  # every GetLocalListVersion it sends breaks the schema
    "TC_043_5_CSMS",
    profile=LOCAL_LIST,
    defect_class="malformed",
)
class LocalListVersionWithConnector(ReferenceCsms):
    """Sends GetLocalListVersion.req with a connectorId (the request has no fields)."""

    async def get_local_list_version(self, station: str | None = None) -> Any:
        link = self._link(station)
        return await link.call(GetLocalListVersion(), suppress=False, skip_schema_validation=True)


# -- Reservation -----------------------------------------------------------------------------


@mutant("TC_047_CSMS", "OCPP1.6 §5.13", "TC_046_CSMS", profile=RESERVATION)
class ExpiryInThePast(ReferenceCsms):
    """Computes a reservation's expiryDate backwards (now minus the span)."""

    def reservation_expiry(self, seconds: float) -> str:
        return super().reservation_expiry(-float(seconds))


_RESERVING = ("TC_046_CSMS", "TC_048_1_CSMS", "TC_048_2_CSMS", "TC_048_3_CSMS", "TC_049_CSMS")


@mutant(
    "TC_047_CSMS",
    "OCPP1.6 §5.13",
    *_RESERVING,
    "TC_051_CSMS",
    "TC_052_CSMS",
    "TC_053_CSMS",
    profile=RESERVATION,
    defect_class="malformed",
)
class NaiveExpiry(ReferenceCsms):
    """Writes a reservation's expiryDate as a local time without an offset."""

    def reservation_expiry(self, seconds: float) -> str:
        when = datetime.now(UTC) + timedelta(seconds=float(seconds))
        return when.strftime("%Y-%m-%dT%H:%M:%S")


@mutant(
    "TC_046_CSMS",
    "OCPP1.6 §5.13",
    "TC_047_CSMS",
    "TC_048_1_CSMS",
    "TC_048_2_CSMS",
    "TC_048_3_CSMS",
    "TC_051_CSMS",
    "TC_053_CSMS",
    profile=RESERVATION,
)
class ReservesTheWholeStation(ReferenceCsms):
    """Reserves connector 0 (any connector) whatever connector the operator chose."""

    def reserve_now_request(self, connector: int, *args: Any) -> call.ReserveNow:
        return super().reserve_now_request(0, *args)


@mutant("TC_049_CSMS", "OCPP1.6 §5.13", profile=RESERVATION)
class StationReservationOnConnectorOne(ReferenceCsms):
    """Reserves connector 1 when the operator reserves the station (connector 0)."""

    def reserve_now_request(self, connector: int, *args: Any) -> call.ReserveNow:
        return super().reserve_now_request(connector or 1, *args)


@mutant("TC_053_CSMS", "OCPP1.6 §5.13", profile=RESERVATION)
class DropsParentIdTag(ReferenceCsms):
    """Sends ReserveNow without the parentIdTag the operator gave."""

    def reserve_now_request(
        self,
        connector: int,
        id_tag: str,
        expiry: str,
        reservation_id: int,
        parent_id_tag: str | None,
    ) -> call.ReserveNow:
        return super().reserve_now_request(connector, id_tag, expiry, reservation_id, None)


@mutant("TC_051_CSMS", "OCPP1.6 §5.1", "TC_052_CSMS", profile=RESERVATION)
class CancelsAnotherReservation(ReferenceCsms):
    """Sends CancelReservation with the next reservation id (off by one)."""

    def cancel_reservation_request(self, reservation_id: int) -> call.CancelReservation:
        return super().cancel_reservation_request(reservation_id + 1)


@mutant("TC_046_CSMS", "OCPP1.6 §4.8", "TC_049_CSMS", "TC_053_CSMS", profile=RESERVATION)
class ReservedStartRefused(ReferenceCsms):
    """Answers a StartTransaction that takes a reservation with idTagInfo ConcurrentTx (it
    takes the reservation for a second session of the id tag)."""

    def on_reservation_used(
        self, station_id: str, connector_id: int, reservation_id: int | None
    ) -> None:
        super().on_reservation_used(station_id, connector_id, reservation_id)
        self._reserved_start = True

    def start_transaction_reply(self, *args: Any) -> call_result.StartTransaction:
        reply = super().start_transaction_reply(*args)
        if getattr(self, "_reserved_start", False):
            self._reserved_start = False
            reply.id_tag_info = {"status": "ConcurrentTx"}
        return reply


# -- Remote Trigger ---------------------------------------------------------------------------


@mutant("TC_054_CSMS", "OCPP1.6 §5.17", "TC_055_CSMS", profile=TRIGGER, defect_class="malformed")
class TriggersAnUnknownMessage(ReferenceCsms):
    """Asks for MeterValues as ``MeterValue`` (a requestedMessage 1.6 does not have)."""

    async def trigger_message(
        self, requested_message: str, connector: int | None = None, station: str | None = None
    ) -> Any:
        request = self.trigger_message_request(requested_message, connector)
        if requested_message == "MeterValues":
            request.requested_message = "MeterValue"  # type: ignore[assignment]
        link = self._link(station)
        return await link.call(request, suppress=False, skip_schema_validation=True)


@mutant("TC_055_CSMS", "OCPP1.6 §5.17", "TC_054_CSMS", profile=TRIGGER)
class TriggerWithoutConnector(ReferenceCsms):
    """Drops the connectorId the operator named from TriggerMessage."""

    def trigger_message_request(
        self, requested_message: str, connector: int | None
    ) -> call.TriggerMessage:
        return super().trigger_message_request(requested_message, None)


class _LinkWithoutDiagnostics(CsmsLink):
    async def _diagnostics(self, **_: Any) -> Any:  # no @on: the action has no handler
        return call_result.DiagnosticsStatusNotification()


@mutant("TC_054_CSMS", "OCPP1.6 §4.4", profile=TRIGGER)
class IgnoresTriggeredDiagnostics(ReferenceCsms):
    """Has no handler for DiagnosticsStatusNotification: the triggered message is answered
    with a CALLERROR, not a DiagnosticsStatusNotification.conf."""

    def new_link(self, station_id: str, connection: ServerConnection) -> CsmsLink:
        return _LinkWithoutDiagnostics(self, station_id, connection)


class _DropsTheStationOn(ReferenceCsms):
    """Base of the mutants that cannot handle one answer of the station: an unknown enum value
    in their answer parser ends the station's connection (the answer is never processed)."""

    fatal: tuple[str, str] = ("", "")  # (action, status of its answer)

    async def _send(self, request: Any, station: str | None) -> Any:
        answer = await super()._send(request, station)
        action, status = self.fatal
        if type(request).__name__ == action and str(getattr(answer, "status", "")) == status:
            link = self._link(station)
            await link._connection.close(1011, f"cannot handle {action} {status}")
        return answer


@mutant("TC_048_1_CSMS", "OCPP1.6 §4.6", profile=RESERVATION)
class DropsTheStationOnFaulted(_DropsTheStationOn):
    """Cannot handle ReserveNow answered Faulted: drops the station's connection."""

    fatal = ("ReserveNow", "Faulted")


@mutant("TC_048_2_CSMS", "OCPP1.6 §4.9", profile=RESERVATION)
class DropsTheStationOnOccupied(_DropsTheStationOn):
    """Cannot handle ReserveNow answered Occupied: drops the station's connection."""

    fatal = ("ReserveNow", "Occupied")


@mutant("TC_048_3_CSMS", "OCPP1.6 §4.6", profile=RESERVATION)
class DropsTheStationOnUnavailable(_DropsTheStationOn):
    """Cannot handle ReserveNow answered Unavailable: drops the station's connection."""

    fatal = ("ReserveNow", "Unavailable")


@mutant("TC_052_CSMS", "OCPP1.6 §4.6", profile=RESERVATION)
class DropsTheStationOnCancelRejected(_DropsTheStationOn):
    """Cannot handle CancelReservation answered Rejected: drops the station's connection."""

    fatal = ("CancelReservation", "Rejected")
