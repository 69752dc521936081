"""The run-wide invariant machinery: answers paired with their CALLs, findings and warnings on
the frames, violations kept with their case, end-of-run judging, and the run verdict."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pile_interop.core.frames import FrameLog
from pile_interop.ocpp.frames import CALL, CALLRESULT, EVENT, IN, OUT, Frame
from pile_interop.ocpp.invariants import (
    CS,
    CSMS,
    SHARED,
    WARN,
    CallIdsNotReused,
    Found,
    Invariant,
    InvariantMonitor,
    Seen,
)
from pile_interop.reporting.results_json import caseless_violations, run_verdict


def call(log: FrameLog, direction: str, uid: str, action: str, payload: Any = None) -> Frame:
    payload = payload or {}
    raw = json.dumps([2, uid, action, payload])
    return log.add(direction, raw, type=CALL, unique_id=uid, action=action, payload=payload)


def result(log: FrameLog, direction: str, uid: str, payload: Any = None) -> Frame:
    payload = payload or {}
    raw = json.dumps([3, uid, payload])
    return log.add(direction, raw, type=CALLRESULT, unique_id=uid, payload=payload)


class _Pairs(Invariant):
    id = "INV-TEST-PAIRS"
    title = "records what it sees"
    requirement = "test"
    severity = WARN

    def __init__(self) -> None:
        self.seen: list[Seen] = []

    def observe(self, seen: Seen) -> Iterable[Found]:
        self.seen.append(seen)
        if seen.is_result("Heartbeat") and not seen.from_sut:
            yield Found("the suite answered a heartbeat")

    def finish(self) -> Iterable[Found]:
        yield Found("something only the whole run shows", (1,))


def watched(*invariants: Any, sut: str = CS, case: str = "TC_X") -> tuple[FrameLog, Any]:
    log = FrameLog()
    monitor = InvariantMonitor.for_run(invariants, sut, case_of=lambda: case)
    log.observers.append(monitor.observe)
    return log, monitor


def test_answers_are_paired_with_their_calls_in_both_directions() -> None:
    log, monitor = watched(_Pairs)
    call(log, IN, "a", "Heartbeat")
    beat = result(log, OUT, "a", {"currentTime": "2026-12-05T10:00:00Z"})
    call(log, OUT, "b", "Reset", {"type": "Soft"})
    answer = result(log, IN, "b", {"status": "Accepted"})
    pairs = monitor.invariants[0]
    by_seq = {s.frame.seq: s for s in pairs.seen}
    assert by_seq[beat.seq].action == "Heartbeat" and not by_seq[beat.seq].from_sut
    assert by_seq[answer.seq].action == "Reset" and by_seq[answer.seq].from_sut
    # a warn invariant puts a warning on the frame, not a finding
    assert beat.warnings and not beat.findings
    assert monitor.violations[0].case == "TC_X"


def test_connection_events_are_seen_as_opened_and_closed() -> None:
    log, monitor = watched(_Pairs)
    log.event("connected: CP1 (ocpp1.6) from 127.0.0.1:5000, plain ws")
    log.event("connection closed by the SUT (code 1000, 'bye')")
    seen = monitor.invariants[0].seen
    assert seen[0].opened and not seen[0].closed
    assert seen[1].closed and seen[1].frame.type == EVENT


def test_a_reused_call_id_with_other_content_fails_the_frame_a_retransmission_does_not() -> None:
    log, monitor = watched(*SHARED)
    first = call(log, IN, "1", "BootNotification", {"chargePointVendor": "V"})
    result(log, OUT, "1", {"status": "Accepted"})
    again = call(log, IN, "1", "BootNotification", {"chargePointVendor": "V"})
    assert not again.findings  # the same CALL again: a retransmission
    reused = call(log, IN, "1", "StatusNotification", {"connectorId": 0})
    assert reused.findings and "INV-J-CALL-ID-UNIQUE" in reused.findings[0]
    assert f"#{again.seq}" in reused.findings[0] and first.seq < again.seq
    # ids are compared within a connection
    log.event("connected: CP1 again")
    assert not call(log, IN, "1", "Heartbeat").findings
    # the suite's own CALLs are not judged
    assert not call(log, OUT, "1", "Reset", {"type": "Hard"}).findings
    assert [v.invariant for v in monitor.violations] == ["INV-J-CALL-ID-UNIQUE"]


def test_only_the_invariants_judging_the_sut_role_run() -> None:
    class StationOnly(_Pairs):
        judges = (CS,)

    assert InvariantMonitor.for_run([StationOnly], CSMS).invariants == []
    assert len(InvariantMonitor.for_run([StationOnly, CallIdsNotReused], CSMS).invariants) == 1


def test_end_of_run_violations_count_against_the_run_once() -> None:
    _log, monitor = watched(_Pairs)
    found = monitor.finish()
    assert [v.at_end for v in found] == [True] and found[0].case == ""
    assert monitor.finish() == []  # judged once
    summary = monitor.summary()
    assert summary["checked"][0]["id"] == "INV-TEST-PAIRS"
    # a warn at the end does not count; a fail does
    cases = [{"id": "TC_1", "verdict": "pass", "mandatory": True}]
    run: dict[str, Any] = {"profile_title": "P", "cases": cases, "invariants": summary}
    assert run_verdict(run)["met"]
    summary["violations"][0]["severity"] = "fail"
    assert caseless_violations(run)
    verdict = run_verdict(run)
    assert not verdict["met"] and "1 invariant violation outside any case" in verdict["text"]
