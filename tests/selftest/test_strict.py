"""--strict turns a broken SHOULD (warn) into a failure; without it the case only warns."""

from __future__ import annotations

import asyncio

from tests.mutants.catalogue import run_sut
from tests.mutants.stations16 import AcceptsUnknownVendor


def test_a_should_level_finding_warns_and_fails_under_strict():
    async def both() -> tuple[dict, dict]:
        lenient = await run_sut(AcceptsUnknownVendor, ["TC_062_CS"])
        strict = await run_sut(AcceptsUnknownVendor, ["TC_062_CS"], strict=True)
        return lenient["TC_062_CS"], strict["TC_062_CS"]

    lenient, strict = asyncio.run(asyncio.wait_for(both(), 60))
    assert lenient["verdict"] == "warn"
    assert strict["verdict"] == "fail"
    assert "failed under --strict" in strict["reason"]
    assert "[OCPP1.6 §4.3]" in strict["reason"]
