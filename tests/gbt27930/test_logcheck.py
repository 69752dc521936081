"""check-log: a recorded session judged offline, in the same report as a live run."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from pile_interop.gbt27930.capture import read_capture_csv, to_candump
from pile_interop.gbt27930.ids import parse_can_id
from pile_interop.gbt27930.logcheck import check_log
from tests.selftest.conftest import cli

CAPTURE = Path(__file__).parent / "data" / "charger-capture.csv"


def verdicts(cases: list[dict]) -> dict[str, str]:
    return {c["id"]: c["verdict"] for c in cases}


def test_the_real_charger_capture_meets_the_charger_checks(tmp_path):
    result = cli(
        "check-log", str(CAPTURE), "--profile", "gbt27930/charger", "--out", str(tmp_path / "r")
    )
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "r/results.json").read_text())
    seen = verdicts(run["cases"])
    for must in (
        "log:CHM.format",
        "log:CRM.format",
        "log:CML.format",
        "log:CCS.format",
        "log:CCS.period",
        "log:sequence",
        "log:frames",
    ):
        assert seen[must] == "pass", must
    assert run["profile_verdict"]["met"] is True
    assert (tmp_path / "r/index.html").is_file() and (tmp_path / "r/junit.xml").is_file()
    bms = check_log(CAPTURE, "bms", "2015", "gbt27930/bms")
    judged = [c for c in bms if c["verdict"] != "na"]
    assert {c["verdict"] for c in judged} <= {"pass", "warn"}, [
        (c["id"], c["reason"]) for c in judged if c["verdict"] not in ("pass", "warn")
    ]
    # a message sent once or twice (BRM, BCP: a transfer each) has no period to judge: na
    # with that reason, never a pass that claims a period was checked
    unjudged = {c["id"]: c["reason"] for c in bms if c["verdict"] == "na"}
    assert set(unjudged) == {"log:BRM.period", "log:BCP.period"}
    assert all("too few in a row to judge" in r for r in unjudged.values())


def _ccs(frame) -> bool:
    return parse_can_id(frame.can_id).pgn == 0x1200


def test_fill_bits_cleared_in_ccs_fail_its_format_check(tmp_path):
    frames = [
        dataclasses.replace(f, data=f.data[:6] + bytes([f.data[6] & 0xF3]) + f.data[7:])
        if _ccs(f)
        else f
        for f in read_capture_csv(CAPTURE)
    ]
    log = tmp_path / "bad.log"
    log.write_text(to_candump(frames))
    cases = check_log(log, "charger", "2015", "gbt27930/charger")
    failed = next(c for c in cases if c["id"] == "log:CCS.format")
    assert failed["verdict"] == "fail"
    assert "fill bit byte 7" in failed["reason"]


def test_every_other_ccs_missing_fails_its_period_check(tmp_path):
    frames, kept = [], 0
    for f in read_capture_csv(CAPTURE):
        if _ccs(f):
            kept += 1
            if kept % 2:
                continue
        frames.append(f)
    log = tmp_path / "slow.log"
    log.write_text(to_candump(frames))
    cases = check_log(log, "charger", "2015", "gbt27930/charger")
    slow = next(c for c in cases if c["id"] == "log:CCS.period")
    assert slow["verdict"] == "fail", slow["steps"][0]["observed"]
    assert "GBT27930 periods" in slow["reason"]


def test_a_file_that_is_not_a_recording_is_exit_2(tmp_path):
    junk = tmp_path / "junk.log"
    junk.write_text("hello\n")
    result = cli("check-log", str(junk), "--profile", "gbt27930/charger")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


def _one_line_exit_2(*args: str) -> str:
    result = cli("check-log", *args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_bad_input_is_exit_2_and_one_line(tmp_path):
    empty = tmp_path / "empty.log"
    empty.write_text("")
    assert "empty file" in _one_line_exit_2(str(empty), "--profile", "gbt27930/charger")
    cut = tmp_path / "cut.log"
    cut.write_text("(1.0) can0 1826F456#010100\n(1.1) can0 1826F4\n")
    line = _one_line_exit_2(str(cut), "--profile", "gbt27930/charger")
    assert f"{cut}: line 2: read as candump log:" in line
    line = _one_line_exit_2(str(CAPTURE), "--profile", "gbt27930/charger", "--variant", "2019")
    assert "--variant" in line


def test_the_report_names_the_variant_the_span_and_each_message(tmp_path):
    result = cli(
        "check-log", str(CAPTURE), "--profile", "gbt27930/bms", "--variant", "2023a",
        "--out", str(tmp_path / "r"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "r/results.json").read_text())
    assert "GB/T 27930-2023 category A" in run["profile_title"]
    recording = run["recording"]
    assert recording["format"] == "analyser table" and recording["span_s"] == 30.5
    rows = {r["message"]: r for r in recording["messages"]}
    assert rows["CCS"]["count"] == 329 and rows["CCS"]["period_ms"] == 50
    assert rows["BCL"]["mean_ms"] == pytest.approx(50, abs=2) and rows["BCL"]["max_ms"] == 100
    html = (tmp_path / "r/index.html").read_text()
    assert "GB/T 27930-2023 category A" in html and '<section id="recording">' in html
