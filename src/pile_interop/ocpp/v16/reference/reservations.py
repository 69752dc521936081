"""Reservations at the reference OCPP 1.6J station (§3.11, §5.13 ReserveNow, §5.3
CancelReservation, §9.4 ReserveConnectorZeroSupported).

A reservation holds a connector (or, with connectorId 0, one of the free connectors) for an
idTag until its expiryDate: the connector reports Reserved, and only that idTag or one of the
same parentIdTag may start on it. The first transaction of such an idTag ends the reservation
and its StartTransaction.req carries the reservationId; at the expiry date the connector is
Available again. A reservation is volatile (a reboot drops it).

:class:`ReservationDesk` holds the default behaviour; the decisions are hooks on the station
(:class:`ReservationPort`), so that a mutant overriding one there changes it everywhere.
"""

from __future__ import annotations

import asyncio
import contextvars
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ocpp.exceptions import NotSupportedError
from ocpp.v16 import call_result
from ocpp.v16.enums import CancelReservationStatus, ReservationStatus

from pile_interop.core.clock import parse_iso
from pile_interop.ocpp.v16.reference.station_hooks import StationState
from pile_interop.ocpp.v16.reference.station_model import Connector, TagInfo

#: the idTag a session is being started for in the current task (a swipe, a remote start):
#: a reserved connector is free for it, not for others
PRESENTING: contextvars.ContextVar[str | None] = contextvars.ContextVar("presenting", default=None)


@dataclass
class Reservation:
    id: int
    connector_id: int  # 0: any connector of the station
    id_tag: str
    parent_id_tag: str | None
    expiry: datetime
    timer: asyncio.Task[None] | None = None

    def matches(self, id_tag: str, parent_id_tag: str | None) -> bool:
        """§5.13: the reserved idTag, or an idTag of the reservation's parentIdTag."""
        if id_tag.lower() == self.id_tag.lower():
            return True
        return bool(self.parent_id_tag and parent_id_tag) and (
            str(parent_id_tag).lower() == str(self.parent_id_tag).lower()
        )


class ReservationPort(StationState, Protocol):
    """What reservations need from the station."""

    def reservations_supported(self) -> bool: ...
    def reserve_now_status(self, connector_id: int, reservation_id: int) -> str: ...
    def cancel_reservation_status(self, reservation_id: int) -> str: ...
    def expire_reservation(self, reservation: Reservation) -> None: ...
    def reserved_for_others(self, conn: Connector, id_tag: str | None) -> bool: ...


class ReservationDesk:
    """The station's reservations, by reservationId."""

    def __init__(self, station: ReservationPort, supported: bool) -> None:
        self.station = station
        self.supported = supported
        self.active: dict[int, Reservation] = {}
        #: local transaction ref → the reservationId its StartTransaction.req carries
        self.used: dict[int, int] = {}

    # -- ReserveNow (§5.13) -------------------------------------------------------------------

    async def handle_reserve_now(
        self,
        connector_id: int,
        expiry_date: str,
        id_tag: str,
        reservation_id: int,
        parent_id_tag: str | None,
    ) -> call_result.ReserveNow:
        st = self.station
        if not st.reservations_supported():
            raise NotSupportedError(description="Reservation is not supported")
        status = st.reserve_now_status(connector_id, reservation_id)
        if status == ReservationStatus.accepted:
            self.drop(reservation_id)  # the same id replaces the reservation
            res = Reservation(
                reservation_id, connector_id, id_tag, parent_id_tag, parse_iso(expiry_date)
            )
            self.active[reservation_id] = res
            res.timer = st.base.spawn(self._expire_at(res), "reservation", st.base.boot_tasks)
            st.defer(self.report)
        return call_result.ReserveNow(status=status)  # type: ignore[arg-type]

    def reserve_now_status(self, connector_id: int, reservation_id: int) -> str:
        """Rejected (unknown connector; connector 0 without ReserveConnectorZeroSupported),
        Faulted, Unavailable, Occupied (in use, or reserved under another id), Accepted."""
        st = self.station
        if connector_id not in st.connectors:
            return ReservationStatus.rejected
        if connector_id == 0 and not st.config.get_bool("ReserveConnectorZeroSupported"):
            return ReservationStatus.rejected
        station = st.connectors[0]
        targets = st._outlets() if connector_id == 0 else [st.connectors[connector_id]]
        if station.fault is not None or all(c.fault is not None for c in targets):
            return ReservationStatus.faulted
        if not station.operative or all(not c.operative for c in targets):
            return ReservationStatus.unavailable
        others = [r for r in self.active.values() if r.id != reservation_id]
        held = {r.connector_id for r in others if r.connector_id}
        free = [c for c in st._outlets() if self._idle(c) and c.id not in held]
        zero = sum(1 for r in others if r.connector_id == 0)
        if connector_id == 0:
            if len(free) <= zero:  # every free connector is already kept for someone
                return ReservationStatus.occupied
        elif targets[0] not in free or len(free) <= zero:
            return ReservationStatus.occupied
        return ReservationStatus.accepted

    @staticmethod
    def _idle(conn: Connector) -> bool:
        return (
            conn.transaction is None
            and conn.authorization is None
            and not conn.ev_connected
            and not conn.cable_held
            and not conn.session_ended
            and conn.fault is None
            and conn.operative
        )

    async def _expire_at(self, res: Reservation) -> None:
        st = self.station
        await st.clock.sleep(max(0.0, (res.expiry - st.clock.now()).total_seconds()))
        if self.active.get(res.id) is res:
            st.expire_reservation(res)

    def expire_reservation(self, res: Reservation) -> None:
        self.station.log.info("%s: reservation %d expired", self.station.station_id, res.id)
        self.drop(res.id)
        self.report()

    def drop(self, reservation_id: int) -> Reservation | None:
        res = self.active.pop(reservation_id, None)
        if res is not None and res.timer is not None and res.timer is not asyncio.current_task():
            res.timer.cancel()
        return res

    def report(self) -> None:
        """Each connector's status may have changed (Reserved or not)."""
        st = self.station
        for conn in st._outlets():
            st.update_status(conn)

    # -- CancelReservation (§5.3) ------------------------------------------------------------

    async def handle_cancel_reservation(self, reservation_id: int) -> call_result.CancelReservation:
        st = self.station
        if not st.reservations_supported():
            raise NotSupportedError(description="Reservation is not supported")
        status = st.cancel_reservation_status(reservation_id)
        if status == CancelReservationStatus.accepted:
            self.drop(reservation_id)
            st.defer(self.report)
        return call_result.CancelReservation(status=status)  # type: ignore[arg-type]

    def cancel_reservation_status(self, reservation_id: int) -> str:
        if reservation_id in self.active:
            return CancelReservationStatus.accepted
        return CancelReservationStatus.rejected

    # -- who may use a connector -------------------------------------------------------------

    def holds(self, conn: Connector) -> Reservation | None:
        """The reservation that makes ``conn`` Reserved now, if any (never connector 0: the
        station as a whole is not Reserved, §4.9)."""
        if conn.id == 0:
            return None
        for res in self.active.values():
            if res.connector_id == conn.id:
                return res
        zero = [r for r in self.active.values() if r.connector_id == 0]
        if not zero or not self._idle(conn):
            return None
        held = {r.connector_id for r in self.active.values() if r.connector_id}
        free = [c for c in self.station._outlets() if self._idle(c) and c.id not in held]
        # connector-0 reservations keep as many free connectors: the last ones are Reserved
        return zero[0] if conn in free and len(free) <= len(zero) else None

    def reserved_for_others(self, conn: Connector, id_tag: str | None) -> bool:
        """Whether a reservation keeps ``conn`` from a session of ``id_tag`` (None: unknown)."""
        res = self.holds(conn)
        if res is None:
            return False
        if id_tag is None:
            return True
        # an idTag whose parent is not known yet may still belong to the reservation's group
        return not res.matches(id_tag, None) and not res.parent_id_tag

    def refuses(self, conn: Connector, id_tag: str, info: TagInfo) -> bool:
        """Authorized, with its parentIdTag known: does a reservation refuse it here?"""
        res = self.holds(conn)
        return res is not None and not res.matches(id_tag, info.parent_id_tag)

    def consume(self, conn: Connector, id_tag: str, info: TagInfo) -> int | None:
        """A transaction starts on ``conn``: the reservation it uses ends (its id returned)."""
        candidates = [r for r in self.active.values() if r.connector_id == conn.id]
        candidates += [r for r in self.active.values() if r.connector_id == 0]
        for res in candidates:
            if res.matches(id_tag, info.parent_id_tag):
                self.drop(res.id)
                return res.id
        return None

    def clear(self) -> None:
        for rid in list(self.active):
            self.drop(rid)
        self.report()
