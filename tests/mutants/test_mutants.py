"""Every mutant station is caught by its intended case, for the stated requirement, and
breaks no case outside the ones its defect is declared to break."""

from __future__ import annotations

import asyncio

import pytest

from tests.mutants.catalogue import Outcome, run_all
from tests.mutants.stations16 import CATALOGUE

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("mutants")]


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    done = asyncio.run(asyncio.wait_for(run_all(CATALOGUE, concurrency=13), 1800))
    return {o.mutant.name: o for o in done}


@pytest.mark.parametrize(
    "profile_id",
    [
        "ocpp16/core-cs",
        "ocpp16/core-csms",
        "ocpp16/security-cs",
        "gbt27930/charger",
        "gbt27930/bms",
        "ocpp201/core-cs",
        "ocpp201/core-csms",
        "ocpp201/advanced-security-cs",
        "ocpp201/advanced-security-csms",
    ],
)
def test_every_case_of_the_profile_has_a_mutant_it_fails(profile_id):
    from tests.mutants.catalogue import load

    profile, _scenarios, _device = load(profile_id)
    covered = {case for m in CATALOGUE if m.profile == profile_id for case in m.breaks}
    uncovered = set(profile.cases) - covered
    assert not uncovered, f"cases no mutant is meant to fail: {sorted(uncovered)}"


def test_the_catalogue_has_the_mutants_the_issues_ask_for():
    count = {p: sum(m.profile == p for m in CATALOGUE) for p in {m.profile for m in CATALOGUE}}
    assert count["ocpp16/core-cs"] >= 15
    assert count["ocpp16/core-csms"] >= 8
    assert count["ocpp16/security-csms"] >= 4
    assert count["ocpp16/security-csms"] + count["ocpp16/security-cs"] >= 8
    assert count["gbt27930/charger"] >= 8
    assert count["gbt27930/bms"] >= 6
    assert count["ocpp16/security-cs"] >= 4
    # issue 4: at least 20 mutant 2.0.1 stations and 10 mutant 2.0.1 CSMSs
    assert count["ocpp201/core-cs"] + count["ocpp201/advanced-security-cs"] >= 20
    assert count["ocpp201/core-csms"] + count["ocpp201/advanced-security-csms"] >= 10


@pytest.mark.parametrize("name", [m.name for m in CATALOGUE])
def test_mutant_is_caught_by_its_case(name, outcomes, record_property):
    outcome = outcomes[name]
    record_property("mutant", name)
    assert outcome.problems() == [], f"{outcome.mutant.defect}\n" + "\n".join(outcome.problems())
