"""``pile-interop fleet`` as a user runs it: the report folder, Ctrl-C, and 1,000 stations."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pile_interop.cli import main

from .conftest import QUICK_16, ROOT, behaviour_file

#: Bound on a fleet subprocess ending after SIGINT.
EXIT_TIMEOUT_S = 60.0
#: Bound on the first live line of a fleet subprocess.
START_TIMEOUT_S = 60.0


def test_the_command_writes_the_report_folder(tmp_path: Path) -> None:
    path = behaviour_file(tmp_path, QUICK_16)
    out = tmp_path / "report"
    code = main(
        [
            "fleet",
            "--behaviour",
            str(path),
            "--stations",
            "8",
            "--against",
            "reference",
            "--duration",
            "4",
            "--out",
            str(out),
            "--threshold",
            "count Heartbeat >= 8",
        ]
    )
    assert code == 0
    result = json.loads((out / "fleet.json").read_text())
    assert result["verdict"] == "pass"
    assert [t["threshold"] for t in result["thresholds"]] == ["count Heartbeat >= 8"]
    page = (out / "index.html").read_text()
    assert "every threshold held" in page and "<svg" in page


def test_a_broken_threshold_exits_1_naming_it(tmp_path: Path) -> None:
    path = behaviour_file(tmp_path, QUICK_16)
    out = tmp_path / "report"
    code = main(
        [
            "fleet",
            "--behaviour",
            str(path),
            "--stations",
            "4",
            "--against",
            "reference",
            "--duration",
            "3",
            "--out",
            str(out),
            "--threshold",
            "p99 Heartbeat < 0.001ms",
        ]
    )
    assert code == 1
    result = json.loads((out / "fleet.json").read_text())
    assert result["reason"].startswith("p99 Heartbeat < 0.001ms broken: p99 Heartbeat = ")
    assert "p99 Heartbeat &lt; 0.001ms" in (out / "index.html").read_text()


def test_ctrl_c_writes_the_report_so_far(tmp_path: Path) -> None:
    path = behaviour_file(tmp_path, QUICK_16)
    out = tmp_path / "report"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pile_interop",
            "fleet",
            "--behaviour",
            str(path),
            "--stations",
            "5",
            "--against",
            "reference",
            "--duration",
            "120",
            "--out",
            str(out),
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while "connected 5/5" not in process.stderr.readline():
            assert time.monotonic() < deadline, "no live line showing 5 stations connected"
        process.send_signal(signal.SIGINT)
        assert process.wait(EXIT_TIMEOUT_S) == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(EXIT_TIMEOUT_S)
    result = json.loads((out / "fleet.json").read_text())
    assert result["interrupted"] is True
    assert result["actions"]["BootNotification"]["count"] == 5
    assert "interrupted" in (out / "index.html").read_text()


@pytest.mark.slow
def test_a_thousand_stations_against_the_reference_csms(tmp_path: Path) -> None:
    """The issue's CI run: 1,000 stations, short, every answer judged or sampled."""
    out = tmp_path / "report"
    code = main(
        [
            "fleet",
            "--behaviour",
            "smoke",
            "--root",
            str(ROOT),
            "--stations",
            "1000",
            "--against",
            "reference",
            "--duration",
            "20",
            "--out",
            str(out),
            "--threshold",
            "violations == 0",
            "--threshold",
            "count BootNotification >= 1000",
        ]
    )
    result = json.loads((out / "fleet.json").read_text())
    assert code == 0, result["reason"]
    assert result["connections"]["connected_peak"] == 1000
    assert result["totals"]["violations"] == 0
    assert 0 < result["sampling"]["rate"] <= 1.0
