"""Mutant OCPP 2.0.1 CSMSs of the optional blocks D (Local Authorization List) and H
(Reservation): the reference CSMS with ONE defect each, profiles
``ocpp201/local-auth-list-csms`` and ``ocpp201/reservation-csms``. Registered in the catalogue
of :mod:`tests.mutants.stations16`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.v201 import call

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.v201.reference.csms import ReferenceCsms
from tests.mutants.stations16 import mutant

LOCAL_LIST = "ocpp201/local-auth-list-csms"
RESERVATION = "ocpp201/reservation-csms"


# -- block D --------------------------------------------------------------------------------


@mutant("TC_D_90_CSMS", "OCPP2.0.1 D01", profile=LOCAL_LIST)
class FullListWithoutTokenInfo(ReferenceCsms):
    """Sends a Full local list whose entries carry no idTokenInfo."""

    def send_local_list_request(self, station_id: str, update_type: str, **kw: Any) -> Any:
        request = super().send_local_list_request(station_id, update_type, **kw)
        if update_type == "Full":
            for entry in request.local_authorization_list or []:
                entry.pop("id_token_info", None)
        return request


@mutant("TC_D_91_CSMS", "OCPP2.0.1 D01", profile=LOCAL_LIST, defect_class="csms-decision")
class DifferentialKeepsVersion201(ReferenceCsms):
    """Sends a Differential update with the version the station already has."""

    def send_local_list_request(self, station_id: str, update_type: str, **kw: Any) -> Any:
        request = super().send_local_list_request(station_id, update_type, **kw)
        if update_type == "Differential":
            request.version_number = self.optional.state(station_id).list_version
        return request


# -- block H --------------------------------------------------------------------------------


@mutant("TC_H_90_CSMS", "OCPP2.0.1 H01", "TC_H_93_CSMS", profile=RESERVATION)
class ReservationExpiryInPast(ReferenceCsms):
    """Sends ReserveNow with an expiryDateTime a minute in the past."""

    def reserve_now_request(self, id_token: Any, **kw: Any) -> call.ReserveNow:
        request = super().reserve_now_request(id_token, **kw)
        request.expiry_date_time = utc_iso(datetime.now(UTC) - timedelta(minutes=1))
        return request


@mutant("TC_H_90_CSMS", "OCPP2.0.1 H01", "TC_H_91_CSMS", "TC_H_92_CSMS", profile=RESERVATION)
class ReserveNowWithoutEvse(ReferenceCsms):
    """Drops the EVSE the operator chose from ReserveNow (reserves any EVSE)."""

    def reserve_now_request(self, id_token: Any, **kw: Any) -> call.ReserveNow:
        return super().reserve_now_request(id_token, **{**kw, "evse": None})


@mutant("TC_H_91_CSMS", "OCPP2.0.1 H04", profile=RESERVATION)
class NoAnswerToReservationStatusUpdate(ReferenceCsms):
    """Fails on ReservationStatusUpdate (the station gets a CALLERROR, not a response)."""

    def reservation_status_update(self, station_id: str, payload: dict[str, Any]) -> None:
        raise RuntimeError("ReservationStatusUpdate is not handled")


@mutant("TC_H_92_CSMS", "OCPP2.0.1 H02", profile=RESERVATION)
class CancelsAnotherReservation201(ReferenceCsms):
    """Cancels a reservation id one above the one it made."""

    async def cancel_reservation(
        self, reservation_id: int | None = None, station: str | None = None
    ) -> Any:
        sid = self._link(station).id
        rid = self.optional.to_cancel(sid, reservation_id) + 1
        return await self._send(call.CancelReservation(reservation_id=rid), sid)


@mutant("TC_H_93_CSMS", "OCPP2.0.1 H01", profile=RESERVATION, defect_class="one-form-only")
class ReservesFirstEvseAlways(ReferenceCsms):
    """Names EVSE 1 in every ReserveNow, also when the operator chose no EVSE."""

    def reserve_now_request(self, id_token: Any, **kw: Any) -> call.ReserveNow:
        return super().reserve_now_request(id_token, **{**kw, "evse": kw.get("evse") or 1})
