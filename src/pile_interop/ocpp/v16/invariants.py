"""OCPP 1.6 run-wide invariants (see :mod:`pile_interop.ocpp.invariants`)."""

from __future__ import annotations

from pile_interop.ocpp.invariants import SHARED, Invariant

#: The 1.6 invariants, each judging a station or a CSMS under test.
OWN: list[type[Invariant]] = []


def invariants() -> list[type[Invariant]]:
    return [*SHARED, *OWN]
