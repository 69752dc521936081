from __future__ import annotations

import json
import os

import pytest

from pile_interop.reporting.results_json import (
    RESULTS_NAME,
    profile_verdict,
    summarize,
    write_results_json,
)

from .conftest import PASSWORD, PROFILE_TITLE


def test_results_json_is_the_run_indented_in_utf8(tmp_path, run):
    path = write_results_json(tmp_path, run)
    assert path == tmp_path / RESULTS_NAME
    text = path.read_text(encoding="utf-8")
    assert text.startswith('{\n  "suite": "pile-interop"')
    assert "§4.8" in text  # UTF-8, not \u escapes
    assert json.loads(text)["cases"][0]["id"] == "TC_003_CS"


def test_write_replaces_atomically_and_leaves_no_temp_file(tmp_path, run):
    write_results_json(tmp_path, {"old": True})
    write_results_json(tmp_path, run)
    assert sorted(p.name for p in tmp_path.iterdir()) == [RESULTS_NAME]
    assert json.loads((tmp_path / RESULTS_NAME).read_text())["profile"] == run["profile"]


def test_a_failed_write_keeps_the_old_file_and_no_temp_file(tmp_path, run, monkeypatch):
    write_results_json(tmp_path, {"old": True})

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_results_json(tmp_path, run)
    assert sorted(p.name for p in tmp_path.iterdir()) == [RESULTS_NAME]
    assert json.loads((tmp_path / RESULTS_NAME).read_text()) == {"old": True}


def test_results_json_is_redacted(tmp_path, run, redactor):
    path = write_results_json(tmp_path, run, redactor=redactor)
    assert PASSWORD not in path.read_text(encoding="utf-8")


def test_lone_surrogates_from_a_malformed_frame_round_trip(tmp_path, run):
    run["cases"][0]["frames"][0]["raw"] = "bad \ud800 frame"
    path = write_results_json(tmp_path, run)
    assert json.loads(path.read_text(encoding="utf-8"))["cases"][0]["frames"][0]["raw"] == (
        "bad \ud800 frame"
    )


def test_summarize_counts_every_verdict(run):
    assert summarize(run["cases"]) == {
        "pass": 1,
        "fail": 1,
        "warn": 1,
        "na": 1,
        "error": 1,
        "skipped": 0,
    }
    assert summarize([]) == dict.fromkeys(("pass", "fail", "warn", "na", "error", "skipped"), 0)


def test_summarize_counts_an_unknown_verdict_as_error():
    assert summarize([{"id": "X", "verdict": "maybe"}])["error"] == 1


def test_profile_verdict_of_the_sample_run(run):
    assert profile_verdict(run["cases"], PROFILE_TITLE) == run["profile_verdict"]


def test_profile_is_met_when_mandatory_cases_pass_warn_or_are_na():
    cases = [
        {"mandatory": True, "verdict": "pass"},
        {"mandatory": True, "verdict": "warn"},
        {"mandatory": True, "verdict": "na"},
        {"mandatory": False, "verdict": "fail"},
    ]
    assert profile_verdict(cases, PROFILE_TITLE) == {
        "met": True,
        "text": "meets OCPP 1.6 Core - charging station",
    }


def test_profile_verdict_text_counts_failures_errors_and_skips():
    cases = [{"mandatory": True, "verdict": "fail"}] * 3 + [
        {"mandatory": True, "verdict": "error"},
        {"mandatory": True, "verdict": "pass"},
    ]
    assert profile_verdict(cases, PROFILE_TITLE) == {
        "met": False,
        "text": "does not meet OCPP 1.6 Core - charging station: 3 mandatory cases failed, 1 error",
    }
    cases = [{"mandatory": True, "verdict": "error"}] * 2 + [
        {"mandatory": True, "verdict": "skipped"},
    ]
    assert profile_verdict(cases, "P")["text"] == (
        "does not meet P: 2 errors, 1 mandatory case skipped"
    )


def test_profile_is_not_met_when_no_case_ran():
    expected = {"met": False, "text": f"does not meet {PROFILE_TITLE}: no case ran"}
    assert profile_verdict([], PROFILE_TITLE) == expected
    assert profile_verdict([{"mandatory": True, "verdict": "skipped"}], PROFILE_TITLE) == expected
