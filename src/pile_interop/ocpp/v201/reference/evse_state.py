"""The state of the reference 2.0.1 station's transaction half: the TxStartPoint /
TxStopPoint conditions, the device-model variables the half contributes, and the data classes
of an EVSE (:class:`Evse`), its authorization (:class:`Authorization`) and its transaction
(:class:`Transaction`).

What survives a power loss: the physical world of an :class:`Evse` (cable, lock, faults, the
energy register) and its availability; authorizations, transactions and timers do not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ocpp.v201.datatypes import MeterValueType

from pile_interop.ocpp.v201.reference.station_auth import Token, TokenInfo
from pile_interop.ocpp.v201.reference.station_meter import EnergyMeter

#: The whole half logs under the name of its facade's module.
logger = logging.getLogger("pile_interop.ocpp.v201.reference.station_tx")

# TxStartPoint / TxStopPoint values (2.0.1 Part 2 §2.6.6)
PARKING = "ParkingBayOccupancy"
EV_CONNECTED = "EVConnected"
AUTHORIZED = "Authorized"
DATA_SIGNED = "DataSigned"
POWER_PATH = "PowerPathClosed"
ENERGY = "EnergyTransfer"
POINTS = (PARKING, EV_CONNECTED, AUTHORIZED, DATA_SIGNED, POWER_PATH, ENERGY)

ENERGY_REGISTER = "Energy.Active.Import.Register"
CONNECTOR_ID = 1

# device-model components
TX = "TxCtrlr"
AUTH = "AuthCtrlr"
CACHE = "AuthCacheCtrlr"
SAMPLED = "SampledDataCtrlr"
ALIGNED = "AlignedDataCtrlr"

#: The variables of this half: (component, evse, variable, default, read-only).
VARIABLES: list[tuple[str, int | None, str, str, bool]] = [
    (TX, None, "TxStartPoint", POWER_PATH, False),
    (TX, None, "TxStopPoint", f"{EV_CONNECTED},{AUTHORIZED}", False),
    (TX, None, "EVConnectionTimeOut", "60", False),
    (TX, None, "StopTxOnEVSideDisconnect", "true", False),
    (TX, None, "StopTxOnInvalidId", "true", False),
    (AUTH, None, "AuthorizeRemoteStart", "true", False),
    (AUTH, None, "LocalAuthorizeOffline", "true", False),
    (AUTH, None, "LocalPreAuthorize", "false", False),
    (AUTH, None, "OfflineTxForUnknownIdEnabled", "false", False),
    (AUTH, None, "MasterPassGroupId", "", False),
    (CACHE, None, "Enabled", "true", False),
    (CACHE, None, "LifeTime", "86400", False),
    (SAMPLED, None, "Enabled", "true", False),
    (SAMPLED, None, "TxStartedMeasurands", ENERGY_REGISTER, False),
    (SAMPLED, None, "TxUpdatedMeasurands", ENERGY_REGISTER, False),
    (SAMPLED, None, "TxUpdatedInterval", "0", False),
    (SAMPLED, None, "TxEndedMeasurands", ENERGY_REGISTER, False),
    (SAMPLED, None, "TxEndedInterval", "0", False),
    (ALIGNED, None, "Enabled", "true", False),
    (ALIGNED, None, "Measurands", ENERGY_REGISTER, False),
    (ALIGNED, None, "Interval", "0", False),
    (ALIGNED, None, "TxEndedMeasurands", ENERGY_REGISTER, False),
    (ALIGNED, None, "TxEndedInterval", "0", False),
    (ALIGNED, None, "SendDuringIdle", "false", False),
]


@dataclass
class Authorization:
    """An accepted token for an EVSE (with or without a transaction yet)."""

    token: Token
    info: TokenInfo
    trigger: str  # Authorized | RemoteStart
    remote_start_id: int | None = None
    #: The reservation this authorization used (H03: its TransactionEvent names it).
    reservation_id: int | None = None
    #: The idToken went out in a TransactionEvent (it is sent once per authorization).
    sent: bool = False
    timer: asyncio.Task[None] | None = None


@dataclass
class Transaction:
    id: str
    evse_id: int
    started_at: datetime
    seq_no: int = 0  # the next one
    remote_start_id: int | None = None
    #: The reservation of the authorization (H03), sent with its idToken.
    reservation_id: int | None = None
    #: Start/stop conditions that held at some time during the transaction (E06: a stop point
    #: ends the transaction when it *stops* holding).
    seen: set[str] = field(default_factory=set)
    #: chargingState of the last event sent.
    charging_state: str | None = None
    #: The CSMS did not accept the idToken and StopTxOnInvalidId is false: no energy (E05).
    suspended_evse: bool = False
    #: The token whose authorization this is (also after it ended), for snapshots.
    id_token: str | None = None
    ended_values: list[MeterValueType] = field(default_factory=list)
    sample_interval: int = 0
    next_sample_at: float | None = None  # clock.monotonic()
    ended_interval: int = 0
    next_ended_sample_at: float | None = None
    stopped_reason: str | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "transactionId": self.id,
            "evseId": self.evse_id,
            "seqNo": self.seq_no,
            "idToken": self.id_token,
            "remoteStartId": self.remote_start_id,
            "chargingState": self.charging_state,
            "suspendedEVSE": self.suspended_evse,
        }


@dataclass
class Evse:
    id: int
    meter: EnergyMeter
    # -- physical world (survives a power loss) --
    ev_connected: bool = False
    #: The EV side was unplugged during a transaction that goes on: the cable stays locked in
    #: the socket (E10) until the transaction ends.
    cable_held: bool = False
    fault: bool = False
    lock_failing: bool = False
    #: Locking the cable failed (connector Faulted until cleared).
    lock_fault: bool = False
    locked: bool = False
    ev_suspended: bool = False
    # -- persistent OCPP state --
    operative: bool = True
    scheduled_operative: bool | None = None
    # -- volatile --
    authorization: Authorization | None = None
    transaction: Transaction | None = None
    session_ended: bool = False
    #: Connector status last reported (None: not since the last registration).
    reported: str | None = None

    @property
    def cable(self) -> bool:
        return self.ev_connected or self.cable_held

    def summary(self) -> dict[str, Any]:
        auth = self.authorization
        return {
            "evseId": self.id,
            "reported": self.reported,
            "evConnected": self.ev_connected,
            "cableHeld": self.cable_held,
            "fault": self.fault,
            "lockFailing": self.lock_failing,
            "lockFault": self.lock_fault,
            "evSuspended": self.ev_suspended,
            "operative": self.operative,
            "scheduledOperative": self.scheduled_operative,
            "authorizedIdToken": auth.token.id_token if auth else None,
            "sessionEnded": self.session_ended,
            "transaction": self.transaction.summary() if self.transaction else None,
            "energyWh": self.meter.register_wh(),
        }


@dataclass
class Outgoing:
    """One outgoing message of this half."""

    request: Any
    transactional: bool
    on_result: Callable[[Any], None] | None = None
