"""The CLI as a user meets it: exit codes, one-line errors, the report folder, Ctrl-C, --listen."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from pile_interop.reporting.stream import read_jsonl, read_runs
from tests.selftest.conftest import ROOT, cli, free_port

POLL_S = 0.1  # how often to look at a file another process writes


def one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pile-interop: error: ")
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_an_unknown_profile_is_exit_2_naming_the_known_ones():
    one_line_error(
        cli("run", "--profile", "ocpp16/nope", "--against", "reference"),
        "unknown profile 'ocpp16/nope'",
        "ocpp16/core-cs",
    )


def test_run_needs_a_target():
    one_line_error(cli("run", "--profile", "ocpp16/core-cs"), "--against", "--listen")


def test_listen_needs_a_device():
    one_line_error(
        cli("run", "--profile", "ocpp16/core-cs", "--listen", "127.0.0.1:0"),
        "--listen needs --device",
    )


def test_a_malformed_device_descriptor_names_file_and_line(tmp_path):
    bad = tmp_path / "dev.yaml"
    bad.write_text("role: cs\nocpp: '1.6'\nactuator: {type: prompt\n")
    one_line_error(
        cli("run", "--profile", "ocpp16/core-cs", "--against", "reference", "--device", str(bad)),
        f"{bad}:",
        "malformed YAML",
    )


def test_an_unknown_actuator_names_file_line_and_value(tmp_path):
    bad = tmp_path / "dev.yaml"
    bad.write_text("role: cs\nocpp: '1.6'\nactuator:\n  type: telepathy\n")
    one_line_error(
        cli("run", "--profile", "ocpp16/core-cs", "--listen", "127.0.0.1:0", "--device", str(bad)),
        f"{bad}:4:",
        "telepathy",
    )


def test_a_port_in_use_is_exit_2(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        one_line_error(
            cli(
                "run",
                "--profile",
                "ocpp16/core-cs",
                "--listen",
                f"127.0.0.1:{port}",
                "--device",
                "fixtures/devices/example-station16-lab.yaml",
                "--out",
                str(tmp_path),
            ),
            "port already in use",
        )


def test_a_malformed_case_file_names_file_and_line(quick_root):
    case = quick_root / "conformance"
    # work on a copy of the cases so the real ones stay untouched
    case.unlink()
    case.mkdir()
    (case / "TC_003_CS.yaml").write_text(
        (ROOT / "conformance/ocpp16/cs/TC_003_CS.yaml")
        .read_text()
        .replace("steps:", "steps:\n  - expect: [broken")
    )
    one_line_error(cli("list", "--root", str(quick_root)), "TC_003_CS.yaml:", "malformed YAML")


def test_an_unknown_case_flag_is_exit_2():
    one_line_error(
        cli("run", "--profile", "ocpp16/core-cs", "--against", "reference", "--case", "TC_999_CS"),
        "--case TC_999_CS",
    )


def test_list_json_shows_the_oca_ids_with_role_and_profile():
    result = cli("list", "--profile", "ocpp16/core-cs", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    ids = [r["id"] for r in rows]
    for must in (
        "TC_001_CS",
        "TC_002_CS",
        "TC_003_CS",
        "TC_004_1_CS",
        "TC_004_2_CS",
        "TC_010_CS",
        "TC_011_1_CS",
        "TC_011_2_CS",
        "TC_012_CS",
        "TC_013_CS",
        "TC_014_CS",
        "TC_017_1_CS",
        "TC_019_1_CS",
        "TC_019_2_CS",
        "TC_021_CS",
        "TC_023_1_CS",
        "TC_023_2_CS",
        "TC_023_3_CS",
        "TC_040_1_CS",
        "TC_040_2_CS",
        "TC_061_CS",
        "TC_064_CS",
    ):
        assert must in ids
    assert all(r["sut"] == "cs" and "ocpp16/core-cs" in r["profiles"] for r in rows)


def test_a_run_against_the_reference_writes_the_whole_report_folder(tmp_path):
    out = tmp_path / "report"
    result = cli(
        "run",
        "--profile",
        "ocpp16/core-cs",
        "--against",
        "reference",
        "--out",
        str(out),
        "--case",
        "TC_003_CS",
        "--case",
        "TC_040_1_CS",
    )
    assert result.returncode == 0, result.stderr
    assert "TC_003_CS" in result.stderr and "pass" in result.stderr
    for name in ("results.json", "results.jsonl", "junit.xml", "index.html"):
        assert (out / name).is_file(), name
    assert list((out / "allure-results").glob("*-result.json"))
    run = json.loads((out / "results.json").read_text())
    assert run["summary"]["pass"] == 2
    assert run["summary"]["skipped"] == len(run["cases"]) - 2  # the others: not selected
    # a partial run, labelled so, judged on the selected cases; the exit code agrees (0)
    planned = len(run["cases"])
    banner = f"partial run: 2 of {planned} cases selected; meets {run['profile_title']}"
    assert run["profile_verdict"] == {
        "met": True,
        "text": f"{banner} for the selected cases",
        "state": "partial",
    }
    assert run["selection"] == {
        "cases": ["TC_003_CS", "TC_040_1_CS"],
        "selected": 2,
        "planned": planned,
    }
    assert banner in result.stdout  # the summary on stdout, the progress on stderr
    assert "partial run: 2 of" in (out / "index.html").read_text()
    assert run["sut"]["vendor"] == "pile-interop"
    assert [c["id"] for c in read_jsonl(out / "results.jsonl")] == ["TC_003_CS", "TC_040_1_CS"]
    [streamed] = read_runs(out / "results.jsonl")
    assert streamed.header is not None and streamed.end is not None
    assert streamed.header["selection"] == ["TC_003_CS", "TC_040_1_CS"]
    assert len(streamed.header["planned"]) == planned
    assert streamed.end["interrupted"] is False


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


#: Real seconds a run may take to stop after Ctrl-C (the campaign's own stop bounds sum to 30).
CTRL_C_BOUND_S = 45


def test_ctrl_c_keeps_every_ended_case_and_marks_the_run_interrupted(tmp_path):
    out = tmp_path / "report"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pile_interop",
            "run",
            "--profile",
            "ocpp16/core-cs",
            "--against",
            "reference",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a process that does not stop dumps every thread's stack on SIGABRT (below)
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},
        # a test runner's worker may ignore SIGINT, and a child inherits that: Python then
        # installs no KeyboardInterrupt handler, and Ctrl-C would do nothing (as for a job
        # started in the background); the run is started as a terminal starts it
        preexec_fn=_default_sigint,
    )
    deadline = time.monotonic() + 60
    jsonl = out / "results.jsonl"
    while time.monotonic() < deadline:  # wait until two cases have ended (after the header)
        if jsonl.is_file() and len(jsonl.read_text().splitlines()) >= 3:
            break
        time.sleep(POLL_S)  # polling a file another process writes
    lines = len(jsonl.read_text().splitlines()) if jsonl.is_file() else 0
    process.send_signal(signal.SIGINT)
    try:
        _stdout, stderr = process.communicate(timeout=CTRL_C_BOUND_S)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        _stdout, stderr = process.communicate()
        pytest.fail(
            f"no exit {CTRL_C_BOUND_S} s after Ctrl-C ({lines} results.jsonl lines when it "
            f"was sent); its stderr:\n{stderr[-12000:]}"
        )
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    run = json.loads((out / "results.json").read_text())
    assert run["interrupted"] is True
    ended = [c["id"] for c in run["cases"] if c["verdict"] != "not_run"]
    not_run = [c for c in run["cases"] if c["verdict"] == "not_run"]
    assert not_run and all(c["reason"].startswith("not run") for c in not_run)
    assert len(ended) + len(not_run) == len(run["cases"])  # every planned case is listed
    assert ended[:2] == ["TC_001_CS", "TC_002_CS"]
    assert run["profile_verdict"]["met"] is False
    assert run["profile_verdict"]["text"].startswith("interrupted — no verdict")
    assert "meets" not in stderr
    [streamed] = read_runs(jsonl)
    assert [c["id"] for c in streamed.cases] == ended
    assert streamed.end is not None and streamed.end["interrupted"] is True
    assert (out / "index.html").is_file()


def test_report_rebuilds_from_the_jsonl_stream_alone(tmp_path):
    out = tmp_path / "report"
    assert (
        cli(
            "run",
            "--profile",
            "ocpp16/core-cs",
            "--against",
            "reference",
            "--out",
            str(out),
            "--case",
            "TC_040_1_CS",
        ).returncode
        == 0
    )
    for name in ("results.json", "junit.xml", "index.html"):
        (out / name).unlink()
    result = cli("report", str(out))
    assert result.returncode == 0, result.stderr
    assert "TC_040_1_CS" in (out / "junit.xml").read_text()
    assert "TC_040_1_CS" in (out / "index.html").read_text()


def test_listen_mode_with_the_webhook_actuator_against_the_standalone_simulator(tmp_path):
    """Two processes, as on a bench: the simulator connects to the suite, the suite performs
    manual actions through the simulator's HTTP control API (the webhook actuator)."""
    ws_port, control_port = free_port(), free_port()
    device = tmp_path / "bench.yaml"
    device.write_text(
        "role: cs\nocpp: '1.6'\nvendor: pile-interop\nstation_id: BENCH-1\nconnectors: 2\n"
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
            "--csms-url",
            f"ws://127.0.0.1:{ws_port}/ocpp",
            "--station-id",
            "BENCH-1",
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
            "ocpp16/core-cs",
            "--listen",
            f"127.0.0.1:{ws_port}",
            "--device",
            str(device),
            "--time-scale",
            "0.1",
            "--out",
            str(tmp_path / "r"),
            "--case",
            "TC_003_CS",
            "--case",
            "TC_012_CS",
            "--case",
            "TC_013_CS",
        )
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "r/results.json").read_text())
    ran = {c["id"]: c["verdict"] for c in run["cases"] if c["verdict"] != "skipped"}
    assert ran == {"TC_003_CS": "pass", "TC_012_CS": "pass", "TC_013_CS": "pass"}


def test_a_station_that_never_connects_gives_error_verdicts_with_the_reason(quick_root, tmp_path):
    out = tmp_path / "r"
    started = time.monotonic()
    tester, terminal = os.openpty()  # a prompt run needs a terminal
    os.write(tester, b"\n")  # the tester confirms the recovery's power cycle, nothing else
    try:
        result = _never_connects(quick_root, out, terminal)
    finally:
        os.close(tester)
        os.close(terminal)
    assert result.returncode == 1, result.stderr
    assert time.monotonic() - started < 30
    run = json.loads((out / "results.json").read_text())
    verdicts = {c["id"]: (c["verdict"], c["reason"]) for c in run["cases"] if c["started"]}
    assert verdicts["TC_003_CS"][0] == "error"
    assert "did not connect within 1.5 s (timeouts.connect = 1.5 s)" in verdicts["TC_003_CS"][1]
    assert "after power_cycle it did not connect within 1.5 s either" in verdicts["TC_003_CS"][1]
    assert verdicts["TC_012_CS"][0] == "error"
    assert "never connected" in verdicts["TC_012_CS"][1]
    assert len(verdicts) == 3


def test_a_prompt_run_without_a_terminal_is_refused_at_start(quick_root, tmp_path):
    result = _never_connects(quick_root, tmp_path / "r", subprocess.DEVNULL)
    one_line_error(result, "prompt actuator needs a terminal")


def _never_connects(quick_root, out, stdin) -> subprocess.CompletedProcess[str]:
    return cli(
        "run",
        "--root",
        str(quick_root),
        "--profile",
        "ocpp16/core-cs",
        "--listen",
        f"127.0.0.1:{free_port()}",
        "--device",
        str(ROOT / "fixtures/devices/example-station16-lab.yaml"),
        "--out",
        str(out),
        "--case",
        "TC_003_CS",
        "--case",
        "TC_012_CS",
        "--case",
        "TC_040_1_CS",
        stdin=stdin,
    )
