"""Reservations at the reference OCPP 2.0.1 station (Part 2 block H): ReserveNow on an EVSE, on a
connector type or on no EVSE in particular (H01), CancelReservation (H02), the reserved EVSE used
by its idToken or a token of its groupIdToken (H03), expiry with ReservationStatusUpdate Expired
(H04), the ReservationCtrlr variables, and the connector status Reserved.

A reservation on an EVSE makes its connector Reserved (StatusNotification) while it is otherwise
Available; only the reserved idToken (or one whose groupIdToken is the reservation's) may start
there. A reservation without an EVSE (``ReservationCtrlr.NonEvseSpecific`` true; else Rejected)
holds one of the free EVSEs (of the connector type, if given): another idToken may only take a
free EVSE as long as enough stay free for the reservations without an EVSE, and when only as many
free EVSEs are left as such reservations, those EVSEs are Reserved. ReserveNow is answered
Faulted / Unavailable / Occupied when the EVSE (every EVSE that fits, for a reservation without
one) is so, Rejected for an unknown EVSE, a connector type the station lacks, an expiry in the
past or a disabled ReservationCtrlr; a reservation with the id of an existing one replaces it.

The idToken of a reservation ends it when it is authorized on the EVSE (no
ReservationStatusUpdate: the reservation was used); its TransactionEvent carrying that idToken
carries the ``reservationId`` (H03). At ``expiryDateTime`` the reservation ends with
ReservationStatusUpdate Expired and the connector is Available again (H04). Reservations and
their timers survive a reboot.

The transaction half asks this component through the station's ``reservations`` attribute
(:meth:`Reservations.reserved_status`, :meth:`Reservations.choose_evse`,
:meth:`Reservations.blocks`, :meth:`Reservations.take`; a RequestStartTransaction of another
idToken for a reserved EVSE is Rejected). A station without the feature ``reservation``
(descriptor false) has none: ReserveNow and CancelReservation are answered NotSupported.
Mutants subclass
:class:`Reservations` (the station's ``reservations_class``) and override one hook:
:meth:`Reservations.reserve_status`, :meth:`Reservations.cancel_status`,
:meth:`Reservations.on_expired`, :meth:`Reservations.may_use`, :meth:`Reservations.holds`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ocpp.v201 import call, call_result

from pile_interop.core.clock import parse_iso
from pile_interop.ocpp.v201.reference.station_auth import Token, TokenInfo, as_dict
from pile_interop.ocpp.v201.reference.station_model import Variable

__all__ = ["RESERVATION", "Reservation", "Reservations", "install_reservations"]

log = logging.getLogger(__name__)

#: the device-model component of block H
RESERVATION = "ReservationCtrlr"
#: the connector type of every connector of the reference (Connector.ConnectorType)
CONNECTOR_TYPE = "cType2"


def _real_now() -> datetime:
    """The time an expiry is counted from: the real time, as the CSMS's clock has it (the
    scaled clock's date runs ahead of it; at scale 1 they agree), each second of it counted
    as a protocol second: a reservation N s ahead lasts N protocol seconds."""
    return datetime.now(UTC)


@dataclass
class Reservation:
    id: int
    expiry: datetime
    token: Token
    group: str | None
    evse: int | None
    connector_type: str | None
    timer: Any = None

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "expiryDateTime": self.expiry.isoformat(),
            "idToken": self.token.id_token,
            "groupIdToken": self.group,
            "evseId": self.evse,
            "connectorType": self.connector_type,
        }


class Reservations:
    """The station's reservations and their two requests."""

    def __init__(self, station: Any) -> None:
        self.st = station
        self.active: dict[int, Reservation] = {}

    # -- the device model ----------------------------------------------------------------------

    def variables(self) -> list[Variable]:
        """ReservationCtrlr: Enabled (read-write), Available, NonEvseSpecific (read-only: the
        descriptor's ``reservation_non_evse_specific``)."""
        non_evse = self.st.features.get("reservation_non_evse_specific", True) is not False
        return [
            Variable(RESERVATION, "Enabled", "true", "boolean", "ReadWrite"),
            Variable(RESERVATION, "Available", "true", "boolean", "ReadOnly"),
            Variable(RESERVATION, "NonEvseSpecific", str(non_evse).lower(), "boolean", "ReadOnly"),
        ]

    def _flag(self, variable: str) -> bool:
        return self.st.var(RESERVATION, variable).strip().lower() == "true"

    # -- what an EVSE is ---------------------------------------------------------------------

    def _evses(self) -> Any:
        return self.st.evses

    def _state(self, n: int) -> str:
        """Faulted, Unavailable, Occupied or Available: what the EVSE is, reservations aside."""
        ev = self._evses()
        e = ev.evses[n]
        if e.fault or e.lock_fault:
            return "Faulted"
        if not ev._available(e):
            return "Unavailable"
        if e.cable or e.transaction is not None or e.authorization is not None:
            return "Occupied"
        if e.session_ended:
            return "Occupied"
        return "Available"

    def _specific(self, n: int) -> Reservation | None:
        return next((r for r in self.active.values() if r.evse == n), None)

    def _fits(self, n: int, connector_type: str | None) -> bool:
        return connector_type is None or connector_type == CONNECTOR_TYPE

    def _free(self) -> list[int]:
        """EVSEs Available and not reserved on their own."""
        return [
            n
            for n in self._evses().evses
            if self._state(n) == "Available" and self._specific(n) is None
        ]

    def _floating(self, exclude: int | None = None) -> list[Reservation]:
        return [r for r in self.active.values() if r.evse is None and r.id != exclude]

    # -- ReserveNow (H01) ---------------------------------------------------------------------

    async def reserve_now(self, req: call.ReserveNow) -> call_result.ReserveNow:
        status = self.reserve_status(req)
        if status == "Accepted":
            self._add(req)
        return call_result.ReserveNow(status=status)  # type: ignore[arg-type]

    def reserve_status(self, req: call.ReserveNow) -> str:
        """Accepted, Faulted, Occupied, Unavailable or Rejected (H01)."""
        if not self._flag("Enabled"):
            return "Rejected"
        if parse_iso(str(req.expiry_date_time)) <= _real_now():
            return "Rejected"
        kind = req.connector_type
        evse = req.evse_id
        if evse is not None:
            if evse not in self._evses().evses or not self._fits(evse, kind):
                return "Rejected"
            state = self._state(evse)
            held = self._specific(evse)
            if state == "Available" and held is not None and held.id != req.id:
                return "Occupied"
            return state if state != "Available" else "Accepted"
        if not self._flag("NonEvseSpecific"):
            return "Rejected"
        fitting = [n for n in self._evses().evses if self._fits(n, kind)]
        if not fitting:
            return "Rejected"
        free = [n for n in self._free() if n in fitting]
        if len(free) > len(self._floating(exclude=req.id)):
            return "Accepted"
        states = {self._state(n) for n in fitting}
        for state in ("Faulted", "Unavailable"):
            if states == {state}:
                return state
        return "Occupied"

    def _add(self, req: call.ReserveNow) -> None:
        self._remove(int(req.id))  # the same id: the new one replaces it
        group = as_dict(req.group_id_token) if req.group_id_token is not None else {}
        reservation = Reservation(
            id=int(req.id),
            expiry=parse_iso(str(req.expiry_date_time)),
            token=Token.from_payload(req.id_token),
            group=group.get("id_token", group.get("idToken")) or None,
            evse=req.evse_id,
            connector_type=req.connector_type,
        )
        self.active[reservation.id] = reservation
        seconds = max(0.0, (reservation.expiry - _real_now()).total_seconds())
        reservation.timer = self.st.base.spawn(self._expire(reservation, seconds), "reservation")
        self.st.defer(self._report)

    async def _expire(self, reservation: Reservation, seconds: float) -> None:
        await self.st.clock.sleep(seconds)
        if self.active.get(reservation.id) is not reservation:
            return
        reservation.timer = None
        self.on_expired(reservation)

    def on_expired(self, reservation: Reservation) -> None:
        """H04: the reservation ends, ReservationStatusUpdate Expired, the connector is
        Available again."""
        self._remove(reservation.id)
        update = call.ReservationStatusUpdate(
            reservation_id=reservation.id,
            reservation_update_status="Expired",  # type: ignore[arg-type]
        )
        self._evses()._enqueue(update, transactional=False)
        self._report()

    def _remove(self, reservation_id: int) -> Reservation | None:
        reservation = self.active.pop(reservation_id, None)
        if reservation is not None and reservation.timer is not None:
            reservation.timer.cancel()
            reservation.timer = None
        return reservation

    def _report(self) -> None:
        ev = self._evses()
        for e in ev.evses.values():
            ev.report_status(e)

    # -- CancelReservation (H02) --------------------------------------------------------------

    async def cancel_reservation(
        self, req: call.CancelReservation
    ) -> call_result.CancelReservation:
        status = self.cancel_status(int(req.reservation_id))
        if status == "Accepted":
            self._remove(int(req.reservation_id))
            self.st.defer(self._report)
        return call_result.CancelReservation(status=status)  # type: ignore[arg-type]

    def cancel_status(self, reservation_id: int) -> str:
        """Accepted for a reservation the station holds, else Rejected (H02)."""
        return "Accepted" if reservation_id in self.active else "Rejected"

    # -- the transaction half's view (G01, H03) -----------------------------------------------

    def holds(self, n: int) -> bool:
        """Whether EVSE ``n``, otherwise Available, shows Reserved: a reservation on it, or only
        as many free EVSEs left as reservations without an EVSE."""
        if self._specific(n) is not None:
            return True
        floating = self._floating()
        free = self._free()
        return bool(floating) and n in free and len(free) <= len(floating)

    def reserved_status(self, n: int) -> bool:
        return self.holds(n)

    def may_use(self, reservation: Reservation, token: Token, info: TokenInfo) -> bool:
        """The reserved idToken, or a token of the reservation's groupIdToken (H03)."""
        return reservation.token.same(token) or (
            reservation.group is not None and info.same_group(reservation.group)
        )

    def _own(self, token: Token, info: TokenInfo) -> list[Reservation]:
        return [r for r in self.active.values() if self.may_use(r, token, info)]

    def blocks(self, n: int, token: Token, info: TokenInfo) -> bool:
        """Whether ``token`` may not start at EVSE ``n`` because of another's reservation: one
        on that EVSE, or the last free EVSEs held for reservations without an EVSE."""
        held = self._specific(n)
        if held is not None:
            return not self.may_use(held, token, info)
        if any(self.may_use(r, token, info) for r in self._floating()):
            return False
        free = self._free()
        return n in free and len(free) - 1 < len(self._floating())

    def choose_evse(
        self, evse: int | None, token: Token, info: TokenInfo, *, use: bool = True
    ) -> tuple[Any, int | None]:
        """The EVSE the token is for and the reservation it uses (None: none): its own
        reservation's EVSE first (or any fitting one for a reservation without an EVSE), else
        the half's choice among the EVSEs no reservation holds against it. ``use`` False: the
        reservation stays (a RequestStartTransaction being decided)."""
        ev = self._evses()
        ids = [evse] if evse is not None else list(ev.evses)
        for reservation in self._own(token, info):
            for n in ids:
                if reservation.evse not in (None, n) or not self._fits(
                    n, reservation.connector_type
                ):
                    continue
                target = ev.choose_evse(n)
                if target is not None:
                    if use:
                        self._remove(reservation.id)
                    return target, reservation.id
        allowed = [n for n in ids if not self.blocks(n, token, info)]
        if allowed == ids:
            return ev.choose_evse(evse), None
        usable = [t for t in (ev.choose_evse(n) for n in allowed) if t is not None]
        usable.sort(key=lambda e: (not ev._awaiting_authorization(e), not e.ev_connected))
        return (usable[0] if usable else None), None

    def take(self, n: int, token: Token, info: TokenInfo) -> int | None:
        """A remote start of ``token`` at EVSE ``n``: the id of its own reservation there (or
        of one without an EVSE that fits), which ends (used); None: it holds none."""
        for reservation in self._own(token, info):
            if reservation.evse in (None, n) and self._fits(n, reservation.connector_type):
                self._remove(reservation.id)
                return reservation.id
        return None

    def snapshot(self) -> list[dict[str, Any]]:
        return [r.summary() for r in self.active.values()]


def install_reservations(station: Any) -> Reservations | None:
    """Give the station its reservations (class ``station.reservations_class``, default
    :class:`Reservations`) unless its descriptor says ``reservation: false``: the
    ReservationCtrlr variables join its device model and ``handle_reserve_now`` /
    ``handle_cancel_reservation`` become its handlers. Returns the component (None: none)."""
    if station.features.get("reservation", True) is False:
        return None
    cls = getattr(station, "reservations_class", None) or Reservations
    reservations: Reservations = cls(station)
    for var in reservations.variables():
        station.model.add(var)
    station.handle_reserve_now = reservations.reserve_now
    station.handle_cancel_reservation = reservations.cancel_reservation
    return reservations
