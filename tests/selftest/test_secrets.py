"""Security profile 1 end to end, and the password never reaches a log or a report."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path

from pile_interop.engine.base import Target
from pile_interop.engine.reference import reference_station
from pile_interop.engine.report import Report
from pile_interop.engine.station_campaign import StationCampaign
from tests.mutants.catalogue import load

PASSWORD = "Zq8-very-secret-pw"


async def run(tmp_path: Path, station_password: str) -> dict:
    profile, scenarios, device = load()
    profile = dataclasses.replace(profile, timeouts={**profile.timeouts, "connect": 15, "boot": 15})
    device = dataclasses.replace(device, security_profile=1, basic_auth_password=PASSWORD)

    def station(url, dev, scale):  # the station may know a different password than the CSMS
        return reference_station(
            url, dataclasses.replace(dev, basic_auth_password=station_password), scale
        )

    target = Target(
        "reference", time_scale=profile.reference_time_scale, floor=1.0, sut_factory=station
    )
    chosen = [s for s in scenarios if s.id in ("TC_019_2_CS", "TC_040_1_CS")]
    async with StationCampaign(profile, device, target) as campaign:
        report = Report(tmp_path, campaign, chosen)
        for scenario in chosen:
            report.add(await campaign.run_case(scenario))
        return report.finish()


def every_output(tmp_path: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file())


def test_basic_auth_with_the_right_password_passes_and_the_password_is_nowhere(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    result = asyncio.run(asyncio.wait_for(run(tmp_path, PASSWORD), 60))
    assert result["summary"]["pass"] == 2, [c["reason"] for c in result["cases"]]
    text = every_output(tmp_path)
    assert "results.json" in {p.name for p in tmp_path.iterdir()}
    assert PASSWORD not in text
    assert PASSWORD not in caplog.text


def test_a_wrong_password_is_refused_and_the_case_says_why(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    result = asyncio.run(asyncio.wait_for(run(tmp_path, "not-the-password"), 60))
    first = result["cases"][0]
    assert first["verdict"] == "error"
    assert "did not connect within" in first["reason"]
    assert "wrong password" in first["reason"]
    assert PASSWORD not in every_output(tmp_path)
    assert "not-the-password" not in caplog.text
