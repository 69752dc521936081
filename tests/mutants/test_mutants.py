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
    done = asyncio.run(asyncio.wait_for(run_all(CATALOGUE, concurrency=13), 600))
    return {o.mutant.name: o for o in done}


def test_the_catalogue_covers_every_case_of_the_profile():
    from tests.mutants.catalogue import load

    profile, _scenarios, _device = load()
    uncovered = set(profile.cases) - {m.catches for m in CATALOGUE}
    assert not uncovered, f"cases no mutant is meant to fail: {sorted(uncovered)}"


@pytest.mark.parametrize("name", [m.name for m in CATALOGUE])
def test_mutant_is_caught_by_its_case(name, outcomes, record_property):
    outcome = outcomes[name]
    record_property("mutant", name)
    assert outcome.problems() == [], f"{outcome.mutant.defect}\n" + "\n".join(outcome.problems())
