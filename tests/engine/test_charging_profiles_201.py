"""The OCPP 2.0.1 layer of the composite-schedule engine (ocpp/v201/charging_profiles.py): wire
profiles into engine profiles, the external constraints capping a composite schedule (checked
second by second against the engine's own ``limit_at``), and the check that compares a
station's composite schedule with the expected step function."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pile_interop.ocpp.charging_schedule import (
    Converter,
    Kind,
    Period,
    Purpose,
    Situation,
    limit_at,
)
from pile_interop.ocpp.v201.charging_profiles import (
    composite_201,
    keys,
    pointwise_min,
    snake,
    to_profile,
    value_at,
)

T0 = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


def _wire(pid, purpose, limit, *, stack=0, kind="Relative", duration=None, start=None, **extra):
    sched = {
        "id": 1,
        "charging_rate_unit": "A",
        "charging_schedule_period": [{"start_period": 0, "limit": limit}],
    }
    if duration is not None:
        sched["duration"] = duration
    if start is not None:
        sched["start_schedule"] = start
    return {
        "id": pid,
        "stack_level": stack,
        "charging_profile_purpose": purpose,
        "charging_profile_kind": kind,
        "charging_schedule": [sched],
        **extra,
    }


def test_a_wire_profile_becomes_an_engine_profile():
    wire = keys(
        {
            "id": 5,
            "stackLevel": 2,
            "chargingProfilePurpose": "ChargingStationMaxProfile",
            "chargingProfileKind": "Absolute",
            "validTo": "2026-03-03T00:00:00Z",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2026-03-02T11:00:00+01:00",
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 7000, "numberPhases": 1}
                    ],
                },
                {"id": 2, "chargingRateUnit": "A", "chargingSchedulePeriod": []},
            ],
        },
        snake,
    )
    p = to_profile(0, wire, installed_at=T0)
    assert p.purpose is Purpose.STATION_MAX and p.connector == 0 and p.stack_level == 2
    assert p.kind is Kind.ABSOLUTE
    assert p.schedule.unit == "W"  # the first schedule of the list
    assert p.schedule.start == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # an offset date-time
    assert p.schedule.periods == (Period(0, 7000.0, 1),)
    assert p.valid_to == datetime(2026, 3, 3, tzinfo=UTC)


def test_external_constraints_cap_the_composite_and_the_station_maximum_too():
    profiles = [
        to_profile(1, _wire(1, "TxDefaultProfile", 16), installed_at=T0),
        to_profile(
            0,
            _wire(
                2, "ChargingStationMaxProfile", 12, kind="Absolute", start="2026-03-02T11:00:00Z"
            ),
            installed_at=T0,
        ),
    ]
    external = [
        to_profile(
            0, _wire(3, "ChargingStationExternalConstraints", 8, duration=60), installed_at=T0
        )
    ]
    got = composite_201(profiles, external, 1, T0, 300, "A")
    assert got == [Period(0, 8.0, None), Period(60, 12.0, None)]
    assert composite_201(profiles, [], 1, T0, 300, "A") == [Period(0, 12.0, None)]


@st.composite
def _steps(draw):
    starts = sorted(draw(st.sets(st.integers(1, 299), max_size=5)))
    return [Period(s, float(draw(st.integers(1, 40))), None) for s in [0, *starts]]


@settings(max_examples=200, deadline=None)
@given(_steps(), _steps())
def test_pointwise_min_is_the_lower_limit_every_second(a, b):
    got = pointwise_min(a, b)
    for t in range(300):
        assert value_at(got, t) == min(value_at(a, t), value_at(b, t)), t


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 40),
    st.integers(1, 40),
    st.integers(1, 40),
    st.one_of(st.none(), st.integers(1, 250)),
)
def test_composite_201_agrees_with_the_limit_second_by_second(tx, cap, ext, ext_duration):
    profiles = [
        to_profile(1, _wire(1, "TxDefaultProfile", tx, duration=120), installed_at=T0),
        to_profile(
            0,
            _wire(
                2, "ChargingStationMaxProfile", cap, kind="Absolute", start="2026-03-02T11:00:00Z"
            ),
            installed_at=T0,
        ),
    ]
    external = [
        to_profile(
            0,
            _wire(3, "ChargingStationExternalConstraints", ext, duration=ext_duration),
            installed_at=T0,
        )
    ]
    got = composite_201(profiles, external, 1, T0, 300, "A", no_limit=32.0)
    conv = Converter()
    for t in range(300):
        at = T0 + timedelta(seconds=t)
        main, _ = limit_at(
            profiles, Situation(1, None, None, conv, 32.0), at, "A", relative_start=T0
        )
        outer, _ = limit_at(
            external, Situation(0, None, None, conv, 32.0), at, "A", relative_start=T0
        )
        assert value_at(got, t) == min(main, outer), t


@pytest.mark.parametrize("unit,limit", [("A", 10.0), ("W", 6900.0)])
def test_a_converts_to_w_with_the_period_phases(unit, limit):
    p = to_profile(
        0,
        _wire(1, "ChargingStationMaxProfile", 10, kind="Absolute", start="2026-03-02T11:00:00Z"),
        installed_at=T0,
    )
    assert composite_201([p], [], 1, T0, 60, unit) == [Period(0, limit, None)]
