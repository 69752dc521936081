"""The negative profiles pass against the reference SUTs, which answer every invalid frame
with the code OCPP-J 1.6 requires."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pile_interop.ocpp.v16.reference.csms import ReferenceCsms
from pile_interop.ocpp.v16.reference.station import ReferenceStation
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


class _StationAnswersMinusOne(ReferenceStation):
    """Answers a frame that is not JSON with ``[4,"-1","FormationViolation",…]``."""

    answers_unreadable_with = "-1"


class _CsmsAnswersMinusOne(ReferenceCsms):
    answers_unreadable_with = "-1"


class _StationIgnoresBadIds(ReferenceStation):
    """Ignores a CALL whose unique id is not a string of at most 36 characters."""

    rejects_bad_unique_ids = False


class _CsmsIgnoresBadIds(ReferenceCsms):
    rejects_bad_unique_ids = False


#: the frame-level cases whose broken frame has no usable unique id
_UNREADABLE = {
    "ocpp16/negative-cs": ["NEG_10_CS", "NEG_13_CS", "NEG_14_CS"],
    "ocpp16/negative-csms": ["NEG_09_CSMS", "NEG_12_CSMS", "NEG_13_CSMS"],
}


def _errors_answering_minus_one(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        f
        for f in result["frames"]
        if f["dir"] == "in" and f["type"] == "CALLERROR" and f["unique_id"] == "-1"
    ]


@pytest.mark.parametrize(
    ("profile_id", "cls"),
    [
        ("ocpp16/negative-cs", _StationAnswersMinusOne),
        ("ocpp16/negative-csms", _CsmsAnswersMinusOne),
    ],
)
def test_a_callerror_with_id_minus_one_to_an_unreadable_frame_passes(profile_id, cls):
    """Answering a malformed frame, or a CALL with an integer or over-long id, with a CALLERROR
    whose unique id is "-1" is no finding: the SUT stays usable, the case passes."""
    cases = _UNREADABLE[profile_id]
    results = asyncio.run(asyncio.wait_for(run_sut(cls, cases, profile_id=profile_id), 60))
    assert {c: r["reason"] for c, r in results.items() if r["verdict"] != "pass"} == {}
    for cid in cases:
        (answer,) = _errors_answering_minus_one(results[cid])
        assert answer["raw"].startswith('[4,"-1","FormationViolation"'), cid
        assert results[cid]["findings"] == [], cid


@pytest.mark.parametrize(
    ("profile_id", "cls"),
    [("ocpp16/negative-cs", _StationIgnoresBadIds), ("ocpp16/negative-csms", _CsmsIgnoresBadIds)],
)
def test_ignoring_an_unreadable_frame_passes(profile_id, cls):
    """The reference ignores a malformed frame; these variants ignore the bad-id CALLs too."""
    cases = _UNREADABLE[profile_id]
    results = asyncio.run(asyncio.wait_for(run_sut(cls, cases, profile_id=profile_id), 60))
    assert {c: r["reason"] for c, r in results.items() if r["verdict"] != "pass"} == {}
    for cid in cases:
        errors = [f for f in results[cid]["frames"] if f["type"] == "CALLERROR"]
        assert errors == [], cid  # only the valid CALL was answered


def test_a_callerror_echoing_the_unreadable_id_passes():
    """A CALLERROR to an integer-id CALL may carry that id (as sent or as a string)."""

    class EchoesTheId(ReferenceStation):
        rejects_bad_unique_ids = False

    async def run() -> dict[str, dict[str, Any]]:
        import json

        from pile_interop.ocpp.v16.reference import rpc

        original = rpc.Rpc.route_message

        async def echo(self: Any, raw_msg: str) -> None:
            frame = json.loads(raw_msg) if raw_msg.startswith("[2,") else None
            if frame is not None and isinstance(frame[1], int):
                await self._send(json.dumps([4, frame[1], "FormationViolation", "id", {}]))
                return
            await original(self, raw_msg)

        rpc.Rpc.route_message = echo  # type: ignore[method-assign]
        try:
            return await run_sut(EchoesTheId, ["NEG_13_CS"], profile_id="ocpp16/negative-cs")
        finally:
            rpc.Rpc.route_message = original  # type: ignore[method-assign]

    results = asyncio.run(asyncio.wait_for(run(), 60))
    assert results["NEG_13_CS"]["verdict"] == "pass", results["NEG_13_CS"]["reason"]
    assert results["NEG_13_CS"]["findings"] == []
    assert any(f["type"] == "CALLERROR" for f in results["NEG_13_CS"]["frames"] if f["dir"] == "in")


def test_a_lenient_station_answering_a_bad_id_call_passes():
    """OCPP-J limits the id a sender uses; a receiver that processes a CALL whose id is an
    integer or 37 characters long and answers it with a CALLRESULT carrying that id (as the
    ``ocpp`` package does) conforms: NEG_13_CS / NEG_14_CS ask only that the connection stays
    usable, and the answer's id is ours, not a finding."""

    class AnswersLongIds(ReferenceStation):
        rejects_bad_unique_ids = False

    async def run() -> dict[str, dict[str, Any]]:
        import json

        from pile_interop.ocpp.v16.reference import rpc

        original = rpc.Rpc.route_message

        async def answer(self: Any, raw_msg: str) -> None:
            frame = json.loads(raw_msg) if raw_msg.startswith("[2,") else None
            bad = frame is not None and (isinstance(frame[1], int) or len(frame[1]) > 36)
            if frame is not None and bad:
                reply = {"configurationKey": [], "unknownKey": ["HeartbeatInterval"]}
                await self._send(json.dumps([3, frame[1], reply]))
                return
            await original(self, raw_msg)

        rpc.Rpc.route_message = answer  # type: ignore[method-assign]
        try:
            cases = ["NEG_13_CS", "NEG_14_CS"]
            return await run_sut(AnswersLongIds, cases, profile_id="ocpp16/negative-cs")
        finally:
            rpc.Rpc.route_message = original  # type: ignore[method-assign]

    results = asyncio.run(asyncio.wait_for(run(), 60))
    for cid in ("NEG_13_CS", "NEG_14_CS"):
        assert results[cid]["verdict"] == "pass", results[cid]["reason"]
        assert results[cid]["findings"] == [], cid
        answers = [f for f in results[cid]["frames"] if f["dir"] == "in"]
        assert sum(f["type"] == "CALLRESULT" for f in answers) == 2, cid  # bad-id and valid
