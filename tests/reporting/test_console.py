from __future__ import annotations

import io

import pytest

from pile_interop.reporting.console import WIDTH, Progress, clock_text

from .conftest import case_by_id


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_one_line_per_passing_case(run):
    out = io.StringIO()
    progress = Progress(out, color=False)
    progress.case_started("TC_003_CS", "Regular Charging Session - Plugin First")
    progress.case_finished(case_by_id(run, "TC_003_CS"))
    (line,) = out.getvalue().splitlines()
    assert line.startswith("TC_003_CS  Regular Charging Session - Plugin First ....")
    assert line.endswith(" pass      1.23 s")
    assert line.index("pass") == WIDTH + 1


def test_fail_and_error_get_a_second_line_with_the_reason(run):
    out = io.StringIO()
    progress = Progress(out, color=False)
    failed = case_by_id(run, "TC_021_CS")
    failed["reason"] = "x" * 500
    progress.case_finished(failed)
    progress.case_finished(case_by_id(run, "TC_061_CS"))
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    assert " fail " in lines[0]
    assert lines[1].startswith("    xxx") and len(lines[1]) <= 4 + 200
    assert lines[3].startswith("    cannot load the test PKI: bad key ***")
    assert "PRIVATE KEY" not in out.getvalue()


def test_long_titles_are_cut_so_columns_line_up(run):
    case = dict(case_by_id(run, "TC_003_CS"), title="very long title " * 10)
    line = Progress(io.StringIO(), color=False).case_line(case)
    assert line.index("pass") == WIDTH + 1
    assert "…" in line


def test_colour_only_on_a_terminal_without_no_color(run, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert Progress(io.StringIO()).color is False
    assert Progress(FakeTerminal()).color is True
    monkeypatch.setenv("NO_COLOR", "1")
    terminal = FakeTerminal()
    progress = Progress(terminal)
    assert progress.color is False
    progress.case_finished(case_by_id(run, "TC_021_CS"))
    assert "\x1b[3" not in terminal.getvalue()
    coloured = io.StringIO()
    Progress(coloured, color=True).case_finished(case_by_id(run, "TC_021_CS"))
    assert "\x1b[1;31mfail\x1b[0m" in coloured.getvalue()


def test_a_terminal_sees_the_running_case_replaced_by_its_result(run):
    terminal = FakeTerminal()
    progress = Progress(terminal, color=False)
    progress.case_started("TC_003_CS", "Regular Charging Session - Plugin First")
    progress.case_finished(case_by_id(run, "TC_003_CS"))
    assert "\r\x1b[2KTC_003_CS  Regular" in terminal.getvalue()


def test_run_started_and_finished(run, tmp_path):
    out = io.StringIO()
    progress = Progress(out, color=False)
    progress.run_started(run)
    progress.run_finished(run, tmp_path)
    text = out.getvalue()
    assert "pile-interop 0.1.0: profile ocpp16/core-cs (OCPP 1.6 Core - charging station)" in text
    assert "Acme Wallbox 7 1.2.3, station CP-0001, against reference, time scale 0.05" in text
    assert "5 cases: 1 pass, 1 fail, 1 warn, 1 na, 1 error, 0 skipped in 31.3 s" in text
    assert "does not meet OCPP 1.6 Core - charging station: 1 mandatory case failed" in text
    assert f"report: {tmp_path}" in text


def test_a_planned_run_counts_cases_and_shows_an_eta_from_the_bounds(run):
    out = io.StringIO()
    # the finished case took 1.25 s of its 10 s bound: the two left (60 s of bounds) are
    # expected to take the same share of theirs
    plan = [("TC_003_CS", 10.0), ("TC_021_CS", 20.0), ("TC_061_CS", 40.0)]
    progress = Progress(out, color=False, plan=plan)
    case = dict(case_by_id(run, "TC_003_CS"), duration_s=1.25)
    progress.case_finished(case)
    (line,) = out.getvalue().splitlines()
    assert line.startswith("[1/3] TC_003_CS  Regular Charging Session")
    assert line.index("pass") == WIDTH + 1  # the columns still line up
    assert progress.eta() == pytest.approx(60.0 * 1.25 / 10.0)
    assert line.endswith("1.25 s  ETA 8s")


def test_the_eta_never_exceeds_the_bounds_left(run):
    case = dict(case_by_id(run, "TC_003_CS"), duration_s=99.0)  # more than its bound
    progress = Progress(io.StringIO(), color=False, plan=[("TC_003_CS", 1.0), ("X", 7.0)])
    progress.case_finished(case)
    assert progress.eta() == 7.0


def test_the_last_case_has_no_eta_and_a_carried_case_no_line(run):
    out = io.StringIO()
    progress = Progress(out, color=False, plan=[("TC_003_CS", 10.0)])
    progress.case_finished(dict(case_by_id(run, "TC_021_CS"), origin={"report": "r"}))
    progress.case_finished(case_by_id(run, "TC_003_CS"))
    (line,) = out.getvalue().splitlines()
    assert line.startswith("[1/1] TC_003_CS") and "ETA" not in line


def test_the_summary_goes_to_its_own_stream(run, tmp_path):
    lines, summary = io.StringIO(), io.StringIO()
    progress = Progress(lines, color=False, summary=summary)
    progress.run_started(run)
    progress.run_finished(run, tmp_path)
    assert "profile ocpp16/core-cs" in lines.getvalue()
    assert "5 cases:" in summary.getvalue() and f"report: {tmp_path}" in summary.getvalue()
    assert "5 cases:" not in lines.getvalue()


def test_clock_text():
    assert [clock_text(s) for s in (0.2, 45, 125, 3725)] == ["<1s", "45s", "2m05s", "1h02m"]
