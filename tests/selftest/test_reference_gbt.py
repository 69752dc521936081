"""The GB/T 27930 profiles pass against the reference charger and BMS on the virtual bus."""

from __future__ import annotations

import asyncio

import pytest

from tests.mutants.catalogue import run_sut

# the profiles judge periods (a 250 ms BSM is 125 ms real at the reference scale 0.5): they run
# in tox's calm phase with the other timer measurements
pytestmark = [pytest.mark.slow, pytest.mark.timing]


def every_case_passes_against_the_reference(profile_id: str) -> None:
    """The whole profile against the reference SUT: every case passes, each with the SUT's
    messages in its wire log (also used by test_reference_gbt_bms, a worker unit of its own)."""
    results = asyncio.run(asyncio.wait_for(run_sut(None, profile_id=profile_id), 600))
    failing = {
        c: f"{r['verdict']}: {r['reason']}" for c, r in results.items() if r["verdict"] != "pass"
    }
    assert failing == {}
    for case_id, result in results.items():
        assert any(f["dir"] == "in" and f["type"] == "MSG" for f in result["frames"]), case_id


def test_every_charger_case_passes_against_the_reference_charger():
    every_case_passes_against_the_reference("gbt27930/charger")


def test_the_category_a_switch_runs_the_cases_against_a_2023a_charger(tmp_path):
    from tests.selftest.conftest import ROOT, cli

    device = tmp_path / "charger-2023a.yaml"
    device.write_text(
        (ROOT / "fixtures/devices/reference-charger-gbt.yaml")
        .read_text()
        .replace('variant: "2015"', 'variant: "2023a"')
    )
    result = cli(
        "run",
        "--profile",
        "gbt27930/charger",
        "--against",
        "reference",
        "--device",
        str(device),
        "--out",
        str(tmp_path / "r"),
        "--case",
        "DP.2005",
        "--case",
        "DN.3001",
        "--case",
        "DP.3006",
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    import json

    run = json.loads((tmp_path / "r/results.json").read_text())
    assert run["sut"]["protocol"] == "GB/T 27930-2023a"
    ran = {c["id"]: c["verdict"] for c in run["cases"] if c["verdict"] != "skipped"}
    assert ran == {"DP.2005": "pass", "DN.3001": "pass", "DP.3006": "pass"}


def test_serve_reference_charger_needs_a_bus():
    from tests.selftest.conftest import cli

    result = cli("serve-reference", "charger")
    assert result.returncode == 2
    assert "needs --can" in result.stderr
