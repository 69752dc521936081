"""The OCPP 2.0.1 profiles pass against the reference station and CSMS (the suite testing
itself), and a device speaking ``ocpp2.1`` runs a 2.0.1 profile where the messages are the same."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from pile_interop.engine.base import Target
from pile_interop.engine.reference import load_reference_run
from pile_interop.engine.targets import make_campaign
from tests.mutants.catalogue import run_sut

pytestmark = [pytest.mark.slow]

PROFILES = [
    "ocpp201/core-cs",
    "ocpp201/core-csms",
    "ocpp201/advanced-security-cs",
    "ocpp201/advanced-security-csms",
    "ocpp201/local-auth-list-cs",
    "ocpp201/local-auth-list-csms",
    "ocpp201/reservation-cs",
    "ocpp201/reservation-csms",
    "ocpp201/smart-charging-cs",
    "ocpp201/smart-charging-csms",
]


def _na_by_descriptor(result: dict[str, Any]) -> bool:
    """Not applicable because the reference device declares a feature the other way."""
    return result["verdict"] == "na" and result["reason"].startswith("device descriptor")


@pytest.mark.parametrize("profile_id", PROFILES)
def test_every_case_passes_against_the_reference(profile_id):
    results = asyncio.run(asyncio.wait_for(run_sut(None, profile_id=profile_id), 600))
    failing = {
        cid: f"{r['verdict']}: {r['reason']}"
        for cid, r in results.items()
        if r["verdict"] != "pass" and not _na_by_descriptor(r)
    }
    assert failing == {}
    not_applicable = [cid for cid, r in results.items() if r["verdict"] == "na"]
    assert len(not_applicable) <= 3, not_applicable
    for cid, result in results.items():
        if result["verdict"] == "na":
            continue
        assert all(s["verdict"] in ("pass", "skipped") for s in result["steps"]), (
            cid,
            [
                (s.get("kind"), s["verdict"], s.get("reason") or s.get("observed"))
                for s in result["steps"]
            ],
        )
        # a frame from the SUT, or a connection event (a refused connection sends nothing)
        assert result["frames"], f"{cid} saw nothing of the SUT"


#: cases of both roles whose messages OCPP 2.1 keeps as they are in 2.0.1
OCPP21_CASES = {
    "ocpp201/core-cs": ["TC_B_06_CS", "TC_C_02_CS", "TC_E_04_CS", "TC_P_01_CS"],
    "ocpp201/core-csms": ["TC_B_06_CSMS", "TC_C_02_CSMS", "TC_E_04_CSMS"],
}


async def _run_as_21(profile_id: str, cases: list[str]) -> tuple[dict[str, Any], Any]:
    profile, scenarios, device = load_reference_run(profile_id)
    device = dataclasses.replace(device, ocpp="2.1")
    target = Target(
        "reference", time_scale=profile.reference_time_scale, floor=profile.reference_floor_s
    )
    campaign = make_campaign(profile, device, target)
    results, agreed = {}, None
    async with campaign:
        for scenario in [s for s in scenarios if s.id in cases]:
            results[scenario.id] = await campaign.run_case(scenario)
            agreed = campaign.session.subprotocol
    return results, agreed


@pytest.mark.parametrize("profile_id", sorted(OCPP21_CASES))
def test_a_2_1_device_runs_the_2_0_1_cases_over_ocpp2_1(profile_id):
    results, agreed = asyncio.run(
        asyncio.wait_for(_run_as_21(profile_id, OCPP21_CASES[profile_id]), 300)
    )
    assert {cid: r["verdict"] for cid, r in results.items()} == dict.fromkeys(
        OCPP21_CASES[profile_id], "pass"
    ), {cid: r["reason"] for cid, r in results.items()}
    assert agreed == "ocpp2.1"
