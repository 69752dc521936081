"""Charging profiles written in a case, checked when the case loads (OCPP 2.0.1 K01, 1.6
§7.8): a case may send a profile the SUT must refuse for where or when it is set (the wrong
EVSE, no transaction, an external purpose), but the profile itself must be well formed, else
the case tests nothing. A literal that breaks a rule is refused with the case file and line of
the profile; a template (``"{params.low_limit}"``) is judged when the case runs, not here.

Rules: ``chargingSchedule`` (a list in 2.0.1, one schedule in 1.6) has 1..3 schedules, each with
``chargingRateUnit`` A or W and at least one period; the first period starts at 0 and the
starts rise; a limit is a number ≥ 0; ``recurrencyKind`` is given exactly for a Recurring
profile.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

#: the CALLs (per version) that carry a charging profile, and its key
CARRIERS = {
    "SetChargingProfile": ("chargingProfile", "csChargingProfiles"),
    "RequestStartTransaction": ("chargingProfile",),
    "RemoteStartTransaction": ("chargingProfile",),
}


def _literal(value: Any) -> bool:
    return not (isinstance(value, str) and "{" in value)


def profile_problems(profile: Any) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(problem, path inside the profile) of every rule a literal profile breaks."""
    if not isinstance(profile, dict):
        return
    kind = profile.get("chargingProfileKind")
    recurrency = profile.get("recurrencyKind")
    if _literal(kind) and kind is not None and (kind == "Recurring") != (recurrency is not None):
        yield "recurrencyKind is given exactly for a Recurring profile", ("chargingProfileKind",)
    schedules = profile.get("chargingSchedule")
    if isinstance(schedules, dict):
        listed: list[tuple[Any, tuple[Any, ...]]] = [(schedules, ("chargingSchedule",))]
    elif isinstance(schedules, list):
        if not 1 <= len(schedules) <= 3:
            yield "chargingSchedule holds 1 to 3 schedules", ("chargingSchedule",)
        listed = [(s, ("chargingSchedule", i)) for i, s in enumerate(schedules)]
    else:
        return
    for schedule, where in listed:
        if not isinstance(schedule, dict):
            continue
        unit = schedule.get("chargingRateUnit")
        if _literal(unit) and unit not in ("A", "W"):
            yield f"chargingRateUnit {unit!r} is neither A nor W", (*where, "chargingRateUnit")
        periods = schedule.get("chargingSchedulePeriod")
        if not isinstance(periods, list) or not periods:
            yield "a schedule needs at least one chargingSchedulePeriod", where
            continue
        starts = [p.get("startPeriod") for p in periods if isinstance(p, dict)]
        numbers = [s for s in starts if _literal(s)]
        if numbers and starts[0] == numbers[0] and numbers[0] != 0:
            yield "the first chargingSchedulePeriod starts at 0", (*where, "chargingSchedulePeriod")
        values = [float(s) for s in numbers if isinstance(s, int | float)]
        if len(values) != len(numbers) or values != sorted(set(values)):
            yield "startPeriod values rise", (*where, "chargingSchedulePeriod")
        for index, period in enumerate(periods):
            limit = period.get("limit") if isinstance(period, dict) else None
            if _literal(limit) and not (isinstance(limit, int | float) and limit >= 0):
                yield (
                    f"limit {limit!r} is not a number ≥ 0",
                    (
                        *where,
                        "chargingSchedulePeriod",
                        index,
                    ),
                )


def step_profile_problems(step: dict[str, Any]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The problems of the charging profile a ``send`` step carries, with its path in the
    step."""
    keys = CARRIERS.get(str(step.get("send")), ())
    payload = step.get("payload")
    if not isinstance(payload, dict):
        return
    for key in keys:
        if key in payload:
            for problem, where in profile_problems(payload[key]):
                yield problem, ("payload", key, *where)
