"""State of the reference OCPP 1.6J station: connectors, transactions, authorization cache."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ocpp.v16.datatypes import MeterValue
from ocpp.v16.enums import AuthorizationStatus, ChargePointErrorCode, ChargePointStatus

from pile_interop.core.clock import parse_iso, utc_iso
from pile_interop.ocpp.reference.meter import EnergyMeter

logger = logging.getLogger(__name__)


@dataclass
class TagInfo:
    """An ``IdTagInfo`` (§7.15) as the station keeps it."""

    status: str
    parent_id_tag: str | None = None
    expiry_date: datetime | None = None

    @classmethod
    def from_payload(cls, data: Mapping[str, Any] | None) -> TagInfo:
        """From a response's ``idTagInfo`` (snake_case from the ``ocpp`` package, or wire)."""
        data = data or {}
        expiry = data.get("expiry_date", data.get("expiryDate"))
        return cls(
            status=str(data.get("status", AuthorizationStatus.invalid)),
            parent_id_tag=data.get("parent_id_tag", data.get("parentIdTag")),
            expiry_date=parse_iso(expiry) if expiry else None,
        )

    def effective_status(self, now: datetime) -> str:
        """The status, with an Accepted entry past its ``expiryDate`` counting as Expired."""
        if (
            self.status == AuthorizationStatus.accepted
            and self.expiry_date is not None
            and self.expiry_date <= now
        ):
            return AuthorizationStatus.expired
        return self.status

    def to_wire(self) -> dict[str, str]:
        out = {"status": str(self.status)}
        if self.parent_id_tag:
            out["parentIdTag"] = self.parent_id_tag
        if self.expiry_date is not None:
            out["expiryDate"] = utc_iso(self.expiry_date)
        return out


class AuthCache:
    """The Authorization Cache (§3.5.1): every ``IdTagInfo`` seen, keyed by idTag. Persistent."""

    def __init__(self) -> None:
        self._entries: dict[str, TagInfo] = {}

    def get(self, id_tag: str) -> TagInfo | None:
        # IdToken is a CiString20Type: compare case-insensitively.
        return self._entries.get(id_tag.lower())

    def put(self, id_tag: str, info: TagInfo) -> None:
        self._entries[id_tag.lower()] = info

    def clear(self) -> None:
        self._entries.clear()

    def as_dict(self) -> dict[str, dict[str, str]]:
        return {tag: info.to_wire() for tag, info in self._entries.items()}


@dataclass
class Transaction:
    """One transaction, from the local start until its StopTransaction.req is built."""

    ref: int  # local sequence number (the CSMS's transactionId is only known after the conf)
    connector_id: int
    id_tag: str
    meter_start: int
    started_at: datetime
    parent_id_tag: str | None = None
    transaction_id: int | None = None
    start_confirmed: bool = False  # StartTransaction.conf received (or given up on)
    suspended_evse: bool = False  # idTag not accepted but StopTransactionOnInvalidId is false
    stop_reason: str | None = None
    stop_id_tag: str | None = None
    meter_stop: int | None = None
    stopped_at: datetime | None = None
    #: Readings for StopTransaction.req ``transactionData`` (StopTxnSampledData/AlignedData).
    transaction_data: list[MeterValue] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.stopped_at is None

    def summary(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "connectorId": self.connector_id,
            "idTag": self.id_tag,
            "transactionId": self.transaction_id,
            "meterStart": self.meter_start,
            "startConfirmed": self.start_confirmed,
            "suspendedEVSE": self.suspended_evse,
            "stopReason": self.stop_reason,
            "meterStop": self.meter_stop,
        }


@dataclass
class PendingAuthorization:
    """An idTag authorized for a connector while the EV is not plugged in yet."""

    id_tag: str
    info: TagInfo
    timer: asyncio.Task[None] | None = None


@dataclass
class Connector:
    """One connector (1..N), or the station itself (0): the physical world and the OCPP state."""

    id: int
    meter: EnergyMeter
    #: Last status derived and announced (StatusNotification), and its error code.
    status: str = ChargePointStatus.available
    error_code: str = ChargePointErrorCode.no_error
    # -- physical world (survives a reboot) --
    ev_connected: bool = False
    #: The EV side was unplugged but the cable stays in the station's socket.
    cable_held: bool = False
    #: ... and the station has released its lock: the driver may take the cable away.
    cable_unlocked: bool = False
    #: A transaction ended while the EV is still plugged in (status Finishing).
    session_ended: bool = False
    fault: str | None = None
    lock_failing: bool = False
    # -- persistent OCPP state --
    operative: bool = True
    #: Availability change waiting for the running transaction to end (``Scheduled``).
    scheduled_operative: bool | None = None
    # -- volatile OCPP state --
    transaction: Transaction | None = None
    authorization: PendingAuthorization | None = None
    sampler: asyncio.Task[None] | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "errorCode": str(self.error_code),
            "evConnected": self.ev_connected,
            "cableHeld": self.cable_held,
            "cableUnlocked": self.cable_unlocked,
            "fault": self.fault,
            "lockFailing": self.lock_failing,
            "operative": self.operative,
            "scheduledOperative": self.scheduled_operative,
            "authorizedIdTag": self.authorization.id_tag if self.authorization else None,
            "transaction": self.transaction.summary() if self.transaction else None,
            "energyWh": self.meter.register_wh(),
        }
