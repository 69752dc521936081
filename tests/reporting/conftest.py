"""A realistic run dict (results-format contract) with secrets planted where they must not leak."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from pile_interop.reporting.redact import Redactor

PROFILE = "ocpp16/core-cs"
PROFILE_TITLE = "OCPP 1.6 Core - charging station"
STATION = "CP-0001"
PASSWORD = "S3cr3t-AuthKey-0042"
BASIC = base64.b64encode(f"{STATION}:{PASSWORD}".encode()).decode()
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"
PEM = f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\nMzEAQ==\n-----END PRIVATE KEY-----"
#: Text that must appear nowhere in any written file.
LEAKS = (PASSWORD, BASIC, PEM_BODY, "BEGIN PRIVATE KEY")


def _case(**fields: Any) -> dict[str, Any]:
    case: dict[str, Any] = {
        "ocpp": "1.6",
        "sut": "cs",
        "block": "Core",
        "profiles": [PROFILE],
        "mandatory": True,
        "description": "",
        "requirements": [],
        "reason": "",
        "required_wait_s": 0.0,
        "steps": [],
        "frames": [],
        "findings": [],
    }
    case.update(fields)
    return case


def _step(index: int, title: str, verdict: str = "pass", **fields: Any) -> dict[str, Any]:
    step: dict[str, Any] = {
        "index": index,
        "phase": "main",
        "kind": "expect",
        "title": title,
        "verdict": verdict,
        "requirement": None,
        "expected": "",
        "observed": "",
        "t_start": 0.1 * index,
        "duration_s": 0.05,
        "frames": [],
    }
    step.update(fields)
    return step


def _frame(seq: int, t: float, direction: str, kind: str, action: str, raw: str, **fields: Any):
    frame = {
        "seq": seq,
        "t": t,
        "time": f"2026-11-24T05:46:0{seq % 10}.000Z",
        "dir": direction,
        "type": kind,
        "action": action,
        "unique_id": f"uid-{seq}",
        "raw": raw,
        "findings": [],
    }
    frame.update(fields)
    return frame


def make_run() -> dict[str, Any]:
    passed = _case(
        id="TC_003_CS",
        title="Regular Charging Session - Plugin First",
        description="The station starts a transaction after plug-in and authorization.",
        requirements=[{"id": "OCPP1.6 §4.8", "text": "StatusNotification on state change"}],
        verdict="pass",
        started="2026-11-24T05:46:01.000Z",
        finished="2026-11-24T05:46:02.234Z",
        duration_s=1.234,
        steps=[
            _step(1, "act plug_in connector 1", kind="act", phase="before"),
            _step(
                2,
                "expect StatusNotification {status: Preparing}",
                expected="StatusNotification {status: Preparing}",
                observed="StatusNotification {status: Preparing}",
                frames=[1, 2],
            ),
        ],
        frames=[
            _frame(
                1,
                0.015,
                "in",
                "CALL",
                "StatusNotification",
                '[2,"uid-1","StatusNotification",{"connectorId":1,"status":"Preparing"}]',
            ),
            _frame(2, 0.02, "out", "CALLRESULT", "StatusNotification", '[3,"uid-1",{}]'),
        ],
    )
    failed = _case(
        id="TC_021_CS",
        title="Change Configuration - AuthorizationKey",
        requirements=[
            {"id": "OCPP1.6 §5.3", "text": "ChangeConfiguration.conf for a known key"},
            "OCPP1.6 §4.2",
        ],
        verdict="fail",
        reason=(
            "[OCPP1.6 §5.3] ChangeConfiguration answered with a CALLERROR. Expected: "
            "ChangeConfiguration.conf {status: Accepted}. Observed: CALLERROR InternalError."
        ),
        started="2026-11-24T05:46:03.000Z",
        finished="2026-11-24T05:46:05.500Z",
        duration_s=2.5,
        steps=[
            _step(
                1,
                f"send ChangeConfiguration AuthorizationKey={PASSWORD}",
                kind="send",
                frames=[5],
            ),
            _step(
                2,
                "expect ChangeConfiguration.conf {status: Accepted}",
                verdict="fail",
                requirement="OCPP1.6 §5.3",
                expected="ChangeConfiguration.conf {status: Accepted}",
                observed='CALLERROR InternalError "<&> boom"',
                frames=[6],
            ),
        ],
        frames=[
            _frame(
                4,
                0.001,
                "event",
                "event",
                "",
                f"connect: GET /ocpp/{STATION} Authorization: Basic {BASIC}",
            ),
            _frame(
                5,
                0.01,
                "out",
                "CALL",
                "ChangeConfiguration",
                f'[2,"uid-5","ChangeConfiguration",{{"key":"AuthorizationKey","value":"{PASSWORD}"}}]',
            ),
            _frame(
                6,
                0.2,
                "in",
                "CALLERROR",
                "ChangeConfiguration",
                '[4,"uid-5","InternalError","<b>bold</b> & co \x01 done",{}]',
                findings=["CALLERROR InternalError for a supported key"],
            ),
        ],
        findings=["CALLERROR InternalError for a supported key"],
    )
    not_applicable = _case(
        id="TC_040_CS",
        title="Reserve Now - Local Start Transaction",
        block="Reservation",
        mandatory=False,
        verdict="na",
        reason="the device descriptor says Reservation is not supported",
        started="2026-11-24T05:46:06.000Z",
        finished="2026-11-24T05:46:06.000Z",
        duration_s=0.0,
    )
    errored = _case(
        id="TC_061_CS",
        title="Install Certificate",
        block="Security",
        verdict="error",
        reason=f"cannot load the test PKI: bad key {PEM}",
        started="2026-11-24T05:46:07.000Z",
        finished="2026-11-24T05:46:07.100Z",
        duration_s=0.1,
        steps=[
            _step(1, "connect", verdict="error", kind="connect", observed="TLS setup failed"),
        ],
    )
    warned = _case(
        id="TC_010_CS",
        title="Heartbeat interval",
        verdict="warn",
        reason="[OCPP1.6 §4.6] Heartbeat interval SHOULD be respected. Observed: 75 s for 60 s.",
        started="2026-11-24T05:46:08.000Z",
        finished="2026-11-24T05:46:11.000Z",
        duration_s=3.0,
        requirements=["OCPP1.6 §4.6"],
        steps=[
            _step(
                1,
                "expect Heartbeat within 60 s",
                verdict="warn",
                expected="Heartbeat within 60 s",
                observed="Heartbeat after 75 s",
            )
        ],
        frames=[_frame(7, 3.0, "in", "CALL", "Heartbeat", '[2,"uid-7","Heartbeat",{}]')],
    )
    cases = [passed, failed, not_applicable, errored, warned]
    return {
        "suite": "pile-interop",
        "version": "0.1.0",
        "profile": PROFILE,
        "profile_title": PROFILE_TITLE,
        "profile_verdict": {
            "met": False,
            "text": f"does not meet {PROFILE_TITLE}: 1 mandatory case failed, 1 error",
        },
        "sut": {
            "role": "cs",
            "vendor": "Acme",
            "model": "Wallbox 7",
            "serial": "SN-42",
            "firmware": "1.2.3",
            "station_id": STATION,
            "ocpp": "1.6",
            "device": "fixtures/devices/reference-station16.yaml",
        },
        "against": "reference",
        "time_scale": 0.05,
        "started": "2026-11-24T05:46:00.123Z",
        "finished": "2026-11-24T05:46:31.456Z",
        "duration_s": 31.3,
        "interrupted": False,
        "summary": {"pass": 1, "fail": 1, "warn": 1, "na": 1, "error": 1, "skipped": 0},
        "cases": cases,
    }


@pytest.fixture
def run() -> dict[str, Any]:
    """A fresh copy of the sample run (tests may change it)."""
    return copy.deepcopy(make_run())


@pytest.fixture
def redactor() -> Redactor:
    """The redactor the CLI would build from the device descriptor."""
    return Redactor({PASSWORD}, credentials=[(STATION, PASSWORD)])


def case_by_id(run: dict[str, Any], case_id: str) -> dict[str, Any]:
    return next(case for case in run["cases"] if case["id"] == case_id)


DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def mutant_run() -> dict[str, Any]:
    """A real run of the Core profile against a mutant station (StopTransaction with a wrong
    transactionId): TC_012_CS fails, TC_017_1_CS is na, TC_064_CS not selected
    (``python -m tests.reporting.make_sample`` regenerates it)."""
    return json.loads((DATA / "mutant-run.json").read_text(encoding="utf-8"))
