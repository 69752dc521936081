"""The bench contract (docs/actuators.md, actuators/webhook.schema.json): every action a case
or a reference's control commands use is documented and in the schema, the webhook's requests
validate against it, and a bench that cannot do an action makes the case ``na``."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from pile_interop.actuators.base import (
    DESCRIPTIONS,
    ActionUnsupported,
    ActuatorError,
    describe,
    prompt_text,
)
from pile_interop.actuators.prompt import PromptActuator
from pile_interop.actuators.webhook import WebhookActuator, request_body
from pile_interop.core.config import find_root
from pile_interop.core.errors import UsageError
from pile_interop.engine.base import Target
from pile_interop.engine.lab import check_unsupported, require_terminal
from pile_interop.engine.reference import load_reference_run
from pile_interop.engine.targets import make_campaign
from pile_interop.ocpp.v16 import serve as serve16
from pile_interop.ocpp.v201 import serve as serve201

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs/actuators.md").read_text()
SCHEMA = json.loads(
    resources.files("pile_interop.actuators").joinpath("webhook.schema.json").read_text()
)
NOT_ARGS = {"act", "title", "requirement", "severity", "note", "prompt"}


def case_acts() -> list[tuple[str, str, dict[str, Any]]]:
    """(case file, action, arguments) of every ``act`` step of every case."""
    acts = []
    for path in sorted((ROOT / "conformance").rglob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        if not isinstance(doc, dict):
            continue
        before = doc.get("before") if isinstance(doc.get("before"), dict) else {}
        for step in [*before.get("steps", []), *doc.get("steps", []), *doc.get("after", [])]:
            if isinstance(step, dict) and "act" in step:
                args = {k: v for k, v in step.items() if k not in NOT_ARGS}
                acts.append((path.name, step["act"], args))
    return acts


def command_actions() -> set[str]:
    """The actions of the reference SUTs' terminal / HTTP control commands."""
    tables = [serve16._COMMANDS, serve16._CSMS_COMMANDS]
    tables += [serve201._STATION201_COMMANDS, serve201._CSMS201_COMMANDS]
    return {action for table in tables for action, _ in table.values()}


def documented() -> set[str]:
    return set(re.findall(r"^\| `([a-z_0-9]+)` \|", DOC, re.MULTILINE))


def test_every_action_a_case_or_a_control_command_uses_is_documented_and_in_the_schema():
    used = {action for _, action, _ in case_acts()} | command_actions() | {"settle"}
    enum = set(SCHEMA["$defs"]["action"]["enum"])
    assert used - set(DESCRIPTIONS) == set(), "no prompt text"
    assert used - enum == set(), "not in webhook.schema.json"
    assert used - documented() - {"settle"} == set(), "not in docs/actuators.md"
    assert enum == set(DESCRIPTIONS), "the schema and the prompt texts list the same actions"
    scenario = json.loads(
        resources.files("pile_interop.scenario").joinpath("scenario.schema.json").read_text()
    )
    acts = set(scenario["$defs"]["act"]["properties"]["act"]["enum"])
    assert acts == set(DESCRIPTIONS) - {"settle"}, "a case may use every action but settle"
    assert "`settle`" in DOC


def _fake(value: Any) -> Any:
    """A case argument with its templates replaced by plausible values."""
    if isinstance(value, str) and "{" in value:
        return (
            1
            if re.fullmatch(r"\{(evse|connector|params\.\w*slot|params\.\w*profile)\}", value)
            else "X"
        )
    if isinstance(value, list):
        return [_fake(v) for v in value]
    if isinstance(value, dict):
        return {k: _fake(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("name,action,args", case_acts(), ids=lambda x: str(x)[:40])
def test_every_case_action_has_a_prompt_naming_its_parameters_and_a_valid_request(
    name, action, args
):
    args = _fake(args)
    for key in ("connector", "evse", "slot", "security_profile"):
        if args.get(key) == "X":  # a template naming a number
            args[key] = 1
    text = describe(action, args)
    assert not text.startswith(f"{action} {{"), f"{name}: no template for {action} {args}"
    for key in ("id_token", "requested_message", "certificate_type", "report_base", "status"):
        if isinstance(args.get(key), str):
            assert args[key] in text, f"{name}: {action} prompt does not name {key}"
    if isinstance(args.get("evse"), int):
        assert f"EVSE {args['evse']}" in text, f"{name}: {action} prompt does not name the EVSE"
    for item in args.get("variables", []):
        assert str(item["variable"]) in text
    body = request_body(action, {**args, "step": 2, "phase": "main"}, "CS-1", "TC_X")
    jsonschema.validate(body, {**SCHEMA, "$ref": "#/$defs/request"})


def test_remote_stop_names_the_transaction():
    for name, action, args in case_acts():
        if action == "remote_stop":
            assert "transaction_id" in args, name


class _Bench(BaseHTTPRequestHandler):
    answers: dict[str, tuple[int, bytes]] = {}
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append(body)
        status, data = self.answers.get(body["action"], (200, b""))
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def bench():
    _Bench.seen = []
    _Bench.answers = {
        "power_cycle": (501, b""),
        "go_offline": (200, b'{"status": "unsupported", "reason": "no network relay"}'),
        "go_online": (200, b'{"status": "error", "reason": "relay stuck"}'),
        "unplug": (200, b'{"status": "ok"}'),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Bench)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/actions"
    server.shutdown()
    server.server_close()


def test_the_webhook_answers_ok_unsupported_and_error(bench):
    hook = WebhookActuator(bench, "CS-1")
    hook.case_id = "TC_B_90_CS"
    run = asyncio.run
    run(hook.perform("plug_in", {"evse": "1", "prompt": "Plug in", "step": 3, "phase": "main"}, 5))
    run(hook.perform("unplug", {"evse": 1}, 5))
    with pytest.raises(ActionUnsupported, match="501"):
        run(hook.perform("power_cycle", {}, 5))
    with pytest.raises(ActionUnsupported, match="no network relay"):
        run(hook.perform("go_offline", {}, 5))
    with pytest.raises(ActuatorError, match="relay stuck") as error:
        run(hook.perform("go_online", {}, 5))
    assert not isinstance(error.value, ActionUnsupported)
    first = _Bench.seen[0]
    assert first["args"] == {"evse": 1} and first["step"] == 3 and first["phase"] == "main"
    assert first["case"] == "TC_B_90_CS" and first["schema_version"] == "2.0"
    assert first["prompt"].startswith("Plug in") and "EVSE 1" in first["prompt"]
    for body in _Bench.seen:
        jsonschema.validate(body, {**SCHEMA, "$ref": "#/$defs/request"})
    for answer in ({"status": "ok"}, {"status": "unsupported", "reason": "x"}):
        jsonschema.validate(answer, {**SCHEMA, "$ref": "#/$defs/answer"})


def test_a_case_prompt_keeps_the_action_and_its_parameters():
    text = prompt_text("trigger_message", {"requested_message": "BootNotification", "prompt": "Go"})
    assert text.startswith("Go") and "BootNotification" in text and "TriggerMessage" in text


def test_a_prompt_without_a_terminal_is_a_usage_error():
    import io

    with pytest.raises(UsageError, match="needs a terminal"):
        require_terminal(PromptActuator(io.StringIO(""), io.StringIO()))
    require_terminal(None)


def test_an_unknown_unsupported_action_is_a_usage_error():
    _, _, device = load_reference_run("ocpp16/core-cs", find_root(ROOT))
    spec = dataclasses.replace(device.actuator, unsupported=("plug_in", "teleport"))
    with pytest.raises(UsageError, match="'teleport'"):
        check_unsupported(dataclasses.replace(device, actuator=spec))


class _Cannot:
    """The reference actuator, except for the actions a bench cannot do."""

    name = "bench"

    def __init__(self, inner: Any, cannot: set[str]) -> None:
        self.inner, self.cannot, self.asked = inner, cannot, []

    async def perform(self, action: str, args: dict[str, Any], timeout: float) -> None:
        self.asked.append(action)
        if action in self.cannot:
            raise ActionUnsupported("HTTP 501")
        await self.inner.perform(action, args, timeout)

    async def settle(self, timeout: float) -> None:
        await self.inner.settle(timeout)

    async def close(self) -> None:
        await self.inner.close()


def _run(cases: list[str], cannot: set[str], declared: tuple[str, ...] = ()) -> tuple[Any, Any]:
    profile, everything, device = load_reference_run("ocpp16/core-cs", find_root(ROOT))
    device = dataclasses.replace(
        device, actuator=dataclasses.replace(device.actuator, unsupported=declared)
    )
    chosen = [s for s in everything if s.id in cases]

    async def go() -> tuple[list[dict[str, Any]], _Cannot]:
        campaign = make_campaign(profile, device, Target("reference", time_scale=0.1, floor=1.0))
        async with campaign:
            actuator = _Cannot(campaign.actuator, cannot)
            campaign.actuator = actuator
            return [await campaign.run_case(s) for s in chosen], actuator

    return asyncio.run(asyncio.wait_for(go(), 90))


def test_an_unsupported_action_makes_the_case_na_and_its_restore_is_not_asked():
    (result,), actuator = _run(["TC_030_CS"], {"set_lock_failure"})
    assert result["verdict"] == "na", result["reason"]
    assert "the bench cannot set_lock_failure: HTTP 501" in result["reason"]
    assert actuator.asked == ["set_lock_failure"]  # not again in the after-steps
    after = [s for s in result["steps"] if s["phase"] == "after"]
    assert after and "never happened" in after[0]["observed"]


def test_a_declared_unsupported_action_makes_the_case_na_without_asking():
    (result,), actuator = _run(["TC_030_CS"], set(), declared=("set_lock_failure",))
    assert result["verdict"] == "na"
    assert "the bench cannot set_lock_failure" in result["reason"]
    assert "actuator.unsupported" in result["reason"]
    assert actuator.asked == []


def test_the_schema_gives_each_action_its_arguments():
    """An argument an action does not take, or a missing required one, breaks the request."""
    request = {**SCHEMA, "$ref": "#/$defs/request"}
    good = request_body("remote_stop", {"transaction_id": 7, "connector": 1}, "CS-1", "TC_X")
    jsonschema.validate(good, request)
    for action, args in (
        ("remote_stop", {"connector": 1}),  # which transaction?
        ("present_id_token", {"connector": 1}),  # which token?
        ("insert_gun", {"connector": 1}),  # a GB/T gun has no connector number
        ("unplug_ev_side", {"transaction_id": 1}),
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(request_body(action, args, "CS-1", "TC_X"), request)


def test_physically_different_acts_have_different_names():
    """The EV end and the socket end of a cable, a station's cable and a GB/T gun, the
    charger's stop button and the vehicle's own stop, an operator's RequestStopTransaction."""
    texts = {a: describe(a, {"connector": 1}) for a in DESCRIPTIONS}
    assert "EV side" in texts["unplug_ev_side"] and "socket" in texts["unplug_station_side"]
    assert "gun" in texts["insert_gun"] and "gun" in texts["remove_gun"]
    assert "stop button" in texts["press_stop"] and "BMS" in texts["vehicle_stop"]
    assert "RequestStopTransaction" in describe("request_stop", {"transaction_id": "T-1"})
    assert len(set(texts.values())) == len(texts), "two actions share a prompt text"
    gbt = [a for path, a, _ in case_acts() if path.startswith(("DN.", "DP.", "BN.", "BP."))]
    assert gbt and not {"plug_in", "unplug", "request_stop"} & set(gbt)


def test_a_reference_control_server_answers_501_for_what_its_sut_cannot_do():
    """``serve-reference --control`` speaks the bench contract: an action its SUT has no control
    for is HTTP 501 (the case is ``na``), not an error."""
    from pile_interop.actuators.reference import ReferenceActuator
    from pile_interop.ocpp.serve import start_control

    class Sut:
        async def plug_in(self, connector: int = 1) -> None:
            return None

    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    server = start_control(ReferenceActuator(Sut()), loop, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.server_address[1]}/actions"
    try:
        hook = WebhookActuator(url, "CS-1")
        asyncio.run(hook.perform("plug_in", {"connector": 1}, 5))
        with pytest.raises(ActionUnsupported, match=r"501.*no insulation_fault control"):
            asyncio.run(hook.perform("insulation_fault", {}, 5))
    finally:
        server.shutdown()
        loop.call_soon_threadsafe(loop.stop)
