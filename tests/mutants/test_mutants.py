"""Every mutant station is caught by its intended case, for the stated requirement, and
breaks no case outside the ones its defect is declared to break.

The catalogue runs in one shard per protocol family (OCPP 1.6, OCPP 2.0.1, GB/T 27930 charger
and BMS; the optional OCPP profiles have shards of their own, a mutant going to the shard of
the longest prefix its profile id starts with), one test class each: ``pytest -n N --dist
loadscope`` gives each class to one worker, where its class-scoped fixture runs that family's
mutants concurrently in one event loop (they mostly wait on protocol timers) at the family's
own concurrency, while the other families run on other workers. A family keeps the load it
was tuned for (the 1.6 security negatives' 2 s windows, the GB/T 10-50 ms periods): sharding
adds no campaigns to any event loop. The GB/T shards are marked ``timing``: tox runs them in
the calm second phase. A mutant missed in the crowd is run once more on its own (as a lab runs
one campaign); the summary line names every mutant that needed it, and the verdict is the calm
run's."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.mutants.catalogue import Outcome, run_all
from tests.mutants.stations16 import CATALOGUE, Mutant

pytestmark = [pytest.mark.slow]

#: Bound on one shard's run.
SHARD_BOUND_S = 1800


def _prefixes() -> list[str]:
    return [cls.prefix for cls in _Shard.__subclasses__()]


def _family(profile: str) -> str:
    """The shard of a profile: the longest shard prefix its id starts with."""
    return max((p for p in _prefixes() if profile.startswith(p)), key=len)


def shard(prefix: str) -> list[Mutant]:
    return [m for m in CATALOGUE if _family(m.profile) == prefix]


def _profile_ids() -> list[str]:
    """Every profile the suite ships (profiles/<family>/<name>.yaml): none may hold a case
    no mutant is meant to fail."""
    root = Path(__file__).resolve().parents[2] / "profiles"
    found = root.glob("*/*.yaml")
    # profiles/fleet/ holds fleet behaviours (tests/fleet), not conformance profiles
    return sorted(f"{f.parent.name}/{f.stem}" for f in found if f.parent.name != "fleet")


@pytest.mark.parametrize("profile_id", _profile_ids())
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
    assert count["ocpp16/smart-charging-cs"] >= 15  # issue 17


class _Shard:
    """One shard: the mutants whose profile id starts with ``prefix`` (the longest prefix
    wins, so a family is split by adding a class with a longer prefix)."""

    prefix: str

    @pytest.fixture(scope="class")
    def outcomes(self) -> dict[str, Outcome]:
        run = run_all(shard(self.prefix), concurrency=13)
        done = asyncio.run(asyncio.wait_for(run, SHARD_BOUND_S))
        return {o.mutant.name: o for o in done}

    def test_mutant_is_caught_by_its_case(self, name, outcomes, record_property):
        outcome = outcomes[name]
        record_property("mutant", name)
        record_property("defect_class", outcome.mutant.defect_class)
        record_property("crowded", "; ".join(outcome.crowded or []))
        assert outcome.problems() == [], f"{outcome.mutant.defect}\n" + "\n".join(
            outcome.problems()
        )


class TestOcpp16Mutants(_Shard):
    prefix = "ocpp16/"


class TestOcpp201Mutants(_Shard):
    prefix = "ocpp201/"


# the GB/T shards judge 10-500 ms periods: tox's calm phase (a class is one loadscope unit)
@pytest.mark.timing
class TestGbt27930ChargerMutants(_Shard):
    prefix = "gbt27930/charger"


@pytest.mark.timing
class TestGbt27930BmsMutants(_Shard):
    prefix = "gbt27930/bms"


# issue 17: the optional profiles (one class each, appended here)
class TestOcpp16SmartChargingMutants(_Shard):
    prefix = "ocpp16/smart-charging"


class TestOcpp16SmartChargingCsmsMutants(_Shard):
    prefix = "ocpp16/smart-charging-csms"


class TestOcpp16LocalAuthListCsmsMutants(_Shard):
    prefix = "ocpp16/local-auth-list-csms"


class TestOcpp16ReservationCsmsMutants(_Shard):
    prefix = "ocpp16/reservation-csms"


class TestOcpp16RemoteTriggerCsmsMutants(_Shard):
    prefix = "ocpp16/remote-trigger-csms"


class TestOcpp201LocalAuthListMutants(_Shard):
    prefix = "ocpp201/local-auth-list"


class TestOcpp201ReservationMutants(_Shard):
    prefix = "ocpp201/reservation"


class TestOcpp201SmartChargingMutants(_Shard):
    prefix = "ocpp201/smart-charging"


# the 1.6 Reservation mutants run at time scale 1 (expiry dates are wall-clock times): their
# ~70 s must not stretch the 1.6 shard (Local Auth List and Remote Trigger stay there)
class TestOcpp16ReservationMutants(_Shard):
    prefix = "ocpp16/reservation"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.cls is not None and issubclass(metafunc.cls, _Shard):
        metafunc.parametrize("name", [m.name for m in shard(metafunc.cls.prefix)])


def test_the_shards_hold_the_whole_catalogue_once():
    names = [m.name for prefix in _prefixes() for m in shard(prefix)]
    assert sorted(names) == sorted(m.name for m in CATALOGUE)
    assert len(set(names)) == len(names)
    assert len(set(_prefixes())) == len(_prefixes())
