from __future__ import annotations

import json

from allure_commons.utils import md5

from pile_interop.reporting.allure import write_allure
from pile_interop.reporting.allure_labels import labels

from .conftest import PROFILE


def _results(folder):
    results = [json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*-result.json")]
    return {r["testCaseId"]: r for r in results}


def _labels(result, name):
    return [label["value"] for label in result["labels"] if label["name"] == name]


def test_one_result_per_case_with_mapped_status(tmp_path, run):
    results = _results(write_allure(tmp_path / "allure-results", run))
    assert {k: r["status"] for k, r in results.items()} == {
        "TC_003_CS": "passed",
        "TC_021_CS": "failed",
        "TC_040_CS": "skipped",
        "TC_061_CS": "broken",
        "TC_010_CS": "passed",
    }
    warned = results["TC_010_CS"]
    assert warned["statusDetails"]["message"].startswith("warning (SHOULD not met)")


def test_names_ids_and_labels(tmp_path, run):
    result = _results(write_allure(tmp_path, run))["TC_021_CS"]
    assert result["name"] == "TC_021_CS Change Configuration - AuthorizationKey"
    assert result["fullName"] == f"{PROFILE}.TC_021_CS"
    assert result["historyId"] == md5(PROFILE, "TC_021_CS")
    assert _labels(result, "suite") == [PROFILE]
    assert _labels(result, "feature") == ["Core"]
    assert _labels(result, "severity") == ["critical"]
    assert _labels(result, "as_id") == ["TC_021_CS"]
    assert "ocpp1.6" in _labels(result, "tag")
    assert result["statusDetails"]["message"].startswith("[OCPP1.6 §5.3]")
    assert "observed: CALLERROR" in result["statusDetails"]["trace"]
    na = _results(write_allure(tmp_path, run))["TC_040_CS"]
    assert _labels(na, "severity") == ["normal"]


def test_history_id_is_stable_across_writes(tmp_path, run):
    first = _results(write_allure(tmp_path / "a", run))
    second = _results(write_allure(tmp_path / "b", run))
    assert {k: r["historyId"] for k, r in first.items()} == {
        k: r["historyId"] for k, r in second.items()
    }


def test_times_are_ms_since_epoch_and_steps_are_relative_to_the_case(tmp_path, run):
    result = _results(write_allure(tmp_path, run))["TC_021_CS"]
    start = 1795499163000  # 2026-11-24T05:46:03.000Z
    assert result["start"] == start
    assert result["stop"] == start + 2500
    steps = result["steps"]
    assert [s["status"] for s in steps] == ["passed", "failed"]
    assert steps[1]["start"] == start + 200
    assert steps[1]["stop"] == start + 250
    params = {p["name"]: p["value"] for p in steps[1]["parameters"]}
    assert params["expected"] == "ChangeConfiguration.conf {status: Accepted}"
    assert params["requirement"] == "OCPP1.6 §5.3"


def test_wire_log_is_a_json_attachment(tmp_path, run):
    folder = write_allure(tmp_path, run)
    result = _results(folder)["TC_021_CS"]
    (attachment,) = result["attachments"]
    assert attachment["name"] == "wire log"
    assert attachment["type"] == "application/json"
    frames = json.loads((folder / attachment["source"]).read_text(encoding="utf-8"))
    assert [f["seq"] for f in frames] == [4, 5, 6]
    assert frames[2]["raw"].endswith('\x01 done",{}]')
    assert "attachments" not in _results(folder)["TC_040_CS"]


def test_rewriting_replaces_the_earlier_results(tmp_path, run):
    write_allure(tmp_path, run)
    write_allure(tmp_path, run)
    assert len(list(tmp_path.glob("*-result.json"))) == len(run["cases"])
    assert len(list(tmp_path.glob("*-attachment.json"))) == 3
    env = (tmp_path / "environment.properties").read_text(encoding="utf-8")
    assert "sut.vendor=Acme" in env


def test_the_labels_are_the_one_mapping(tmp_path, run):
    """The writer labels with :func:`allure_labels.labels`, which the pytest plugin uses too;
    without a run dict (a pytest item) a case gets the same labels from its own fields."""
    results = _results(write_allure(tmp_path, run))
    for case in run["cases"]:
        written = [(x["name"], x["value"]) for x in results[case["id"]]["labels"]]
        assert written == labels(case, run)
        assert labels(case) == written
    failed = dict(labels(next(c for c in run["cases"] if c["id"] == "TC_021_CS")))
    assert failed["parentSuite"] == "pile-interop" and failed["epic"] == "OCPP 1.6"


def test_categories_tell_sut_failures_harness_errors_na_and_not_run_apart(tmp_path, run):
    """The messages each verdict gets match exactly its own category (Allure 2 matches the
    whole message; Allure 3 the same regexes as JavaScript)."""
    import re

    from pile_interop.reporting.allure_labels import CATEGORIES

    folder = write_allure(tmp_path / "allure-results", run)
    assert json.loads((folder / "categories.json").read_text()) == CATEGORIES
    results = _results(folder)

    def categories(result):
        message = (result.get("statusDetails") or {}).get("message") or ""
        return [
            c["name"]
            for c in CATEGORIES
            if result["status"] in c["matchedStatuses"]
            and re.fullmatch(c.get("messageRegex", "[\\s\\S]*"), message)
        ]

    names = [c["name"] for c in CATEGORIES]
    assert categories(results["TC_021_CS"]) == [names[0]]  # fail
    assert categories(results["TC_061_CS"]) == [names[1]]  # error
    assert categories(results["TC_040_CS"]) == [names[2]]  # na
    not_run = dict(run["cases"][0], id="TC_099_CS", verdict="not_run", reason="not run: …")
    again = write_allure(tmp_path / "again", dict(run, cases=[not_run]))
    assert categories(_results(again)["TC_099_CS"]) == [names[3]]


def test_the_report_is_named_after_the_profile_for_allure_2_and_3(tmp_path, run):
    from pile_interop.reporting.allure import write_allure_config

    folder = write_allure(tmp_path / "allure-results", run)
    name = f"{run['profile_title']} ({PROFILE})"
    assert json.loads((folder / "executor.json").read_text())["reportName"] == name
    config = json.loads(write_allure_config(tmp_path, run).read_text())
    assert config["name"] == name and config["categories"]


def test_each_case_links_to_its_id_and_its_requirements(tmp_path, run, monkeypatch):
    from pile_interop.reporting.allure_labels import REPORT_URL_ENV

    monkeypatch.delenv(REPORT_URL_ENV, raising=False)
    failed = _results(write_allure(tmp_path / "a", run))["TC_021_CS"]
    assert failed["links"][0] == {
        "type": "tms",
        "name": "TC_021_CS",
        "url": "../index.html#case-TC_021_CS",
    }
    requirement = failed["links"][1]
    assert requirement["type"] == "requirement"
    assert requirement["url"] == "../index.html#case-TC_021_CS-req-1"
    monkeypatch.setenv(REPORT_URL_ENV, "https://ci/r/index.html")
    again = _results(write_allure(tmp_path / "b", run))["TC_021_CS"]
    assert again["links"][0]["url"] == "https://ci/r/index.html#case-TC_021_CS"
