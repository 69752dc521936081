from __future__ import annotations

import xml.etree.ElementTree as ET

from pile_interop.reporting.svg import (
    BAND,
    COLOURS,
    RED,
    Failure,
    lifeline_names,
    sequence_diagram,
    summary_bar,
)

from .conftest import case_by_id

SUITE, SUT = "Central System (pile-interop)", "Charge Point CP-0001"


def _frame(seq, t, direction="in", kind="CALL", action="Heartbeat", raw=None, findings=()):
    return {
        "seq": seq,
        "t": t,
        "time": "2026-11-24T05:46:00.000Z",
        "dir": direction,
        "type": kind,
        "action": action,
        "unique_id": f"u{seq}",
        "raw": raw if raw is not None else f'[2,"u{seq}","{action}",{{}}]',
        "findings": list(findings),
    }


def _diagram(frames, **kwargs):
    svg = sequence_diagram(frames, suite=SUITE, sut=SUT, **kwargs)
    return svg, ET.fromstring(svg)


def _groups(root, cls):
    return [g for g in root.iter("g") if cls in (g.get("class") or "").split()]


def _label(group):
    text = next(t for t in group.iter("text") if t.find("tspan") is not None)
    return "".join(text.itertext())


def test_one_arrow_per_message_frame_and_a_note_per_event(run):
    frames = case_by_id(run, "TC_021_CS")["frames"]  # an event, a CALL, a CALLERROR
    _, root = _diagram(frames)
    messages = _groups(root, "msg")
    assert len(messages) == 2
    assert all(len(g.findall("polygon")) == 1 for g in messages)
    assert len(root.findall(".//polygon")) == 2
    (event,) = _groups(root, "event")
    assert event.find("polygon") is None and event.find("rect") is not None


def test_arrows_point_from_sender_to_receiver():
    _, root = _diagram([_frame(1, 0.1, "out", action="Reset"), _frame(2, 0.2, "in")])
    out_line, in_line = (g.find("line") for g in _groups(root, "msg"))
    assert float(out_line.get("x1")) < float(out_line.get("x2"))  # suite (left) → SUT
    assert float(in_line.get("x1")) > float(in_line.get("x2"))  # SUT → suite


def test_labels_name_the_action_the_reply_and_the_callerror_code():
    frames = [
        _frame(1, 0.1, "out", "CALL", "ChangeConfiguration", '[2,"a","ChangeConfiguration",{}]'),
        _frame(2, 0.2, "in", "CALLRESULT", "ChangeConfiguration", '[3,"a",{"status":"x"}]'),
        _frame(3, 0.3, "in", "CALLERROR", "Reset", '[4,"b","NotSupported","no",{}]'),
        _frame(4, 0.4, "in", "MALFORMED", None, "[7, garbage"),
    ]
    _, root = _diagram(frames)
    labels = [_label(g) for g in _groups(root, "msg")]
    assert labels[0].startswith("ChangeConfiguration {}")
    assert labels[1].startswith('ChangeConfiguration.conf {"status":"x"}')
    assert labels[2].startswith('CALLERROR NotSupported "no"')
    assert labels[3].startswith("MALFORMED [7, garbage")
    _, later = _diagram(frames[1:2], reply_suffix="Response")
    assert _label(_groups(later, "msg")[0]).startswith("ChangeConfigurationResponse")


def test_a_frame_with_findings_is_red_and_says_why():
    frames = [_frame(1, 0.1), _frame(2, 0.2, findings=["schema: 'status' is required"])]
    _, root = _diagram(frames)
    ok, bad = _groups(root, "msg")
    assert "finding" not in ok.get("class") and ok.find("line").get("stroke") != RED
    assert "finding" in bad.get("class")
    assert bad.find("line").get("stroke") == RED
    assert bad.find("polygon").get("fill") == RED
    assert any("schema: 'status' is required" in (t.text or "") for t in bad.iter("text"))


def test_highlighted_frames_sit_on_a_band_and_the_failure_is_a_red_note():
    frames = [_frame(1, 0.1), _frame(2, 0.2), _frame(3, 5.0)]
    failure = Failure(t=3.0, text="✗ step 4 failed", second="observed: nothing", detail="d")
    _, root = _diagram(frames, highlight={2}, failure=failure)
    groups = [g for g in root if g.tag == "g" and g.get("class") != "head"]
    assert [g.get("class") for g in groups] == ["msg", "msg highlight", "failure", "msg"]
    band = groups[1].find("rect")
    assert band is not None and band.get("fill") == BAND
    texts = [t.text for t in groups[2].iter("text")]
    assert texts == ["✗ step 4 failed", "observed: nothing"]
    assert groups[2].find("rect").get("stroke") == RED
    assert groups[2].find("title").text == "d"


def test_every_frame_has_a_hover_title_with_the_raw_frame_escaped():
    raw = '[2,"u1","DataTransfer",{"data":"<b>&\\u0001</b>"}] \x01'
    svg, root = _diagram([_frame(1, 0.1, raw=raw, action="DataTransfer")])
    (group,) = _groups(root, "msg")
    title = group.find("title").text
    assert '"data":"<b>&\\u0001</b>"' in title and "+0.100 s" in title and "#1" in title
    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg
    assert "\x01" not in svg and "\\x01" in svg


def test_long_logs_are_capped_around_the_failing_frame_with_a_note():
    frames = [_frame(i, i * 0.01) for i in range(1, 201)]
    _, root = _diagram(frames, highlight={150}, limit=40)
    drawn = [int(g.get("data-seq")) for g in _groups(root, "msg")]
    assert len(drawn) == 40
    assert drawn[:10] == list(range(1, 11))
    assert 150 in drawn
    gaps = ["".join(g.itertext()) for g in _groups(root, "gap")]
    assert len(gaps) == 2
    assert "frames not drawn" in gaps[0]
    skipped = sum(int(text.split()[1]) for text in gaps)
    assert skipped + len(drawn) == 200


def test_a_short_log_is_drawn_whole_and_nothing_is_drawn_for_no_frames():
    _, root = _diagram([_frame(i, i) for i in range(5)])
    assert len(_groups(root, "msg")) == 5 and not _groups(root, "gap")
    assert sequence_diagram([], suite=SUITE, sut=SUT) == ""


def test_diagram_is_deterministic_and_self_contained(run):
    frames = case_by_id(run, "TC_021_CS")["frames"]
    first = sequence_diagram(frames, suite=SUITE, sut=SUT, highlight={6})
    assert first == sequence_diagram(frames, suite=SUITE, sut=SUT, highlight={6})
    assert "http" not in first and "href" not in first and "<script" not in first
    root = ET.fromstring(first)
    assert [t.text for t in root.iter("text")][:2] == [SUITE, SUT]


def test_lifeline_names_from_the_sut_role():
    station = {"role": "cs", "ocpp": "1.6", "station_id": "CP-1", "model": "M"}
    assert lifeline_names(station) == ("Central System (pile-interop)", "Charge Point CP-1")
    assert lifeline_names({**station, "ocpp": "2.0.1"}) == (
        "CSMS (pile-interop)",
        "Charging Station CP-1",
    )
    csms = {"role": "csms", "ocpp": "1.6", "vendor": "V", "model": "Backend"}
    assert lifeline_names(csms) == ("Charge Point (pile-interop)", "Central System Backend")


def test_summary_bar_has_one_segment_per_verdict_present_proportional_to_its_count():
    root = ET.fromstring(summary_bar({"pass": 3, "fail": 1, "na": 0}, width=400))
    rects = root.findall("rect")
    assert [r.get("fill") for r in rects] == [COLOURS["pass"], COLOURS["fail"]]
    assert [float(r.get("width")) for r in rects] == [300.0, 100.0]
    assert root.get("aria-label") == "verdicts: 3 pass, 1 fail"
    empty = ET.fromstring(summary_bar({}))
    assert len(empty.findall("rect")) == 1 and empty.get("aria-label") == "verdicts: no cases"
