"""The hooks of the optional feature profiles Local Auth List Management, Reservation and
Remote Trigger on the reference OCPP 1.6J station.

:class:`OptionalProfilesHooks` is a mixin of
:class:`~pile_interop.ocpp.v16.reference.station.ReferenceStation` (the station module is at
its size limit): it owns the components :mod:`local_list`, :mod:`reservations` and
:mod:`trigger`, and every hook of theirs lives here, on the station, so that a mutant
overriding one changes it everywhere. The station's own hooks call into it where a profile
changes Core behaviour: authorization looks up the list (§3.5.3), a reserved connector is
free only for its idTag and reports Reserved (§5.13), a StartTransaction.req names the
reservation it ends (§4.8).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

from ocpp.v16 import call, call_result
from ocpp.v16.enums import ChargePointStatus

from pile_interop.ocpp.v16.reference.local_list import (
    ListUpdate,
    LocalAuthList,
    LocalListManager,
)
from pile_interop.ocpp.v16.reference.optional_profiles import OptionalProfiles
from pile_interop.ocpp.v16.reference.reservations import (
    PRESENTING,
    Reservation,
    ReservationDesk,
)
from pile_interop.ocpp.v16.reference.station_model import Connector, TagInfo, Transaction
from pile_interop.ocpp.v16.reference.trigger import RemoteTrigger

T = TypeVar("T")


class OptionalProfilesHooks:
    """Local list, reservations and remote trigger: state, handlers and hooks."""

    #: TriggerMessage requestedMessage values answered NotImplemented
    not_implemented: frozenset[str] = frozenset()

    def init_optional(self, features: Mapping[str, bool] | None) -> None:
        """Called by the station's constructor before its configuration is built."""
        self.optional = OptionalProfiles(features)
        station: Any = self
        #: the Local Authorization List (persistent)
        self.local_list = LocalAuthList()
        self.local_lists = LocalListManager(station, self.optional.has("local_auth_list"))
        self.reservations = ReservationDesk(station, self.optional.has("reservation"))
        self.trigger = RemoteTrigger(station, self.optional.has("remote_trigger"))

    # -- Local Auth List Management (§3.5.3, §5.10, §5.15) ------------------------------------

    def local_list_supported(self) -> bool:
        return self.local_lists.supported

    def local_list_lookup(self, id_tag: str) -> TagInfo | None:
        """The list's IdTagInfo for ``id_tag`` while the list is in use (it wins over the
        cache), else None."""
        return self.local_lists.lookup(id_tag)

    async def handle_get_local_list_version(self) -> call_result.GetLocalListVersion:
        return await self.local_lists.handle_get_local_list_version()

    def local_list_version(self) -> int:
        """GetLocalListVersion.conf listVersion: -1 no list, 0 empty, else the version."""
        return self.local_lists.local_list_version()

    async def handle_send_local_list(
        self, list_version: int, update_type: str, items: list[dict[str, Any]] | None
    ) -> call_result.SendLocalList:
        return await self.local_lists.handle_send_local_list(list_version, update_type, items)

    def send_local_list_status(self, update: ListUpdate) -> str:
        """Accepted, Failed, NotSupported or VersionMismatch (§5.15)."""
        return self.local_lists.send_local_list_status(update)

    def apply_local_list(self, update: ListUpdate) -> None:
        """Full: replace the list; Differential: add, update, remove (no idTagInfo)."""
        self.local_lists.apply_local_list(update)

    # -- Reservation (§5.13, §5.3) ------------------------------------------------------------

    def reservations_supported(self) -> bool:
        return self.reservations.supported

    async def handle_reserve_now(
        self,
        connector_id: int,
        expiry_date: str,
        id_tag: str,
        reservation_id: int,
        parent_id_tag: str | None,
    ) -> call_result.ReserveNow:
        return await self.reservations.handle_reserve_now(
            connector_id, expiry_date, id_tag, reservation_id, parent_id_tag
        )

    def reserve_now_status(self, connector_id: int, reservation_id: int) -> str:
        """Accepted, Faulted, Occupied, Rejected or Unavailable (§5.13)."""
        return self.reservations.reserve_now_status(connector_id, reservation_id)

    async def handle_cancel_reservation(self, reservation_id: int) -> call_result.CancelReservation:
        return await self.reservations.handle_cancel_reservation(reservation_id)

    def cancel_reservation_status(self, reservation_id: int) -> str:
        """Accepted for a reservation the station holds, else Rejected (§5.3)."""
        return self.reservations.cancel_reservation_status(reservation_id)

    def expire_reservation(self, reservation: Reservation) -> None:
        """The expiry date has passed: the reservation ends, the connector is free again."""
        self.reservations.expire_reservation(reservation)

    def reserved_for_others(self, conn: Connector, id_tag: str | None) -> bool:
        """Whether a reservation keeps ``conn`` from a session of ``id_tag``."""
        return self.reservations.reserved_for_others(conn, id_tag)

    def reserved_for_presenting(self, conn: Connector) -> bool:
        """Whether a reservation keeps ``conn`` from the idTag this task presents (a swipe,
        a remote start; none: any session)."""
        return self.reserved_for_others(conn, PRESENTING.get())

    def reservation_refuses(self, conn: Connector, id_tag: str, info: TagInfo) -> bool:
        """An authorized idTag (its parentIdTag known) that the connector's reservation
        does not admit."""
        return self.reservations.refuses(conn, id_tag, info)

    def reserved_status(self, conn: Connector, derived: tuple[str, str]) -> tuple[str, str]:
        """An idle connector a reservation holds is Reserved."""
        if derived[0] == ChargePointStatus.available and self.reservations.holds(conn):
            return ChargePointStatus.reserved, derived[1]
        return derived

    def use_reservation(self, conn: Connector, id_tag: str, info: TagInfo) -> None:
        """A transaction begins on ``conn``: the reservation of its idTag (or group) ends and
        its id goes into the StartTransaction.req."""
        tx = conn.transaction
        if tx is None:  # no transaction began (e.g. the cable lock failed)
            return
        rid = self.reservations.consume(conn, id_tag, info)
        if rid is not None:
            self.reservations.used[tx.ref] = rid
            self.reservations.report()

    def with_reservation(self, tx: Transaction, payload: call.StartTransaction) -> Any:
        """The StartTransaction.req with the reservationId of the reservation it ended."""
        payload.reservation_id = self.reservations.used.get(tx.ref)
        return payload

    async def presenting(self, id_tag: str, work: Awaitable[T]) -> T:
        """Run ``work`` (a swipe, a remote start) as a session attempt of ``id_tag``."""
        token = PRESENTING.set(id_tag)
        try:
            return await work
        finally:
            PRESENTING.reset(token)

    # -- Remote Trigger (§5.17) ---------------------------------------------------------------

    def remote_trigger_supported(self) -> bool:
        return self.trigger.supported

    async def handle_trigger_message(
        self, requested_message: str, connector_id: int | None
    ) -> call_result.TriggerMessage:
        return await self.trigger.handle_trigger_message(requested_message, connector_id)

    def trigger_message_status(self, requested: str, connector_id: int | None) -> str:
        """Accepted, Rejected (no such connector) or NotImplemented (§5.17)."""
        return self.trigger.trigger_message_status(requested, connector_id)

    def send_triggered(self, requested: str, connector_id: int | None) -> None:
        """Send the requested message (after the TriggerMessage.conf went out)."""
        self.trigger.send_triggered(requested, connector_id)
