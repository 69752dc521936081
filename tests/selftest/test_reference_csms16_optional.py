"""The OCPP 1.6 optional profiles of a Central System (Smart Charging, Local Auth List,
Reservation, Remote Trigger) pass against the reference CSMS, and the reference's operator
actions build what the profiles' rules ask for."""

from __future__ import annotations

import asyncio

import pytest

from pile_interop.ocpp.v16.reference.csms_optional import charging_profile
from tests.mutants.catalogue import run_sut

PROFILES = [
    "ocpp16/smart-charging-csms",
    "ocpp16/local-auth-list-csms",
    "ocpp16/reservation-csms",
    "ocpp16/remote-trigger-csms",
]


@pytest.mark.slow
@pytest.mark.parametrize("profile_id", PROFILES)
def test_every_case_passes_against_the_reference_csms(profile_id):
    results = asyncio.run(asyncio.wait_for(run_sut(None, profile_id=profile_id), 300))
    failing = {
        cid: f"{r['verdict']}: {r['reason']}"
        for cid, r in results.items()
        if r["verdict"] != "pass"
    }
    assert failing == {}
    for cid, result in results.items():
        assert all(s["verdict"] in ("pass", "skipped") for s in result["steps"]), cid
        assert result["frames"], f"{cid} saw nothing of the SUT"


def test_a_relative_profile_has_no_start_an_absolute_one_its_validity():
    relative = charging_profile(1, "TxProfile", 2, transaction_id=5)
    assert relative["chargingProfileKind"] == "Relative"
    assert "startSchedule" not in relative["chargingSchedule"]
    assert relative["transactionId"] == 5
    absolute = charging_profile(2, "ChargePointMaxProfile", limit=32, unit="W")
    assert absolute["chargingProfileKind"] == "Absolute"
    assert {"validFrom", "validTo"} <= set(absolute)
    assert {"startSchedule", "duration"} <= set(absolute["chargingSchedule"])
    with pytest.raises(ValueError, match="chargingProfilePurpose"):
        charging_profile(3, "ChargingStationMaxProfile")


def test_the_terminal_commands_of_serve_reference_reach_the_optional_actions():
    from pile_interop.ocpp.serve import parse_command
    from pile_interop.ocpp.v16.serve import CSMS_COMMANDS

    assert parse_command("profile 0 ChargePointMaxProfile 2", CSMS_COMMANDS) == (
        "set_charging_profile",
        {"connector": 0, "purpose": "ChargePointMaxProfile", "stack_level": 2},
    )
    assert parse_command("reserve TAG 1", CSMS_COMMANDS) == (
        "reserve_now",
        {"id_tag": "TAG", "connector": 1},
    )
    assert parse_command("trigger Heartbeat", CSMS_COMMANDS) == (
        "trigger_message",
        {"requested_message": "Heartbeat"},
    )
