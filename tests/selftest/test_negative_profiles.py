"""The negative profiles pass against the reference SUTs, which answer every invalid frame
with the code OCPP-J 1.6 requires."""

from __future__ import annotations

import asyncio

import pytest

from tests.mutants.catalogue import run_sut


@pytest.mark.parametrize("profile_id", ["ocpp16/negative-cs", "ocpp16/negative-csms"])
def test_every_negative_case_passes_against_the_reference(profile_id):
    results = asyncio.run(asyncio.wait_for(run_sut(None, profile_id=profile_id), 120))
    assert {c: r["reason"] for c, r in results.items() if r["verdict"] != "pass"} == {}
    for cid, result in results.items():
        (step,) = [s for s in result["steps"] if s["kind"] == "negative"]
        assert step["verdict"] == "pass", cid
        schema_drawn = "invalid frames, answered: CALLERROR" in step["observed"]
        assert schema_drawn or step["observed"].startswith("sent "), (cid, step["observed"])
        sent = [f for f in result["frames"] if f["dir"] == "out" and f["type"] == "CALL"]
        assert sent, f"{cid}: the invalid frames are in the wire log"
