"""The composite-schedule engine (ocpp/charging_schedule.py) against a plain, slow computation
written straight from OCPP 1.6 §3.13: the limit sampled second by second. Plus named examples."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from pile_interop.ocpp.charging_schedule import (
    Converter,
    Kind,
    Period,
    Profile,
    ProfileStore,
    Purpose,
    Recurrency,
    Schedule,
    Situation,
    composite,
)

T0 = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)  # a Monday
V = 230.0


# -- the slow reference: one second at a time, from the rules -------------------------------


def _slow_profile_limit(p: Profile, t: datetime, rel: datetime) -> tuple[float, int | None] | None:
    """The limit a profile gives at t, in its own unit (None: none)."""
    if p.valid_from is not None and not p.valid_from <= t:
        return None
    if p.valid_to is not None and not t < p.valid_to:
        return None
    s = p.schedule
    if p.kind == Kind.RELATIVE:
        begin = rel
    else:
        begin = s.start or p.valid_from or p.installed_at
        if p.kind == Kind.RECURRING:
            step = timedelta(days=7 if p.recurrency == Recurrency.WEEKLY else 1)
            while begin + step <= t:  # walk the recurrences one by one
                begin += step
    elapsed = (t - begin).total_seconds()
    if elapsed < 0:
        return None
    if s.duration is not None and elapsed >= s.duration:
        return None
    chosen = None
    for per in s.periods:
        if per.start <= elapsed and (chosen is None or per.start > chosen.start):
            chosen = per
    return None if chosen is None else (chosen.limit, chosen.phases)


def _to_unit(limit: float, unit: str, phases: int | None, want: str) -> float:
    if unit == want:
        return limit
    n = 3 if phases is None else phases
    return limit * V * n if want == "W" else limit / (V * n)


def _slow_limit(
    profiles: list[Profile],
    connector: int,
    tx: object,
    tx_start: datetime | None,
    t: datetime,
    unit: str,
    rel: datetime,
) -> float:
    def best(candidates: list[Profile]) -> float | None:
        top = None
        for p in candidates:
            got = _slow_profile_limit(p, t, rel)
            if got is None:
                continue
            key = (p.stack_level, p.connector == connector)
            if top is None or key > top[0]:
                top = (key, _to_unit(got[0], p.schedule.unit, got[1], unit))
        return None if top is None else top[1]

    cap = best([p for p in profiles if p.purpose == Purpose.STATION_MAX and p.connector == 0])
    ext = best(
        [p for p in profiles if p.purpose == Purpose.EXTERNAL and p.connector in (0, connector)]
    )
    own = None
    if connector != 0:
        if tx is not None:
            own = best(
                [
                    p
                    for p in profiles
                    if p.purpose == Purpose.TX
                    and p.connector == connector
                    and p.transaction in (None, tx)
                ]
            )
        if own is None:
            own = best(
                [
                    p
                    for p in profiles
                    if p.purpose == Purpose.TX_DEFAULT and p.connector in (0, connector)
                ]
            )
    values = [v for v in (own, cap, ext) if v is not None]
    return min(values) if values else math.inf


def _value_at(periods: list[Period], offset: int) -> float:
    current = None
    for p in periods:
        if p.start <= offset:
            current = p.limit
    assert current is not None, f"no period covers second {offset}"
    return current


# -- strategies --------------------------------------------------------------------------------


@st.composite
def profiles(draw: st.DrawFn, pid: int) -> Profile:
    purpose = draw(st.sampled_from(list(Purpose)))
    connector = 0 if purpose == Purpose.STATION_MAX else draw(st.sampled_from([0, 1, 1, 2]))
    if purpose == Purpose.TX and connector == 0:
        connector = 1
    kind = draw(st.sampled_from(list(Kind)))
    starts = sorted(set(draw(st.lists(st.integers(1, 900), max_size=4))))
    unit = draw(st.sampled_from(["A", "W"]))
    periods = tuple(
        Period(
            s,
            float(draw(st.integers(0, 40)) * (V if unit == "W" else 1)),
            draw(st.sampled_from([None, 1, 3])),
        )
        for s in [draw(st.sampled_from([0, 0, 30])), *starts]
    )
    periods = tuple({p.start: p for p in periods}.values())
    start = T0 + timedelta(seconds=draw(st.integers(-2 * 86_400, 600)))
    schedule = Schedule(
        unit=unit,
        periods=periods,
        duration=draw(st.one_of(st.none(), st.integers(1, 1200))),
        start=None if kind == Kind.RELATIVE else draw(st.one_of(st.just(start), st.none())),
    )
    valid_from = draw(st.one_of(st.none(), st.integers(-100, 500)))
    valid_to = draw(st.one_of(st.none(), st.integers(100, 1500)))
    return Profile(
        id=pid,
        connector=connector,
        stack_level=draw(st.integers(0, 3)),
        purpose=purpose,
        kind=kind,
        schedule=schedule,
        recurrency=draw(st.sampled_from(list(Recurrency))) if kind == Kind.RECURRING else None,
        valid_from=None if valid_from is None else T0 + timedelta(seconds=valid_from),
        valid_to=None if valid_to is None else T0 + timedelta(seconds=valid_to),
        transaction=draw(st.sampled_from([None, "tx1", "tx2"])) if purpose == Purpose.TX else None,
        installed_at=T0 - timedelta(seconds=draw(st.integers(0, 300))),
    )


@st.composite
def stores(draw: st.DrawFn) -> list[Profile]:
    store = ProfileStore()
    for pid in range(draw(st.integers(0, 6))):
        store.install(draw(profiles(pid)))
    return store.profiles


@settings(max_examples=150, deadline=None)
@given(
    installed=stores(),
    connector=st.sampled_from([0, 1, 2]),
    tx=st.sampled_from([None, "tx1"]),
    tx_offset=st.integers(-400, 100),
    query=st.integers(-50, 300),
    duration=st.integers(1, 900),
    unit=st.sampled_from(["A", "W"]),
)
def test_composite_equals_the_second_by_second_limit(
    installed: list[Profile],
    connector: int,
    tx: str | None,
    tx_offset: int,
    query: int,
    duration: int,
    unit: str,
) -> None:
    tx_start = T0 + timedelta(seconds=tx_offset) if tx else None
    start = T0 + timedelta(seconds=query)
    situation = Situation(connector, tx, tx_start, Converter(V))
    got = composite(installed, situation, start, duration, unit)
    assert got and got[0].start == 0
    assert all(a.start < b.start for a, b in itertools.pairwise(got))
    assert all(a.limit != b.limit or a.phases != b.phases for a, b in itertools.pairwise(got))
    rel = tx_start or start
    for second in range(duration):
        want = _slow_limit(
            installed, connector, tx, tx_start, start + timedelta(seconds=second), unit, rel
        )
        assert math.isclose(_value_at(got, second), want, rel_tol=1e-9), (second, got)


# -- named examples ----------------------------------------------------------------------------


def _p(
    pid: int,
    purpose: Purpose,
    periods: list[tuple[int, float]],
    *,
    connector: int = 1,
    stack: int = 0,
    kind: Kind = Kind.ABSOLUTE,
    unit: str = "A",
    duration: int | None = None,
    start: datetime | None = T0,
    recurrency: Recurrency | None = None,
    phases: int | None = None,
    tx: object = None,
) -> Profile:
    return Profile(
        pid,
        connector,
        stack,
        purpose,
        kind,
        Schedule(unit, tuple(Period(s, lim, phases) for s, lim in periods), duration, start),
        recurrency=recurrency,
        transaction=tx,
        installed_at=T0,
    )


def _limits(periods: list[Period]) -> list[tuple[int, float]]:
    return [(p.start, p.limit) for p in periods]


def test_higher_stack_level_wins_until_its_duration_ends() -> None:
    """TC_072's shape: stack 1 for 150 s over stack 0's three periods."""
    low = _p(1, Purpose.TX_DEFAULT, [(0, 6), (100, 8), (200, 10)], duration=400)
    high = _p(2, Purpose.TX_DEFAULT, [(0, 7), (100, 9)], stack=1, duration=150)
    got = composite([low, high], Situation(1), T0, 400, "A")
    assert _limits(got) == [(0, 7), (100, 9), (150, 8), (200, 10)]


def test_tx_profile_overrides_default_and_the_station_maximum_caps() -> None:
    default = _p(1, Purpose.TX_DEFAULT, [(0, 6)])
    tx = _p(2, Purpose.TX, [(0, 20), (60, 8)], tx="t")
    cap = _p(3, Purpose.STATION_MAX, [(0, 10)], connector=0)
    got = composite([default, tx, cap], Situation(1, "t", T0), T0, 120, "A")
    assert _limits(got) == [(0, 10), (60, 8)]
    without_tx = composite([default, tx, cap], Situation(1), T0, 120, "A")
    assert _limits(without_tx) == [(0, 6)]


def test_watts_and_amperes_convert_with_the_phases() -> None:
    tx = _p(1, Purpose.TX_DEFAULT, [(0, 11_040.0)], unit="W")
    assert _limits(composite([tx], Situation(1), T0, 10, "A")) == [(0, 16.0)]
    one = _p(1, Purpose.TX_DEFAULT, [(0, 10.0)], phases=1)
    assert _limits(composite([one], Situation(1), T0, 10, "W")) == [(0, 2300.0)]


def test_daily_recurrence_restarts_the_schedule() -> None:
    daily = _p(
        1,
        Purpose.TX_DEFAULT,
        [(0, 6), (3600, 12)],
        kind=Kind.RECURRING,
        recurrency=Recurrency.DAILY,
        start=T0 - timedelta(days=3),
    )
    got = composite([daily], Situation(1), T0 + timedelta(seconds=86_400 - 60), 3700, "A")
    assert _limits(got) == [(0, 12), (60, 6), (3660, 12)]


def test_relative_profile_starts_with_the_transaction() -> None:
    rel = _p(1, Purpose.TX_DEFAULT, [(0, 6), (300, 10)], kind=Kind.RELATIVE, start=None)
    got = composite([rel], Situation(1, "t", T0 - timedelta(seconds=200)), T0, 200, "A")
    assert _limits(got) == [(0, 6), (100, 10)]


def test_store_replaces_by_id_and_by_stack_level_and_purpose_and_clears_by_criteria() -> None:
    store = ProfileStore()
    store.install(_p(1, Purpose.TX_DEFAULT, [(0, 6)]))
    store.install(_p(1, Purpose.TX_DEFAULT, [(0, 7)], stack=2))  # same id
    assert [(p.id, p.stack_level) for p in store.profiles] == [(1, 2)]
    store.install(_p(5, Purpose.TX_DEFAULT, [(0, 8)], stack=2))  # same level and purpose
    assert [p.id for p in store.profiles] == [5]
    store.install(_p(6, Purpose.STATION_MAX, [(0, 8)], connector=0))
    store.install(_p(7, Purpose.TX_DEFAULT, [(0, 8)], connector=2))
    assert store.clear(purpose=Purpose.TX_DEFAULT, connector=2)[0].id == 7
    assert store.clear(id=99) == []
    assert [p.id for p in store.clear(stack_level=0)] == [6]
    assert [p.id for p in store.clear()] == [5]


def test_the_2_0_1_names_and_external_constraints_cap_like_the_maximum() -> None:
    assert Purpose.parse("ChargingStationMaxProfile") is Purpose.STATION_MAX
    assert Purpose.parse("TxProfile") is Purpose.TX
    default = _p(1, Purpose.TX_DEFAULT, [(0, 16)])
    external = _p(2, Purpose.EXTERNAL, [(0, 9)], connector=0)
    assert _limits(composite([default, external], Situation(1), T0, 60, "A")) == [(0, 9)]
