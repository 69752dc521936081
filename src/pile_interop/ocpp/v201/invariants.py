"""OCPP 2.0.1 (and 2.1) run-wide invariants (see :mod:`pile_interop.ocpp.invariants`).

The transaction invariants (seqNo, lifecycle, one per EVSE, meter register, timestamps) are in
:mod:`.invariants_tx`, registration and heartbeats in :mod:`.invariants_link`.
"""

from __future__ import annotations

from pile_interop.ocpp.invariants import SHARED, Invariant
from pile_interop.ocpp.v201.invariants_link import LINK_INVARIANTS
from pile_interop.ocpp.v201.invariants_tx import TX_INVARIANTS

#: The 2.0.1 invariants, each judging a station or a CSMS under test.
OWN: list[type[Invariant]] = [*TX_INVARIANTS, *LINK_INVARIANTS]


def invariants() -> list[type[Invariant]]:
    return [*SHARED, *OWN]
