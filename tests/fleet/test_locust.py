"""The fleet under Locust's master / worker mode on loopback: a master and two workers
(subprocesses, bounded, killed at the end); OCPP actions are Locust request types and the
master's statistics sum the stations of both workers."""

from __future__ import annotations

import csv
import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, behaviour_file

# never import locust here: importing it monkey-patches this whole process for gevent
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None, reason="locust is not installed"
)

LOCUSTFILE = ROOT / "src" / "pile_interop" / "fleet" / "locustfile.py"
#: Bound on the whole Locust run (10 s of load, start-up and shutdown).
RUN_TIMEOUT_S = 120.0
STATIONS_PER_USER = 10

BEHAVIOUR = """\
id: fleet/locust-test
mix:
  - {ocpp: "1.6"}
  - {ocpp: "2.0.1"}
ramp: {per_second: 100}
heartbeat_s: 1
transactions: {every_s: 3, duration_s: 2, meter_interval_s: 0.5}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_master_and_two_workers_sum_their_stations(tmp_path: Path) -> None:
    behaviour = behaviour_file(tmp_path, BEHAVIOUR)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    locust = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    fleet = [
        "--fleet-behaviour",
        str(behaviour),
        "--fleet-against",
        "reference",
        "--fleet-stations-per-user",
        str(STATIONS_PER_USER),
        "--fleet-out",
        str(tmp_path / "fleets"),
    ]
    master = subprocess.Popen(
        [
            *locust,
            "--master",
            "--headless",
            "-u",
            "2",
            "-r",
            "2",
            "-t",
            "10s",
            "--expect-workers",
            "2",
            "--expect-workers-max-wait",
            "60",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(port),
            "--csv",
            str(tmp_path / "stats"),
            *fleet,
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    workers = [
        subprocess.Popen(
            [*locust, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port), *fleet],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        output, _ = master.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        for process in (master, *workers):
            if process.poll() is None:
                process.kill()
            process.wait(RUN_TIMEOUT_S)
    rows = {
        (row["Type"], row["Name"]): row
        for row in csv.DictReader((tmp_path / "stats_stats.csv").open())
    }
    total = 2 * STATIONS_PER_USER
    assert int(rows[("OCPP", "BootNotification")]["Request Count"]) == total, output
    for action in ("Heartbeat", "StatusNotification", "StartTransaction", "TransactionEvent"):
        assert int(rows[("OCPP", action)]["Request Count"]) > 0, action
    assert int(rows[("", "Aggregated")]["Failure Count"]) == 0
    assert f"fleet: {total} stations connected across 2 workers (peak)" in output
    # each worker's fleet process wrote its report when Locust stopped it
    assert len(list((tmp_path / "fleets").glob("*/fleet.json"))) == 2
