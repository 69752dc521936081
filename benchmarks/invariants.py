"""What the run-wide invariants cost per frame: a frame log with and without the monitor.

``python benchmarks/invariants.py [--transactions N] [--rounds N]``

Feeds a synthetic, conforming conversation of a station under test (boot, statuses, then N
transactions of Authorize, start, 20 meter samples, stop, each CALL answered) through a
:class:`~pile_interop.core.frames.FrameLog`, once bare and once observed by an
:class:`~pile_interop.ocpp.invariants.InvariantMonitor` with every invariant of the version, for
OCPP 1.6 and 2.0.1. The frames are built before the clock starts; what is timed is the log
taking them (and the monitor judging them). Each round measures both variants of a version
back to back, in alternating order, so machine noise hits both; the table shows the median
µs per frame and the ratio. Writes ``reports/bench-invariants.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pile_interop.core.frames import FrameLog
from pile_interop.ocpp import dialects
from pile_interop.ocpp.frames import CALL, CALLRESULT, IN, OUT
from pile_interop.ocpp.invariants import CS, InvariantMonitor

Frame = tuple[str, str, dict[str, Any]]  # direction, raw, fields for FrameLog.add
SAMPLES = 20
NOW = "2026-12-05T10:00:00Z"


class Conversation:
    """The frames of a conforming exchange, in log order (a CALL, then its answer)."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self._n = 0

    def exchange(
        self, sender: str, action: str, payload: dict[str, Any], answer: dict[str, Any]
    ) -> None:
        self._n += 1
        uid = f"m{self._n}"
        other = OUT if sender == IN else IN
        self.frames.append(
            (
                sender,
                json.dumps([2, uid, action, payload]),
                {"type": CALL, "unique_id": uid, "action": action, "payload": payload},
            )
        )
        self.frames.append(
            (
                other,
                json.dumps([3, uid, answer]),
                {"type": CALLRESULT, "unique_id": uid, "action": action, "payload": answer},
            )
        )


def conversation16(transactions: int) -> list[Frame]:
    c = Conversation()
    c.exchange(
        IN,
        "BootNotification",
        {"chargePointVendor": "V", "chargePointModel": "M"},
        {"status": "Accepted", "currentTime": NOW, "interval": 300},
    )
    c.exchange(
        IN,
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
        {},
    )
    wh = 1000
    for tx in range(1, transactions + 1):
        c.exchange(IN, "Authorize", {"idTag": "T"}, {"idTagInfo": {"status": "Accepted"}})
        c.exchange(
            IN,
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"},
            {},
        )
        c.exchange(
            IN,
            "StartTransaction",
            {"connectorId": 1, "idTag": "T", "meterStart": wh, "timestamp": NOW},
            {"transactionId": tx, "idTagInfo": {"status": "Accepted"}},
        )
        c.exchange(
            IN,
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Charging"},
            {},
        )
        for _ in range(SAMPLES):
            wh += 10
            value = {
                "timestamp": NOW,
                "sampledValue": [{"value": str(wh), "measurand": "Energy.Active.Import.Register"}],
            }
            c.exchange(
                IN,
                "MeterValues",
                {"connectorId": 1, "transactionId": tx, "meterValue": [value]},
                {},
            )
        c.exchange(
            IN, "StopTransaction", {"transactionId": tx, "meterStop": wh, "timestamp": NOW}, {}
        )
        c.exchange(
            IN,
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
            {},
        )
    return c.frames


def conversation201(transactions: int) -> list[Frame]:
    c = Conversation()
    c.exchange(
        IN,
        "BootNotification",
        {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}},
        {"status": "Accepted", "currentTime": NOW, "interval": 300},
    )
    c.exchange(
        IN,
        "StatusNotification",
        {"timestamp": NOW, "connectorStatus": "Available", "evseId": 1, "connectorId": 1},
        {},
    )
    wh = 1000.0
    for tx in range(1, transactions + 1):
        tid = f"tx-{tx}"
        _event(c, tid, 0, "Started", "CablePluggedIn")
        for seq in range(1, SAMPLES + 1):
            wh += 10
            value = {"value": wh, "measurand": "Energy.Active.Import.Register"}
            sample = [{"timestamp": NOW, "sampledValue": [value]}]
            _event(c, tid, seq, "Updated", "MeterValuePeriodic", meterValue=sample)
        _event(c, tid, SAMPLES + 1, "Ended", "EVCommunicationLost")
    return c.frames


def _event(c: Conversation, tid: str, seq: int, kind: str, reason: str, **more: Any) -> None:
    payload = {
        "eventType": kind,
        "timestamp": NOW,
        "triggerReason": reason,
        "seqNo": seq,
        "transactionInfo": {"transactionId": tid},
        "evse": {"id": 1, "connectorId": 1},
        **more,
    }
    c.exchange(IN, "TransactionEvent", payload, {})


def feed(frames: list[Frame], monitor: InvariantMonitor | None) -> float:
    """Seconds for a fresh log (observed by ``monitor``) to take ``frames``."""
    log = FrameLog(max_frames=len(frames) + 10)
    if monitor is not None:
        log.observers.append(monitor.observe)
    t0 = time.perf_counter()
    for direction, raw, fields in frames:
        log.add(direction, raw, **fields)
    return time.perf_counter() - t0


def measure(
    version: str, build: Callable[[int], list[Frame]], transactions: int, rounds: int
) -> dict[str, Any]:
    frames = build(transactions)
    invariants = dialects.for_device(version).invariants()
    bare: list[float] = []
    watched: list[float] = []
    violations = 0
    for i in range(rounds):
        monitor = InvariantMonitor.for_run(invariants, CS)
        order = [(bare, None), (watched, monitor)]
        for times, chosen in order if i % 2 == 0 else reversed(order):
            times.append(feed(frames, chosen) / len(frames) * 1e6)
        violations = len(monitor.violations)
    return {
        "version": version,
        "invariants": len(InvariantMonitor.for_run(invariants, CS).invariants),
        "frames": len(frames),
        "bare_us_per_frame": round(statistics.median(bare), 3),
        "watched_us_per_frame": round(statistics.median(watched), 3),
        "ratio": round(statistics.median(watched) / statistics.median(bare), 2),
        "violations": violations,  # a conforming conversation: must be 0
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    rows = [
        measure("1.6", conversation16, args.transactions, args.rounds),
        measure("2.0.1", conversation201, args.transactions, args.rounds),
    ]
    columns = [
        ("version", "OCPP"),
        ("invariants", "invariants"),
        ("frames", "frames"),
        ("bare_us_per_frame", "bare µs/frame"),
        ("watched_us_per_frame", "watched µs/frame"),
        ("ratio", "ratio"),
        ("violations", "violations"),
    ]
    print("  ".join(f"{title:>16}" for _, title in columns))
    for r in rows:
        print("  ".join(f"{r[key]!s:>16}" for key, _ in columns))
    out = Path("reports") / "bench-invariants.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {"transactions": args.transactions, "rounds": args.rounds, "rows": rows}, indent=2
        )
    )


if __name__ == "__main__":
    main()
