"""Availability of the reference OCPP 1.6J station (§5.2 ChangeAvailability): Operative or
Inoperative connectors (connector 0: the station and every connector), a change Scheduled
until the transaction has ended, and the state persisting across reboots.

:class:`Availability` holds the default behaviour; every hook goes through the station
(:class:`AvailabilityPort`), so that a mutant overriding one there changes it everywhere.
"""

from __future__ import annotations

from typing import Protocol

from ocpp.v16 import call_result
from ocpp.v16.enums import AvailabilityStatus, AvailabilityType

from pile_interop.ocpp.v16.reference.station_hooks import StationState
from pile_interop.ocpp.v16.reference.station_model import Connector


class AvailabilityPort(StationState, Protocol):
    """What availability needs from the station."""

    def _availability_targets(self, connector_id: int) -> list[Connector]: ...
    def change_availability_status(self, connector_id: int, type: str) -> str: ...
    def apply_availability(self, connector_id: int, type: str) -> None: ...


class Availability:
    """Operative or not, now or once the transaction has ended."""

    def __init__(self, station: AvailabilityPort) -> None:
        self.station = station

    async def handle_change_availability(
        self, connector_id: int, type: str
    ) -> call_result.ChangeAvailability:
        st = self.station
        status = st.change_availability_status(connector_id, type)
        if status != AvailabilityStatus.rejected:
            st.defer(lambda: st.apply_availability(connector_id, type))
        return call_result.ChangeAvailability(status=status)  # type: ignore[arg-type]

    def targets(self, connector_id: int) -> list[Connector]:
        connectors = self.station.connectors
        if connector_id == 0:
            return list(connectors.values())
        return [connectors[connector_id]]

    def change_availability_status(self, connector_id: int, type: str) -> str:
        """Rejected for an unknown connector; Scheduled when going Inoperative while a
        transaction runs; Accepted otherwise (also when already in that state)."""
        st = self.station
        if connector_id not in st.connectors:
            return AvailabilityStatus.rejected
        if type == AvailabilityType.inoperative and any(
            c.transaction is not None for c in st._availability_targets(connector_id)
        ):
            return AvailabilityStatus.scheduled
        return AvailabilityStatus.accepted

    def apply_availability(self, connector_id: int, type: str) -> None:
        """Change (or schedule) the availability; connectorId 0 means the station and all
        connectors. The state persists across reboots."""
        st = self.station
        operative = type == AvailabilityType.operative
        busy = any(c.transaction is not None for c in st._outlets())
        for conn in st._availability_targets(connector_id):
            running = conn.transaction is not None if conn.id else busy
            if operative or not running:
                conn.operative, conn.scheduled_operative = operative, None
            else:
                conn.scheduled_operative = False
        for conn in st.connectors.values():
            st.update_status(conn)

    def apply_scheduled(self) -> None:
        st = self.station
        for conn in st._outlets():
            if conn.scheduled_operative is not None and conn.transaction is None:
                conn.operative, conn.scheduled_operative = conn.scheduled_operative, None
        station = st.connectors[0]
        if station.scheduled_operative is not None and all(
            c.transaction is None for c in st._outlets()
        ):
            station.operative, station.scheduled_operative = station.scheduled_operative, None
            st.update_status(station)
        for conn in st._outlets():
            st.update_status(conn)
