"""Smart Charging checks: a station's composite schedule against the limits expected over time
(``composite_schedule``), and its meter values kept under a limit (``meter_limit``).

A composite schedule is judged as a step function: a conforming station may split or merge
equal periods as it likes, may write ``scheduleStart`` with any offset, and the periods it
reports are compared second by second with the expected limits, except within ``tolerance_s``
of an expected change (the time that passes between the suite's request and the station's
answer, OCA's "configured max time deviation"). Written from OCPP 1.6 §5.7, §7.9-§7.12 (and
the same in 2.0.1), independent of the reference station's engine.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from pile_interop.core.clock import parse_iso, utc_iso
from pile_interop.core.frames import IN, is_message
from pile_interop.core.verdicts import Failure
from pile_interop.scenario.checks.registry import CheckContext, register, seq_of

#: A step: from this many seconds on, this limit (None: any limit, no profile there).
Step = tuple[float, float | None]


def _schedule_of(reply: Any) -> tuple[datetime, dict[str, Any]]:
    if not isinstance(reply, dict) or reply.get("status") != "Accepted":
        raise Failure(
            "GetCompositeSchedule was not Accepted",
            expected="status Accepted with a chargingSchedule",
            observed=f"{reply!r}",
        )
    # 1.6: chargingSchedule and scheduleStart; 2.0.1: schedule with scheduleStart inside
    schedule = reply.get("chargingSchedule") or reply.get("schedule")
    start_text = reply.get("scheduleStart") or (schedule or {}).get("scheduleStart")
    start_text = start_text or (schedule or {}).get("startSchedule")
    if not isinstance(schedule, dict) or not start_text:
        raise Failure(
            "the composite schedule has no chargingSchedule or no scheduleStart",
            expected="chargingSchedule with its periods, and scheduleStart",
            observed=f"{reply!r}",
        )
    try:
        return parse_iso(str(start_text)), schedule
    except ValueError:
        raise Failure(
            "scheduleStart is not a date-time",
            expected="an RFC 3339 date-time",
            observed=f"{start_text!r}",
        ) from None


def _value(steps: list[Step], t: float) -> float | None:
    found: float | None = None
    for start, limit in steps:
        if start <= t:
            found = limit
    return found


def _close(a: float, b: float, tolerance: float) -> bool:
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=0.05)


@register(
    "composite_schedule",
    "the composite schedule gives the expected limits over time (± {tolerance_s} s at a change)",
)
def composite_schedule(case: CheckContext, args: dict[str, Any]) -> str:
    """``reply``: the GetCompositeSchedule answer; ``expected``: ``[{start, limit}]`` with
    ``start`` in seconds from ``origin`` (a date-time; default the reply's scheduleStart) and
    ``limit`` null where any limit will do; ``duration``: the seconds from scheduleStart to judge
    (default the schedule's duration; past the schedule's own duration it limits nothing);
    ``unit``: the chargingRateUnit expected; ``tolerance_s`` (default 2); ``limit_tolerance``:
    relative (default 0.01)."""
    start, schedule = _schedule_of(args["reply"])
    unit = args.get("unit")
    if unit is not None and schedule.get("chargingRateUnit") != unit:
        raise Failure(
            f"chargingRateUnit is {schedule.get('chargingRateUnit')!r}",
            expected=f"{unit} (as requested)",
            observed=f"{schedule.get('chargingRateUnit')!r}",
        )
    got_periods = sorted(
        schedule.get("chargingSchedulePeriod") or [], key=lambda p: p.get("startPeriod", 0)
    )
    got: list[Step] = [(float(p["startPeriod"]), float(p["limit"])) for p in got_periods]
    origin = parse_iso(str(args["origin"])) if args.get("origin") else start
    shift = (start - origin).total_seconds()
    expected: list[Step] = [
        (float(e["start"]) - shift, None if e.get("limit") is None else float(e["limit"]))
        for e in sorted(args["expected"], key=lambda e: float(e["start"]))
    ]
    own = schedule.get("duration")
    got_end = float(own) if isinstance(own, int | float) and own > 0 else None
    duration = float(args.get("duration") or got_end or 0)
    tol_s = float(args.get("tolerance_s", 2))
    tol = float(args.get("limit_tolerance", 0.01))
    changes = [s for s, _ in expected if 0 < s < duration]
    cuts = sorted({0.0, *(s for s, _ in got if 0 < s < duration), *changes})
    for a, b in zip(cuts, [*cuts[1:], duration], strict=True):
        t = _sample(a, b, changes, tol_s)
        if t is None:
            continue
        ended = got_end is not None and t >= got_end  # past the schedule's own duration
        want, have = _value(expected, t), None if ended else _value(got, t)
        if want is None or (have is not None and _close(have, want, tol)):
            continue
        index = max((i for i, (s, _) in enumerate(got) if s <= t), default=None)
        where = f"{t:g} s after scheduleStart ({utc_iso(start + timedelta(seconds=t))})"
        period = (
            f"the schedule has ended (its duration is {got_end:g} s)"
            if ended and got_end is not None
            else "no period covers it"
            if index is None or have is None
            else f"period #{index + 1} (startPeriod {got[index][0]:g}) gives {have:g}"
        )
        raise Failure(
            f"at {where} {period}",
            expected=f"limit {want:g} {schedule.get('chargingRateUnit', '')}".strip(),
            observed=f"{got_periods}",
        )
    return f"{len(got)} period(s) from {utc_iso(start)} match the expected limits"


def _sample(a: float, b: float, changes: list[float], tol_s: float) -> float | None:
    """A time in [a, b) at least ``tol_s`` from every expected change (None: none)."""
    for t in sorted({a, *(c + tol_s for c in changes if a <= c + tol_s < b)}):
        if all(abs(t - c) >= tol_s for c in changes) and t < b:
            return t
    return None


_SCALE = {"W": 1.0, "kW": 1000.0, "A": 1.0, "Wh": 1.0, "kWh": 1000.0}


def _readings_of(sampled: list[dict[str, Any]], measurand: str) -> list[tuple[float, Any]]:
    """The values of ``measurand`` in one meterValue: a current per phase (or the one value
    without a phase); a power as its total — the value without a phase, else the phases'
    sum."""

    def value(s: dict[str, Any]) -> float:
        return float(s["value"]) * _SCALE.get(str(s.get("unit", "")), 1.0)

    mine = [s for s in sampled if s.get("measurand") == measurand]
    if not measurand.startswith("Power"):
        return [(value(s), s) for s in mine]
    total = [s for s in mine if not s.get("phase")]
    if total:
        return [(value(s), s) for s in total]
    phases = [s for s in mine if str(s.get("phase", "")) in ("L1", "L2", "L3")]
    return [(sum(map(value, phases)), phases)] if phases else []


@register(
    "meter_limit",
    "{measurand} of connector {connector} stays at most {max} (+{tolerance}) after {since}",
)
def meter_limit(case: CheckContext, args: dict[str, Any]) -> str:
    """The SUT's MeterValues of ``connector`` sent after the exchange saved as ``since`` (and
    ``settle_s`` protocol seconds more for the station to react) report ``measurand``
    (``Power.Active.Import`` in W, ``Current.Import`` in A per phase) at most ``max`` (relative
    ``tolerance``, default 0.05); at least ``min_readings`` (1) such values."""
    measurand = str(args["measurand"])
    limit = float(args["max"])
    tolerance = float(args.get("tolerance", 0.05))
    start = seq_of(case, str(args["since"]))
    frames = case.session.log.since(start)
    t0 = frames[0].mono if frames else 0.0
    settle = float(args.get("settle_s", 0)) * case.timing.scale
    seen: list[float] = []
    for f in frames:
        if not (f.direction == IN and is_message(f) and f.action == "MeterValues"):
            continue
        payload = f.payload or {}
        if payload.get("connectorId") != int(args["connector"]) or f.mono - t0 < settle:
            continue
        for value in payload.get("meterValue") or []:
            for reading, sampled in _readings_of(value.get("sampledValue") or [], measurand):
                seen.append(reading)
                if reading > limit * (1 + tolerance):
                    raise Failure(
                        f"MeterValues #{f.seq} at {value.get('timestamp')} reports {measurand} "
                        f"{reading:g} over the limit",
                        expected=f"at most {limit:g} (+{tolerance:.0%})",
                        observed=f"{sampled}",
                    )
    need = int(args.get("min_readings", 1))
    if len(seen) < need:
        raise Failure(
            f"{len(seen)} {measurand} reading(s) of connector {args['connector']}",
            expected=f"at least {need} MeterValues with {measurand}",
            observed=f"{seen}",
        )
    return f"{len(seen)} reading(s) of {measurand}, the highest {max(seen):g}"
