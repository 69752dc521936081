"""--strict turns a broken SHOULD (warn) into a failure; without it the case only warns."""

from __future__ import annotations

import asyncio

from tests.mutants.catalogue import run_sut
from tests.mutants.security_csms16 import SECURITY, StopsCheckingAfterPasswordChange

CASE = "TC_073_CSMS"
#: the SHOULD the mutant breaks: the old password no longer opens a connection
SHOULD = "OCPP1.6-SEC Basic authentication (old password)"


def test_a_should_level_finding_warns_and_fails_under_strict():
    async def both() -> tuple[dict, dict]:
        mutant = StopsCheckingAfterPasswordChange
        lenient = await run_sut(mutant, [CASE], profile_id=SECURITY)
        strict = await run_sut(mutant, [CASE], profile_id=SECURITY, strict=True)
        return lenient[CASE], strict[CASE]

    lenient, strict = asyncio.run(asyncio.wait_for(both(), 60))
    assert lenient["verdict"] == "warn"
    assert strict["verdict"] == "fail"
    assert "failed under --strict" in strict["reason"]
    assert f"[{SHOULD}]" in strict["reason"]
