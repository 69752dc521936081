"""A report never claims more than ran: interrupted runs have no verdict and list their unrun
cases as ``not_run`` in every writer, ``--case`` subsets are partial runs, and the runs appended
to one ``results.jsonl`` are told apart by their header lines."""

from __future__ import annotations

import copy
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from pile_interop.cli import load_run
from pile_interop.reporting.allure import write_allure
from pile_interop.reporting.console import Progress
from pile_interop.reporting.folder import run_header
from pile_interop.reporting.html import render_html
from pile_interop.reporting.junit import write_junit
from pile_interop.reporting.results_json import profile_verdict, run_verdict, summarize
from pile_interop.reporting.stream import JSONL_NAME, ResultsStream, read_jsonl, read_runs

from .conftest import PROFILE_TITLE

PLANNED = ["TC_A", "TC_B", "TC_C", "TC_D"]


def _case(case_id: str, verdict: str = "pass", *, mandatory: bool = True) -> dict[str, Any]:
    return {"id": case_id, "title": f"case {case_id}", "mandatory": mandatory, "verdict": verdict}


def _header(started: str, selection: list[str] | None = None) -> dict[str, Any]:
    run = {"profile": "ocpp16/core-cs", "profile_title": PROFILE_TITLE, "started": started}
    return run_header({**run, "planned": PLANNED, "selected": selection})


# -- the verdict ---------------------------------------------------------------------------


def test_an_interrupted_run_has_no_verdict_even_when_every_ended_case_passed():
    cases = [_case("TC_A"), _case("TC_B"), _case("TC_C", "not_run"), _case("TC_D", "not_run")]
    verdict = profile_verdict(cases, PROFILE_TITLE, interrupted=True)
    assert verdict == {
        "met": False,
        "text": f"interrupted — no verdict on {PROFILE_TITLE}: 2 of 4 cases not run",
        "state": "interrupted",
    }


def test_a_partial_run_is_judged_on_the_selected_cases_only():
    cases = [_case("TC_A"), _case("TC_B", "skipped"), _case("TC_C"), _case("TC_D", "skipped")]
    selection = {"cases": ["TC_A", "TC_C"], "selected": 2, "planned": 4}
    assert profile_verdict(cases, PROFILE_TITLE, selection=selection) == {
        "met": True,
        "text": f"partial run: 2 of 4 cases selected; meets {PROFILE_TITLE} for the selected cases",
        "state": "partial",
    }
    cases[2] = _case("TC_C", "fail")
    verdict = profile_verdict(cases, PROFILE_TITLE, selection=selection)
    assert verdict["met"] is False and verdict["state"] == "partial"
    assert verdict["text"] == (
        f"partial run: 2 of 4 cases selected; does not meet {PROFILE_TITLE}: "
        "1 mandatory case failed (selected cases only)"
    )


def test_a_complete_run_keeps_its_verdict_and_summary_unchanged():
    cases = [_case(c) for c in PLANNED]
    assert profile_verdict(cases, PROFILE_TITLE) == {"met": True, "text": f"meets {PROFILE_TITLE}"}
    assert "not_run" not in summarize(cases)  # the six verdicts only, as before
    run = {"profile_title": PROFILE_TITLE, "cases": cases, "interrupted": False}
    assert run_verdict(run) == profile_verdict(cases, PROFILE_TITLE)


def test_not_run_is_counted_in_the_summary_when_present():
    counts = summarize([_case("TC_A"), _case("TC_B", "not_run")])
    assert counts["not_run"] == 1 and counts["pass"] == 1 and counts["error"] == 0


# -- every writer renders not_run ----------------------------------------------------------


def _interrupted_run(run: dict[str, Any]) -> dict[str, Any]:
    interrupted = copy.deepcopy(run)
    unrun = copy.deepcopy(interrupted["cases"][-1])
    unrun.update(
        id="TC_NEVER",
        verdict="not_run",
        reason="not run: the run ended before this case did",
        steps=[],
        frames=[],
    )
    interrupted["cases"] = [*interrupted["cases"], unrun]
    interrupted.update(interrupted=True, finished=None)
    interrupted["summary"] = summarize(interrupted["cases"])
    interrupted["profile_verdict"] = run_verdict(interrupted)
    return interrupted


def test_junit_lists_a_not_run_case_as_skipped_with_a_message(tmp_path, run):
    path = write_junit(tmp_path / "junit.xml", _interrupted_run(run))
    root = ET.parse(path).getroot()
    case = next(c for c in root.iter("testcase") if c.get("name", "").startswith("TC_NEVER"))
    skipped = case.find("skipped")
    assert skipped is not None and skipped.get("message", "").startswith("not run: ")


def test_allure_lists_a_not_run_case_as_skipped(tmp_path, run):
    write_allure(tmp_path / "allure", _interrupted_run(run))
    results = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in (tmp_path / "allure").glob("*-result.json")
    ]
    [never] = [r for r in results if "TC_NEVER" in r["name"] or "TC_NEVER" in r["fullName"]]
    assert never["status"] == "skipped"


def test_html_and_console_say_not_run_and_no_verdict(run):
    interrupted = _interrupted_run(run)
    html = render_html(interrupted)
    assert "not_run" in html and "interrupted — no verdict" in html
    assert "meets" not in html.replace("does not meet", "")
    out = io.StringIO()
    Progress(out, color=False).run_finished(interrupted)
    text = out.getvalue()
    assert "1 not_run" in text and "(interrupted)" in text
    assert "interrupted — no verdict" in text


def test_a_complete_run_shows_no_not_run_column(run):
    out = io.StringIO()
    Progress(out, color=False).run_finished(run)
    assert "not_run" not in out.getvalue()
    assert "not_run" not in render_html(run).split("<body", 1)[1].split("<script", 1)[0]


# -- results.jsonl: runs told apart by their headers ---------------------------------------


def test_two_runs_appended_to_one_jsonl_are_told_apart_by_their_headers(tmp_path):
    first = ResultsStream(tmp_path)
    first.write_header(_header("2026-12-05T10:00:00.000Z"))
    for case_id in PLANNED:
        first.write_case(_case(case_id))
    first.write_end({"started": "2026-12-05T10:00:00.000Z", "finished": "x", "interrupted": False})
    second = ResultsStream(tmp_path)  # a second run into the same folder appends
    second.write_header(_header("2026-12-05T11:00:00.000Z", ["TC_B", "TC_D"]))
    second.write_case(_case("TC_B"))

    runs = read_runs(tmp_path / JSONL_NAME)
    assert [r.header["started"] for r in runs if r.header] == [
        "2026-12-05T10:00:00.000Z",
        "2026-12-05T11:00:00.000Z",
    ]
    assert [len(r.cases) for r in runs] == [4, 1]
    assert runs[0].end is not None and runs[1].end is None
    assert runs[1].header is not None and runs[1].header["selection"] == ["TC_B", "TC_D"]
    assert runs[0].header is not None and runs[0].header["planned"] == PLANNED
    # read_jsonl still returns the case lines only
    assert [c["id"] for c in read_jsonl(tmp_path / JSONL_NAME)] == [*PLANNED, "TC_B"]

    # the report of the folder is the newest run's: interrupted, its unrun case not_run
    run = load_run(tmp_path)
    assert run["started"] == "2026-12-05T11:00:00.000Z" and run["interrupted"] is True
    verdicts = {c["id"]: c["verdict"] for c in run["cases"]}
    assert verdicts == {"TC_A": "skipped", "TC_B": "pass", "TC_C": "skipped", "TC_D": "not_run"}
    assert run["selection"] == {"cases": ["TC_B", "TC_D"], "selected": 2, "planned": 4}
    assert run["profile_verdict"]["met"] is False
    assert run["profile_verdict"]["text"].startswith("interrupted — no verdict")
    assert "partial run: 2 of 4 cases selected" in run["profile_verdict"]["text"]


def test_a_finished_run_in_the_stream_rebuilds_as_it_ended(tmp_path):
    stream = ResultsStream(tmp_path)
    stream.write_header(_header("2026-12-05T10:00:00.000Z"))
    for case_id in PLANNED:
        stream.write_case(_case(case_id))
    stream.write_end({"started": "2026-12-05T10:00:00.000Z", "finished": "y", "interrupted": False})
    run = load_run(tmp_path)
    assert run["interrupted"] is False and "selection" not in run
    assert run["profile_verdict"] == {"met": True, "text": f"meets {PROFILE_TITLE}"}


def test_a_stream_without_headers_still_rebuilds_as_interrupted(tmp_path: Path):
    stream = ResultsStream(tmp_path)
    stream.write_case(_case("TC_A"))
    run = load_run(tmp_path)
    assert run["interrupted"] is True and [c["id"] for c in run["cases"]] == ["TC_A"]
    assert run["profile_verdict"]["text"].startswith("interrupted — no verdict")
