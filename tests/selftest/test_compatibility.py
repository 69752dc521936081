"""Conformance vs compatibility: a SUT that does what the specification allows but a known
quirk of the official test tool rejects keeps its conformance verdict; the report shows the
compatibility verdict apart (results.json, HTML, JUnit)."""

from __future__ import annotations

import asyncio
from typing import Any

from pile_interop.ocpp.v16.reference.csms import ReferenceCsms
from tests.mutants.catalogue import run_sut


class ReadsConfigurationAfterBoot(ReferenceCsms):
    """Reads the station's configuration right after accepting its boot (OCPP 1.6 allows it;
    the official tool's TC_001 does not expect it)."""

    def on_boot(self, station_id: str, payload: dict[str, Any]) -> Any:
        reply = super().on_boot(station_id, payload)
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, lambda: loop.create_task(self.get_configuration(station=station_id)))
        return reply


def test_a_tool_quirk_fails_compatibility_not_conformance(tmp_path):
    results = asyncio.run(
        asyncio.wait_for(
            run_sut(
                ReadsConfigurationAfterBoot,
                ["TC_001_CSMS"],
                profile_id="ocpp16/core-csms",
                out=tmp_path,
            ),
            60,
        )
    )
    case = results["TC_001_CSMS"]
    assert case["verdict"] == "pass", case["reason"]
    assert case["compatibility"]["verdict"] == "fail"
    (quirk,) = case["compatibility"]["quirks"]
    assert "GetConfiguration" in quirk["reason"] and "OCA test tool" in quirk["quirk"]
    assert [s["verdict"] for s in case["steps"] if s["title"].startswith("no GetConf")] == ["quirk"]
    html = (tmp_path / "index.html").read_text()
    assert "official test tool would fail" in html
    assert 'name="compatibility" value="fail"' in (tmp_path / "junit.xml").read_text()


def test_the_reference_csms_is_compatible_too():
    results = asyncio.run(
        asyncio.wait_for(run_sut(None, ["TC_001_CSMS"], profile_id="ocpp16/core-csms"), 60)
    )
    assert results["TC_001_CSMS"]["compatibility"] == {"verdict": "pass", "quirks": []}
