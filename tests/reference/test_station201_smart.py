"""The reference 2.0.1 station's Smart Charging beyond what one case shows: without the
feature it has no SmartChargingCtrlr, answers the K requests NotSupported and ignores the
chargingProfile of a RequestStartTransaction (TC_K_38_CS passes, the other K cases are na);
its SmartChargingCtrlr follows the device features. (What the station does with smart charging
is proven by the profile's cases and their mutants, tests/mutants/smart201.py.)"""

from __future__ import annotations

import asyncio

import pytest

from tests.mutants.catalogue import run_sut

pytestmark = [pytest.mark.slow]

PROFILE = "ocpp201/smart-charging-cs"


def test_a_station_without_smart_charging_ignores_the_profile_and_the_rest_is_na():
    results = asyncio.run(
        asyncio.wait_for(run_sut(None, profile_id=PROFILE, features={"smart_charging": False}), 300)
    )
    assert results["TC_K_38_CS"]["verdict"] == "pass", results["TC_K_38_CS"]["reason"]
    others = {cid: r["verdict"] for cid, r in results.items() if cid != "TC_K_38_CS"}
    assert set(others.values()) == {"na"}, others


def test_the_smart_charging_controller_follows_the_feature():
    from pile_interop.ocpp.v201.reference.smart_charging import smart_charging_variables

    assert smart_charging_variables({}) == []
    names = {v.variable for v in smart_charging_variables({"smart_charging": True})}
    assert {"Enabled", "Entries", "LimitChangeSignificance", "PeriodsPerSchedule"} <= names
    assert {"ProfileStackLevel", "RateUnit", "ExternalControlSignalsEnabled"} <= names
    assert "NotifyChargingLimitWithSchedules" in names
    units = {
        v.value
        for v in smart_charging_variables({"smart_charging": True, "charging_rate_unit_w": False})
        if v.variable == "RateUnit"
    }
    assert units == {"A"}
