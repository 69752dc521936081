"""ocpp16/smart-charging-cs end to end: every case passes against the reference station, and a
station declaring no Smart Charging (or no rate unit W) gets na, not fail."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from ocpp.exceptions import PropertyConstraintViolationError

from pile_interop.ocpp.charging_schedule import Profile
from pile_interop.ocpp.v16.reference.smart_charging import SmartCharging
from pile_interop.ocpp.v16.reference.station import ReferenceStation
from tests.mutants.catalogue import run_sut

pytestmark = [pytest.mark.slow]

PROFILE = "ocpp16/smart-charging-cs"


def test_every_case_passes_against_the_reference_station():
    results = asyncio.run(asyncio.wait_for(run_sut(None, profile_id=PROFILE), 300))
    assert {cid: r["verdict"] for cid, r in results.items()} == dict.fromkeys(results, "pass")
    assert len(results) >= 17


def test_a_station_without_the_feature_or_the_unit_gets_na():
    cases = ["TC_057_CS", "TC_057_92_CS"]
    results = asyncio.run(
        asyncio.wait_for(
            run_sut(None, cases, PROFILE, features={"charging_rate_unit_w": False}), 120
        )
    )
    assert {cid: r["verdict"] for cid, r in results.items()} == {
        "TC_057_CS": "pass",
        "TC_057_92_CS": "na",
    }
    results = asyncio.run(
        asyncio.wait_for(
            run_sut(None, ["TC_066_92_CS"], PROFILE, features={"smart_charging": False}), 60
        )
    )
    assert results["TC_066_92_CS"]["verdict"] == "na"


class _RefusesWithCallError(SmartCharging):
    """Refuses what it cannot install with a CALLERROR instead of Rejected (legal too)."""

    def set_status(self, connector_id: int, profile: Profile) -> str:
        status = super().set_status(connector_id, profile)
        if status != "Accepted":
            raise PropertyConstraintViolationError(description="cannot install this profile")
        return status


class _CallErrorStation(ReferenceStation):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.smart_charging = _RefusesWithCallError(self)


def test_a_callerror_property_constraint_violation_is_a_legal_refusal():
    cases = ["TC_058_1_CS", "TC_058_91_CS"]
    results = asyncio.run(asyncio.wait_for(run_sut(_CallErrorStation, cases, PROFILE), 120))
    assert {cid: r["verdict"] for cid, r in results.items()} == dict.fromkeys(cases, "pass")
    observed = " ".join(str(s.get("observed")) for s in results["TC_058_1_CS"]["steps"])
    assert "PropertyConstraintViolation" in observed
