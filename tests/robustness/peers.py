"""Rude peers: raw WebSocket / TCP code that misbehaves on purpose, and the harness that runs
a handful of a profile's cases against one of them.

Every wait here is bounded: a peer runs at most ``PEER_BOUND_S`` and is cancelled as soon as
the cases are done; a campaign run is bounded by ``RUN_BOUND_S``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import io
import os
import socket
import struct
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from pile_interop.actuators.prompt import PromptActuator
from pile_interop.core.config import find_root, load_device
from pile_interop.core.frames import FrameLog
from pile_interop.engine.base import CampaignBase, Target
from pile_interop.engine.reference import load_reference_run
from pile_interop.engine.report import Report
from pile_interop.engine.station_campaign import StationCampaign
from pile_interop.engine.targets import make_campaign
from pile_interop.ocpp import session as session_module
from pile_interop.reporting.stream import read_jsonl
from pile_interop.scenario.case_info import case_budget

ROOT = Path(__file__).resolve().parents[2]
#: The most a rude peer behaves rudely (it is cancelled when the cases are done).
PEER_BOUND_S = 30.0
#: Bound on a cancelled peer winding down.
PEER_STOP_S = 5.0
#: Bound on one campaign run against a rude peer (start, the cases, the report, stop).
RUN_BOUND_S = 45.0
#: What the issue allows a case beyond its own bound (``case_budget``).
SLACK_S = 5.0

#: Short bounds: a rude peer makes every case wait for them to run out.
QUICK_CS = {
    "connect": 2,
    "boot": 2,
    "boot_status": 1,
    "settle": 2,
    "manual": 2,
    "response": 1.5,
    "message": 1.5,
}
QUICK_CSMS = {"connect": 2, "boot": 2, "response": 1.5, "message": 1.5, "manual": 2}

Peer = Callable[[str], Awaitable[Any]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def lab_device(tmp_path: Path, reference: str) -> Path:
    """A copy of a reference device descriptor for a lab run (nobody at the bench)."""
    data = yaml.safe_load((ROOT / "fixtures/devices" / reference).read_text())
    data["actuator"] = {"type": "prompt"}
    path = tmp_path / f"lab-{reference}"
    path.write_text(yaml.safe_dump(data))
    return path


@dataclass
class Run:
    """What a run against a rude peer left behind."""

    results: dict[str, dict[str, Any]]
    elapsed: dict[str, float]
    budgets: dict[str, float]
    out: Path
    peak_bytes: int = 0
    max_kept_frames: int = 0

    def check_bounded(self) -> None:
        """Every case ended within its bound plus ``SLACK_S``, with a reason, not ``pass``;
        the frame log stayed within its bound; the report folder is there."""
        bound = session_module.MAX_FRAMES_PER_CASE + FrameLog.EVENT_HEADROOM + 1
        assert self.max_kept_frames <= bound, self.max_kept_frames
        for case_id, result in self.results.items():
            assert self.elapsed[case_id] <= self.budgets[case_id] + SLACK_S, (
                f"{case_id} took {self.elapsed[case_id]:.1f} s, bound {self.budgets[case_id]:.1f}"
            )
            assert result["verdict"] in ("fail", "error"), (case_id, result["reason"])
            assert result["reason"], case_id
        assert len(read_jsonl(self.out / "results.jsonl")) == len(self.results)
        assert (self.out / "results.json").is_file()
        assert (self.out / "index.html").is_file()

    def reason(self, case_id: str | None = None) -> str:
        result = self.results[case_id or next(iter(self.results))]
        return str(result["reason"])

    def events(self) -> list[str]:
        return [f["raw"] for r in self.results.values() for f in r["frames"] if f["dir"] == "event"]


async def run_against(
    peer: Peer | None,
    cases: list[str],
    out: Path,
    device_path: Path,
    *,
    profile_id: str = "ocpp16/core-cs",
    quick: dict[str, float] | None = None,
    url: str | None = None,
    trace_memory: bool = False,
    before: Callable[[CampaignBase], Awaitable[Any]] | None = None,
) -> Run:
    """Run ``cases`` of ``profile_id`` in a lab campaign whose SUT is ``peer``.

    SUT = station: the suite listens on a free port and ``peer(url)`` connects to it;
    SUT = CSMS: the rude CSMS already listens at ``url`` (``peer`` is None) and the suite
    connects."""
    profile, everything, _reference = load_reference_run(profile_id, find_root(ROOT))
    quick = quick or (QUICK_CSMS if profile.sut == "csms" else QUICK_CS)
    profile = dataclasses.replace(profile, timeouts={**profile.timeouts, **quick})
    device = load_device(device_path)
    chosen = [s for s in everything if s.id in cases]
    assert [s.id for s in chosen] == cases, "cases in profile order, all known"
    if profile.sut == "csms":
        target = Target("connect", url=url or "")
    else:
        target = Target("listen", port=free_port())
    nobody = PromptActuator(io.StringIO(""), io.StringIO())
    campaign = make_campaign(profile, device, target, actuator=nobody, url=url)
    results: dict[str, dict[str, Any]] = {}
    elapsed: dict[str, float] = {}
    budgets: dict[str, float] = {}
    task: asyncio.Task[Any] | None = None
    max_kept = 0

    def watch(_frame: Any) -> None:
        nonlocal max_kept
        max_kept = max(max_kept, len(campaign.session.log.frames))

    if trace_memory:
        tracemalloc.start()
    try:
        async with campaign:
            campaign.session.listeners.append(watch)
            if before is not None:
                await before(campaign)
            report = Report(out, campaign, everything)
            if peer is not None and isinstance(campaign, StationCampaign):  # SUT = station
                station_url = campaign.listen_url()
                task = asyncio.create_task(asyncio.wait_for(peer(station_url), PEER_BOUND_S))
            for scenario in chosen:
                budgets[scenario.id] = case_budget(scenario, campaign.timing)
                t0 = time.monotonic()
                results[scenario.id] = await campaign.run_case(scenario)
                elapsed[scenario.id] = time.monotonic() - t0
                report.add(results[scenario.id])
            report.finish(selected={s.id for s in chosen})
        peak = tracemalloc.get_traced_memory()[1] if trace_memory else 0
    finally:
        if trace_memory:
            tracemalloc.stop()
        if task is not None:
            task.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, PEER_STOP_S)
    return Run(results, elapsed, budgets, out, peak, max_kept)


async def raw_upgrade(url: str, subprotocol: str = "ocpp1.6") -> tuple[Any, Any]:
    """Open a WebSocket by hand (no library buffering a peer's frames): the stream pair."""
    parts = urlsplit(url)
    reader, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, parts.port), 5)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {subprotocol}\r\n\r\n"
        ).encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101"), head
    return reader, writer


def frame_header(length: int, opcode: int = 1) -> bytes:
    """A client frame header (FIN, masked with the all-zero key: the payload goes as is)."""
    return bytes([0x80 | opcode, 0x80 | 127]) + struct.pack("!Q", length) + bytes(4)
