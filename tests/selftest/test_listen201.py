"""OCPP 2.0.1 on a bench: two processes, the standalone reference station connects to the
suite (``--listen``), the suite performs the manual actions over the station's HTTP control
API (the webhook actuator)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.selftest.conftest import ROOT, cli, free_port

CASES = ["TC_B_06_CS", "TC_E_04_CS", "TC_F_06_CS"]


def test_listen_mode_with_the_webhook_actuator_against_the_standalone_201_station(tmp_path):
    ws_port, control_port = free_port(), free_port()
    device = tmp_path / "bench201.yaml"
    device.write_text(
        "role: cs\nocpp: '2.0.1'\nvendor: pile-interop\nstation_id: BENCH-201\nconnectors: 2\n"
        f"actuator: {{type: webhook, url: 'http://127.0.0.1:{control_port}/actions'}}\n"
        "features: {fixed_cable: false, authorization_cache: true}\n"
    )
    simulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pile_interop",
            "serve-reference",
            "station",
            "--ocpp",
            "2.0.1",
            "--csms-url",
            f"ws://127.0.0.1:{ws_port}/ocpp",
            "--station-id",
            "BENCH-201",
            "--time-scale",
            "0.1",
            "--control",
            f"127.0.0.1:{control_port}",
        ],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        result = cli(
            "run",
            "--profile",
            "ocpp201/core-cs",
            "--listen",
            f"127.0.0.1:{ws_port}",
            "--device",
            str(device),
            "--time-scale",
            "0.1",
            "--out",
            str(tmp_path / "r"),
            *[arg for case in CASES for arg in ("--case", case)],
        )
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "r/results.json").read_text())
    ran = {c["id"]: c["verdict"] for c in run["cases"] if c["verdict"] != "skipped"}
    assert ran == dict.fromkeys(CASES, "pass"), result.stderr
    assert run["sut"]["ocpp"] == "2.0.1"
