"""Checks on which messages the SUT sent and how often: counts, silences, the statuses after a
boot, the period of a periodic message, and a saved value against a pattern."""

from __future__ import annotations

from itertools import pairwise
from statistics import mean
from typing import Any

from pile_interop.core.frames import IN, is_message
from pile_interop.core.verdicts import Failure
from pile_interop.scenario.checks.registry import CheckContext, register, seq_of, window_start
from pile_interop.scenario.values import mismatches


@register("count", "{action} sent {min}..{max} times since the case began (or since {since})")
def count(case: CheckContext, args: dict[str, Any]) -> str:
    """How often the SUT sent ``action`` since the case began, or since the exchange saved as
    ``since`` (that exchange itself not counted)."""
    action = args["action"]
    low, high = int(args.get("min", 0)), int(args.get("max", 1 << 30))
    start = window_start(case, args)
    n = sum(
        1
        for f in case.session.log.since(start)
        if f.direction == IN and is_message(f) and f.action == action and f.seq != start
    )
    if not low <= n <= high:
        raise Failure(
            f"{action} sent {n} times",
            expected=f"between {low} and {high} {action}",
            observed=f"{n}",
        )
    return f"{n} × {action}"


@register("match", "{value} matches {pattern}")
def match(case: CheckContext, args: dict[str, Any]) -> str:
    """A value saved earlier (rendered from a template) matches a pattern."""
    problems = mismatches(args["pattern"], args["value"])
    if problems:
        raise Failure(
            f"{'; '.join(problems)}",
            expected=f"{args['pattern']}",
            observed=f"{args['value']!r}",
        )
    return repr(args["value"])


@register("silent_between", "the SUT sent no request between {from} and {to} (except {except})")
def silent_between(case: CheckContext, args: dict[str, Any]) -> str:
    """No request or message from the SUT strictly between two saved exchanges (e.g. while
    Rejected)."""
    start, end = seq_of(case, args["from"]), seq_of(case, args["to"])
    allowed = set(args.get("except", []))
    sent = [
        f
        for f in case.session.log.since(start)
        if f.seq < end and f.direction == IN and is_message(f) and f.action not in allowed
    ]
    if sent:
        raise Failure(
            f"{len(sent)} request(s) sent between {args['from']} and {args['to']}",
            expected=f"no request other than {sorted(allowed) or 'none'}",
            observed="; ".join(f"#{f.seq} {f.brief()}" for f in sent[:5]),
        )
    return "silent"


@register(
    "statuses_reported",
    "after {since}: StatusNotification {status} for each of {connectors} connectors",
)
def statuses_reported(case: CheckContext, args: dict[str, Any]) -> str:
    """After a boot the station reports every connector (and connector 0, unless ``first: 1``:
    connector 0 is what the OCA test tool expects, a ``quirk:`` step of its own)."""
    since = seq_of(case, args["since"])
    want = args["status"]
    overrides = {int(k): v for k, v in (args.get("except") or {}).items()}
    connectors = range(int(args.get("first", 0)), int(args["connectors"]) + 1)
    seen: dict[int, list[str]] = {}
    for f in case.session.log.since(since):
        if f.direction == IN and is_message(f) and f.action == "StatusNotification":
            connector = (f.payload or {}).get("connectorId")
            if isinstance(connector, int):
                seen.setdefault(connector, []).append(str(f.payload.get("status")))
    missing = [
        f"{c}: wanted {overrides.get(c, want)}, got {seen.get(c) or 'nothing'}"
        for c in connectors
        if overrides.get(c, want) not in seen.get(c, [])
    ]
    if missing:
        raise Failure(
            "not every connector reported its status",
            expected=f"StatusNotification {want} for connectors {connectors[0]}..{connectors[-1]}",
            observed="; ".join(missing),
        )
    return ", ".join(f"{c}: {seen[c][-1]}" for c in connectors)


#: Which share of a periodic message's intervals must be within the gap bound: the rest are
#: allowed to be longer, because one interval stretched by the machine the suite runs on (a
#: scheduler stall, see docs/benchmarks.md (c)) must not fail a SUT; a SUT that misses
#: messages regularly fails the mean or this quantile. The mean is taken over the same share
#: (the shortest intervals): one 300 ms stall among 49 intervals of a 10 ms message would
#: otherwise move the mean of a correct sender by 60 %.
GAP_QUANTILE = 0.95


def period_figures(gaps: list[float]) -> tuple[float, float, float]:
    """(mean of the ``GAP_QUANTILE`` shortest intervals, the interval at that quantile, the
    longest) of a message's intervals. The quantile leaves out at least the longest interval
    (with fewer than 20 intervals, 95 % would be all of them): one interval stretched by a
    stall of the machine never decides, regular misses still do."""
    ordered = sorted(gaps)
    at = min(len(ordered) - 1, int(GAP_QUANTILE * len(ordered)))
    if len(ordered) >= 2:
        at = min(at, len(ordered) - 2)
    return mean(ordered[: at + 1]), ordered[at], ordered[-1]


@register(
    "period",
    "{message} every {period_ms} ms (mean within ±{tolerance_pct}%, 95 % of the intervals "
    "under twice the period)",
)
def period(case: CheckContext, args: dict[str, Any]) -> str:
    """The SUT sends a periodic message at its period: the mean interval within the tolerance
    and 95 % of the intervals shorter than ``max_gap_factor`` (2) periods (no missed
    messages). Protocol milliseconds: against a reference SUT on a scaled clock the nominal
    period is scaled too."""
    name = str(args["message"])
    nominal = float(args["period_ms"]) / 1000.0 * case.timing.scale
    tolerance = float(args.get("tolerance_pct", 10)) / 100.0
    since = window_start(case, args)
    until = seq_of(case, args["until"]) if "until" in args else None
    times = [
        f.mono
        for f in case.session.log.since(since)
        if f.direction == IN
        and is_message(f)
        and f.action == name
        and (until is None or f.seq < until)
    ]
    need = int(args.get("min_count", 5))
    if len(times) < need:
        raise Failure(
            f"only {len(times)} {name} to judge its period",
            expected=f"at least {need} {name}",
            observed=f"{len(times)}",
        )
    average, typical, longest = period_figures([b - a for a, b in pairwise(times)])

    def ms(seconds: float) -> str:
        return f"{seconds / case.timing.scale * 1000:.1f} ms"

    shown = (
        f"{len(times)} × {name}: mean {ms(average)} (of the 95 % shortest intervals), 95 % of "
        f"the intervals under {ms(typical)}, longest {ms(longest)} (protocol time)"
    )
    factor = float(args.get("max_gap_factor", 2))
    if abs(average - nominal) > tolerance * nominal or typical > factor * nominal:
        raise Failure(
            f"{name} not sent every {args['period_ms']} ms",
            expected=f"mean {args['period_ms']} ms ± {tolerance:.0%}, 95 % of the intervals "
            f"under {factor * float(args['period_ms']):g} ms",
            observed=shown,
        )
    return shown
