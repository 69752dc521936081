from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from pile_interop.reporting.stream import JSONL_NAME, ResultsStream, read_jsonl

from .conftest import PASSWORD


def test_each_case_is_one_json_line(tmp_path, run):
    stream = ResultsStream(tmp_path / "out")
    for case in run["cases"]:
        stream.write_case(case)
    lines = (tmp_path / "out" / JSONL_NAME).read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(run["cases"])
    assert [json.loads(line)["id"] for line in lines] == [c["id"] for c in run["cases"]]
    assert read_jsonl(stream.path) == [json.loads(line) for line in lines]


def test_a_truncated_last_line_is_dropped_and_the_rest_kept(tmp_path, run, caplog):
    stream = ResultsStream(tmp_path)
    stream.write_case(run["cases"][0])
    stream.write_case(run["cases"][1])
    data = stream.path.read_bytes()
    stream.path.write_bytes(data[: len(data) - 40])
    cases = read_jsonl(stream.path)
    assert [c["id"] for c in cases] == ["TC_003_CS"]
    assert "cut short" in caplog.text


def test_a_cut_multibyte_character_does_not_break_reading(tmp_path):
    path = tmp_path / JSONL_NAME
    path.write_bytes(b'{"id": "A"}\n{"id": "\xc2')
    assert read_jsonl(path) == [{"id": "A"}]


def test_appending_after_a_crash_starts_a_new_line(tmp_path, run):
    stream = ResultsStream(tmp_path)
    stream.write_case(run["cases"][0])
    with stream.path.open("ab") as handle:
        handle.write(b'{"id": "TC_HALF", "tit')
    resumed = ResultsStream(tmp_path)
    resumed.write_case(run["cases"][2])
    assert [c["id"] for c in read_jsonl(stream.path)] == ["TC_003_CS", "TC_040_CS"]


def test_lines_are_redacted(tmp_path, run, redactor):
    stream = ResultsStream(tmp_path, redactor=redactor)
    stream.write_case(run["cases"][1])
    assert PASSWORD not in stream.path.read_text(encoding="utf-8")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_line_survives_a_sigkill_right_after_write_case(tmp_path):
    script = textwrap.dedent(
        f"""
        import os, signal
        from pile_interop.reporting.stream import ResultsStream
        stream = ResultsStream({str(tmp_path)!r})
        stream.write_case({{"id": "TC_001_CS", "verdict": "pass"}})
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-c", script], env=env, timeout=60, check=False)
    assert proc.returncode == -signal.SIGKILL
    assert read_jsonl(tmp_path / JSONL_NAME) == [{"id": "TC_001_CS", "verdict": "pass"}]
