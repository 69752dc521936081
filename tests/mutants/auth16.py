"""Mutant OCPP 1.6 stations for the optional profiles Local Auth List Management, Reservation
and Remote Trigger (issue 17): the reference station with one defect a vendor ships, each
caught by its case of ``ocpp16/local-auth-list-cs``, ``ocpp16/reservation-cs`` or
``ocpp16/remote-trigger-cs``. A mutant whose ``features`` declare a profile or option off
plays a station without it (the NotSupported / Rejected variants)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from ocpp.v16 import call, call_result
from ocpp.v16.enums import (
    CancelReservationStatus,
    MessageTrigger,
    ReservationStatus,
    TriggerMessageStatus,
    UpdateStatus,
    UpdateType,
)

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.v16.reference.local_list import ListUpdate
from pile_interop.ocpp.v16.reference.reservations import Reservation
from pile_interop.ocpp.v16.reference.station import ReferenceStation
from pile_interop.ocpp.v16.reference.station_model import Connector, TagInfo, Transaction
from tests.mutants.stations16 import mutant

LOCAL_LIST = "ocpp16/local-auth-list-cs"
RESERVATION = "ocpp16/reservation-cs"
TRIGGER = "ocpp16/remote-trigger-cs"

# -- Local Auth List Management ----------------------------------------------------------------


@mutant("TC_043_5_CS", "OCPP1.6 §5.15", profile=LOCAL_LIST)
class DifferentialReplacesList(ReferenceStation):
    """Applies a Differential update as if it were Full: the entries it does not name go."""

    def apply_local_list(self, update: ListUpdate) -> None:
        super().apply_local_list(ListUpdate(update.version, UpdateType.full, update.entries))


@mutant("TC_043_2_CS", "OCPP1.6 §5.10", "TC_043_5_CS", profile=LOCAL_LIST)
class DifferentialKeepsVersion(ReferenceStation):
    """Applies a Differential update but keeps the list's old version number."""

    def apply_local_list(self, update: ListUpdate) -> None:
        old = self.local_list.version
        super().apply_local_list(update)
        if update.update_type == UpdateType.differential:
            self.local_list.version = old


@mutant("TC_043_2_CS", "OCPP1.6 §5.15", profile=LOCAL_LIST)
class VersionMismatchNotDetected(ReferenceStation):
    """Accepts a Differential update whose version is not higher than the list's."""

    def send_local_list_status(self, update: ListUpdate) -> str:
        status = super().send_local_list_status(update)
        return UpdateStatus.accepted if status == UpdateStatus.version_mismatch else status


@mutant("TC_043_4_CS", "OCPP1.6 §5.15", profile=LOCAL_LIST)
class FullListMerges(ReferenceStation):
    """Merges a Full list into the current one instead of replacing it."""

    def apply_local_list(self, update: ListUpdate) -> None:
        super().apply_local_list(
            ListUpdate(update.version, UpdateType.differential, update.entries)
        )


@mutant("TC_043_5_CS", "OCPP1.6 §3.5.3", profile=LOCAL_LIST)
class ListIgnoredOffline(ReferenceStation):
    """Uses the Local Authorization List only while online: offline the list's ids are unknown."""

    def local_list_lookup(self, id_tag: str) -> TagInfo | None:
        return super().local_list_lookup(id_tag) if self.outbox.open.is_set() else None


@mutant("TC_008_CS", "OCPP1.6 §9.1.13", "TC_043_4_CS", "TC_043_5_CS", profile=LOCAL_LIST)
class ListIgnoredOnline(ReferenceStation):
    """Asks the Central System (Authorize.req) for an id on the list although
    LocalPreAuthorize is true: the list is only used offline."""

    def local_list_lookup(self, id_tag: str) -> TagInfo | None:
        return None if self.outbox.open.is_set() else super().local_list_lookup(id_tag)


@mutant("TC_042_2_CS", "OCPP1.6 §5.10", profile=LOCAL_LIST)
class EmptyListKeepsVersion(ReferenceStation):
    """Reports the last version number for an emptied list instead of 0."""

    def local_list_version(self) -> int:
        version = super().local_list_version()
        return self.local_list.version if version == 0 else version


@mutant("TC_043_3_CS", "OCPP1.6 §5.15", profile=LOCAL_LIST)
class OversizedListAccepted(ReferenceStation):
    """Accepts a SendLocalList longer than its SendLocalListMaxLength (and stores it)."""

    def send_local_list_status(self, update: ListUpdate) -> str:
        status = super().send_local_list_status(update)
        return UpdateStatus.accepted if status == UpdateStatus.failed else status


@mutant("TC_043_1_CS", "OCPP1.6 §5.15", profile=LOCAL_LIST, features={"local_auth_list": False})
class NoListButAcceptsList(ReferenceStation):
    """Has no Local Authorization List, yet answers SendLocalList Accepted (and drops it)."""

    async def handle_send_local_list(
        self, list_version: int, update_type: str, items: list[dict[str, Any]] | None
    ) -> call_result.SendLocalList:
        return call_result.SendLocalList(status=UpdateStatus.accepted)


@mutant("TC_042_1_CS", "OCPP1.6 §5.10", profile=LOCAL_LIST, features={"local_auth_list": False})
class NoListReportsVersionZero(ReferenceStation):
    """Has no Local Authorization List, yet reports listVersion 0 (an empty list)."""

    async def handle_get_local_list_version(self) -> call_result.GetLocalListVersion:
        return call_result.GetLocalListVersion(list_version=0)


# -- Reservation -------------------------------------------------------------------------------


@mutant("TC_047_CS", "OCPP1.6 §4.9", profile=RESERVATION)
class ReservationNeverExpires(ReferenceStation):
    """Keeps a reservation after its expiry date: the connector stays Reserved."""

    def expire_reservation(self, reservation: Reservation) -> None:
        pass


@mutant("TC_046_1_CS", "OCPP1.6 §5.13", "TC_049_CS", profile=RESERVATION)
class ReservedConnectorOpenToAll(ReferenceStation):
    """Reports Reserved but lets any idTag use the reserved connector."""

    def reserved_for_others(self, conn: Connector, id_tag: str | None) -> bool:
        return False

    def reservation_refuses(self, conn: Connector, id_tag: str, info: TagInfo) -> bool:
        return False


@mutant("TC_053_CS", "OCPP1.6 §5.13", profile=RESERVATION)
class ParentIdTagIgnored(ReferenceStation):
    """Admits only the reserved idTag itself on a reserved connector, not its group."""

    def reserved_for_others(self, conn: Connector, id_tag: str | None) -> bool:
        res = self.reservations.holds(conn)
        return res is not None and (id_tag is None or id_tag.lower() != res.id_tag.lower())

    def reservation_refuses(self, conn: Connector, id_tag: str, info: TagInfo) -> bool:
        return self.reserved_for_others(conn, id_tag)


@mutant(
    "TC_046_2_CS", "OCPP1.6 §5.13", "TC_046_1_CS", "TC_049_CS", "TC_053_CS", profile=RESERVATION
)
class NoReservationIdInStart(ReferenceStation):
    """Ends the reservation with the transaction but leaves reservationId out of the
    StartTransaction.req."""

    def with_reservation(self, tx: Transaction, payload: call.StartTransaction) -> Any:
        return payload


@mutant(
    "TC_048_4_CS",
    "OCPP1.6 §5.13",
    profile=RESERVATION,
    features={"reserve_connector_zero": False},
)
class ConnectorZeroReservedUnsupported(ReferenceStation):
    """Reports ReserveConnectorZeroSupported false but accepts reservations of connector 0."""

    def reserve_now_status(self, connector_id: int, reservation_id: int) -> str:
        if connector_id == 0:
            return ReservationStatus.accepted
        return super().reserve_now_status(connector_id, reservation_id)


@mutant("TC_052_CS", "OCPP1.6 §5.3", profile=RESERVATION)
class CancelUnknownAccepted(ReferenceStation):
    """Answers CancelReservation Accepted for a reservationId it does not hold."""

    def cancel_reservation_status(self, reservation_id: int) -> str:
        return CancelReservationStatus.accepted


@mutant("TC_051_CS", "OCPP1.6 §4.9", profile=RESERVATION)
class CancelKeepsReservation(ReferenceStation):
    """Answers CancelReservation Accepted but keeps the reservation."""

    async def handle_cancel_reservation(self, reservation_id: int) -> call_result.CancelReservation:
        return call_result.CancelReservation(status=self.cancel_reservation_status(reservation_id))


@mutant("TC_048_1_CS", "OCPP1.6 §5.13", profile=RESERVATION)
class ReservesFaultedConnector(ReferenceStation):
    """Accepts a reservation of a Faulted connector."""

    def reserve_now_status(self, connector_id: int, reservation_id: int) -> str:
        conn = self.connectors.get(connector_id)
        if connector_id and conn is not None and conn.fault is not None:
            return ReservationStatus.accepted
        return super().reserve_now_status(connector_id, reservation_id)


@mutant("TC_048_2_CS", "OCPP1.6 §5.13", profile=RESERVATION)
class ReservesOccupiedConnector(ReferenceStation):
    """Accepts a reservation of a connector an EV is plugged into (and reports it Reserved
    once the EV leaves)."""

    def reserve_now_status(self, connector_id: int, reservation_id: int) -> str:
        status = super().reserve_now_status(connector_id, reservation_id)
        occupied = status == ReservationStatus.occupied
        return ReservationStatus.accepted if occupied and connector_id else status


@mutant("TC_048_3_CS", "OCPP1.6 §5.13", profile=RESERVATION)
class ReservesUnavailableConnector(ReferenceStation):
    """Accepts a reservation of an Inoperative connector."""

    def reserve_now_status(self, connector_id: int, reservation_id: int) -> str:
        status = super().reserve_now_status(connector_id, reservation_id)
        unavailable = status == ReservationStatus.unavailable
        return ReservationStatus.accepted if unavailable and connector_id else status


@mutant("TC_050_1_CS", "OCPP1.6 §5.13", profile=RESERVATION)
class StationFaultIgnored(ReferenceStation):
    """Accepts a reservation of the whole station while the station (connector 0) is Faulted."""

    def reserve_now_status(self, connector_id: int, reservation_id: int) -> str:
        status = super().reserve_now_status(connector_id, reservation_id)
        faulted = status == ReservationStatus.faulted
        return ReservationStatus.accepted if faulted and connector_id == 0 else status


@mutant("TC_050_2_CS", "OCPP1.6 §5.13", profile=RESERVATION)
class ConnectorZeroIgnoresBusy(ReferenceStation):
    """Accepts a reservation of the whole station when no connector is free."""

    def reserve_now_status(self, connector_id: int, reservation_id: int) -> str:
        status = super().reserve_now_status(connector_id, reservation_id)
        occupied = status == ReservationStatus.occupied
        return ReservationStatus.accepted if occupied and connector_id == 0 else status


@mutant("TC_050_3_CS", "OCPP1.6 §5.13", profile=RESERVATION)
class ConnectorZeroIgnoresUnavailable(ReferenceStation):
    """Accepts a reservation of the whole station while it is Inoperative."""

    def reserve_now_status(self, connector_id: int, reservation_id: int) -> str:
        status = super().reserve_now_status(connector_id, reservation_id)
        unavailable = status == ReservationStatus.unavailable
        return ReservationStatus.accepted if unavailable and connector_id == 0 else status


@mutant("TC_049_CS", "OCPP1.6 §5.13", profile=RESERVATION)
class ZeroReservationNotReserved(ReferenceStation):
    """Accepts a reservation of connector 0 but never reports the connector it keeps Reserved."""

    def reserved_status(self, conn: Connector, derived: tuple[str, str]) -> tuple[str, str]:
        res = self.reservations.holds(conn)
        if res is not None and res.connector_id == 0:
            return derived
        return super().reserved_status(conn, derived)


# -- Remote Trigger ----------------------------------------------------------------------------


@mutant("TC_054_CS", "OCPP1.6 §5.17", profile=TRIGGER)
class TriggerAcceptedNothingSent(ReferenceStation):
    """Answers TriggerMessage Accepted but sends nothing."""

    def send_triggered(self, requested: str, connector_id: int | None) -> None:
        pass


@mutant("TC_054_CS", "OCPP1.6 §5.17", profile=TRIGGER)
class TriggeredStatusWrongConnector(ReferenceStation):
    """Sends a triggered StatusNotification for connector 1 whichever connector was asked."""

    def send_triggered(self, requested: str, connector_id: int | None) -> None:
        if requested == MessageTrigger.status_notification and connector_id is not None:
            connector_id = 1
        super().send_triggered(requested, connector_id)


@mutant("TC_054_CS", "OCPP1.6 §5.17", profile=TRIGGER)
class DiagnosticsTriggerNotSent(ReferenceStation):
    """Answers a DiagnosticsStatusNotification trigger Accepted but never sends it."""

    def send_triggered(self, requested: str, connector_id: int | None) -> None:
        if requested != MessageTrigger.diagnostics_status_notification:
            super().send_triggered(requested, connector_id)


@mutant("TC_055_CS", "OCPP1.6 §5.17", profile=TRIGGER)
class TriggerUnknownConnectorAccepted(ReferenceStation):
    """Accepts a TriggerMessage for a connector it does not have (and sends nothing)."""

    def trigger_message_status(self, requested: str, connector_id: int | None) -> str:
        status = super().trigger_message_status(requested, connector_id)
        return TriggerMessageStatus.accepted if status == TriggerMessageStatus.rejected else status

    def send_triggered(self, requested: str, connector_id: int | None) -> None:
        if connector_id is None or connector_id in self.connectors:
            super().send_triggered(requested, connector_id)


@mutant(
    "TC_046_1_CS",
    "OCPP1.6 §5.13",
    "TC_046_2_CS",
    "TC_049_CS",
    "TC_053_CS",
    profile=RESERVATION,
)
class ReservationOutlivesItsTransaction(ReferenceStation):
    """Puts the reservationId into the StartTransaction.req but keeps the reservation: once
    the transaction is over the connector is Reserved again (Finishing → Reserved)."""

    def use_reservation(self, conn: Connector, id_tag: str, info: TagInfo) -> None:
        tx = conn.transaction
        for res in self.reservations.active.values():
            if tx is not None and res.connector_id in (0, conn.id):
                self.reservations.used[tx.ref] = res.id


@mutant("TC_047_CS", "OCPP1.6 §4.9", profile=RESERVATION)
class ReservationEndsAtOnce(ReferenceStation):
    """Misreads the expiry date (e.g. its UTC offset) as a second away: the reservation is
    Accepted and reported Reserved, then released long before its expiry date."""

    async def handle_reserve_now(
        self,
        connector_id: int,
        expiry_date: str,
        id_tag: str,
        reservation_id: int,
        parent_id_tag: str | None,
    ) -> call_result.ReserveNow:
        soon = utc_iso(self.clock.now() + timedelta(seconds=1))
        return await super().handle_reserve_now(
            connector_id, soon, id_tag, reservation_id, parent_id_tag
        )


@mutant("TC_054_CS", "OCPP1.6 §5.17", profile=TRIGGER)
class TriggeredBeforeTheAnswer(ReferenceStation):
    """Sends a triggered Heartbeat at once, before its TriggerMessage.conf."""

    async def handle_trigger_message(
        self, requested_message: str, connector_id: int | None
    ) -> call_result.TriggerMessage:
        link = self.base.link
        if requested_message == MessageTrigger.heartbeat and link is not None:
            await link._send(json.dumps([2, "early-heartbeat", "Heartbeat", {}]))
            return call_result.TriggerMessage(status=TriggerMessageStatus.accepted)
        return await super().handle_trigger_message(requested_message, connector_id)
