"""The before-phase's recovery step against OCPP 1.6 stations left in a bad state: a station
stuck Pending until power-cycled, one left with a transaction open by a failing case, one that
never gets out of Pending (the run stops after N unreached before-states in a row)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from pile_interop.core.verdicts import BeforeStateNotReached, HarnessError
from pile_interop.engine.base import Target
from pile_interop.engine.reference import reference_station
from pile_interop.engine.report import Report
from pile_interop.engine.run import run_profile
from pile_interop.engine.targets import make_campaign
from pile_interop.ocpp.v16.reference.station import ReferenceStation
from tests.mutants.catalogue import load, run_sut

pytestmark = [pytest.mark.slow]

PENDING_CASE = "TC_002_CS"


class StaysPendingUntilPowerCycled(ReferenceStation):
    """Once answered Pending it stays Pending: no BootNotification again (a TriggerMessage is
    not implemented either) until it is power-cycled."""

    def remote_trigger_supported(self) -> bool:
        return False  # TriggerMessage is not implemented

    def boot_retry_interval(self, interval: int) -> int:
        if self.registration == "Pending":
            return 10**6  # never, unless the power comes back (power_on resets the wait)
        return super().boot_retry_interval(interval)


class NeverLeavesPending(ReferenceStation):
    """Once answered Pending it never sends a BootNotification again, power cycles included."""

    def remote_trigger_supported(self) -> bool:
        return False  # TriggerMessage is not implemented

    stuck = False

    def boot_retry_interval(self, interval: int) -> int:
        if self.registration == "Pending":
            self.stuck = True
            return 10**6
        return super().boot_retry_interval(interval)

    async def _boot_sequence(self, link: Any) -> None:
        if self.stuck:
            return  # connected, silent
        await super()._boot_sequence(link)


class SilentOnItsFirstConnection(ReferenceStation):
    """Connects the first time without a BootNotification (waiting for a trigger that it does
    not implement); after a power cycle it boots as it should."""

    def remote_trigger_supported(self) -> bool:
        return False  # TriggerMessage is not implemented

    links = 0

    async def _boot_sequence(self, link: Any) -> None:
        self.links += 1
        if self.links > 1:
            await super()._boot_sequence(link)


class NeverReportsCharging(ReferenceStation):
    """Reports Preparing instead of Charging while a transaction runs (a failing TC_003_CS
    leaves its transaction open)."""

    def derive_status(self, conn: Any) -> tuple[str, str]:
        status, error = super().derive_status(conn)
        return ("Preparing", error) if status == "Charging" else (status, error)


def _before(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in result["steps"] if s["phase"] == "before"]


def test_a_station_stuck_pending_until_power_cycled_is_recovered_for_every_later_case():
    async def both() -> tuple[dict[str, Any], dict[str, Any]]:
        return await asyncio.gather(  # type: ignore[return-value]
            run_sut(None), run_sut(StaysPendingUntilPowerCycled)
        )

    reference, mutant = asyncio.run(asyncio.wait_for(both(), 600))
    ids = list(reference)
    later = ids[ids.index(PENDING_CASE) + 1 :]
    assert len(later) >= 10
    assert mutant[PENDING_CASE]["verdict"] == "fail", mutant[PENDING_CASE]["reason"]
    differ = {
        cid: (reference[cid]["verdict"], mutant[cid]["verdict"], mutant[cid]["reason"])
        for cid in later
        if reference[cid]["verdict"] != mutant[cid]["verdict"]
    }
    assert differ == {}
    assert not any("before-state" in mutant[cid]["reason"] for cid in later)
    # the case right after the Pending case re-registered the station: a TriggerMessage,
    # then a power cycle, recorded in its before-phase
    titles = [s["title"] for s in _before(mutant[later[0]])]
    assert any("TriggerMessage BootNotification (the station is Pending)" in t for t in titles)
    assert any(t.startswith("recover: power_cycle") for t in titles), titles


def test_a_transaction_left_open_by_a_failing_case_is_stopped_before_the_next_case():
    cases = ["TC_003_CS", "TC_013_CS"]  # TC_013_CS: ChangeAvailability is Scheduled in a session
    results = asyncio.run(asyncio.wait_for(run_sut(NeverReportsCharging, cases), 120))
    assert results["TC_003_CS"]["verdict"] == "fail", results["TC_003_CS"]["reason"]
    after = results["TC_013_CS"]
    assert after["verdict"] == "pass", after["reason"]
    stops = [s for s in _before(after) if "RemoteStopTransaction" in s["title"]]
    assert stops and stops[0]["verdict"] == "pass", _before(after)
    assert "Accepted" in stops[0]["observed"]
    stopped = [
        json.loads(f["raw"])[3]
        for f in after["frames"]
        if f["action"] == "StopTransaction" and f["type"] == "CALL"
    ]
    assert stopped and stopped[0].get("reason") == "Remote", stopped


def test_a_station_that_never_leaves_pending_stops_the_run_after_n_unreached_cases(
    tmp_path: Path,
):
    cases = ["TC_001_CS", PENDING_CASE, "TC_003_CS", "TC_004_1_CS", "TC_005_1_CS", "TC_010_CS"]
    profile, everything, device = load()
    scenarios = [s for s in everything if s.id in cases]
    target = Target(
        "reference",
        time_scale=profile.reference_time_scale,
        floor=profile.reference_floor_s,
        sut_factory=partial(reference_station, cls=NeverLeavesPending),
    )
    out = tmp_path / "report"

    async def go() -> dict[str, Any]:
        campaign = make_campaign(profile, dataclasses.replace(device), target)
        async with campaign:
            report = Report(out, campaign, everything)
            return await run_profile(campaign, scenarios, report, max_unreached=2)

    run = asyncio.run(asyncio.wait_for(go(), 300))
    verdicts = {c["id"]: (c["verdict"], c["reason"]) for c in run["cases"]}
    assert verdicts[PENDING_CASE][0] == "fail"
    for cid in ("TC_003_CS", "TC_004_1_CS"):
        verdict, reason = verdicts[cid]
        assert verdict == "error"
        state = next(s.before.state for s in scenarios if s.id == cid)
        expected = f"before-state {state} not reached: the station is Pending"
        assert reason.startswith(expected), reason
        assert "TriggerMessage(BootNotification)" in reason
        assert "after power_cycle" in reason
    for cid in ("TC_005_1_CS", "TC_010_CS"):
        verdict, reason = verdicts[cid]
        assert verdict == "not_run"
        assert "the run stopped after 2 cases in a row" in reason
        assert "before-state authorized not reached: the station is Pending" in reason
    assert run["stopped"] == verdicts["TC_005_1_CS"][1]
    assert run["profile_verdict"]["met"] is False
    assert not run["profile_verdict"]["text"].startswith("meets")
    written = json.loads((out / "results.json").read_text())
    assert written["stopped"] == run["stopped"]
    assert written["summary"]["not_run"] == 2


def test_before_state_not_reached_is_a_harness_error_with_the_agreed_shape():
    exc = BeforeStateNotReached("booted", "the station is Pending")
    assert isinstance(exc, HarnessError)
    assert exc.reason == "before-state booted not reached: the station is Pending"


def test_a_station_connected_without_a_boot_is_triggered_then_power_cycled():
    results = asyncio.run(asyncio.wait_for(run_sut(SilentOnItsFirstConnection, ["TC_003_CS"]), 120))
    result = results["TC_003_CS"]
    assert result["verdict"] == "pass", result["reason"]
    titles = [s["title"] for s in _before(result)]
    assert any("(the station is not registered (no BootNotification seen))" in t for t in titles)
    assert any(t.startswith("recover: power_cycle") for t in titles), titles


class StaysInoperative(ReferenceStation):
    """Once Inoperative, rejects ChangeAvailability Operative."""

    def change_availability_status(self, connector_id: int, type: str) -> str:
        if type == "Operative":
            return "Rejected"
        return super().change_availability_status(connector_id, type)


class IgnoresItsFirstOperative(ReferenceStation):
    """Answers its first ChangeAvailability Operative Accepted without applying it (TC_020_1_CS's
    after-step leaves the connector Unavailable); every later one is applied."""

    ignored = False

    def apply_availability(self, connector_id: int, type: str) -> None:
        if type == "Operative" and not self.ignored:
            self.ignored = True
            return
        super().apply_availability(connector_id, type)


def test_a_connector_left_unavailable_is_made_operative_or_the_case_says_why_not():
    cases = ["TC_020_1_CS", "TC_021_CS"]
    reference = asyncio.run(asyncio.wait_for(run_sut(IgnoresItsFirstOperative, cases), 120))
    assert reference["TC_021_CS"]["verdict"] == "pass", reference["TC_021_CS"]["reason"]
    made = [s for s in _before(reference["TC_021_CS"]) if "ChangeAvailability" in s["title"]]
    assert made and made[0]["verdict"] == "pass", _before(reference["TC_021_CS"])
    mutant = asyncio.run(asyncio.wait_for(run_sut(StaysInoperative, cases), 120))
    result = mutant["TC_021_CS"]
    assert result["verdict"] == "error", result["reason"]
    assert result["reason"].startswith("before-state booted not reached: [1] still Unavailable")
    assert "ChangeAvailability Operative (answered 1: Rejected)" in result["reason"]
