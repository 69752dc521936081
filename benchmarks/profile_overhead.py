"""Harness overhead of a whole profile run against the embedded reference station.

``python benchmarks/profile_overhead.py [--runs N] [--profile ID]`` runs the profile N times
(the same machinery as ``tests/mutants/catalogue.py:run_sut(None)``: a :class:`StationCampaign`
against the reference station, every case in order) and compares the wall time of each run,
campaign start and stop included, with the time the cases are *required* to spend by protocol
(``wait`` steps, ``expect_none`` windows, and the SUT's protocol timers a case waits on, i.e.
the time until a ``not_before`` frame came: ``required_wait_s``).

Every case's time is split, from its frame log, into:

* ``required``: ``required_wait_s`` as the runner counts it;
* ``reboot``: the reference station's own reboot / reconnect (from a ``connection closed``
  event to the next ``connected`` event, across case boundaries too);
* ``sut slack``: the rest of the time spent waiting for a frame from the station (gaps that
  end at an inbound frame or a ``connected`` event) beyond its protocol timers: the station's
  own latency;
* ``suite``: the rest (gaps that end at a frame the suite sends, or at the case's end) minus
  the ``wait`` / ``expect_none`` time: the suite's own processing.

Prints a table of medians over the runs and writes ``reports/bench-profile_overhead.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from pile_interop.core.config import Device, Profile, find_root
from pile_interop.engine.base import Target
from pile_interop.engine.reference import load_reference_run, reference_station
from pile_interop.engine.station_campaign import StationCampaign
from pile_interop.scenario.model import Scenario

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "bench-profile_overhead.json"
PROFILE = "ocpp16/core-cs"
#: Bound on one whole profile run (the run takes ~20 s against the reference station).
RUN_BOUND_S = 600.0
#: The harness overhead goal of the issue, as a fraction of the wall time.
GOAL = 0.10

CASE_KEYS = ("duration", "required", "reboot", "sut_slack", "suite", "overhead", "harness")
TOTAL_KEYS = (
    "wall",
    "load",
    "campaign",
    "cases",
    "required",
    "reboot",
    "sut_slack",
    "suite",
    "overhead",
    "harness",
)


def load(profile_id: str) -> tuple[Profile, list[Scenario], Device]:
    return load_reference_run(profile_id, find_root(ROOT))


def windows(result: dict[str, Any]) -> list[tuple[float, float]]:
    """The intervals of the case's ``wait`` and ``expect_none`` steps (the suite waits)."""
    return [
        (float(s["t_start"]), float(s["t_start"]) + float(s["duration_s"]))
        for s in result["steps"]
        if s["kind"] in ("wait", "expect_none") and s["verdict"] != "skipped"
    ]


def overlap(a: float, b: float, spans: list[tuple[float, float]]) -> float:
    return sum(max(0.0, min(b, hi) - max(a, lo)) for lo, hi in spans)


def split_case(result: dict[str, Any], down: bool) -> tuple[dict[str, float], bool]:
    """Where one case's time went; ``down``: the station is rebooting when the case starts.

    Each gap between consecutive frames goes to ``reboot`` while the station is disconnected,
    else its part inside a ``wait`` / ``expect_none`` step to the suite's windows, else to the
    SUT when the gap ends at an inbound frame or a ``connected`` event, else to the suite.
    """
    duration = float(result["duration_s"])
    required = float(result["required_wait_s"])
    spans = windows(result)
    reboot = window = sut = suite = 0.0
    previous = 0.0
    points = [(float(f["t"]), f) for f in result["frames"]] + [(duration, None)]
    for t, frame in points:
        gap = max(0.0, t - previous)
        if down:
            reboot += gap
        else:
            inside = min(gap, overlap(previous, previous + gap, spans))
            window += inside
            waited_for_sut = frame is not None and (
                frame["dir"] == "in"
                or (frame["dir"] == "event" and str(frame["raw"]).startswith("connected"))
            )
            if waited_for_sut:
                sut += gap - inside
            else:
                suite += gap - inside
        previous = max(previous, t)
        if frame is not None and frame["dir"] == "event":
            raw = str(frame["raw"])
            if raw.startswith("connection closed"):
                down = True
            elif raw.startswith("connected"):
                down = False
    row = {
        "duration": duration,
        "required": required,
        "reboot": reboot,
        # required = the windows + the SUT's protocol timers the case waited on (not_before
        # steps); what the SUT took beyond those timers is its own latency ("slack")
        "sut_slack": sut - max(0.0, required - window),
        "suite": suite,
        "overhead": duration - required,
        "harness": duration - required - reboot,
    }
    return row, down


async def one_run(profile_id: str) -> dict[str, Any]:
    t_load = time.monotonic()
    profile, scenarios, device = load(profile_id)
    t0 = time.monotonic()
    target = Target(
        "reference",
        time_scale=profile.reference_time_scale,
        floor=profile.reference_floor_s,
        sut_factory=reference_station,
    )
    results: list[dict[str, Any]] = []
    campaign = StationCampaign(profile, device, target)
    async with campaign:
        for scenario in scenarios:
            results.append(await campaign.run_case(scenario))
    wall = time.monotonic() - t0
    cases: list[dict[str, Any]] = []
    down = False
    for result in results:
        row, down = split_case(result, down)
        cases.append({"id": result["id"], "verdict": result["verdict"], **row})
    totals = {key: sum(c[key] for c in cases) for key in CASE_KEYS if key != "duration"}
    totals["cases"] = sum(c["duration"] for c in cases)
    totals["wall"] = wall
    totals["load"] = t0 - t_load
    totals["campaign"] = wall - totals["cases"]  # start, stop, between-case bookkeeping
    totals["overhead"] = wall - totals["required"]
    totals["harness"] = wall - totals["required"] - totals["reboot"]
    return {"totals": totals, "cases": cases}


def median_cases(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = [c["id"] for c in runs[0]["cases"]]
    rows = []
    for i, case_id in enumerate(ids):
        samples = [run["cases"][i] for run in runs]
        row: dict[str, Any] = {"id": case_id}
        row.update({k: statistics.median(s[k] for s in samples) for k in CASE_KEYS})
        row["verdicts"] = sorted({s["verdict"] for s in samples})
        rows.append(row)
    return rows


def machine() -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def pct(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.1f} %" if whole else "-"


def report(totals: dict[str, float], cases: list[dict[str, Any]], runs: int) -> str:
    wall, required = totals["wall"], totals["required"]
    lines = [
        f"medians over {runs} run(s), seconds",
        f"  wall (campaign start to stop)   {wall:8.3f}",
        f"  sum of case durations           {totals['cases']:8.3f}",
        f"  campaign start/stop + between   {totals['campaign']:8.3f}",
        f"  sum of required waits           {required:8.3f}",
        f"  overhead = wall - required      {totals['overhead']:8.3f}"
        f"   {pct(totals['overhead'], wall)} of wall, {pct(totals['overhead'], required)}"
        " of required",
        f"  SUT reboot/reconnect            {totals['reboot']:8.3f}",
        f"  harness = overhead - reboot     {totals['harness']:8.3f}"
        f"   {pct(totals['harness'], wall)} of wall, {pct(totals['harness'], required)}"
        " of required",
        f"    of which SUT timer slack      {totals['sut_slack']:8.3f}"
        f"   {pct(totals['sut_slack'], wall)} of wall",
        f"    of which suite in cases       {totals['suite']:8.3f}"
        f"   {pct(totals['suite'], wall)} of wall",
        f"    of which campaign start/stop  {totals['campaign']:8.3f}"
        f"   {pct(totals['campaign'], wall)} of wall",
        f"  goal: harness < {GOAL:.0%} of wall: "
        + ("met" if totals["harness"] < GOAL * wall else "NOT met"),
        f"  (loading the profile and cases, not in wall: {totals['load']:.3f} s)",
        "",
        f"{'case':<13}{'duration':>9}{'required':>9}{'overhead':>9}{'reboot':>8}"
        f"{'harness':>9}{'slack':>8}{'suite':>8}  verdict",
    ]
    for c in sorted(cases, key=lambda c: c["overhead"], reverse=True):
        lines.append(
            f"{c['id']:<13}{c['duration']:9.3f}{c['required']:9.3f}{c['overhead']:9.3f}"
            f"{c['reboot']:8.3f}{c['harness']:9.3f}{c['sut_slack']:8.3f}{c['suite']:8.3f}"
            f"  {','.join(c['verdicts'])}"
        )
    lines.append(
        "overhead = duration - required; harness = overhead - reboot = slack + suite "
        "(slack: the station's latency beyond its protocol timers; suite: our own time)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="profile runs (median reported)")
    parser.add_argument("--profile", default=PROFILE)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    runs = []
    for i in range(args.runs):
        run = asyncio.run(asyncio.wait_for(one_run(args.profile), RUN_BOUND_S))
        t = run["totals"]
        print(
            f"run {i + 1}/{args.runs}: wall {t['wall']:.3f} s, required {t['required']:.3f} s, "
            f"reboot {t['reboot']:.3f} s",
            file=sys.stderr,
        )
        runs.append(run)
    totals = {k: statistics.median(r["totals"][k] for r in runs) for k in TOTAL_KEYS}
    cases = median_cases(runs)
    print(report(totals, cases, args.runs))
    not_pass = sorted({c["id"] for c in cases if c["verdicts"] != ["pass"]})
    if not_pass:
        print(f"WARNING: not every case passed: {', '.join(not_pass)}", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "benchmark": "profile_overhead",
        "profile": args.profile,
        "command": (
            "python benchmarks/profile_overhead.py " + " ".join(argv or sys.argv[1:])
        ).rstrip(),
        "machine": machine(),
        "goal": {
            "definition": "harness = wall - required - reboot, as a fraction of wall",
            "limit": GOAL,
            "value": totals["harness"] / totals["wall"],
            "met": totals["harness"] < GOAL * totals["wall"],
        },
        "median": {"totals": totals, "cases": cases},
        "runs": runs,
    }
    args.out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
