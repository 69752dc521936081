from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET

from pile_interop.reporting import writer
from pile_interop.reporting.html import write_merge_html
from pile_interop.reporting.redact import Redactor
from pile_interop.reporting.writer import write_all

from .conftest import LEAKS, PASSWORD, STATION


def _all_files(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_write_all_writes_the_whole_report_folder(tmp_path, run, redactor):
    assert write_all(tmp_path, run, redactor=redactor) == []
    names = {p.relative_to(tmp_path).as_posix() for p in _all_files(tmp_path)}
    assert {"results.json", "junit.xml", "index.html"} <= names
    assert sum(n.startswith("allure-results/") and n.endswith("-result.json") for n in names) == 5
    json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    ET.parse(tmp_path / "junit.xml")


def test_no_secret_reaches_any_written_file(tmp_path, run, redactor):
    write_all(tmp_path, run, redactor=redactor)
    files = _all_files(tmp_path)
    assert len(files) > 8
    for path in files:
        data = path.read_bytes()
        for leak in LEAKS:
            assert leak.encode() not in data, f"{leak!r} leaked into {path.name}"


def test_one_failing_writer_does_not_stop_the_others(tmp_path, run, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(writer, "write_junit", broken)
    problems = write_all(tmp_path, run)
    assert problems == ["junit.xml: RuntimeError: boom"]
    assert (tmp_path / "results.json").is_file()
    assert (tmp_path / "index.html").is_file()
    assert list((tmp_path / "allure-results").glob("*-result.json"))
    assert not (tmp_path / "junit.xml").exists()
    assert "writing" in caplog.text


def test_index_html_footer_has_the_sha256_of_the_results_json_bytes(tmp_path, run):
    assert write_all(tmp_path, run) == []
    digest = hashlib.sha256((tmp_path / "results.json").read_bytes()).hexdigest()
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert f'<code id="evidence-sha256">{digest}</code>' in html
    assert "sha256sum results.json" in html


def test_without_results_json_the_page_hashes_the_run_and_says_so(tmp_path, run, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(writer, "write_results_json", broken)
    assert write_all(tmp_path, run) == ["results.json: OSError: disk full"]
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "No results.json was written with this page" in html


def test_what_the_device_descriptor_marks_secret_reaches_no_output(tmp_path, run):
    descriptor = {
        "station_id": STATION,
        "security": {"profile": 1, "basic_auth_password": PASSWORD},
        "secrets": ["MeterSeal-77ab91"],
        "actuator": {"type": "webhook", "url": "x", "headers": {"X-Api-Key": "hook-key-5521"}},
    }
    leaks = (*LEAKS, "MeterSeal-77ab91", "hook-key-5521", "station-reported-key")
    case = run["cases"][1]
    case["reason"] += " meter seal MeterSeal-77ab91, webhook hook-key-5521"
    case["frames"].append(
        {
            "seq": 9,
            "t": 0.3,
            "time": "2026-11-24T05:46:09.000Z",
            "dir": "in",
            "type": "CALLRESULT",
            "action": "GetConfiguration",
            "unique_id": "u9",
            "raw": '[3,"u9",{"configurationKey":[{"key":"AuthorizationKey","readonly":false,'
            '"value":"station-reported-key"}]}]',
            "findings": [],
        }
    )
    run["sut"]["declared"] = {**descriptor, "features": {"fixed_cable": False}}
    redactor = Redactor.for_descriptor(descriptor)
    assert write_all(tmp_path / "run", run, redactor=redactor) == []
    write_merge_html(
        tmp_path / "merge.html", [run, run], ["a MeterSeal-77ab91", "b"], redactor=redactor
    )
    files = _all_files(tmp_path)
    assert len(files) > 9
    for path in files:
        data = path.read_bytes()
        for leak in leaks:
            assert leak.encode() not in data, f"{leak!r} leaked into {path.name}"
    html = (tmp_path / "run" / "index.html").read_text(encoding="utf-8")
    assert "AuthorizationKey" in html and "***" in html  # masked, not dropped
