"""OCPP 2.0.1 K08: a station's composite schedule compared with the limits a case expects.

``composite_schedule_201`` (``schedule``: the CompositeScheduleType the station answered, e.g.
``{cs.reply.schedule}``; ``expected``: ``[{start: s, limit: x}, …]`` — the expected limit from
each offset on; optional ``unit``, ``tolerance`` (the limit, relative; default 1 %),
``shift`` (seconds a period boundary may lie off, default 2: the station's own clock)). Both
sides are step functions over ``[0, duration)``: a conforming station may split a period in
two or merge equal ones, so only the limit in force at each moment counts; a stretch is judged
away from the boundaries by ``shift`` seconds. A failure names the period that is wrong and the
limit expected there. Version-neutral in what it compares (offsets and limits); the 1.6 check
``composite_schedule`` reads a 1.6 ``chargingSchedule`` the same way.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from pile_interop.core.frames import CALL, IN, is_message
from pile_interop.core.verdicts import Failure
from pile_interop.scenario.checks.registry import CheckContext, register


def _periods(items: Any) -> list[tuple[float, float]]:
    out = []
    for item in items or []:
        start = item.get("startPeriod", item.get("start", 0))
        out.append((float(start), float(item["limit"])))
    return sorted(out)


def _at(steps: list[tuple[float, float]], offset: float) -> float | None:
    found = None
    for start, limit in steps:
        if start <= offset:
            found = limit
    return found


def judge(
    actual: list[tuple[float, float]],
    expected: list[tuple[float, float]],
    duration: float,
    *,
    tolerance: float = 0.01,
    shift: float = 2.0,
) -> str | None:
    """The first stretch where the step functions differ, in words (None: they agree)."""
    edges = sorted({s for s, _ in actual} | {s for s, _ in expected} | {0.0, duration})
    for a, b in itertools.pairwise(edges):
        if b - a <= 2 * shift:
            continue
        probe = (a + b) / 2
        want, got = _at(expected, probe), _at(actual, probe)
        if want is None:
            continue
        if got is None or not math.isclose(got, want, rel_tol=tolerance, abs_tol=0.05):
            period = next(
                (f"period from {s:g} s (limit {v:g})" for s, v in reversed(actual) if s <= probe),
                "no period",
            )
            return f"{period}: at {a:g}..{b:g} s the limit is {got}, expected {want:g}"
    return None


@register(
    "composite_schedule_201",
    "the composite schedule gives the expected limit at every moment",
)
def composite_schedule_201(case: CheckContext, args: dict[str, Any]) -> str:
    schedule = args.get("schedule")
    if not isinstance(schedule, dict):
        raise Failure(
            "no composite schedule in the answer",
            expected="a CompositeScheduleType",
            observed=repr(schedule)[:200],
        )
    unit = args.get("unit")
    if unit is not None and schedule.get("chargingRateUnit") != unit:
        raise Failure(
            f"the schedule is in {schedule.get('chargingRateUnit')}, asked for {unit}",
            expected=f"chargingRateUnit {unit}",
            observed=str(schedule.get("chargingRateUnit")),
        )
    actual = _periods(schedule.get("chargingSchedulePeriod"))
    expected = _periods(args.get("expected"))
    duration = float(args.get("duration") or schedule.get("duration") or 0)
    problem = judge(
        actual,
        expected,
        duration,
        tolerance=float(args.get("tolerance", 0.01)),
        shift=float(args.get("shift", 2.0)),
    )
    shown = ", ".join(f"{s:g}s:{v:g}" for s, v in actual)
    if problem:
        raise Failure(
            problem,
            expected=", ".join(f"{s:g}s:{v:g}" for s, v in expected),
            observed=shown,
        )
    return shown


@register(
    "charging_profile_reports",
    "the ReportChargingProfiles of request {request_id}: tbc on all but the last, the profiles "
    "asked for",
)
def charging_profile_reports(case: CheckContext, args: dict[str, Any]) -> str:
    """OCPP 2.0.1 K09: the profiles of a GetChargingProfiles come in ReportChargingProfiles
    with its ``requestId``, ``tbc`` true on every message but the last and false or absent on
    the last; together they hold every profile id of ``ids`` and none of ``absent``."""
    request_id = int(args["request_id"])
    parts = [
        f.payload or {}
        for f in case.session.log.since(case.seq0)
        if f.direction == IN
        and is_message(f)
        and f.type == CALL
        and f.action == "ReportChargingProfiles"
    ]
    mine = [p for p in parts if p.get("requestId") == request_id]
    shown = "; ".join(
        f"requestId {p.get('requestId')} tbc {p.get('tbc', False)} ids "
        + ",".join(str(c.get("id")) for c in p.get("chargingProfile") or [])
        for p in parts
    )
    if not mine:
        raise Failure(
            f"no ReportChargingProfiles with requestId {request_id}",
            expected=f"ReportChargingProfiles with requestId {request_id}",
            observed=shown or "none",
        )
    tbcs = [bool(p.get("tbc", False)) for p in mine]
    if any(not t for t in tbcs[:-1]) or tbcs[-1]:
        raise Failure(
            "tbc is not true on every message but the last, false on the last",
            expected="tbc true … true, then false or absent",
            observed=shown,
        )
    ids = {c.get("id") for p in mine for c in p.get("chargingProfile") or []}
    missing = [i for i in args.get("ids") or [] if int(i) not in ids]
    extra = [i for i in args.get("absent") or [] if int(i) in ids]
    if missing or extra:
        raise Failure(
            f"profiles missing {missing}" if missing else f"profiles reported {extra}",
            expected=f"ids {args.get('ids') or []}, not {args.get('absent') or []}",
            observed=shown,
        )
    return shown
