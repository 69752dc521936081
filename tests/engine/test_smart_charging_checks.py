"""The Smart Charging checks: ``composite_schedule`` (a step function, any legal split or
offset) and ``meter_limit``."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pile_interop.core.frames import IN, FrameLog
from pile_interop.core.verdicts import Failure
from pile_interop.ocpp.frames import CALL
from pile_interop.scenario import checks


def _reply(periods: list[tuple[int, float]], start: str = "2026-03-02T12:00:00Z") -> dict[str, Any]:
    return {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": start,
        "chargingSchedule": {
            "duration": 400,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": s, "limit": v} for s, v in periods],
        },
    }


EXPECTED = [{"start": 0, "limit": 7}, {"start": 100, "limit": 9}, {"start": 150, "limit": 8}]


def _run(reply: dict[str, Any], **args: Any) -> str:
    case = SimpleNamespace(session=SimpleNamespace(log=FrameLog()), seq0=0, alias_seq={})
    return checks.get("composite_schedule").run(
        case, {"reply": reply, "expected": EXPECTED, "unit": "A", **args}
    )


def test_the_same_step_function_passes_however_it_is_split_or_offset() -> None:
    assert "match" in _run(_reply([(0, 7), (100, 9), (150, 8)]))
    assert "match" in _run(_reply([(0, 7), (50, 7), (100, 9.0), (150, 8), (300, 8)]))
    # scheduleStart with an offset, two seconds late: the origin puts the steps in place
    late = _reply([(0, 7), (98, 9), (148, 8)], start="2026-03-02T14:00:02+02:00")
    assert "match" in _run(late, origin="2026-03-02T12:00:00Z")


def test_a_wrong_limit_names_the_period_the_time_and_the_expected_limit() -> None:
    with pytest.raises(Failure) as err:
        _run(_reply([(0, 7), (100, 9), (150, 10)]))
    assert "period #3 (startPeriod 150) gives 10" in err.value.reason
    assert "152 s after scheduleStart" in err.value.reason  # past the 2 s tolerance
    assert err.value.expected == "limit 8 A"


def test_a_change_outside_the_tolerance_a_wrong_unit_or_a_rejection_fail() -> None:
    with pytest.raises(Failure):
        _run(_reply([(0, 7), (110, 9), (150, 8)]))  # 10 s late
    assert "match" in _run(_reply([(0, 7), (101, 9), (150, 8)]))  # within 2 s
    with pytest.raises(Failure, match="chargingRateUnit"):
        _run(_reply([(0, 7)]), unit="W")
    with pytest.raises(Failure, match="not Accepted"):
        _run({"status": "Rejected"})


def test_meter_limit_fails_on_a_reading_over_the_limit_and_without_readings() -> None:
    log = FrameLog()
    log.add(IN, "[]", type=CALL, unique_id="a", action="SetChargingProfile", payload={})

    def mv(value: str, unit: str = "W") -> None:
        sampled = {"value": value, "measurand": "Power.Active.Import", "unit": unit}
        payload = {"connectorId": 1, "meterValue": [{"timestamp": "t", "sampledValue": [sampled]}]}
        log.add(IN, "[]", type=CALL, unique_id="m", action="MeterValues", payload=payload)

    case = SimpleNamespace(
        session=SimpleNamespace(log=log),
        seq0=0,
        alias_seq={"set": 1},
        timing=SimpleNamespace(scale=1.0),
    )
    args = {"connector": 1, "since": "set", "measurand": "Power.Active.Import", "max": 4140}
    check = checks.get("meter_limit")
    with pytest.raises(Failure, match="0 Power"):
        check.run(case, args)
    mv("4.1", "kW")
    assert check.run(case, args).startswith("1 reading")
    mv("11000")
    with pytest.raises(Failure, match="over the limit"):
        check.run(case, args)


def test_meter_limit_adds_up_the_phases_of_a_power_without_a_total() -> None:
    log = FrameLog()
    log.add(IN, "[]", type=CALL, unique_id="a", action="SetChargingProfile", payload={})
    phases = [
        {"value": "1400", "measurand": "Power.Active.Import", "phase": p, "unit": "W"}
        for p in ("L1", "L2", "L3")
    ]
    payload = {"connectorId": 1, "meterValue": [{"timestamp": "t", "sampledValue": phases}]}
    log.add(IN, "[]", type=CALL, unique_id="m", action="MeterValues", payload=payload)
    case = SimpleNamespace(
        session=SimpleNamespace(log=log),
        seq0=0,
        alias_seq={"set": 1},
        timing=SimpleNamespace(scale=1.0),
    )
    args = {"connector": 1, "since": "set", "measurand": "Power.Active.Import", "max": 3900}
    with pytest.raises(Failure, match="4200 over the limit"):
        checks.get("meter_limit").run(case, args)
    assert checks.get("meter_limit").run(case, {**args, "max": 4200}).startswith("1 reading")


def test_a_2_0_1_reply_with_its_schedule_object_is_read_the_same() -> None:
    reply = {
        "status": "Accepted",
        "schedule": {
            "evseId": 1,
            "duration": 400,
            "scheduleStart": "2026-03-02T12:00:00Z",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 7},
                {"startPeriod": 100, "limit": 9},
                {"startPeriod": 150, "limit": 8},
            ],
        },
    }
    assert "match" in _run(reply)


def test_a_schedule_that_ends_before_an_expected_limit_fails() -> None:
    short = _reply([(0, 7), (100, 9), (150, 8)])
    short["chargingSchedule"]["duration"] = 120
    with pytest.raises(Failure, match="the schedule has ended"):
        _run(short, duration=400)
