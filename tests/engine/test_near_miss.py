"""Near-miss reasons (issue 13 items 2 and 9): a timed-out ``expect`` names the frames of the
awaited action that did come — before the step (how long before, matching or not) and during
it (the first field that differed) — at most three of them, the rest counted."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from pile_interop.core.frames import IN, OUT, Frame
from pile_interop.ocpp.session import CallTimeout
from pile_interop.scenario.near_miss import near_misses, summary
from tests.engine.test_attribution import RUN_S, case_file, run_files, scripted_station
from tests.engine.test_session import client, run, with_server
from tests.mutants.catalogue import run_sut
from tests.mutants.stations16 import WrongStopTransactionId

#: The step under test: connector 1's Available, after the first (configuration) step.
AWAIT_AVAILABLE = """
  - expect: StatusNotification
    match: {connectorId: 1, status: Available}
"""


def available(connector: int, status: str = "Available") -> dict[str, object]:
    return {"connectorId": connector, "errorCode": "NoError", "status": status}


def frame(seq: int, payload: dict[str, object], mono: float, direction: str = IN) -> Frame:
    return Frame(
        seq, direction, "", mono=mono, type="CALL", action="StopTransaction", payload=payload
    )


def test_near_misses_name_the_first_difference_and_the_time_before_the_step() -> None:
    frames = [
        frame(1, {"transactionId": 1001}, mono=10.0),  # matching, 5 s before the step
        frame(2, {"transactionId": 7}, mono=12.0),  # not matching, before the step
        frame(3, {"transactionId": 999}, mono=16.0),  # not matching, during the step
        frame(4, {"transactionId": 1001}, mono=16.5, direction=OUT),  # ours: never a miss
        frame(5, {"transactionId": 1001}, mono=17.0),  # taken by another step
    ]
    lines = near_misses(frames, "StopTransaction", {"transactionId": 1001}, 15.0, taken={5})
    assert lines == [
        "StopTransaction #1 matching came 5.0 s before this step",
        "StopTransaction #2 came 3.0 s before this step, and differed: "
        "transactionId: expected 1001, got 7",
        "StopTransaction #3 differed: transactionId: expected 1001, got 999",
    ]


def test_a_reason_names_at_most_three_near_misses_and_counts_the_rest() -> None:
    lines = [f"StatusNotification #{n} differed" for n in range(7)]
    text = summary(lines, "StatusNotification")
    assert text.count("differed") == 3
    assert text.endswith("; and 4 more StatusNotification")
    assert summary([], "StatusNotification") == ""


def test_a_stop_transaction_with_the_wrong_id_is_named_with_the_id_it_had() -> None:
    """The reference passes TC_005_1_CS; a station that stops with transactionId + 1 fails it
    with a reason naming that StopTransaction and both ids."""
    cases = ["TC_005_1_CS"]
    reference = asyncio.run(asyncio.wait_for(run_sut(None, cases), RUN_S))["TC_005_1_CS"]
    assert reference["verdict"] == "pass", reference["reason"]
    mutant = asyncio.run(asyncio.wait_for(run_sut(WrongStopTransactionId, cases), RUN_S))
    result = mutant["TC_005_1_CS"]
    assert result["verdict"] == "fail", result["reason"]
    answer = next(
        f for f in result["frames"] if f["action"] == "StartTransaction" and f["dir"] == "out"
    )
    started = json.loads(answer["raw"])[2]["transactionId"]
    stop = next(
        f for f in result["frames"] if f["action"] == "StopTransaction" and f["dir"] == "in"
    )
    assert "No StopTransaction" in result["reason"]
    assert (
        f"; StopTransaction #{stop['seq']} differed: "
        f"transactionId: expected {started}, got {started + 1}" in result["reason"]
    ), result["reason"]


def test_a_frame_that_came_before_the_step_is_named_with_how_long_before(tmp_path: Path) -> None:
    """The scripted station reports its connectors Available while it boots (before the
    step); the step awaiting connector 1's Available times out saying so, with the other
    connectors' frames as near misses and the Preparing that came during the step. Sent
    after the step began, the same Available passes."""
    early = case_file(tmp_path, "TC_EARLY_CS", AWAIT_AVAILABLE)
    late = tmp_path / "late"
    late.mkdir()
    in_time = case_file(late, "TC_IN_TIME_CS", AWAIT_AVAILABLE)
    passing = asyncio.run(
        asyncio.wait_for(
            run_files(scripted_station(then=[available(1)]), {"in_time": in_time}), RUN_S
        )
    )
    assert passing["in_time"]["verdict"] == "pass", passing["in_time"]["reason"]

    station = scripted_station(then=[available(1, "Preparing")])
    result = asyncio.run(asyncio.wait_for(run_files(station, {"early": early}), RUN_S))["early"]
    reason = result["reason"]
    assert result["verdict"] == "fail", reason
    statuses = {
        f["seq"]: f
        for f in result["frames"]
        if f["action"] == "StatusNotification" and f["dir"] == "in"
    }
    assert len(statuses) == 4, statuses
    first = sorted(statuses)
    # connector 0's came first (differed), connector 1's matched, both before the step
    assert f"StatusNotification #{first[0]} came " in reason
    assert "before this step, and differed: connectorId: expected 1, got 0" in reason
    assert f"StatusNotification #{first[1]} matching came " in reason
    assert " s before this step" in reason
    # four near misses (three at boot, one during the step): three named, one counted
    assert reason.count("StatusNotification #") == 3
    assert "and 1 more StatusNotification" in reason


def test_a_call_timeout_names_the_answers_that_came_with_another_unique_id() -> None:
    """A station answering our CALL with a wrong unique id: the timeout names that answer
    (and the answer itself is a finding: an id the suite never sent)."""

    async def body(server, session) -> None:
        ws = await client(server)
        await session.wait_connected(5)
        send = asyncio.ensure_future(session.call("ClearCache", {}, timeout=1.0))
        call = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert call[2] == "ClearCache"
        await ws.send(json.dumps([3, "wrong-id", {"status": "Accepted"}]))
        with pytest.raises(CallTimeout) as timeout:
            await send
        wrong = next(f for f in session.log.frames if f.unique_id == "wrong-id")
        assert f"answers with another unique id: CALLRESULT #{wrong.seq}" in str(timeout.value)
        assert "never sent" in wrong.findings[0]
        await ws.close()

    run(with_server(body))
