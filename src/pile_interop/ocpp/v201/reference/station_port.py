"""The seams of the reference 2.0.1 station: between its two halves, and to its link.

The station (:mod:`~pile_interop.ocpp.v201.reference.station`: connection, boot, device model,
reports, reset, security, certificates, CSMS requests that are not about EVSEs — each job a
component of its own) owns an ``Evses`` object from
:mod:`~pile_interop.ocpp.v201.reference.station_tx` (EVSEs and connectors, authorization and its
cache, transactions driven by TxStartPoint / TxStopPoint with seqNo, meter values, the
EVSE-level CSMS requests). The station gives it a :class:`StationPort`; it never reaches into
the station otherwise.

The link of a connection (:mod:`~pile_interop.ocpp.v201.reference.station_link`) routes the
CSMS's requests to the station through a :class:`LinkPort`; it never imports the station, so the
link, the connection component and the station stay free of import cycles.
"""

from __future__ import annotations

import logging
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


class LinkPort(Protocol):
    """What the link of one connection needs from the station (besides the ``handle_*``
    methods that :meth:`handled_actions` names)."""

    station_id: str
    log: logging.Logger
    #: status of the last BootNotificationResponse; the link sets it as the response arrives
    registration: str | None

    def handled_actions(self) -> dict[str, str]:
        """CSMS action → the name of the station's handler method."""
        ...

    def incoming_call_gate(self, action: str, payload: dict[str, Any]) -> tuple[str, Any] | None:
        """Before the registration is Accepted: None (handle it), ``("result", payload)``,
        ``("ignore", None)`` or ``(error code, description)``."""
        ...

    def run_after_reply(self) -> None:
        """Start the follow-up work deferred while the response was being written."""
        ...
