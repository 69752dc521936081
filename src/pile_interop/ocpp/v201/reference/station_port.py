"""The seam between the reference 2.0.1 station's two halves.

:mod:`station201` (connection, boot, device model, reports, reset, security, certificates,
CSMS requests that are not about EVSEs) owns a :class:`Evses` object from
:mod:`station201_tx` (EVSEs and connectors, authorization and its cache, transactions driven by
TxStartPoint / TxStopPoint with seqNo, meter values, the EVSE-level CSMS requests). The station
gives it a :class:`StationPort`; it never reaches into the station otherwise.
"""

from __future__ import annotations

from typing import Any, Protocol


class StationPort(Protocol):
    """What the transaction half needs from the station."""

    #: the scaled clock: ``clock.sleep(protocol_seconds)``, ``clock.now()`` (aware UTC datetime)
    clock: Any

    @property
    def online(self) -> bool:
        """Connected and registered (BootNotification Accepted)."""
        ...

    def var(self, component: str, variable: str, evse: int | None = None) -> str:
        """The Actual value of a device-model variable (``""`` when unknown)."""
        ...

    async def send(self, request: Any) -> Any:
        """Send a non-transaction message (an ``ocpp.v201.call`` dataclass) now; returns the
        CALLRESULT dataclass, or ``None`` when offline / no answer (not queued)."""
        ...

    async def send_tx(self, request: Any) -> Any:
        """Send a transaction-related message (TransactionEvent; MeterValues are not queued):
        sent now, or queued while offline and delivered in order after the reconnect (the
        station sets ``offline: true`` on events queued while offline). Returns the CALLRESULT
        dataclass, or ``None`` when it was queued."""
        ...

    def security_event(self, kind: str, tech_info: str | None = None) -> None:
        """Report a security event (SecurityEventNotification; queued while offline)."""
        ...
