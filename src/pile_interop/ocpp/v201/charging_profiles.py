"""OCPP 2.0.1 charging profiles on the version-neutral composite-schedule engine
(:mod:`pile_interop.ocpp.charging_schedule`).

What 2.0.1 adds to the 1.6 rules the engine keeps (Part 2 block K):

* ``evseId`` 0 is the station (the engine's connector 0); purposes ChargingStationMaxProfile
  (the engine's station maximum), TxDefaultProfile, TxProfile and
  ChargingStationExternalConstraints — limits an external system (an EMS) sets, which cap the
  composite schedule like the station maximum but are never set by the CSMS (K01);
* ``chargingSchedule`` is a list of 1..3 schedules (one per rate unit, for ISO 15118 offers);
  the station follows the first one;
* a period may say ``numberPhases`` (3 when absent) and ``phaseToUse``; A↔W converts with the
  period's phases as in 1.6;
* GetCompositeSchedule (K08) answers one EVSE, or the station for ``evseId`` 0, from "now" for
  ``duration`` seconds in the unit asked for (the station's first RateUnit when not asked).

The wire payloads are the ``ocpp`` package's: nested objects as dicts with snake_case keys (the
package converts them to camelCase on the wire). Nothing here knows a station or a CSMS.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pile_interop.core.clock import parse_iso, utc_iso
from pile_interop.ocpp.charging_schedule import (
    Converter,
    Kind,
    Period,
    Profile,
    Purpose,
    Recurrency,
    Schedule,
    Situation,
    composite,
)

STATION_MAX_201 = "ChargingStationMaxProfile"
TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"
EXTERNAL = "ChargingStationExternalConstraints"
PURPOSES_201 = (EXTERNAL, STATION_MAX_201, TX_DEFAULT, TX)
#: the 2.0.1 purpose → the engine's
ENGINE_PURPOSE = {
    STATION_MAX_201: Purpose.STATION_MAX,
    TX_DEFAULT: Purpose.TX_DEFAULT,
    TX: Purpose.TX,
    EXTERNAL: Purpose.STATION_MAX,
}


def camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(key: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in key).lstrip("_")


def keys(value: Any, how: Any) -> Any:
    """``value`` with every mapping key renamed by ``how`` (camel / snake), deeply."""
    if isinstance(value, dict):
        return {how(k): keys(v, how) for k, v in value.items()}
    if isinstance(value, list):
        return [keys(v, how) for v in value]
    return value


def _time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    when = parse_iso(str(value))
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def first_schedule(profile: dict[str, Any]) -> dict[str, Any]:
    schedules = profile.get("charging_schedule") or []
    if isinstance(schedules, dict):  # a 1.6-shaped profile: one schedule
        return schedules
    return schedules[0] if schedules else {}


def to_profile(
    evse_id: int,
    profile: dict[str, Any],
    *,
    installed_at: datetime,
    transaction: Any = None,
) -> Profile:
    """The engine's :class:`Profile` of a 2.0.1 ChargingProfileType (snake_case dict); an
    ExternalConstraints profile becomes a station maximum (kept apart by the caller)."""
    sched = first_schedule(profile)
    periods = tuple(
        Period(
            int(p.get("start_period", 0)),
            float(p.get("limit", 0)),
            int(p["number_phases"]) if p.get("number_phases") is not None else None,
        )
        for p in sched.get("charging_schedule_period") or []
    )
    recurrency = profile.get("recurrency_kind")
    return Profile(
        id=int(profile["id"]),
        connector=int(evse_id),
        stack_level=int(profile.get("stack_level", 0)),
        purpose=ENGINE_PURPOSE[str(profile["charging_profile_purpose"])],
        kind=Kind(str(profile.get("charging_profile_kind", "Absolute"))),
        schedule=Schedule(
            unit=str(sched.get("charging_rate_unit", "A")),
            periods=periods,
            duration=int(sched["duration"]) if sched.get("duration") is not None else None,
            start=_time(sched.get("start_schedule")),
            min_rate=sched.get("min_charging_rate"),
        ),
        recurrency=Recurrency(str(recurrency)) if recurrency else None,
        valid_from=_time(profile.get("valid_from")),
        valid_to=_time(profile.get("valid_to")),
        transaction=transaction if transaction is not None else profile.get("transaction_id"),
        installed_at=installed_at,
    )


def value_at(periods: list[Period], offset: float) -> float:
    """The limit of a step function (sorted periods) at ``offset`` (inf before the first)."""
    found = math.inf
    for p in periods:
        if p.start <= offset:
            found = p.limit
    return found


def pointwise_min(a: list[Period], b: list[Period]) -> list[Period]:
    """The lower of two step functions at every offset, consecutive equal limits merged (the
    phases of the side that gives the limit)."""
    out: list[Period] = []
    for start in sorted({p.start for p in a} | {p.start for p in b}):
        va, vb = value_at(a, start), value_at(b, start)
        side = a if va <= vb else b
        phases = next((p.phases for p in reversed(side) if p.start <= start), None)
        period = Period(start, min(va, vb), phases)
        if out and out[-1].limit == period.limit and out[-1].phases == period.phases:
            continue
        out.append(period)
    return out


def composite_201(
    profiles: Iterable[Profile],
    external: Iterable[Profile],
    evse_id: int,
    start: datetime,
    duration: int,
    unit: str,
    *,
    transaction: Any = None,
    transaction_start: datetime | None = None,
    converter: Converter | None = None,
    no_limit: float = math.inf,
) -> list[Period]:
    """The composite schedule of ``evse_id`` (0: the station): the engine's composite of the
    CSMS's profiles, capped at every moment by the external constraints (K08)."""
    conv = converter or Converter()
    situation = Situation(evse_id, transaction, transaction_start, conv, no_limit)
    main = composite(profiles, situation, start, duration, unit)
    caps = [replace(p, purpose=Purpose.STATION_MAX, connector=0) for p in external]
    if not caps:
        return main
    cap = composite(caps, Situation(0, None, None, conv, no_limit), start, duration, unit)
    return pointwise_min(main, cap)


def schedule_payload(
    periods: list[Period], evse_id: int, start: datetime, duration: int, unit: str
) -> dict[str, Any]:
    """CompositeScheduleType (snake_case) of the periods."""
    out_periods = []
    for p in periods:
        item: dict[str, Any] = {"start_period": p.start, "limit": round(p.limit, 1)}
        if p.phases is not None:
            item["number_phases"] = p.phases
        out_periods.append(item)
    return {
        "evse_id": evse_id,
        "duration": duration,
        "schedule_start": utc_iso(start),
        "charging_rate_unit": unit,
        "charging_schedule_period": out_periods,
    }
