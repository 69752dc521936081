from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from pile_interop.ocpp.frames import CALL, CALLERROR, CALLRESULT, MALFORMED, FrameLog, parse


def test_a_call_is_split_into_its_parts():
    kind, uid, action, payload, *_rest, problem = parse('[2,"1","Heartbeat",{}]')
    assert (kind, uid, action, payload, problem) == (CALL, "1", "Heartbeat", {}, "")


def test_a_callerror_keeps_code_description_and_details():
    kind, uid, _a, details, code, desc, problem = parse('[4,"9","NotImplemented","nope",{"x":1}]')
    assert (kind, uid, details, code, desc, problem) == (
        CALLERROR,
        "9",
        {"x": 1},
        "NotImplemented",
        "nope",
        "",
    )


def test_a_callresult_payload_must_be_an_object():
    assert parse('[3,"1",[]]')[0] == CALLRESULT
    assert "not an object" in parse('[3,"1",[]]')[-1]


def test_a_call_with_five_elements_is_a_problem_that_names_the_count():
    assert "5 elements" in parse('[2,"1","A",{},1]')[-1]


def test_garbage_is_malformed_and_never_raises():
    for raw in ["", "{", "null", "[]", "[7]", '["2"]', b"\x00\xff", '[2,1,"A",{}]', "[true]"]:
        kind, *_rest, problem = parse(raw)
        assert problem, raw
        assert kind in (MALFORMED, CALL)


def test_a_unique_id_over_36_characters_is_a_problem():
    assert "36" in parse(json.dumps([2, "x" * 37, "Heartbeat", {}]))[-1]


@given(st.text(max_size=200))
def test_parse_never_raises_on_any_text(text):
    parse(text)


def test_the_frame_log_can_forget_old_frames_and_keep_sequence_numbers():
    log = FrameLog()
    for i in range(5):
        log.add("in", str(i))
    log.discard_through(3)
    assert [f.seq for f in log.since(0)] == [4, 5]
    assert [f.seq for f in log.since(4)] == [5]
    assert log.add("in", "x").seq == 6
