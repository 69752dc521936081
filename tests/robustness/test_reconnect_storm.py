"""A station that storms the suite with connections (issue 13 item 8).

Under a reconnect storm (some 90 WebSocket connections a second, each closed at once) the case
must say what it is ("the station opened 412 connections in 4.6 s (each closed within 0.02 s)")
instead of "not connected"; its frame log stays within its per-case bound and says how many
frames it dropped; and when the storm stops the next case runs normally, with its own whole log,
while the memory the storm took is released.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection

from pile_interop.core.churn import STORM_CONNECTIONS, Churn
from pile_interop.core.config import find_root, load_device
from pile_interop.core.frames import EVENT, IN, FrameLog
from pile_interop.engine.base import Target
from pile_interop.engine.reference import load_reference_run
from pile_interop.engine.report import Report
from pile_interop.engine.station_campaign import StationCampaign
from pile_interop.engine.targets import make_campaign
from pile_interop.ocpp import session as session_module
from tests.robustness.peers import QUICK_CS, ROOT, RUN_BOUND_S

#: The storm: connections a second (what the bench saw), each closed right after its boot.
STORM_RATE = 90
#: Bound on one storm connection (open, BootNotification, close).
STORM_CONNECTION_S = 3.0
#: Bound on the storm getting going.
STORM_START_S = 10.0
#: How often the test looks whether the storm has begun (within ``STORM_START_S``).
STORM_POLL_S = 0.05
#: The per-case bound of the frame log in this test (small: the storm certainly passes it).
CAP = 20
#: One case that needs a booted station and sends it a CALL (GetConfiguration).
CASE = "TC_019_2_CS"


# -- the pieces ------------------------------------------------------------------------------


def test_the_frame_log_bound_is_per_case() -> None:
    log = FrameLog(max_frames=3)
    for i in range(10):
        log.add(IN, f"flood {i}")
    assert log.dropped == 7
    assert "7 frames dropped" in log.frames[-1].raw
    log.clear()  # the case ended
    assert log.frames == [] and log.dropped == 0
    seq0 = log.last_seq
    for i in range(3):
        log.add(IN, f"next case {i}")
    kept = log.since(seq0)
    assert [f.raw for f in kept] == ["next case 0", "next case 1", "next case 2"]
    assert log.dropped == 0 and all(f.type != EVENT for f in kept)
    assert log.last_mono[IN] == kept[-1].mono  # what came last survives the clearing


def test_churn_names_a_storm_not_a_reboot() -> None:
    churn = Churn("the station")
    for i in range(3):  # a reboot or two: not a storm
        churn.closed(churn.opened(100.0 + i), 100.5 + i)
    assert churn.storm() == ""
    churn.restart()
    early = 99.0  # opened before the window: not counted when it closes
    for i in range(412):
        opened = churn.opened(200.0 + i * 0.0112)
        churn.closed(opened, opened + 0.02)
    churn.closed(early, 201.0)
    assert churn.storm() == (
        "the station opened 412 connections in 4.6 s (each closed within 0.02 s): a reconnect storm"
    )
    churn.restart()
    for i in range(STORM_CONNECTIONS):
        churn.closed(churn.opened(300.0 + i), 300.1 + i)
    churn.closed(churn.opened(400.0), 460.0)  # one long-lived among them
    assert f"({STORM_CONNECTIONS} of them closed within 0.1 s)" in churn.storm()


# -- a storm against a campaign --------------------------------------------------------------


async def storm(url: str, stop: asyncio.Event) -> int:
    """Connect as the station ~``STORM_RATE`` times a second, boot, close; until ``stop``."""
    boot = {"chargePointVendor": "storm", "chargePointModel": "storm"}

    async def once(i: int) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(STORM_CONNECTION_S):
                async with connect(url, subprotocols=["ocpp1.6"], close_timeout=1) as ws:  # type: ignore[list-item]
                    await ws.send(json.dumps([2, f"storm-{i}", "BootNotification", boot]))

    tasks: set[asyncio.Task[None]] = set()
    n = 0
    while not stop.is_set():
        n += 1
        task = asyncio.create_task(once(n))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        await asyncio.sleep(1 / STORM_RATE)
    await asyncio.gather(*tasks, return_exceptions=True)
    return n


async def storm_underway(campaign: StationCampaign) -> None:
    """Until the storm has opened a few connections (bounded by ``STORM_START_S``)."""
    start = campaign.session.connections
    async with asyncio.timeout(STORM_START_S):
        while campaign.session.connections < start + STORM_CONNECTIONS:
            await asyncio.sleep(STORM_POLL_S)


def live_connections() -> int:
    gc.collect()
    return sum(isinstance(o, ServerConnection) for o in gc.get_objects())


def measured() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def storm_run(out: Path) -> dict[str, Any]:
    """A calm case, the same case during a storm, and again once the storm stopped."""
    profile, everything, _reference = load_reference_run("ocpp16/core-cs", find_root(ROOT))
    profile = dataclasses.replace(profile, timeouts={**profile.timeouts, **QUICK_CS})
    device = load_device(ROOT / "fixtures/devices/reference-station16.yaml")
    scenario = next(s for s in everything if s.id == CASE)
    campaign = make_campaign(profile, device, Target("reference"))
    assert isinstance(campaign, StationCampaign)
    seen: dict[str, Any] = {}
    async with campaign:
        report = Report(out, campaign, everything)
        calm = await campaign.run_case(scenario)
        report.add(calm)
        seen["log_after_calm"] = len(campaign.session.log.frames)
        before = measured()
        tracemalloc.reset_peak()
        stop = asyncio.Event()
        storming = asyncio.create_task(storm(campaign.listen_url(), stop))
        await storm_underway(campaign)
        stormy = await campaign.run_case(scenario)
        report.add(stormy)
        stop.set()
        seen["storm_connections"] = await storming
        seen["storm_peak"] = tracemalloc.get_traced_memory()[1] - before
        after = await campaign.run_case(scenario)
        report.add(after)
        seen["residue"] = measured() - before
        seen["log_after_storm"] = len(campaign.session.log.frames)
        seen["live_connections"] = live_connections()
        report.finish(selected={CASE})
    seen.update(calm=calm, stormy=stormy, after=after)
    return seen


def test_a_reconnect_storm_is_named_and_the_next_case_runs_normally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_module, "MAX_FRAMES_PER_CASE", CAP)
    tracemalloc.start()
    try:
        seen = asyncio.run(asyncio.wait_for(storm_run(tmp_path), RUN_BOUND_S))
    finally:
        tracemalloc.stop()
    calm, stormy, after = seen["calm"], seen["stormy"], seen["after"]
    assert calm["verdict"] == "pass", calm["reason"]
    assert seen["storm_connections"] >= STORM_CONNECTIONS
    # the storm, named: in the case's reason (not "the SUT is not connected")
    assert stormy["verdict"] in ("error", "fail"), stormy["reason"]
    assert "a reconnect storm" in stormy["reason"], stormy["reason"]
    assert "the station opened " in stormy["reason"], stormy["reason"]
    assert "not connected" not in stormy["reason"], stormy["reason"]
    # its log kept to the case's bound, and says how much it dropped
    assert len(stormy["frames"]) <= CAP + FrameLog.EVENT_HEADROOM + 1
    assert stormy["frames_dropped"] > 0
    assert any("frames dropped" in f["raw"] for f in stormy["frames"])
    # the next case: a whole log of its own, no storm, its verdict
    assert after["verdict"] == "pass", after["reason"]
    assert after["frames"] and "frames_dropped" not in after
    assert "storm" not in after["reason"]
    # nothing of a case kept after it: no frames, no connection objects of the storm
    assert seen["log_after_calm"] == 0 and seen["log_after_storm"] == 0
    assert seen["live_connections"] <= 2  # the station's own (and one closing at most)
    # the memory the storm took is released: what is left is a small part of its peak
    assert seen["residue"] < 0.25 * seen["storm_peak"], (seen["residue"], seen["storm_peak"])
    # the report names the storm
    results = json.loads((tmp_path / "results.json").read_text())
    reasons = [case["reason"] for case in results["cases"] if case["verdict"] == "error"]
    assert reasons and all("a reconnect storm" in reason for reason in reasons)


def test_connections_the_suite_opens_and_a_csms_closes_are_not_called_a_storm_of_the_sut():
    """Against a CSMS the suite is the one connecting: the sentence says the CSMS closed them."""
    from pile_interop.core.churn import Churn

    churn = Churn("the CSMS", suite_connects=True)
    for i in range(12):
        churn.closed(churn.opened(100.0 + i), 100.0 + i + 0.01)
    text = churn.storm()
    assert text.startswith("the CSMS closed 12 of the suite's 12 connections")
    assert "opened" not in text and "reconnect storm" not in text
