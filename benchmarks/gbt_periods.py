"""Period accuracy of our own GB/T 27930 periodic senders on the python-can virtual bus.

``python benchmarks/gbt_periods.py [--duration S] [--rounds N]``

A case judges a SUT's period from the receive times our node stamps on its frames, so the
suite's own timing has to be good enough first. At time scale 1.0 this measures, per round:

* ``senders``: one node sends a 10 ms (BST id), a 50 ms (BCL id) and a 250 ms (BSM id) frame
  with :class:`~pile_interop.gbt27930.periodic.PeriodicSender` for ``--duration`` seconds;
  the intervals are measured where they are sent (``tx``) and where another node on the same
  virtual channel receives them (``rx``), plus the send → receive latency of each frame;
* ``pair``: the reference charger and BMS (:func:`~pile_interop.gbt27930.pair.reference_pair`)
  in the charging phase for ``--duration`` seconds (BCL, CCS 50 ms, with BCS, BSM traffic),
  then a charger stop with the BMS's BST suppressed, so CST (10 ms) runs for the 5 s BST
  timeout.

For each message and side: mean interval, and the 50th / 95th / 99th percentile and maximum of
``|interval − nominal|``, in milliseconds; the table shows the median of each statistic over
the rounds (the maximum: the largest). Writes ``reports/bench-gbt_periods.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import platform
import statistics
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import can

from pile_interop.core.clock import Clock
from pile_interop.gbt27930 import codec
from pile_interop.gbt27930.bms import BmsParams
from pile_interop.gbt27930.charger import ChargerParams
from pile_interop.gbt27930.ids import BMS_ADDRESS, CHARGER_ADDRESS
from pile_interop.gbt27930.pair import reference_pair, virtual_channel
from pile_interop.gbt27930.periodic import PeriodicSender, PeriodStats, period_stats, quantile
from pile_interop.gbt27930.transport import J1939Node

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "bench-gbt_periods.json"
MS = 0.001
#: Bound on reaching the charging phase (protocol = real seconds here).
PHASE_TIMEOUT_S = 30.0
#: Bound on the stop phase (the BST timeout is 5 s).
STOP_TIMEOUT_S = 15.0

SENDERS = (("BST", 0.010), ("BCL", 0.050), ("BSM", 0.250))
"""Messages of the ``senders`` scenario: name and period (s)."""

Row = dict[str, Any]


def _row(scenario: str, name: str, side: str, stats: PeriodStats) -> Row:
    return {"scenario": scenario, "message": name, "side": side, **stats.as_dict(MS)}


async def senders_round(duration: float) -> list[Row]:
    """Periodic senders alone on a virtual channel (scale 1.0)."""
    channel = virtual_channel("bench")
    clock = Clock(1.0)
    tx_node = J1939Node(
        can.Bus(interface="virtual", channel=channel), BMS_ADDRESS, clock=clock, owns_bus=True
    )
    rx_node = J1939Node(
        can.Bus(interface="virtual", channel=channel), CHARGER_ADDRESS, clock=clock, owns_bus=True
    )
    rows: list[Row] = []
    async with tx_node, rx_node:
        senders = []
        for name, _period in SENDERS:
            info = codec.message_info(name)
            data = codec.encode(name, {}, fill_missing=True)

            def send(can_id: int = info.can_id, payload: bytes = data, note: str = name) -> None:
                tx_node.send_frame(can_id, payload, note)

            senders.append(PeriodicSender(clock, info.period, send, name=name).start())
        await clock.sleep(duration)
        for sender in senders:
            await sender.stop()
        await clock.sleep(0.05)  # the last frames reach the receiver
    latencies: list[float] = []
    for name, period in SENDERS:
        can_id = codec.message_info(name).can_id
        sent = [f for f in tx_node.frames if f.can_id == can_id]
        got = [f for f in rx_node.frames if f.can_id == can_id]
        rows.append(_row("senders", name, "tx", period_stats([f.mono for f in sent], period)))
        rows.append(_row("senders", name, "rx", period_stats([f.mono for f in got], period)))
        latencies += [r.mono - s.mono for s, r in zip(sent, got, strict=False)]
    rows.append(
        {
            "scenario": "senders",
            "message": "latency",
            "side": "tx→rx",
            "count": len(latencies),
            "mean": statistics.fmean(latencies) / MS,
            "p50": quantile(latencies, 0.5) / MS,
            "p95": quantile(latencies, 0.95) / MS,
            "p99": quantile(latencies, 0.99) / MS,
            "max_deviation": max(latencies) / MS,
        }
    )
    return rows


async def pair_round(duration: float) -> list[Row]:
    """The reference pair charging, then CST for the 5 s BST timeout (scale 1.0)."""
    rows: list[Row] = []
    async with reference_pair(
        clock=Clock(1.0),
        charger_params=ChargerParams(insulation_check_s=0.5, precharge_s=0.2),
        bms_params=BmsParams(ready_delay_s=0.2),
    ) as (charger, bms):
        await charger.wait_phase("charging", timeout=PHASE_TIMEOUT_S)
        await bms.wait_phase("charging", timeout=PHASE_TIMEOUT_S)
        start = charger.clock.monotonic()
        with contextlib.suppress(TimeoutError):
            await charger.wait_until(lambda: charger.phase != "charging", duration)
        end = charger.clock.monotonic()
        bms.suppress("BST")
        await charger.request_stop("manual")
        await charger.wait_until(lambda: bool(charger.events_of("timeout")), STOP_TIMEOUT_S)

    def times(peer: Any, name: str, direction: str, window: tuple[float, float]) -> list[float]:
        low, high = window
        return [
            m.mono
            for m in peer.history
            if m.name == name and m.direction == direction and low <= m.t <= high
        ]

    charging = (start, end)
    stopping = (end, float("inf"))
    for name, sender, receiver, window in (
        ("BCL", bms, charger, charging),
        ("CCS", charger, bms, charging),
        ("CST", charger, bms, stopping),
    ):
        period = codec.message_info(name).period
        rows.append(
            _row("pair", name, "tx", period_stats(times(sender, name, "tx", window), period))
        )
        rows.append(
            _row("pair", name, "rx", period_stats(times(receiver, name, "rx", window), period))
        )
    return rows


async def bench(duration: float, rounds: int) -> list[list[Row]]:
    await asyncio.to_thread(lambda: [codec.messages(v) for v in ("2015", "2011", "2023a")])
    results = []
    for r in range(rounds):
        rows = await senders_round(duration) + await pair_round(duration)
        results.append(rows)
        print(f"round {r + 1}/{rounds} done", file=sys.stderr)
    return results


def summarise(results: list[list[Row]]) -> list[Row]:
    """Median over rounds of each statistic (largest maximum), per scenario/message/side."""
    keys = [(r["scenario"], r["message"], r["side"]) for r in results[0]]
    out = []
    for index, key in enumerate(keys):
        rows = [round_rows[index] for round_rows in results]
        merged: Row = dict(zip(("scenario", "message", "side"), key, strict=True))
        merged["count"] = sum(r["count"] for r in rows)
        if "nominal" in rows[0]:
            merged["nominal"] = rows[0]["nominal"]
        for stat in ("mean", "p50", "p95", "p99"):
            merged[stat] = statistics.median(r[stat] for r in rows)
        merged["max_deviation"] = max(r["max_deviation"] for r in rows)
        out.append(merged)
    return out


def machine() -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "python-can": version("python-can"),
        "cantools": version("cantools"),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("pile_interop").setLevel(logging.WARNING)
    results = asyncio.run(bench(args.duration, args.rounds))
    table = summarise(results)
    print(
        f"GB/T 27930 periods on the virtual bus, time scale 1.0, {args.duration:g} s per "
        f"measurement, {args.rounds} round(s); ms, deviations |interval - nominal|"
    )
    header = f"{'scenario':<9}{'message':<9}{'side':<7}{'n':>6}{'nominal':>9}{'mean':>8}"
    print(header + f"{'p50':>7}{'p95':>7}{'p99':>7}{'max':>7}")
    for row in table:
        nominal = f"{row['nominal']:9.1f}" if "nominal" in row else f"{'':9}"
        print(
            f"{row['scenario']:<9}{row['message']:<9}{row['side']:<7}{row['count']:6d}{nominal}"
            f"{row['mean']:8.3f}{row['p50']:7.3f}{row['p95']:7.3f}{row['p99']:7.3f}"
            f"{row['max_deviation']:7.3f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "benchmark": "gbt_periods",
        "command": ("python benchmarks/gbt_periods.py " + " ".join(argv or sys.argv[1:])).rstrip(),
        "machine": machine(),
        "duration_s": args.duration,
        "rounds": args.rounds,
        "unit": "ms",
        "summary": table,
        "per_round": results,
    }
    args.out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
