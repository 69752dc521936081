"""The whole profile passes against the reference station (the suite testing itself)."""

from __future__ import annotations

import asyncio

import pytest

from tests.mutants.catalogue import run_sut

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reference")]


def test_every_case_of_ocpp16_core_cs_passes_against_the_reference_station():
    results = asyncio.run(asyncio.wait_for(run_sut(None), 300))
    failing = {
        cid: f"{r['verdict']}: {r['reason']}"
        for cid, r in results.items()
        if r["verdict"] != "pass"
    }
    assert failing == {}
    assert len(results) >= 20
    for cid, result in results.items():
        assert result["steps"], cid
        assert all(s["verdict"] in ("pass", "skipped") for s in result["steps"]), cid
        assert any(f["dir"] == "in" for f in result["frames"]), f"{cid} saw no frame from the SUT"
