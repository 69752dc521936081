"""The charging-profile store and the composite schedule, version-neutral.

OCPP 1.6 §3.13 (Smart Charging), §5.5 / §5.7 / §5.16 and §7.8-§7.13, and the same rules in
OCPP 2.0.1 K: a station keeps charging profiles of three purposes — the station maximum
(1.6 ChargePointMaxProfile, 2.0.1 ChargingStationMaxProfile) on connector 0, default profiles
for new transactions (TxDefaultProfile, on connector 0 for every connector or on one connector)
and the profile of one running transaction (TxProfile). At any moment:

* within a purpose, of the profiles that give a limit at that moment the one with the highest
  ``stackLevel`` wins (a connector's own profile beats connector 0's on the same level); a
  profile gives no limit outside ``validFrom`` … ``validTo``, before its schedule starts, after
  its ``duration`` or before its first period;
* a schedule starts at ``startSchedule`` (Absolute; without one, when the profile was
  installed), at the transaction's start (Relative; without a transaction, at the start of the
  schedule asked for) or at the last daily / weekly recurrence of ``startSchedule``
  (Recurring);
* the TxProfile overrides the TxDefaultProfile, and the station maximum caps the result (so
  do 2.0.1's external constraints); ``minChargingRate`` is no limit and is ignored;
* limits convert between A and W with ``W = A × voltage × phases`` (``numberPhases`` of the
  period, 3 when absent: 1.6 §7.13; the voltage 230 V unless the station says otherwise).

:func:`composite` returns the schedule as periods (offset in seconds from the start, limit,
phases), consecutive equal periods merged. The 1.6 and 2.0.1 reference stations translate their
wire payloads into :class:`Profile` and keep them in a :class:`ProfileStore`; the version rules
of *accepting* a profile (connector, purpose, stack level, unit, number of periods) stay with
each version. Nothing here imports a version package.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

#: 1.6 §7.13 numberPhases: "If a number of phases is needed, numberPhases=3 will be assumed".
DEFAULT_PHASES = 3
#: The nominal phase voltage A↔W conversions use unless the station gives its own.
DEFAULT_VOLTAGE_V = 230.0
DAY_S = 86_400
WEEK_S = 7 * DAY_S


class Purpose(StrEnum):
    """A profile's purpose (the 1.6 names; :meth:`parse` takes the 2.0.1 ones too)."""

    STATION_MAX = "ChargePointMaxProfile"
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"
    #: 2.0.1 ChargingStationExternalConstraints (an EMS, the grid): on connector 0 or on the
    #: connector, a cap like the station maximum
    EXTERNAL = "ChargingStationExternalConstraints"

    @classmethod
    def parse(cls, name: str) -> Purpose:
        """The purpose of a 1.6 or 2.0.1 name (ChargingStationMaxProfile is STATION_MAX)."""
        return cls.STATION_MAX if name == "ChargingStationMaxProfile" else cls(name)


class Kind(StrEnum):
    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class Recurrency(StrEnum):
    DAILY = "Daily"
    WEEKLY = "Weekly"


@dataclass(frozen=True)
class Period:
    """A schedule period: from ``start`` seconds on, at most ``limit`` (in the schedule's
    unit) over ``phases`` phases (None: not given)."""

    start: int
    limit: float
    phases: int | None = None


@dataclass(frozen=True)
class Schedule:
    unit: str  # "A" or "W"
    periods: tuple[Period, ...]
    duration: int | None = None
    start: datetime | None = None
    min_rate: float | None = None


@dataclass(frozen=True)
class Profile:
    """One charging profile as a station keeps it, on ``connector`` (0: the station)."""

    id: int
    connector: int
    stack_level: int
    purpose: Purpose
    kind: Kind
    schedule: Schedule
    recurrency: Recurrency | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    #: the transaction a TxProfile belongs to (the station's own reference of it)
    transaction: Any = None
    #: when the station installed it (the start of an Absolute schedule without one)
    installed_at: datetime | None = None


@dataclass(frozen=True)
class Converter:
    """A↔W at ``voltage`` volts per phase."""

    voltage: float = DEFAULT_VOLTAGE_V

    def convert(self, limit: float, unit: str, phases: int | None, to: str) -> float:
        if unit == to:
            return limit
        n = phases or DEFAULT_PHASES
        if to == "W":
            return limit * self.voltage * n
        return limit / (self.voltage * n)


@dataclass
class ProfileStore:
    """The profiles a station has installed (OCPP 1.6 §5.16 / §5.5)."""

    profiles: list[Profile] = field(default_factory=list)

    def install(self, profile: Profile) -> None:
        """§5.16: a profile with the same id, or with the same stackLevel and purpose (on the
        same connector), is replaced."""
        self.profiles = [
            p
            for p in self.profiles
            if p.id != profile.id
            and not (
                p.stack_level == profile.stack_level
                and p.purpose == profile.purpose
                and p.connector == profile.connector
            )
        ]
        self.profiles.append(profile)

    def clear(
        self,
        *,
        id: int | None = None,
        connector: int | None = None,
        purpose: Purpose | None = None,
        stack_level: int | None = None,
    ) -> list[Profile]:
        """§5.5: the profile ``id``, or every profile that matches all the criteria given
        (none given: every profile). Returns the profiles removed."""

        def matches(p: Profile) -> bool:
            if id is not None:
                return p.id == id
            return (
                (connector is None or p.connector == connector)
                and (purpose is None or p.purpose == purpose)
                and (stack_level is None or p.stack_level == stack_level)
            )

        gone = [p for p in self.profiles if matches(p)]
        self.profiles = [p for p in self.profiles if not matches(p)]
        return gone

    def remove(self, keep: Any) -> list[Profile]:
        """Drop the profiles for which ``keep(profile)`` is false; returns them."""
        gone = [p for p in self.profiles if not keep(p)]
        self.profiles = [p for p in self.profiles if keep(p)]
        return gone

    def __len__(self) -> int:
        return len(self.profiles)


# -- one profile -----------------------------------------------------------------------------


def instance_start(profile: Profile, at: datetime, relative_start: datetime) -> datetime | None:
    """When the schedule instance that covers ``at`` started (None: no start known)."""
    sched = profile.schedule
    if profile.kind is Kind.RELATIVE:
        return relative_start
    anchor = sched.start or profile.valid_from or profile.installed_at
    if anchor is None:
        return None
    if profile.kind is Kind.ABSOLUTE or profile.recurrency is None:
        return anchor
    period = WEEK_S if profile.recurrency is Recurrency.WEEKLY else DAY_S
    # the first occurrence is startSchedule itself: nothing recurs before it
    k = max(0, math.floor((at - anchor).total_seconds() / period))
    return anchor + timedelta(seconds=k * period)


def profile_period(profile: Profile, at: datetime, relative_start: datetime) -> Period | None:
    """The period of ``profile`` in force at ``at`` (None: the profile gives no limit then)."""
    if profile.valid_from is not None and at < profile.valid_from:
        return None
    if profile.valid_to is not None and at >= profile.valid_to:
        return None
    start = instance_start(profile, at, relative_start)
    if start is None:
        return None
    offset = (at - start).total_seconds()
    sched = profile.schedule
    if offset < 0 or (sched.duration is not None and offset >= sched.duration):
        return None
    found = None
    for period in sorted(sched.periods, key=lambda p: p.start):
        if period.start <= offset:
            found = period
    return found


def _boundaries(
    profile: Profile, start: datetime, end: datetime, relative_start: datetime
) -> Iterable[datetime]:
    """Every instant in [start, end) where ``profile``'s limit may change."""
    for edge in (profile.valid_from, profile.valid_to):
        if edge is not None:
            yield edge
    sched = profile.schedule
    offsets = [p.start for p in sched.periods]
    if sched.duration is not None:
        offsets.append(sched.duration)
    first = instance_start(profile, start, relative_start)
    if first is None:
        return
    if profile.kind is Kind.RECURRING and profile.recurrency is not None:
        period = WEEK_S if profile.recurrency is Recurrency.WEEKLY else DAY_S
        instance = first
        while instance < end:
            yield instance
            for off in offsets:
                yield instance + timedelta(seconds=off)
            instance += timedelta(seconds=period)
        return
    yield first
    for off in offsets:
        yield first + timedelta(seconds=off)


# -- the composite ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Situation:
    """What a composite schedule of one connector depends on besides the profiles."""

    connector: int
    #: the transaction running on the connector (None: none) and when it started
    transaction: Any = None
    transaction_start: datetime | None = None
    converter: Converter = field(default_factory=Converter)
    #: the limit where no profile gives one, in the unit asked for (infinite: none; a station
    #: caps the result with its own maximum)
    no_limit: float = math.inf


def _winner(
    profiles: list[Profile], at: datetime, relative_start: datetime, connector: int
) -> tuple[Profile, Period] | None:
    best: tuple[tuple[int, int], Profile, Period] | None = None
    for p in profiles:
        period = profile_period(p, at, relative_start)
        if period is None:
            continue
        rank = (p.stack_level, 1 if p.connector == connector else 0)
        if best is None or rank > best[0]:
            best = (rank, p, period)
    return None if best is None else (best[1], best[2])


def _bears_on(p: Profile, situation: Situation) -> bool:
    if p.purpose is Purpose.STATION_MAX:
        return p.connector == 0
    if p.purpose in (Purpose.TX_DEFAULT, Purpose.EXTERNAL):
        return p.connector in (0, situation.connector)
    return (
        situation.transaction is not None
        and p.connector == situation.connector
        and (p.transaction is None or p.transaction == situation.transaction)
    )


def applicable(profiles: Iterable[Profile], situation: Situation) -> dict[Purpose, list[Profile]]:
    """The profiles that bear on the connector, by purpose: the station maximum (connector 0),
    the TxDefaultProfiles of the connector and of connector 0, and the TxProfile of the
    running transaction (none without one)."""
    out: dict[Purpose, list[Profile]] = {p: [] for p in Purpose}
    for p in profiles:
        if _bears_on(p, situation):
            out[p.purpose].append(p)
    return out


def limit_at(
    profiles: Iterable[Profile],
    situation: Situation,
    at: datetime,
    unit: str,
    *,
    relative_start: datetime,
) -> tuple[float, int | None]:
    """The limit (in ``unit``) and its phases in force at ``at`` on the connector."""
    by_purpose = applicable(profiles, situation)
    conv = situation.converter
    rel = situation.transaction_start or relative_start
    tx = _winner(by_purpose[Purpose.TX], at, rel, situation.connector)
    if tx is None:
        tx = _winner(by_purpose[Purpose.TX_DEFAULT], at, rel, situation.connector)
    cap = _winner(by_purpose[Purpose.STATION_MAX], at, rel, 0)
    external = _winner(by_purpose[Purpose.EXTERNAL], at, rel, situation.connector)
    if situation.connector == 0:
        tx = None  # connector 0: the station's grid connection, its maximum
    limit, phases = situation.no_limit, None
    for found in (tx, cap, external):
        if found is None:
            continue
        prof, period = found
        value = conv.convert(period.limit, prof.schedule.unit, period.phases, unit)
        if value < limit:
            limit, phases = value, period.phases
    return limit, phases


def composite(
    profiles: Iterable[Profile],
    situation: Situation,
    start: datetime,
    duration: int,
    unit: str,
) -> list[Period]:
    """The composite schedule of the connector for ``duration`` seconds from ``start``, in
    ``unit``: periods at whole-second offsets, consecutive equal ones merged. A stretch where
    no profile limits is ``situation.no_limit``."""
    profiles = list(profiles)
    end = start + timedelta(seconds=duration)
    rel = situation.transaction_start or start
    by_purpose = applicable(profiles, situation)
    edges = {start}
    for group in by_purpose.values():
        for p in group:
            edges.update(t for t in _boundaries(p, start, end, rel) if start < t < end)
    offsets = sorted({max(0, math.ceil((t - start).total_seconds())) for t in edges})
    out: list[Period] = []
    for off in offsets:
        if off >= duration:
            continue
        at = start + timedelta(seconds=off)
        limit, phases = limit_at(profiles, situation, at, unit, relative_start=rel)
        if out and out[-1].limit == limit and out[-1].phases == phases:
            continue
        out.append(Period(off, limit, phases))
    return out
