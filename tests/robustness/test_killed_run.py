"""A run killed with SIGKILL keeps every case that ended in ``results.jsonl``, and
``pile-interop report`` rebuilds the report from it as an interrupted run: every planned case
that did not end listed as ``not_run``, no verdict (never "meets")."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pile_interop.reporting.stream import read_runs
from tests.selftest.conftest import ROOT, cli

#: Quick cases first, then two that take seconds (the kill lands in one of them).
CASES = ["TC_003_CS", "TC_019_2_CS", "TC_070_CS", "TC_071_CS"]
#: Bound on waiting for the first two cases to be streamed.
STREAM_BOUND_S = 30.0
POLL_S = 0.05


def streamed(path: Path) -> list[str]:
    """The complete lines of ``results.jsonl`` so far."""
    if not path.exists():
        return []
    text = path.read_text()
    return text.splitlines() if text.endswith("\n") else text.splitlines()[:-1]


@pytest.mark.parametrize("keep_results_json", [True, False], ids=["with-json", "jsonl-alone"])
def test_a_run_killed_with_sigkill_keeps_every_ended_case(
    tmp_path: Path, keep_results_json: bool
) -> None:
    out = tmp_path / "out"
    selection = [arg for case in CASES for arg in ("--case", case)]
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "pile_interop", "run", "--profile", "ocpp16/core-cs"),
            *("--against", "reference", "--out", str(out), *selection),
        ],
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stream = out / "results.jsonl"
    try:
        deadline = time.monotonic() + STREAM_BOUND_S
        while len(streamed(stream)) < 3 and time.monotonic() < deadline:  # header + 2 cases
            assert process.poll() is None, "the run ended before it could be killed"
            time.sleep(POLL_S)
        assert process.poll() is None, "the run ended before it could be killed"
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(10)
    assert process.returncode == -signal.SIGKILL

    lines = stream.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line parses: no torn write
    header, cases = records[0], records[1:]
    assert header["record"] == "run" and header["selection"] == CASES
    assert len(header["planned"]) > len(CASES)  # the whole profile, in profile order
    assert len(cases) >= 2
    assert [c["id"] for c in cases] == CASES[: len(cases)]
    assert all(c["verdict"] == "pass" for c in cases), [c["reason"] for c in cases]
    [run] = read_runs(stream)
    assert run.end is None  # killed: the run never finished

    (out / "index.html").unlink(missing_ok=True)
    if not keep_results_json:  # the stream alone is enough
        (out / "results.json").unlink(missing_ok=True)
    rebuilt = cli("report", str(out), timeout=60)
    assert rebuilt.returncode == 130, rebuilt.stderr  # as the run: no verdict, never 0
    assert "interrupted — no verdict" in rebuilt.stderr and "meets" not in rebuilt.stderr
    html = (out / "index.html").read_text()
    for case in cases:
        assert case["id"] in html
    assert "meets" not in html and "interrupted — no verdict" in html
    result = json.loads((out / "results.json").read_text())
    assert result["interrupted"] is True and result["finished"] is None
    assert result["profile_verdict"]["met"] is False
    assert result["profile_verdict"]["text"].startswith("interrupted — no verdict")
    verdicts = {c["id"]: c["verdict"] for c in result["cases"]}
    assert set(verdicts) == set(header["planned"])  # every planned case is listed
    unrun = [c for c in CASES if c not in {case["id"] for case in cases}]
    assert unrun and all(verdicts[c] == "not_run" for c in unrun)
    # named as in a finished run (from results.json, or else from the profile)
    assert all(c["title"] and isinstance(c["mandatory"], bool) for c in result["cases"])
    others = set(header["planned"]) - set(CASES)
    assert all(verdicts[c] == "skipped" for c in others)  # not selected (--case)
    assert result["summary"]["not_run"] == len(unrun)
    assert result["selection"]["selected"] == len(CASES)
    junit = (out / "junit.xml").read_text()
    assert junit.count('message="not run: ') == len(unrun)
