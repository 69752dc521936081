"""Connector status and availability in the reference 2.0.1 station's transaction half (block
G): the connector status and its StatusNotifications (G01), ChangeAvailability of an EVSE, a
connector or the station, at once or Scheduled until the transaction ended (G03, G04), and the
NotifyEvent of a failing connector lock (G05).

:class:`Availability` holds the default behaviour; every decision goes through the
:class:`~pile_interop.ocpp.v201.reference.evse_hooks.EvsesHooks` facade (``Evses``), so that a
mutant overriding a hook there changes it.
"""

from __future__ import annotations

from typing import Any

from ocpp.v201 import call, call_result
from ocpp.v201.datatypes import ComponentType, EventDataType, EVSEType, VariableType

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.v201.reference.evse_hooks import EvsesHooks
from pile_interop.ocpp.v201.reference.evse_state import CONNECTOR_ID, Evse, logger
from pile_interop.ocpp.v201.reference.station_auth import as_dict


class Availability:
    """Statuses, availability changes and lock failures of the EVSEs."""

    def __init__(self, ev: EvsesHooks) -> None:
        self.ev = ev
        #: eventId of the last NotifyEvent this half sent (unique per station and boot).
        self.event_id = 0

    def available(self, e: Evse) -> bool:
        return e.operative and self.ev.station_operative

    # -- status (G01) -------------------------------------------------------------------------

    def connector_status(self, e: Evse) -> str:
        if e.fault or e.lock_fault:
            return "Faulted"
        if e.cable:
            return "Occupied"
        if e.transaction is not None:
            return "Available"
        if not self.ev._available(e):
            return "Unavailable"
        reservations = getattr(self.ev.port, "reservations", None)  # block H: reservations.py
        if reservations is not None and reservations.reserved_status(e.id):
            return "Reserved"
        return "Available"

    def status_notification_payload(self, e: Evse, status: str) -> call.StatusNotification:
        return call.StatusNotification(
            timestamp=utc_iso(self.ev.clock.now()),
            connector_status=status,  # type: ignore[arg-type]
            evse_id=e.id,
            connector_id=CONNECTOR_ID,
        )

    def report_status(self, e: Evse, *, force: bool = False, status: str | None = None) -> None:
        ev = self.ev
        if status is None:
            status = ev.connector_status(e)
        if not force and status == e.reported:
            return
        if not ev.port.online:
            return
        e.reported = status
        ev._enqueue(ev.status_notification_payload(e, status), transactional=False)

    # -- ChangeAvailability (G03, G04) ------------------------------------------------------------

    def availability_status(self, req: call.ChangeAvailability) -> str:
        evse = as_dict(req.evse) if req.evse is not None else {}
        evse_id = evse.get("id")
        connector = evse.get("connector_id", evse.get("connectorId"))
        if evse_id is not None and evse_id != 0:
            if evse_id not in self.ev.evses:
                return "Rejected"
            if connector is not None and connector != CONNECTOR_ID:
                return "Rejected"
        elif connector is not None:
            return "Rejected"
        if str(req.operational_status) == "Inoperative" and self.ev.has_transaction(
            evse_id if evse_id else None
        ):
            return "Scheduled"
        return "Accepted"

    def apply_availability(self, evse_id: int | None, operative: bool) -> None:
        ev = self.ev
        logger.debug("availability of %s: %s", evse_id or "the station", operative)
        if evse_id:
            e = ev.evses[evse_id]
            if operative or e.transaction is None:
                e.operative, e.scheduled_operative = operative, None
            else:
                e.scheduled_operative = False
        elif operative or not ev.has_transaction():
            ev.station_operative, ev.station_scheduled = operative, None
        else:
            ev.station_scheduled = False

    def availability_changed(self, statuses: dict[int, str]) -> None:
        for e in self.ev.evses.values():
            self.ev.report_status(e, status=statuses[e.id])

    async def change_availability(self, req: call.ChangeAvailability) -> Any:
        ev = self.ev
        status = ev.availability_status(req)
        if status != "Rejected":
            evse = as_dict(req.evse) if req.evse is not None else {}
            evse_id = evse.get("id") or None
            operative = str(req.operational_status) == "Operative"
            # the state changes now (a request or manual action right after the answer sees
            # it); only the StatusNotifications wait for the answer to go out
            ev.apply_availability(evse_id, operative)
            statuses = {e.id: ev.connector_status(e) for e in ev.evses.values()}
            ev._after_reply(
                lambda: ev.availability_changed(evse_id, operative, statuses), "availability"
            )
        return call_result.ChangeAvailability(status=status)  # type: ignore[arg-type]

    def apply_scheduled(self) -> None:
        ev = self.ev
        for e in ev.evses.values():
            if e.scheduled_operative is not None and e.transaction is None:
                e.operative, e.scheduled_operative = e.scheduled_operative, None
        if ev.station_scheduled is not None and not ev.has_transaction():
            ev.station_operative, ev.station_scheduled = ev.station_scheduled, None
        for e in ev.evses.values():
            ev.report_status(e)

    # -- lock failure (G05) ---------------------------------------------------------------------

    def clear_lock_fault(self, e: Evse) -> None:
        e.lock_fault = False
        self.ev._notify_lock_problem(e, False)

    def notify_lock_problem(self, e: Evse, problem: bool) -> None:
        """G05.FR.02: a failed connector lock is reported with a NotifyEvent (and its clearing
        too, ``cleared`` true). Not queued while offline (a NotifyEvent is no transaction
        message)."""
        ev = self.ev
        if not ev.port.online:
            return
        request = ev.lock_problem_event(e, problem)
        if request is not None:
            ev._enqueue(request, transactional=False)

    def lock_problem_event(self, e: Evse, problem: bool) -> call.NotifyEvent | None:
        self.event_id += 1
        now = utc_iso(self.ev.clock.now())
        return call.NotifyEvent(
            generated_at=now,
            seq_no=0,
            tbc=False,
            event_data=[
                EventDataType(
                    event_id=self.event_id,
                    timestamp=now,
                    trigger="Delta",  # type: ignore[arg-type]
                    actual_value="true" if problem else "false",
                    event_notification_type="HardWiredNotification",  # type: ignore[arg-type]
                    component=ComponentType(
                        name="ConnectorPlugRetentionLock",
                        evse=EVSEType(id=e.id, connector_id=CONNECTOR_ID),
                    ),
                    variable=VariableType(name="Problem"),
                    cleared=None if problem else True,
                    transaction_id=e.transaction.id if e.transaction is not None else None,
                )
            ],
        )
