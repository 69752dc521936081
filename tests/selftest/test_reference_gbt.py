"""The GB/T 27930 profiles pass against the reference charger and BMS on the virtual bus."""

from __future__ import annotations

import asyncio

import pytest

from tests.mutants.catalogue import run_sut

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("profile_id", "group"),
    [
        pytest.param("gbt27930/charger", "gbt-charger", marks=pytest.mark.xdist_group("gbtc")),
        pytest.param("gbt27930/bms", "gbt-bms", marks=pytest.mark.xdist_group("gbtb")),
    ],
)
def test_every_case_passes_against_the_reference(profile_id, group):
    results = asyncio.run(asyncio.wait_for(run_sut(None, profile_id=profile_id), 600))
    failing = {
        c: f"{r['verdict']}: {r['reason']}" for c, r in results.items() if r["verdict"] != "pass"
    }
    assert failing == {}
    for case_id, result in results.items():
        assert any(f["dir"] == "in" and f["type"] == "MSG" for f in result["frames"]), case_id
