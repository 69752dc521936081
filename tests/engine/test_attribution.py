"""Attribution (issue 13 item 2): an answer that comes after the suite stopped waiting belongs
to the case that sent the CALL and never fails the next case; an answer with a unique id the
suite never sent fails the case it came in (before-phase included), citing OCPP-J; a broken
template in a case is a harness error naming the case file and step.

The SUT is a scripted raw WebSocket station (a mutant of nothing: every frame by hand), so
when each frame comes is certain, not a matter of timing."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from pile_interop.actuators.prompt import PromptActuator
from pile_interop.engine.base import Target
from pile_interop.engine.report import Report
from pile_interop.engine.station_campaign import StationCampaign
from pile_interop.reporting.stream import read_jsonl
from pile_interop.scenario.loader import load_scenario
from tests.selftest.test_robustness import quick_profile

#: Bound on one recv of the scripted station, and on the whole run.
RECV_S = 10.0
RUN_S = 60.0
STATION = "REF-CS-001"
#: GetConfiguration values the scripted station has (key: readonly, value).
KEYS = {
    "SupportedFeatureProfiles": (True, "Core"),
    "HeartbeatInterval": (False, "30"),
    "GetConfigurationMaxKeys": (True, "20"),
    "NumberOfConnectors": (True, "2"),
    **{
        key: (False, "0")
        for key in [
            "AuthorizeRemoteTxRequests",
            "ClockAlignedDataInterval",
            "ConnectionTimeOut",
            "ConnectorPhaseRotation",
            "LocalAuthorizeOffline",
            "LocalPreAuthorize",
            "MeterValuesAlignedData",
            "MeterValuesSampledData",
            "MeterValueSampleInterval",
            "ResetRetries",
            "StopTransactionOnEVSideDisconnect",
            "StopTransactionOnInvalidId",
            "StopTxnAlignedData",
            "StopTxnSampledData",
            "TransactionMessageAttempts",
            "TransactionMessageRetryInterval",
            "UnlockConnectorOnEVSideDisconnect",
        ]
    },
}


def nobody() -> PromptActuator:
    """Nobody at the bench (the scripted station needs no action)."""
    return PromptActuator(io.StringIO(""), io.StringIO())


def _configuration(payload: dict[str, Any]) -> dict[str, Any]:
    wanted = payload.get("key") or list(KEYS)
    known = [{"key": k, "readonly": KEYS[k][0], "value": KEYS[k][1]} for k in wanted if k in KEYS]
    unknown = [k for k in wanted if k not in KEYS]
    return {"configurationKey": known, **({"unknownKey": unknown} if unknown else {})}


async def _boot(ws: ClientConnection, stray: bool) -> None:
    """Boot and report the connectors Available (``stray``: in between, a CALLRESULT whose
    unique id the suite never sent)."""
    boot = {"chargePointVendor": "x", "chargePointModel": "scripted"}
    await ws.send(json.dumps([2, "b1", "BootNotification", boot]))
    await asyncio.wait_for(ws.recv(), RECV_S)
    if stray:  # while the suite's before-phase awaits the connectors' statuses
        await ws.send(json.dumps([3, "never-sent-by-the-suite", {"status": "Accepted"}]))
    for connector in (0, 1, 2):
        status = {"connectorId": connector, "errorCode": "NoError", "status": "Available"}
        await ws.send(json.dumps([2, f"s{connector}", "StatusNotification", status]))
        await asyncio.wait_for(ws.recv(), RECV_S)


def scripted_station(
    *, late: bool = False, stray: bool = False, then: list[dict[str, Any]] | None = None
) -> Callable[[str], Awaitable[None]]:
    """A station that answers GetConfiguration; with ``late`` it leaves the first one
    unanswered and answers it just before it answers the second (so the answer comes while
    the next case runs); with ``stray`` it sends an answer to a CALL never sent after boot;
    ``then``: the StatusNotification payloads it sends after its first answer."""

    async def station(url: str) -> None:
        async with connect(f"{url}/{STATION}", subprotocols=["ocpp1.6"]) as ws:
            await _boot(ws, stray)
            held: list[Any] | None = None
            count = 0
            after_first = list(then or [])
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), RECV_S * 3))
                if frame[0] != 2:
                    continue
                _, uid, action, payload = frame
                if action != "GetConfiguration":
                    await ws.send(json.dumps([4, uid, "NotSupported", "", {}]))
                    continue
                count += 1
                if late and count == 1:
                    held = [3, uid, _configuration(payload)]  # answered too late
                    continue
                if held is not None:
                    await ws.send(json.dumps(held))
                    held = None
                await ws.send(json.dumps([3, uid, _configuration(payload)]))
                for n, status in enumerate(after_first):
                    await ws.send(json.dumps([2, f"t{n}", "StatusNotification", status]))
                after_first = []

    return station


async def run_scripted(
    station: Callable[[str], Awaitable[None]], cases: list[str], out: Path
) -> dict[str, Any]:
    """Run ``cases`` against the scripted ``station`` with a report in ``out``; the run dict."""
    profile, scenarios, device = quick_profile()
    chosen = [s for s in scenarios if s.id in cases]
    task: asyncio.Task[None] | None = None
    try:
        async with StationCampaign(
            profile, device, Target("listen", port=0), actuator=nobody()
        ) as campaign:
            task = asyncio.create_task(station(campaign.server.url))
            report = Report(out, campaign, chosen)
            for scenario in chosen:
                report.add(await campaign.run_case(scenario))
            return report.finish()
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task


def by_id(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in run["cases"]}


def test_a_late_answer_belongs_to_the_case_that_sent_the_call_not_the_next(tmp_path: Path):
    cases = ["TC_019_1_CS", "TC_019_2_CS"]
    run = asyncio.run(
        asyncio.wait_for(run_scripted(scripted_station(late=True), cases, tmp_path), RUN_S)
    )
    results = by_id(run)
    sender, next_case = results["TC_019_1_CS"], results["TC_019_2_CS"]
    # the sending case: failed by the step that timed out, the late answer recorded there
    assert sender["verdict"] == "fail", sender["reason"]
    assert "No response to GetConfiguration within 1.5 s" in sender["reason"]
    (late,) = sender["late_responses"]
    assert late["action"] == "GetConfiguration"
    assert late["type"] == "CALLRESULT"
    assert late["came_during"] == "TC_019_2_CS"
    assert late["delay_s"] > late["waited_s"] > 0
    # the next case: unaffected; the frame is in its log with a note, not a finding
    assert next_case["verdict"] == "pass", next_case["reason"]
    assert next_case["findings"] == []
    noted = [f for f in next_case["frames"] if f.get("notes")]
    assert len(noted) == 1 and noted[0]["unique_id"] == late["unique_id"]
    assert not noted[0]["findings"]
    assert "belongs to case TC_019_1_CS" in noted[0]["notes"][0]
    # the report folder: results.json under the sending case; results.jsonl keeps each case
    # as it ended (the late answer in the line of the case it came during)
    written = by_id(json.loads((tmp_path / "results.json").read_text()))
    assert written["TC_019_1_CS"]["late_responses"][0]["unique_id"] == late["unique_id"]
    lines = {c["id"]: c for c in read_jsonl(tmp_path / "results.jsonl")}
    (other,) = lines["TC_019_2_CS"]["late_for_other_cases"]
    assert other["case"] == "TC_019_1_CS"
    html = (tmp_path / "index.html").read_text()
    assert "Late answers" in html
    junit = (tmp_path / "junit.xml").read_text()
    assert "late CALLRESULT to GetConfiguration" in junit


def test_the_scripted_station_passes_when_it_answers_in_time(tmp_path: Path):
    """The reference behaviour of the scripted station: both cases pass, nothing late."""
    cases = ["TC_019_1_CS", "TC_019_2_CS"]
    run = asyncio.run(asyncio.wait_for(run_scripted(scripted_station(), cases, tmp_path), RUN_S))
    for case in run["cases"]:
        assert case["verdict"] == "pass", (case["id"], case["reason"])
        assert "late_responses" not in case


def test_an_answer_with_a_never_sent_id_in_the_before_phase_fails_citing_ocpp_j(tmp_path: Path):
    run = asyncio.run(
        asyncio.wait_for(
            run_scripted(scripted_station(stray=True), ["TC_019_2_CS"], tmp_path), RUN_S
        )
    )
    case = by_id(run)["TC_019_2_CS"]
    assert case["verdict"] == "fail", case["reason"]
    assert case["reason"].startswith("[OCPP-J 1.6 RPC framework]")
    assert "'never-sent-by-the-suite' that the suite never sent" in case["reason"]
    assert "OCPP-J 1.6 §4.1.3" in case["reason"]
    assert "MUST be equal to that of the CALL message" in case["reason"]
    # it came during the before-phase: before the first main step began
    stray = next(f for f in case["frames"] if f["unique_id"] == "never-sent-by-the-suite")
    first_main = next(s for s in case["steps"] if s["phase"] == "main")
    assert stray["t"] < first_main["t_start"]


BROKEN_CASES = {
    # an undefined name below a known root: passes the load-time check, breaks when rendered
    "send": """
  - send: GetConfiguration
    payload: {key: ["{params.no_such_param}"]}
    expect_result: {}
""",
    # a $-operator with an argument it cannot use: breaks when matched
    "operator": """
  - send: GetConfiguration
    payload: {key: [HeartbeatInterval]}
    expect_result: {configurationKey: {$type: no_such_type}}
""",
}


def case_file(tmp_path: Path, case_id: str, steps: str, before: str = "") -> Path:
    """A case file ``case_id`` whose first step asks for a configuration key, then ``steps``
    (YAML, indented as list items of ``steps:``); ``before``: its ``before:`` section."""
    folder = tmp_path / "conformance"
    folder.mkdir(exist_ok=True)
    path = folder / f"{case_id}.yaml"
    more = steps.strip("\n")
    path.write_text(
        f"""id: {case_id}
title: A case written by a test
ocpp: "1.6"
sut: cs
requirements:
  - id: OCPP1.6 §9.1
    text: The station SHALL answer GetConfiguration.
{before}
steps:
  - send: GetConfiguration
    payload: {{key: [SupportedFeatureProfiles]}}
    expect_result: {{}}
{more}
"""
    )
    return path


def broken_case(tmp_path: Path, kind: str) -> Path:
    return case_file(tmp_path, f"TC_BROKEN_{kind.upper()}_CS", BROKEN_CASES[kind])


async def run_files(
    station: Callable[[str], Awaitable[None]], paths: dict[str, Path]
) -> dict[str, dict[str, Any]]:
    """Run the case files ``paths`` against the scripted ``station``; the results by key."""
    profile, _scenarios, device = quick_profile()
    task: asyncio.Task[None] | None = None
    results = {}
    try:
        target = Target("listen", port=0)
        async with StationCampaign(profile, device, target, actuator=nobody()) as campaign:
            task = asyncio.create_task(station(campaign.server.url))
            for key, path in paths.items():
                results[key] = await campaign.run_case(load_scenario(path))
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task
    return results


def test_a_broken_template_or_operator_is_an_error_naming_the_case_file_and_step(tmp_path: Path):
    paths = {kind: broken_case(tmp_path, kind) for kind in BROKEN_CASES}

    results = asyncio.run(asyncio.wait_for(run_files(scripted_station(), paths), RUN_S))
    for kind, result in results.items():
        reason = result["reason"]
        assert result["verdict"] == "error", (kind, reason)
        assert "harness error (the case, not the SUT)" in reason
        assert str(paths[kind]) in reason
        assert "step 2 'send GetConfiguration" in reason, reason
        steps = [s for s in result["steps"] if s["phase"] == "main"]
        assert [s["verdict"] for s in steps] == ["pass", "error"]
    assert "no_such_param" in results["send"]["reason"]
    assert "no_such_type" in results["operator"]["reason"]


def test_a_broken_template_in_before_config_is_an_error_naming_the_case_file(tmp_path: Path):
    before = 'before:\n  config: {HeartbeatInterval: "{params.no_such_param}"}'
    path = case_file(tmp_path, "TC_BROKEN_CONFIG_CS", "", before=before)
    results = asyncio.run(asyncio.wait_for(run_files(scripted_station(), {"config": path}), RUN_S))
    reason = results["config"]["reason"]
    assert results["config"]["verdict"] == "error", reason
    assert f"harness error (the case, not the SUT): {path}: before.config HeartbeatInterval" in (
        reason
    )
    assert "no_such_param" in reason
