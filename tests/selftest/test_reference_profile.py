"""The whole profile passes against the reference station (the suite testing itself)."""

from __future__ import annotations

import asyncio

import pytest

from tests.mutants.catalogue import run_sut

pytestmark = [pytest.mark.slow]


def test_every_case_of_ocpp16_core_cs_passes_against_the_reference_station():
    results = asyncio.run(asyncio.wait_for(run_sut(None), 300))
    failing = {
        cid: f"{r['verdict']}: {r['reason']}"
        for cid, r in results.items()
        if r["verdict"] != "pass" and not _na_by_descriptor(r)
    }
    assert failing == {}
    assert len(results) >= 20
    for cid, result in results.items():
        if _na_by_descriptor(result):
            continue
        assert result["steps"], cid
        assert all(s["verdict"] in ("pass", "skipped") for s in result["steps"]), cid
        assert any(f["dir"] == "in" for f in result["frames"]), f"{cid} saw no frame from the SUT"


def _na_by_descriptor(result: dict) -> bool:
    """Not applicable because the reference device declares the feature the other way (a
    fixed-cable case against a station with sockets): run by the test below instead."""
    return result["verdict"] == "na" and result["reason"].startswith("device descriptor")


def test_the_fixed_cable_cases_pass_against_a_fixed_cable_reference_station():
    cases = ["TC_017_2_CS", "TC_019_2_CS"]
    results = asyncio.run(
        asyncio.wait_for(run_sut(None, cases, features={"fixed_cable": True}), 120)
    )
    assert {cid: r["verdict"] for cid, r in results.items()} == dict.fromkeys(cases, "pass")
