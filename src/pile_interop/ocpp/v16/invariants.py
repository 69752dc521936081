"""OCPP 1.6 run-wide invariants (see :mod:`pile_interop.ocpp.invariants`): transactions and
meter readings (:mod:`.invariants_tx`), their timestamps (:mod:`.invariants_time`),
registration, connector status and heartbeat (:mod:`.invariants_link`)."""

from __future__ import annotations

from pile_interop.ocpp.invariants import SHARED, Invariant
from pile_interop.ocpp.v16.invariants_link import (
    Connector0Status,
    CsmsQuietWhileRejected,
    CsmsRespectsPending,
    HeartbeatInterval,
    RegistrationRespected,
    StatusTransitions,
)
from pile_interop.ocpp.v16.invariants_time import TransactionTimestampsInOrder
from pile_interop.ocpp.v16.invariants_tx import (
    CsmsTransactionIdsNotReused,
    CsmsTransactionIdsUnique,
    MeterRegisterMonotonic,
    MeterStopNotBelowStart,
    TransactionIdsKnown,
    TransactionsStoppedAfterReboot,
)

#: The 1.6 invariants, each judging a station or a CSMS under test.
OWN: list[type[Invariant]] = [
    TransactionIdsKnown,
    MeterStopNotBelowStart,
    MeterRegisterMonotonic,
    TransactionTimestampsInOrder,
    StatusTransitions,
    Connector0Status,
    RegistrationRespected,
    TransactionsStoppedAfterReboot,
    HeartbeatInterval,
    CsmsTransactionIdsUnique,
    CsmsTransactionIdsNotReused,
    CsmsRespectsPending,
    CsmsQuietWhileRejected,
]


def invariants() -> list[type[Invariant]]:
    return [*SHARED, *OWN]
