"""The run's typed event stream: the run loop emits it, the report folder and the console
consume it."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from pile_interop.core.config import find_root
from pile_interop.core.events import (
    CaseFinished,
    CaseStarted,
    Event,
    EventStream,
    RunFinished,
    RunStarted,
)
from pile_interop.engine.base import CampaignBase, Target
from pile_interop.engine.reference import load_reference_run
from pile_interop.engine.report import Report
from pile_interop.engine.run import run_profile
from pile_interop.ocpp.invariants import Found, Invariant, InvariantMonitor
from pile_interop.reporting.console import Progress
from pile_interop.reporting.redact import Redactor
from pile_interop.reporting.stream import read_jsonl
from pile_interop.scenario.case_info import case_identity
from pile_interop.scenario.model import Scenario

ROOT = find_root(str(Path(__file__).resolve().parents[2]))


class StubCampaign(CampaignBase):
    """Passes every case at once; ``cancel_at`` is interrupted (Ctrl-C) with a partial
    result."""

    def __init__(self, profile: Any, cancel_at: str | None = None) -> None:
        self.profile = profile
        self.target = Target("reference")
        self.redactor = Redactor([])
        self.last_partial = None
        self.cancel_at = cancel_at

    def sut_info(self) -> dict[str, Any]:
        return {"role": "cs", "vendor": "Acme", "model": "Stub", "station_id": "STUB-1"}

    def _result(self, scenario: Scenario, verdict: str) -> dict[str, Any]:
        return {
            **case_identity(scenario, self.profile),
            "verdict": verdict,
            "reason": "interrupted (Ctrl-C)" if verdict == "error" else "",
            "started": "2026-01-01T00:00:00.000Z",
            "finished": "2026-01-01T00:00:01.000Z",
            "duration_s": 1.0,
            "required_wait_s": 0.0,
            "steps": [],
            "frames": [],
            "findings": [],
        }

    async def run_case(self, scenario: Scenario) -> dict[str, Any]:
        if scenario.id == self.cancel_at:
            self.last_partial = self._result(scenario, "error")
            raise asyncio.CancelledError
        return self._result(scenario, "pass")


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def handle(self, event: Event) -> None:
        self.events.append(event)


@pytest.fixture(scope="module")
def reference_run() -> tuple[Any, list[Scenario]]:
    profile, scenarios, _ = load_reference_run("ocpp16/core-cs", ROOT)
    return profile, scenarios


def test_the_run_loop_emits_the_events_in_order_and_the_folder_is_written(tmp_path, reference_run):
    profile, scenarios = reference_run
    chosen = scenarios[:2]
    recorder = Recorder()
    campaign = StubCampaign(profile)
    report = Report(tmp_path, campaign, scenarios, subscribers=[recorder])
    run = asyncio.run(run_profile(campaign, chosen, report))
    kinds = [type(e) for e in recorder.events]
    assert kinds == [RunStarted, CaseStarted, CaseFinished, CaseStarted, CaseFinished, RunFinished]
    started, first = recorder.events[1], recorder.events[2]
    assert isinstance(started, CaseStarted) and started.case_id == chosen[0].id
    assert isinstance(first, CaseFinished) and first.result["id"] == chosen[0].id
    assert first.run["summary"]["pass"] == 1 and first.run["finished"] is None
    last = recorder.events[-1]
    assert isinstance(last, RunFinished) and last.run == run and last.out_dir == tmp_path
    # the report folder consumed the same events: streamed cases, then every file
    assert [c["id"] for c in read_jsonl(tmp_path / "results.jsonl")] == [s.id for s in chosen]
    written = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert written["summary"]["skipped"] == len(scenarios) - 2
    assert (tmp_path / "junit.xml").is_file() and (tmp_path / "index.html").is_file()
    assert list((tmp_path / "allure-results").glob("*-result.json"))


def test_an_interrupted_run_reports_the_partial_case_and_finishes(tmp_path, reference_run):
    profile, scenarios = reference_run
    recorder = Recorder()
    campaign = StubCampaign(profile, cancel_at=scenarios[1].id)
    report = Report(tmp_path, campaign, scenarios, subscribers=[recorder])
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(run_profile(campaign, scenarios[:3], report))
    finished = [e for e in recorder.events if isinstance(e, CaseFinished)]
    assert [e.result["verdict"] for e in finished] == ["pass", "error"]
    last = recorder.events[-1]
    assert isinstance(last, RunFinished) and last.run["interrupted"] is True
    verdicts = {c["id"]: c["verdict"] for c in last.run["cases"]}
    # selected but never ended: not run; outside the selection: skipped (not selected)
    assert verdicts[scenarios[2].id] == "not_run"
    assert {verdicts[s.id] for s in scenarios[3:]} == {"skipped"}
    assert last.run["profile_verdict"]["text"].startswith("interrupted — no verdict")
    assert last.run["profile_verdict"]["met"] is False
    assert last.run["selection"]["selected"] == 3


#: Real seconds for a requested cancellation to reach the task (it does at its next await).
CANCEL_DELIVERY_S = 5.0


class SwallowingCampaign(StubCampaign):
    """A Ctrl-C that comes as ``swallow_at`` ends and is dropped on the way, as
    ``asyncio.wait_for`` can drop it when the awaited case finishes at the same moment
    (Python < 3.12): the task is left asking to cancel, and the case's result returns."""

    def __init__(self, profile: Any, swallow_at: str) -> None:
        super().__init__(profile)
        self.swallow_at = swallow_at

    async def run_case(self, scenario: Scenario) -> dict[str, Any]:
        if scenario.id == self.swallow_at:
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
            # the pending cancellation arrives at the first await: dropped here, so
            # cancelling() stays 1 (the bound only guards against it never arriving)
            with contextlib.suppress(asyncio.CancelledError):
                async with asyncio.timeout(CANCEL_DELIVERY_S):
                    await asyncio.Event().wait()
        return self._result(scenario, "pass")


def test_a_ctrl_c_dropped_as_a_case_ended_still_stops_the_run(tmp_path, reference_run):
    profile, scenarios = reference_run
    campaign = SwallowingCampaign(profile, swallow_at=scenarios[0].id)
    report = Report(tmp_path, campaign, scenarios)
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(run_profile(campaign, scenarios[:3], report))
    written = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    verdicts = {c["id"]: c["verdict"] for c in written["cases"]}
    assert written["interrupted"] is True
    assert verdicts[scenarios[0].id] == "pass"  # the case that ended is kept
    assert verdicts[scenarios[1].id] == verdicts[scenarios[2].id] == "not_run"


def test_the_console_consumes_the_events(tmp_path, reference_run):
    profile, scenarios = reference_run
    out = io.StringIO()
    campaign = StubCampaign(profile)
    report = Report(tmp_path, campaign, scenarios[:1], subscribers=[Progress(out, False)])
    asyncio.run(run_profile(campaign, scenarios[:1], report))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("pile-interop ") and "profile ocpp16/core-cs" in lines[0]
    assert lines[1] == "SUT: Acme Stub, station STUB-1, against reference"
    assert lines[2].startswith(scenarios[0].id) and "pass" in lines[2]
    assert lines[-1] == f"report: {tmp_path}"


def test_the_stream_hands_each_event_to_every_subscriber_in_order():
    calls: list[tuple[str, Event]] = []

    class Named:
        def __init__(self, name: str) -> None:
            self.name = name

        def handle(self, event: Event) -> None:
            calls.append((self.name, event))

    stream = EventStream([Named("a")])
    stream.subscribe(Named("b"))
    event = CaseStarted("TC_1", "one")
    stream.emit(event)
    assert calls == [("a", event), ("b", event)]


class _JudgedAtTheEnd(Invariant):
    id = "INV-TEST-END"
    title = "found only when the run ends"
    requirement = "test"

    def finish(self) -> list[Found]:
        return [Found("only the whole run shows this")]


@pytest.mark.parametrize("cancel", [False, True])
def test_end_of_run_invariants_are_judged_only_on_a_run_that_ran_to_its_end(
    tmp_path, reference_run, cancel
):
    profile, scenarios = reference_run
    campaign = StubCampaign(profile, cancel_at=scenarios[1].id if cancel else None)
    campaign.monitor = InvariantMonitor([_JudgedAtTheEnd()], "cs")
    report = Report(tmp_path, campaign, scenarios)
    with contextlib.suppress(asyncio.CancelledError):
        asyncio.run(run_profile(campaign, scenarios[:3], report))
    written = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    at_end = [v for v in written["invariants"]["violations"] if v.get("at_end")]
    assert len(at_end) == (0 if cancel else 1)
    if not cancel:  # a fail-level violation outside any case counts against the run
        assert written["profile_verdict"]["met"] is False
        assert "1 invariant violation outside any case" in written["profile_verdict"]["text"]
