"""The suite as a charging station of a CSMS under test: the Core profile against the reference
CSMS, a CSMS in another process driven by the webhook actuator, and how a CSMS that cannot be
reached or refuses the station is reported."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ocpp.v16 import call_result

from pile_interop.actuators.reference import ReferenceActuator
from pile_interop.core.config import load_device
from pile_interop.engine.base import Target
from pile_interop.engine.targets import make_campaign
from pile_interop.ocpp.v16.reference.csms import ReferenceCsms
from tests.mutants.catalogue import load, run_sut
from tests.selftest.conftest import ROOT, cli, free_port
from tests.selftest.test_cli import one_line_error

PROFILE = "ocpp16/core-csms"
POLL_S = 0.1


def test_every_case_of_ocpp16_core_csms_passes_against_the_reference_csms():
    results = asyncio.run(asyncio.wait_for(run_sut(None, profile_id=PROFILE), 120))
    assert {c: r["verdict"] for c, r in results.items() if r["verdict"] != "pass"} == {}
    assert len(results) >= 30
    for cid, result in results.items():
        assert all(s["verdict"] in ("pass", "skipped") for s in result["steps"]), cid
        assert any(f["dir"] == "in" for f in result["frames"]), f"{cid} saw no CSMS answer"


def test_the_cli_run_against_the_reference_csms_writes_a_report(tmp_path):
    result = cli("run", "--profile", PROFILE, "--against", "reference", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "results.json").read_text())
    assert run["sut"]["role"] == "csms"
    assert run["summary"]["pass"] == len(run["cases"])
    assert (tmp_path / "index.html").exists() and (tmp_path / "junit.xml").exists()


def test_an_unreachable_csms_is_exit_2_in_seconds(tmp_path):
    port = free_port()  # nothing listens there
    device = ROOT / "fixtures/devices/example-csms-lab.yaml"
    started = time.monotonic()
    result = cli(
        "run",
        "--profile",
        PROFILE,
        "--connect",
        f"ws://127.0.0.1:{port}/ocpp",
        "--device",
        str(device),
        "--out",
        str(tmp_path),
    )
    one_line_error(result, f"127.0.0.1:{port}", "connection refused")
    assert time.monotonic() - started < 15


def test_connect_needs_a_device_and_a_ws_url(tmp_path):
    one_line_error(
        cli("run", "--profile", PROFILE, "--connect", "ws://127.0.0.1:9/ocpp"), "--device"
    )
    device = ROOT / "fixtures/devices/example-csms-lab.yaml"
    one_line_error(
        cli("run", "--profile", PROFILE, "--connect", "http://x/ocpp", "--device", str(device)),
        "ws://",
    )


def test_a_csms_that_refuses_the_password_gives_errors_naming_http_401(tmp_path):
    """A refused basic-auth is not a crash: every case says the CSMS answered HTTP 401."""
    device_file = tmp_path / "csms.yaml"
    device_file.write_text(
        "role: csms\nocpp: '1.6'\nstation_id: PI-MOCK-CS-01\nconnectors: 2\n"
        "actuator: {type: prompt}\n"
        "security: {profile: 1, basic_auth_password: wrong-password-123}\n"
        "tokens: {valid: PI-VALID-01}\n"
    )

    async def scenario() -> list[dict]:
        profile, everything, _ = load(PROFILE)
        csms = ReferenceCsms(passwords={"PI-MOCK-CS-01": "right-password-456"})
        await csms.start()
        try:
            campaign = make_campaign(
                profile,
                load_device(device_file),
                Target("connect", time_scale=0.1, floor=1.0),
                url=csms.url,
            )
            async with campaign:
                return [await campaign.run_case(s) for s in everything[:2]]
        finally:
            await csms.stop()

    results = asyncio.run(asyncio.wait_for(scenario(), 60))
    for result in results:
        assert result["verdict"] == "error"
        assert "HTTP 401" in result["reason"]
        assert "wrong-password-123" not in json.dumps(result)


@pytest.mark.slow
def test_the_standalone_reference_csms_with_the_webhook_actuator(tmp_path):
    """Two processes: the suite connects to `serve-reference csms` and triggers its operator
    actions over its HTTP control API (the webhook actuator), as a vendor's CI would."""
    ws_port, control_port = free_port(), free_port()
    device = tmp_path / "csms.yaml"
    device.write_text(
        "role: csms\nocpp: '1.6'\nstation_id: BENCH-CS-1\nconnectors: 2\n"
        f"url: ws://127.0.0.1:{ws_port}/ocpp\n"
        f"actuator: {{type: webhook, url: 'http://127.0.0.1:{control_port}/actions'}}\n"
        "tokens: {valid: PI-VALID-01, blocked: PI-BLOCKED}\n"
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pile_interop",
            "serve-reference",
            "csms",
            "--listen",
            f"127.0.0.1:{ws_port}",
            "--id-tag",
            "PI-VALID-01=Accepted",
            "--id-tag",
            "PI-BLOCKED=Blocked",
            "--control",
            f"127.0.0.1:{control_port}",
        ],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(ws_port)
        cases = ["TC_010_CSMS", "TC_012_CSMS", "TC_013_CSMS", "TC_023_3_CSMS"]
        result = cli(
            "run",
            "--profile",
            PROFILE,
            "--device",
            str(device),
            "--out",
            str(tmp_path / "r"),
            *[arg for case in cases for arg in ("--case", case)],
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "r/results.json").read_text())
    ran = {c["id"]: c["verdict"] for c in run["cases"] if c["verdict"] != "skipped"}
    assert ran == dict.fromkeys(cases, "pass")


def _wait_for_port(port: int, bound: float = 20.0) -> None:
    import socket

    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(POLL_S)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {bound} s")


def test_the_example_lab_descriptor_loads():
    device = load_device(Path(ROOT) / "fixtures/devices/example-csms-lab.yaml")
    assert device.role == "csms" and device.url and device.url.startswith("ws://")


def test_the_security_profile_passes_against_the_reference_csms_without_leaking_secrets(tmp_path):
    result = cli(
        "run", "--profile", "ocpp16/security-csms", "--against", "reference", "--out", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "results.json").read_text())
    assert {c["verdict"] for c in run["cases"]} == {"pass"}
    assert len(run["cases"]) >= 10
    password = "pi-mock-station-authorization-key"  # reference-csms16-secure.yaml
    for path in tmp_path.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert "PRIVATE KEY" not in text, path
            assert password not in text, path
            # TC_073: the new AuthorizationKey (40 hex digits, generated by the CSMS)
            assert not re.search(r"(?<![0-9a-fA-F])[0-9a-fA-F]{40}(?![0-9a-fA-F])", text), path


def test_a_missing_ca_certificate_is_exit_2_naming_the_file(tmp_path):
    device = tmp_path / "csms.yaml"
    device.write_text(
        "role: csms\nocpp: '1.6'\nstation_id: CS-1\nconnectors: 1\nactuator: {type: prompt}\n"
        "security: {profile: 2, basic_auth_password: secret-pass-1234, ca_cert: no-such-ca.pem}\n"
    )
    result = cli(
        "run",
        "--profile",
        "ocpp16/security-csms",
        "--connect",
        f"wss://127.0.0.1:{free_port()}/ocpp",
        "--device",
        str(device),
        "--out",
        str(tmp_path / "r"),
    )
    one_line_error(result, "no-such-ca.pem")


def test_a_tls_security_profile_with_a_plain_ws_url_is_exit_2(tmp_path):
    device = tmp_path / "csms.yaml"
    device.write_text(
        "role: csms\nocpp: '1.6'\nstation_id: CS-1\nconnectors: 1\nactuator: {type: prompt}\n"
        "security: {profile: 2, basic_auth_password: secret-pass-1234}\n"
    )
    result = cli(
        "run",
        "--profile",
        "ocpp16/security-csms",
        "--connect",
        "ws://127.0.0.1:9/ocpp",
        "--device",
        str(device),
        "--out",
        str(tmp_path / "r"),
    )
    one_line_error(result, "security profile 2", "wss://")


def test_a_url_template_places_the_identity_and_keeps_the_rest(tmp_path):
    """A lab's endpoint with a path after the identity and a token in the query: the suite
    connects to it (the reference CSMS reading the identity from the second-to-last segment),
    the cases pass, and the report names the URL used with the token masked."""
    token = "lab-token-8c1f3"
    device_file = tmp_path / "csms.yaml"
    device_file.write_text(
        "role: csms\nocpp: '1.6'\nstation_id: PI-MOCK:CS-01\nconnectors: 2\n"
        f"actuator: {{type: prompt}}\nsecrets: ['{token}']\n"
        "tokens: {valid: PI-VALID-01}\n"
    )

    async def scenario() -> tuple[list[dict], dict, list[str]]:
        profile, everything, _ = load(PROFILE)
        csms = ReferenceCsms(id_tags={"PI-VALID-01": "Accepted"})
        csms.server.identity_segment = -2
        await csms.start()
        try:
            campaign = make_campaign(
                profile,
                load_device(device_file),
                Target("connect", time_scale=0.1, floor=1.0),
                url=f"{csms.url}/{{station_id}}/ws?token={token}",
                actuator=ReferenceActuator(csms),
            )
            async with campaign:
                results = [await campaign.run_case(s) for s in everything[:3]]
                sut = campaign.redactor.redact(campaign.sut_info())
            return results, sut, list(csms.stations)
        finally:
            await csms.stop()

    results, sut, stations = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert [r["verdict"] for r in results] == ["pass"] * 3, [r["reason"] for r in results]
    assert stations == ["PI-MOCK:CS-01"]
    assert sut["url"].endswith("/ocpp/PI-MOCK%3ACS-01/ws?token=***")
    assert sut["url_template"].endswith("/ocpp/{station_id}/ws?token=***")
    assert token not in json.dumps(results)


def test_a_malformed_url_template_is_exit_2_naming_the_option(tmp_path):
    device = tmp_path / "csms.yaml"
    device.write_text("role: csms\nocpp: '1.6'\nstation_id: CS-1\nactuator: {type: prompt}\n")
    result = cli(
        "run", "--profile", PROFILE, "--device", str(device),
        "--connect", "ws://127.0.0.1:9/ocpp/{identity}/ws",
    )  # fmt: skip
    one_line_error(result, "--connect", "unknown placeholder {identity}")


def test_the_standalone_reference_csms_behind_a_url_template(tmp_path):
    """`serve-reference csms --identity-segment -2` in another process, `run --connect` with a
    template: the cases pass, results.json and the console name the URL used, token masked."""
    ws_port, control_port = free_port(), free_port()
    token = "lab-token-77d0e"
    device = tmp_path / "csms.yaml"
    device.write_text(
        "role: csms\nocpp: '1.6'\nstation_id: BENCH-CS-1\nconnectors: 2\n"
        f"actuator: {{type: webhook, url: 'http://127.0.0.1:{control_port}/actions'}}\n"
        f"secrets: ['{token}']\ntokens: {{valid: PI-VALID-01}}\n"
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "pile_interop", "serve-reference", "csms",
         "--listen", f"127.0.0.1:{ws_port}", "--identity-segment", "-2",
         "--id-tag", "PI-VALID-01=Accepted", "--control", f"127.0.0.1:{control_port}"],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_port(ws_port)
        _wait_for_port(control_port)
        result = cli(
            "run", "--profile", PROFILE, "--device", str(device), "--out", str(tmp_path / "r"),
            "--connect", f"ws://127.0.0.1:{ws_port}/ocpp/{{station_id}}/ws?token={token}",
            "--case", "TC_010_CSMS", "--case", "TC_013_CSMS",
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "r/results.json").read_text())
    ran = {c["id"]: c["verdict"] for c in run["cases"] if c["verdict"] != "skipped"}
    assert ran == {"TC_010_CSMS": "pass", "TC_013_CSMS": "pass"}
    used = f"ws://127.0.0.1:{ws_port}/ocpp/BENCH-CS-1/ws?token=***"
    assert run["sut"]["url"] == used
    assert f"at {used}" in result.stdout + result.stderr
    for path in (tmp_path / "r").rglob("*"):
        if path.is_file():
            assert token not in path.read_text(errors="replace"), path
    assert token not in result.stdout + result.stderr


class _StopWithoutIdTagInfo(ReferenceCsms):
    """A conforming CSMS that answers every StopTransaction with ``{}``: idTagInfo is optional
    in StopTransaction.conf (its JSON schema requires nothing)."""

    def stop_transaction_reply(
        self,
        transaction_id: int,
        meter_stop: int,
        timestamp: str,
        id_tag: str | None,
        reason: str | None,
    ) -> call_result.StopTransaction:
        super().stop_transaction_reply(transaction_id, meter_stop, timestamp, id_tag, reason)
        return call_result.StopTransaction()


def test_a_csms_answering_stop_transaction_without_id_tag_info_passes():
    cases = ["TC_028_CSMS", "TC_039_CSMS"]
    results = asyncio.run(
        asyncio.wait_for(run_sut(_StopWithoutIdTagInfo, cases, profile_id=PROFILE), 60)
    )
    assert {c: r["verdict"] for c, r in results.items()} == dict.fromkeys(cases, "pass")
    for cid in cases:  # the CSMS did answer {}
        answers = [
            f["raw"]
            for f in results[cid]["frames"]
            if f["dir"] == "in" and f["type"] == "CALLRESULT" and f["action"] == "StopTransaction"
        ]
        assert answers and all(raw.endswith(",{}]") for raw in answers), cid
