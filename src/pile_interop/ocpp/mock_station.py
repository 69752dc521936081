"""What every version's mock station shares: how it follows its connection's life."""

from __future__ import annotations

from typing import Any


class MockStationBase:
    """The part of a mock station (the suite as a charging station) that is the same in every
    OCPP version; a version's mock (``ocpp/v16/mock_station.py`` …) answers the CSMS's CALLs
    and learns from its answers. ``state`` has ``registration``, ``transactions`` (open in the
    station's memory), ``unended`` (started towards the CSMS and never ended: what the CSMS
    still thinks open, also after a reboot), ``reported`` (the last status reported per
    connector, 0 = the station) and ``inoperative`` (connectors the CSMS made Inoperative)."""

    state: Any

    def connection_opened(self) -> None:
        """The suite opened it: nothing to note."""

    def connection_lost(self) -> None:
        """Registration outlives a connection (a station boots once, then reconnects without
        a new BootNotification); a simulated reboot forgets it (:meth:`rebooted`)."""

    def rebooted(self) -> None:
        """The mock station rebooted: unregistered, no transaction in memory (the CSMS's view,
        ``unended`` and ``reported``, and the persistent availability stay)."""
        self.state.registration = None
        self.state.transactions.clear()
