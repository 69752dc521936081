"""A run killed with SIGKILL keeps every case that ended in ``results.jsonl``, and
``pile-interop report`` rebuilds the HTML report from that partial stream."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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


def test_a_run_killed_with_sigkill_keeps_every_ended_case(tmp_path: Path) -> None:
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
        while len(streamed(stream)) < 2 and time.monotonic() < deadline:
            assert process.poll() is None, "the run ended before it could be killed"
            time.sleep(POLL_S)
        assert process.poll() is None, "the run ended before it could be killed"
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(10)
    assert process.returncode == -signal.SIGKILL

    lines = stream.read_text().splitlines()
    assert len(lines) >= 2
    cases = [json.loads(line) for line in lines]  # every line parses: no torn write
    assert [c["id"] for c in cases] == CASES[: len(cases)]
    assert all(c["verdict"] == "pass" for c in cases), [c["reason"] for c in cases]

    # the stream alone is enough: no results.json, no index.html
    (out / "index.html").unlink(missing_ok=True)
    (out / "results.json").unlink(missing_ok=True)
    rebuilt = cli("report", str(out), timeout=60)
    assert rebuilt.returncode == 0, rebuilt.stderr
    html = (out / "index.html").read_text()
    for case in cases:
        assert case["id"] in html
