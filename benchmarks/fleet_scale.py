"""How many fleet stations one machine holds, what each costs, and where latency turns up.

``python benchmarks/fleet_scale.py hold --stations 10000``: stations against the reference
CSMS (a separate process: ``pile-interop serve-reference csms``), each with a 60 s heartbeat,
one transaction every 10 minutes on average (5 minutes long) with 60 s meter values. It
reports the time until every station's BootNotification is answered, our process's memory
per station (resident set after the ramp and the settle phase, minus before the first
station, divided by the stations), the messages per second, and the latency percentiles of
each action *after* the ramp (the figures restart when the last BootNotification is
answered), with both processes' CPU.

``python benchmarks/fleet_scale.py knee``: heartbeat-only fleets at rising message rates (the
stations fixed, the heartbeat interval shortened, the ramp at the target rate so heartbeats come
evenly), each step measured after its ramp, against
two CSMSs in turn: a minimal echo CSMS (a plain ``websockets`` server answering every CALL
at once: the knee is our side's) and the reference CSMS (the knee is the reference CSMS's,
the first to saturate); each step gives the rate reached, Heartbeat p50 / p99 and the CPU of
both processes, so the side that saturates is seen, not guessed.

Writes ``reports/bench-fleet-scale-<mode>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pile_interop.core.clock import utc_iso
from pile_interop.fleet.behaviour import Behaviour, Kind
from pile_interop.fleet.run import Fleet, raise_file_limit
from roundtrips import machine

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
TAG = "5049F1EE"
#: Bound on a CSMS process accepting connections after its start.
START_TIMEOUT_S = 30.0
#: How often a condition is looked at again while waiting (real seconds).
POLL_S = 0.1
#: Bound on the whole ramp: every BootNotification answered (real seconds).
RAMP_TIMEOUT_S = 600.0
CLK = os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_s(pid: int | str = "self") -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start_csms(kind: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    if kind == "reference":
        command = [
            sys.executable,
            "-m",
            "pile_interop",
            "serve-reference",
            "csms",
            "--ocpp",
            "1.6",
            "--listen",
            f"{HOST}:{port}",
            "--id-tag",
            f"{TAG}=Accepted",
        ]
    else:
        command = [sys.executable, __file__, "echo", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.5):
            return process, f"ws://{HOST}:{port}/ocpp"
        time.sleep(POLL_S)
    process.kill()
    raise RuntimeError(f"{kind} CSMS did not listen within {START_TIMEOUT_S} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


async def serve_echo(port: int) -> None:
    """The echo CSMS: every CALL answered at once (Heartbeat's answer for every action)."""
    from websockets.asyncio.server import serve

    raise_file_limit()

    async def handler(connection: Any) -> None:
        with contextlib.suppress(Exception):
            async for raw in connection:
                message = json.loads(raw)
                if message[0] != 2:
                    continue
                action = message[2]
                if action == "BootNotification":
                    answer = {"currentTime": utc_iso(), "interval": 60, "status": "Accepted"}
                elif action == "Heartbeat":
                    answer = {"currentTime": utc_iso()}
                else:
                    answer = {}
                await connection.send(json.dumps([3, message[1], answer]))

    async with serve(
        handler, HOST, port, subprotocols=["ocpp1.6"], ping_interval=None, compression=None
    ):
        await asyncio.Future()


def behaviour(
    heartbeat_s: float, ramp: float, tx_every: float, tx_duration: float, meter: float
) -> Behaviour:
    return Behaviour(
        id="fleet/bench-scale",
        path="benchmarks/fleet_scale.py",
        mix=(Kind("1.6"),),
        ramp_per_second=ramp,
        heartbeat_s=heartbeat_s,
        tx_every_s=tx_every,
        tx_duration_s=tx_duration,
        meter_interval_s=meter,
        id_tag=TAG,
        call_timeout_s=30.0,
        connect_timeout_s=30.0,
        judge_per_second=2000.0,
    )


async def run_phase(
    b: Behaviour, stations: int, url: str, settle_s: float, csms_pid: int
) -> dict[str, Any]:
    """Ramp ``stations`` up, then ``settle_s`` seconds; figures of the settle phase."""
    gc.collect()
    before = rss_kib()
    fleet = Fleet(b, stations, {("1.6", 0): url}, duration_s=10**6)
    stats = fleet.stats
    marks: dict[str, Any] = {"rss_before_kib": before}

    async def monitor() -> None:
        t0 = time.monotonic()
        while (boots := stats.actions.get("BootNotification")) is None or boots.count < stations:
            await asyncio.sleep(POLL_S)
            if time.monotonic() - t0 > RAMP_TIMEOUT_S:
                marks["ramp_incomplete"] = boots.count if boots is not None else 0
                break
        marks["all_booted_s"] = round(time.monotonic() - t0, 2)
        marks["ramp_actions"] = {k: v.figures() for k, v in stats.actions.items()}
        marks["ramp_violations"] = stats.totals()["violations"]
        stats.actions = {}  # after-ramp figures from here
        received, ours, theirs = stats.received, cpu_s(), cpu_s(csms_pid)
        t1 = time.monotonic()
        await asyncio.sleep(settle_s)
        gc.collect()
        span = time.monotonic() - t1
        marks["rss_after_kib"] = rss_kib()
        marks["csms_rss_kib"] = rss_kib(csms_pid)
        marks["received_per_s"] = round((stats.received - received) / span, 1)
        marks["cpu_ours"] = round((cpu_s() - ours) / span, 3)
        marks["cpu_csms"] = round((cpu_s(csms_pid) - theirs) / span, 3)
        marks["connected"] = stats.connected
        marks["load_average_1min"] = round(os.getloadavg()[0], 2)  # the machine is shared
        fleet.stop(interrupted=False)

    watcher = asyncio.create_task(monitor())
    result = await fleet.run()
    watcher.cancel()
    per_station = (marks["rss_after_kib"] - before) / stations
    after = {
        name: {
            "count": a["count"],
            **a["latency_ms"],
            "timeouts": a["timeouts"],
            "violations": a["violations"],
        }
        for name, a in result["actions"].items()
    }
    return {
        "stations": stations,
        **{k: v for k, v in marks.items() if k != "ramp_actions"},
        "ramp_boot": marks["ramp_actions"].get("BootNotification", {}).get("latency_ms"),
        "kib_per_station": round(per_station, 2),
        "after_ramp": after,
        "sampling": result["sampling"],
        "connections": {k: v for k, v in result["connections"].items() if k != "refusals"},
        "violations": result["totals"]["violations"],
    }


async def hold(args: argparse.Namespace) -> dict[str, Any]:
    process, url = start_csms("reference")
    try:
        b = behaviour(60, args.ramp, 600, 300, 60)
        return await run_phase(b, args.stations, url, args.settle, process.pid)
    finally:
        stop(process)


async def knee(args: argparse.Namespace) -> dict[str, Any]:
    steps: dict[str, list[dict[str, Any]]] = {}
    for csms in args.csms:
        steps[csms] = []
        for rate in args.rates:
            process, url = start_csms(csms)
            try:
                # ramped at the target rate: the stations spread over one heartbeat interval,
                # so their heartbeats come evenly, not in a burst
                b = behaviour(args.stations / rate, rate, 10**9, 1, 60)
                phase = await run_phase(b, args.stations, url, args.settle, process.pid)
            finally:
                stop(process)
            beat = phase["after_ramp"].get("Heartbeat", {})
            row = {
                "target_per_s": rate,
                "calls_per_s": round(phase["received_per_s"], 1),
                "p50_ms": beat.get("p50"),
                "p99_ms": beat.get("p99"),
                "timeouts": beat.get("timeouts", 0),
                "cpu_ours": phase["cpu_ours"],
                "cpu_csms": phase["cpu_csms"],
                "load_average_1min": phase["load_average_1min"],
            }
            steps[csms].append(row)
            print(f"{csms:<9} {json.dumps(row)}", file=sys.stderr, flush=True)
    return {"stations": args.stations, "steps": steps}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    p_hold = sub.add_parser("hold")
    p_hold.add_argument("--stations", type=int, default=1000)
    p_hold.add_argument("--ramp", type=float, default=500.0, help="stations per second")
    p_hold.add_argument("--settle", type=float, default=120.0, help="seconds after the ramp")
    p_knee = sub.add_parser("knee")
    p_knee.add_argument("--stations", type=int, default=500)
    p_knee.add_argument("--settle", type=float, default=15.0)
    p_knee.add_argument(
        "--rates", type=float, nargs="+", default=[100, 250, 500, 1000, 1500, 2000, 3000]
    )
    p_knee.add_argument(
        "--csms", nargs="+", choices=["echo", "reference"], default=["echo", "reference"]
    )
    p_echo = sub.add_parser("echo")
    p_echo.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    if args.mode == "echo":
        asyncio.run(serve_echo(args.port))
        return 0
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("ocpp").setLevel(logging.WARNING)
    raise_file_limit()
    result = asyncio.run(hold(args) if args.mode == "hold" else knee(args))
    result = {
        "benchmark": f"fleet-scale-{args.mode}",
        "machine": machine(),
        "command": " ".join(sys.argv),
        **result,
    }
    print(json.dumps(result, indent=1))
    out = ROOT / "reports" / f"bench-fleet-scale-{args.mode}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
