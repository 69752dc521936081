"""Mutant OCPP 2.0.1 stations of the optional blocks: D (Local Authorization List) and the
TriggerMessages F06 asks of the core profile. The reference station with ONE defect each.

Registered in the catalogue of :mod:`tests.mutants.stations16`. A block D mutant subclasses
:class:`~pile_interop.ocpp.v201.reference.local_list.LocalAuthList` (``list_mutant`` builds the
station around it: ``ReferenceStation.local_list_class``), profile
``ocpp201/local-auth-list-cs``.
"""

from __future__ import annotations

from typing import Any

from ocpp.v201 import call, call_result

from pile_interop.ocpp.v201.reference.local_list import LocalAuthList
from pile_interop.ocpp.v201.reference.reservations import Reservation, Reservations
from pile_interop.ocpp.v201.reference.station import ReferenceStation
from pile_interop.ocpp.v201.reference.station_auth import Token, TokenInfo
from tests.mutants.stations16 import mutant

LOCAL_LIST = "ocpp201/local-auth-list-cs"
RESERVATION = "ocpp201/reservation-cs"


def list_mutant(catches: str, requirement: str, *also: str, defect_class: str = "case"):  # type: ignore[no-untyped-def]
    """Register a reference station whose Local Authorization List is the decorated
    ``LocalAuthList`` subclass (same name and docstring) as a mutant of the D profile."""

    def register(list_cls: type[LocalAuthList]) -> type[LocalAuthList]:
        station = type(
            list_cls.__name__,
            (ReferenceStation,),
            {"local_list_class": list_cls, "__doc__": list_cls.__doc__, "__module__": __name__},
        )
        mutant(catches, requirement, *also, profile=LOCAL_LIST, defect_class=defect_class)(station)
        return list_cls

    return register


# -- block D: the list ----------------------------------------------------------------------


@list_mutant("TC_D_90_CS", "OCPP2.0.1 D02", defect_class="setting-not-applied")
class ListVersionNotKept(LocalAuthList):
    """Applies every update but always reports version 0 (the version is not kept)."""

    def version_number(self) -> int:
        return 0


@list_mutant("TC_D_91_CS", "OCPP2.0.1 D01", defect_class="setting-not-applied")
class DifferentialReplacesList201(LocalAuthList):
    """Treats a Differential update as a Full one: the list becomes the update's entries."""

    def apply(self, req: call.SendLocalList) -> None:
        self.entries.clear()
        super().apply(req)


@list_mutant("TC_D_92_CS", "OCPP2.0.1 D01")
class AcceptsOlderDifferential(LocalAuthList):
    """Applies a Differential update whatever its version (never VersionMismatch)."""

    def update_status(self, req: call.SendLocalList) -> str:
        status = super().update_status(req)
        return "Accepted" if status == "VersionMismatch" else status


@list_mutant("TC_D_93_CS", "OCPP2.0.1 D01")
class FullWithoutListKeepsEntries(LocalAuthList):
    """Takes a Full update without localAuthorizationList as "no change" (the list stays)."""

    def apply(self, req: call.SendLocalList) -> None:
        if str(req.update_type) == "Full" and not req.local_authorization_list:
            self.version = int(req.version_number)
            return
        super().apply(req)


@list_mutant("TC_D_94_CS", "OCPP2.0.1 C13")
class ListIgnoredOffline201(LocalAuthList):
    """Consults its list only while online: offline every listed idToken is unknown."""

    def info(self, token: Token) -> TokenInfo | None:
        return super().info(token) if getattr(self.st, "online", True) else None


@list_mutant("TC_D_95_CS", "OCPP2.0.1 C14")
class ListOnlyOffline(LocalAuthList):
    """Uses its list only when offline: online it always asks the CSMS (LocalPreAuthorize is
    not applied to the list)."""

    def info(self, token: Token) -> TokenInfo | None:
        return None if getattr(self.st, "online", False) else super().info(token)


# -- block H: reservations ----------------------------------------------------------------


def resv_mutant(  # type: ignore[no-untyped-def]
    catches: str,
    requirement: str,
    *also: str,
    features: dict[str, bool] | None = None,
    defect_class: str = "case",
):
    """Register a reference station whose reservations are the decorated ``Reservations``
    subclass (same name and docstring) as a mutant of the H profile."""

    def register(cls: type[Reservations]) -> type[Reservations]:
        station = type(
            cls.__name__,
            (ReferenceStation,),
            {"reservations_class": cls, "__doc__": cls.__doc__, "__module__": __name__},
        )
        mutant(
            catches,
            requirement,
            *also,
            profile=RESERVATION,
            features=features,
            defect_class=defect_class,
        )(station)
        return cls

    return register


@resv_mutant("TC_H_90_CS", "OCPP2.0.1 H03", "TC_H_91_CS", "TC_H_98_CS", "TC_H_98_2_CS")
class ReservationIdNotSent(Reservations):
    """Lets the reserved idToken charge but its TransactionEvent names no reservationId."""

    def choose_evse(
        self, evse: int | None, token: Token, info: TokenInfo, *, use: bool = True
    ) -> tuple[Any, int | None]:
        target, _ = super().choose_evse(evse, token, info, use=use)
        return target, None


@resv_mutant("TC_H_91_CS", "OCPP2.0.1 H03")
class OtherTokenUsesReservedEvse(Reservations):
    """Lets any accepted idToken start at a reserved EVSE."""

    def blocks(self, n: int, token: Token, info: TokenInfo) -> bool:
        return False


@resv_mutant("TC_H_92_CS", "OCPP2.0.1 H04", defect_class="timer")
class ReservationNeverExpires201(Reservations):
    """Keeps a reservation past its expiryDateTime (the EVSE stays Reserved)."""

    def on_expired(self, reservation: Reservation) -> None:
        self.active[reservation.id] = reservation


@resv_mutant("TC_H_92_CS", "OCPP2.0.1 H04")
class ExpiresWithoutStatusUpdate(Reservations):
    """Releases an expired reservation without a ReservationStatusUpdate."""

    def on_expired(self, reservation: Reservation) -> None:
        self._remove(reservation.id)
        self._report()


@resv_mutant("TC_H_90_CS", "OCPP2.0.1 H01", "TC_H_91_CS", "TC_H_92_CS", "TC_H_93_CS")
class NoReservedStatus(Reservations):
    """Reserves the EVSE but its connector never reports Reserved."""

    def holds(self, n: int) -> bool:
        return False


@resv_mutant("TC_H_93_CS", "OCPP2.0.1 H02")
class CancelKeepsReservation201(Reservations):
    """Answers CancelReservation Accepted but keeps the reservation (the EVSE stays
    Reserved)."""

    async def cancel_reservation(self, req: call.CancelReservation) -> Any:
        return call_result.CancelReservation(status="Accepted")  # type: ignore[arg-type]


@resv_mutant("TC_H_94_CS", "OCPP2.0.1 H02")
class CancelsUnknownReservation(Reservations):
    """Answers CancelReservation Accepted for a reservation id it never received."""

    def cancel_status(self, reservation_id: int) -> str:
        return "Accepted"


@resv_mutant("TC_H_95_CS", "OCPP2.0.1 H01")
class ReservesOccupiedEvse(Reservations):
    """Accepts a reservation of an EVSE where a cable is plugged in."""

    def reserve_status(self, req: call.ReserveNow) -> str:
        status = super().reserve_status(req)
        return "Accepted" if status == "Occupied" else status


@resv_mutant("TC_H_96_CS", "OCPP2.0.1 H01", "TC_H_97_CS")
class RefusesAsOccupied(Reservations):
    """Answers every refused reservation Occupied (also for a Faulted or Unavailable EVSE)."""

    def reserve_status(self, req: call.ReserveNow) -> str:
        status = super().reserve_status(req)
        return "Occupied" if status in ("Faulted", "Unavailable") else status


@resv_mutant("TC_H_97_CS", "OCPP2.0.1 H01")
class ReservesUnavailableEvse(Reservations):
    """Accepts a reservation of an Inoperative (Unavailable) EVSE."""

    def reserve_status(self, req: call.ReserveNow) -> str:
        status = super().reserve_status(req)
        return "Accepted" if status == "Unavailable" else status


@resv_mutant("TC_H_98_CS", "OCPP2.0.1 H01", "TC_H_98_2_CS")
class RejectsReservationWithoutEvse(Reservations):
    """Rejects every ReserveNow without evseId though NonEvseSpecific is true."""

    def reserve_status(self, req: call.ReserveNow) -> str:
        return "Rejected" if req.evse_id is None else super().reserve_status(req)


@resv_mutant("TC_H_98_2_CS", "OCPP2.0.1 H01")
class KnowsNoConnectorType(Reservations):
    """Rejects every ReserveNow that names a connectorType (it matches no connector)."""

    def _fits(self, n: int, connector_type: str | None) -> bool:
        return connector_type is None


@resv_mutant("TC_H_99_CS", "OCPP2.0.1 H01", features={"reservation_non_evse_specific": False})
class AcceptsUnsupportedNonEvseReservation(Reservations):
    """Says ReservationCtrlr.NonEvseSpecific false but accepts a ReserveNow without evseId."""

    def reserve_status(self, req: call.ReserveNow) -> str:
        if req.evse_id is None and self.reserve_status_ignoring_flag(req):
            return "Accepted"
        return super().reserve_status(req)

    def reserve_status_ignoring_flag(self, req: call.ReserveNow) -> bool:
        return any(self._state(n) == "Available" for n in self._evses().evses)


# -- F06: the triggers of TC_F_15_CS / TC_F_18_CS (profile ocpp201/core-cs) ------------------


@mutant("TC_F_18_CS", "L01.FR.25", profile="ocpp201/core-cs")
class TriggeredFirmwareStatusNeverSent(ReferenceStation):
    """Answers TriggerMessage FirmwareStatusNotification Accepted but never sends it."""

    async def send(self, request: Any) -> Any:
        if isinstance(request, call.FirmwareStatusNotification):
            return None
        return await super().send(request)


@mutant("TC_F_15_CS", "OCPP2.0.1 LogStatusNotificationRequest.status", profile="ocpp201/core-cs")
class TriggeredLogStatusNotIdle(ReferenceStation):
    """Answers a triggered LogStatusNotification with status Uploaded though no upload ran."""

    async def send(self, request: Any) -> Any:
        if isinstance(request, call.LogStatusNotification):
            request = call.LogStatusNotification(status="Uploaded", request_id=1)
        return await super().send(request)
