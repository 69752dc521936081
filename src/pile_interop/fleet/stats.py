"""The figures of a fleet run, in bounded memory.

Per action: the count of answers, latency in an HdrHistogram (microseconds, 2 significant
digits: one fixed-size array per action, whatever the number of samples), CALLERRORs by code,
timeouts and violations (the first few examples kept). Per connection: connected now and at the
peak, refused, dropped, reconnects. Over time: one point per window (messages sent and
received, stations connected, errors, and per action p50 / p95 / p99 of the window, from a
uniform sample of at most 2,048 latencies per action), computed when the window closes, so
only the open window's samples are held. The timeline keeps at
most :data:`MAX_POINTS` points (older windows are merged pairwise when it is full).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

#: Latencies recorded from 1 µs to 10 minutes (a late answer beyond is clamped).
MAX_LATENCY_US = 600_000_000
SIGNIFICANT_DIGITS = 2
#: Examples kept per kind of finding (a flood of one violation stays small).
MAX_EXAMPLES = 5
#: Latencies kept per action in one window of the timeline (a uniform sample beyond: the
#: window's percentiles; the run's own figures use every answer, in the HdrHistogram).
WINDOW_SAMPLES = 2048
#: Distinct refusal reasons counted at most (the rest together).
MAX_REASONS = 50
#: Points of the timeline at most.
MAX_POINTS = 720
PERCENTILES = (("p50", 50.0), ("p95", 95.0), ("p99", 99.0))


def _histogram() -> HdrHistogram:
    return HdrHistogram(1, MAX_LATENCY_US, SIGNIFICANT_DIGITS)


def _ms(histogram: HdrHistogram) -> dict[str, float]:
    if histogram.get_total_count() == 0:
        return {name: 0.0 for name, _ in PERCENTILES} | {"max": 0.0, "mean": 0.0}
    figures = {name: histogram.get_value_at_percentile(p) / 1000.0 for name, p in PERCENTILES}
    figures["max"] = histogram.get_max_value() / 1000.0
    figures["mean"] = round(histogram.get_mean_value() / 1000.0, 3)
    return figures


def _percentiles(sample: list[int]) -> dict[str, float]:
    """p50 / p95 / p99 in ms of a window's sample (nearest rank)."""
    ordered = sorted(sample)
    last = len(ordered) - 1
    return {name: ordered[round(last * p / 100.0)] / 1000.0 for name, p in PERCENTILES}


@dataclass
class ActionStats:
    count: int = 0
    latency: HdrHistogram = field(default_factory=_histogram)
    callerrors: Counter[str] = field(default_factory=Counter)
    timeouts: int = 0
    violations: int = 0
    judged: int = 0

    def figures(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "latency_ms": _ms(self.latency),
            "callerrors": dict(self.callerrors),
            "callerror_count": sum(self.callerrors.values()),
            "timeouts": self.timeouts,
            "violations": self.violations,
            "judged": self.judged,
        }


@dataclass
class Window:
    start: float
    sent: int = 0
    received: int = 0
    errors: int = 0
    #: per action: (answers seen in the window, a uniform sample of their latencies in µs)
    latency: dict[str, tuple[list[int], list[int]]] = field(default_factory=dict)


class Stats:
    """Everything a fleet run counts. Single-threaded: the fleet's event loop owns it."""

    def __init__(self, window_s: float = 1.0) -> None:
        self.t0 = time.monotonic()
        self.window_s = window_s
        self.actions: dict[str, ActionStats] = {}
        self.connected = 0
        self.connected_peak = 0
        #: stations connected when the run ended, before the fleet closed its connections
        self.connected_at_end: int | None = None
        self.frozen = False
        self.connections = Counter[str]()  # opened, refused, dropped, reconnects, failed
        self.refusals = Counter[str]()  # why, shortened
        self.incoming = Counter[str]()  # CALLs from the CSMS, by action
        self.examples: dict[str, list[str]] = {}
        self.sent = 0
        self.received = 0
        self.timeline: list[dict[str, Any]] = []
        self._window = Window(0.0)
        #: called with (action, latency_s or None, error text or None) for each answer (Locust)
        self.listener: Any = None

    # -- recording ------------------------------------------------------------------------

    def _action(self, action: str) -> ActionStats:
        found = self.actions.get(action)
        if found is None:
            found = self.actions[action] = ActionStats()
        return found

    def freeze(self) -> None:
        """The run ended: close the open window; what the shutdown does (closing every
        connection) adds no point to the timeline."""
        if not self.frozen:
            self._tick()
            self._close(self._window)
            self.frozen = True
            self.connected_at_end = self.connected

    def _tick(self) -> Window:
        if self.frozen:
            return Window(self._window.start)  # counted nowhere
        now = time.monotonic() - self.t0
        window = self._window
        while now >= window.start + self.window_s:
            self._close(window)
            window = self._window = Window(window.start + self.window_s)
        return window

    def message_sent(self) -> None:
        self.sent += 1
        self._tick().sent += 1

    def message_received(self) -> None:
        self.received += 1
        self._tick().received += 1

    def answered(self, action: str, latency_s: float, error_code: str | None) -> None:
        stats = self._action(action)
        stats.count += 1
        micros = min(max(int(latency_s * 1e6), 1), MAX_LATENCY_US)
        stats.latency.record_value(micros)
        window = self._tick()
        entry = window.latency.get(action)
        if entry is None:
            entry = window.latency[action] = ([0], [])
        seen, sample = entry
        seen[0] += 1
        if len(sample) < WINDOW_SAMPLES:
            sample.append(micros)
        else:  # reservoir sampling: every answer of the window equally likely kept
            slot = random.randrange(seen[0])
            if slot < WINDOW_SAMPLES:
                sample[slot] = micros
        if error_code is not None:
            stats.callerrors[error_code] += 1
            window.errors += 1
        if self.listener is not None:
            self.listener(action, latency_s, f"CALLERROR {error_code}" if error_code else None)

    def timed_out(self, action: str, after_s: float) -> None:
        self._action(action).timeouts += 1
        self._tick().errors += 1
        if self.listener is not None:
            self.listener(action, after_s, "timeout")

    def judged(self, action: str) -> None:
        self._action(action).judged += 1

    def violation(self, action: str, text: str, station: str) -> None:
        self._action(action).violations += 1
        self._tick().errors += 1
        self.example(f"violation {action}", f"{station}: {text}")

    def example(self, kind: str, text: str) -> None:
        kept = self.examples.setdefault(kind, [])
        if len(kept) < MAX_EXAMPLES:
            kept.append(text)

    def opened(self, reconnect: bool) -> None:
        self.connected += 1
        self.connected_peak = max(self.connected_peak, self.connected)
        self.connections["opened"] += 1
        if reconnect:
            self.connections["reconnects"] += 1

    def closed(self, dropped: bool) -> None:
        self.connected -= 1
        if dropped:
            self.connections["dropped"] += 1

    def refused(self, kind: str, reason: str) -> None:
        self.connections["refused" if kind in ("http", "tls") else "failed"] += 1
        reason = reason[:160]
        if reason not in self.refusals and len(self.refusals) >= MAX_REASONS:
            reason = "(other reasons)"
        self.refusals[reason] += 1

    # -- reading ----------------------------------------------------------------------------

    def _close(self, window: Window) -> None:
        point: dict[str, Any] = {
            "t": round(window.start, 3),
            "connected": self.connected,
            "sent": window.sent,
            "received": window.received,
            "errors": window.errors,
            "latency_ms": {
                action: _percentiles(sample)
                for action, (_, sample) in sorted(window.latency.items())
            },
        }
        self.timeline.append(point)
        if len(self.timeline) >= MAX_POINTS:
            self._merge()

    def _merge(self) -> None:
        """Halve the timeline: each pair of points becomes one (sums; the worse percentile)."""
        merged = []
        for a, b in zip(self.timeline[::2], self.timeline[1::2], strict=False):
            latency = dict(a["latency_ms"])
            for action, values in b["latency_ms"].items():
                old = latency.get(action)
                latency[action] = (
                    values if old is None else {k: max(v, old[k]) for k, v in values.items()}
                )
            merged.append(
                {
                    "t": a["t"],
                    "connected": b["connected"],
                    "sent": a["sent"] + b["sent"],
                    "received": a["received"] + b["received"],
                    "errors": a["errors"] + b["errors"],
                    "latency_ms": latency,
                }
            )
        if len(self.timeline) % 2:
            merged.append(self.timeline[-1])
        self.timeline = merged
        self.window_s *= 2

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def totals(self) -> dict[str, int]:
        return {
            "count": sum(a.count for a in self.actions.values()),
            "callerrors": sum(sum(a.callerrors.values()) for a in self.actions.values()),
            "timeouts": sum(a.timeouts for a in self.actions.values()),
            "violations": sum(a.violations for a in self.actions.values()),
            "judged": sum(a.judged for a in self.actions.values()),
            "sent": self.sent,
            "received": self.received,
        }

    def figures(self) -> dict[str, Any]:
        """All figures as plain data (the open window closed first)."""
        if not self.frozen:
            self._tick()
            self._close(self._window)
            self._window = Window(self._window.start + self.window_s)
        totals = self.totals()
        answers = totals["count"] - totals["callerrors"]  # the CALLRESULTs: schema-judged
        return {
            "elapsed_s": round(self.elapsed(), 3),
            "actions": {name: a.figures() for name, a in sorted(self.actions.items())},
            "totals": totals,
            "sampling": {
                "results": answers,
                "judged": totals["judged"],
                "rate": round(totals["judged"] / answers, 4) if answers else 1.0,
            },
            "connections": {
                "connected": (
                    self.connected if self.connected_at_end is None else self.connected_at_end
                ),
                "connected_peak": self.connected_peak,
                "opened": self.connections["opened"],
                "refused": self.connections["refused"],
                "failed": self.connections["failed"],
                "dropped": self.connections["dropped"],
                "reconnects": self.connections["reconnects"],
                "late_answers": self.connections["late_answers"],
                "refusals": dict(self.refusals.most_common(MAX_EXAMPLES)),
            },
            "csms_calls": dict(self.incoming),
            "examples": self.examples,
            "window_s": self.window_s,
            "timeline": list(self.timeline),
        }

    def live_line(self, stations: int) -> str:
        totals = self.totals()
        rate = self.timeline[-1]["received"] / self.window_s if self.timeline else 0.0
        worst = ""
        boot = self.actions.get("BootNotification")
        if boot is not None and boot.count:
            worst = f" boot p99 {boot.latency.get_value_at_percentile(99) / 1000:.0f} ms"
        return (
            f"{self.elapsed():6.0f} s  connected {self.connected}/{stations}  "
            f"{rate:.0f} msg/s  answers {totals['count']}{worst}  "
            f"errors {totals['callerrors']}  timeouts {totals['timeouts']}  "
            f"violations {totals['violations']}  refused {self.connections['refused']}"
        )
