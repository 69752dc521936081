from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from pile_interop.reporting import writer
from pile_interop.reporting.writer import write_all

from .conftest import LEAKS


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
