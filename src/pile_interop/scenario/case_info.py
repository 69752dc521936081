"""What a case is before it runs: who it is in a result (:func:`case_identity`) and the most
real time it may take (:func:`case_budget`, the engine's watchdog)."""

from __future__ import annotations

from typing import Any

from pile_interop.core.config import Profile
from pile_interop.scenario import steps as step_kinds
from pile_interop.scenario.model import Scenario
from pile_interop.scenario.timing import Timing


def case_identity(scenario: Scenario, profile: Profile) -> dict[str, Any]:
    """What every case result starts with: who the case is (docs/results-format.md)."""
    return {
        "id": scenario.id,
        "title": scenario.title,
        "ocpp": scenario.ocpp,
        "protocol": scenario.protocol,
        "sut": scenario.sut,
        "block": scenario.block,
        "profiles": [profile.id],
        "mandatory": profile.is_mandatory(scenario.id),
        "description": scenario.description,
        "requirements": [r.to_dict() for r in scenario.requirements],
    }


def case_budget(scenario: Scenario, timing: Timing) -> float:
    """The most real time a case can take if every wait runs to its bound (a watchdog)."""

    def bound(name: str) -> float:  # a role's bound the profile may not have
        return step_kinds.bound(timing, name)

    total = sum(bound(n) for n in ("connect", "boot", "boot_status", "settle", "settle"))
    # the recovery step: a power cycle after no connection and after no boot (each waited
    # for again), a triggered boot, stopped transactions, connectors made Operative
    total += sum(bound(n) for n in ("connect", "boot", "boot", "manual", "manual", "message"))
    total += bound("response") * 4
    total += bound("quiet") + bound("response") * 2 * (len(scenario.before.config) + 1)
    for step in scenario.all_steps():
        total += step_kinds.get(step.kind).budget(step, timing)
    return total + 5.0
