from __future__ import annotations

import io

from pile_interop.reporting.console import WIDTH, Progress

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
