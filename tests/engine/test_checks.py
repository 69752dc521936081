"""Registered checks read the frame log of a case: ``count`` and ``meter_values``."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pile_interop.core.frames import IN, FrameLog
from pile_interop.core.verdicts import Failure
from pile_interop.ocpp.frames import CALL
from pile_interop.scenario import checks


def case_with(*calls: tuple[str, dict[str, Any]]) -> Any:
    log = FrameLog()
    for action, payload in calls:
        log.add(IN, "[]", type=CALL, unique_id="x", action=action, payload=payload)
    return SimpleNamespace(session=SimpleNamespace(log=log), seq0=0, alias_seq={})


def meter(ts: str, *sampled: dict[str, Any], connector: int = 1) -> tuple[str, dict[str, Any]]:
    return (
        "MeterValues",
        {
            "connectorId": connector,
            "meterValue": [{"timestamp": ts, "sampledValue": list(sampled)}],
        },
    )


CLOCK = {"value": "10", "context": "Sample.Clock", "measurand": "Energy.Active.Import.Register"}
ARGS = {"connector": 1, "context": "Sample.Clock", "interval": 10, "tolerance": 1, "min_count": 3}


def test_count_since_an_alias_leaves_out_what_came_before_it():
    case = case_with(("Authorize", {}), ("Heartbeat", {}), ("Authorize", {}))
    check = checks.get("count")
    assert check.run(case, {"action": "Authorize", "max": 2}) == "2 × Authorize"
    case.alias_seq["hb"] = 2
    assert check.run(case, {"action": "Authorize", "since": "hb", "max": 1}) == "1 × Authorize"
    case.alias_seq["first"] = 1
    with pytest.raises(Failure):  # the alias's own frame is not counted, the later one is
        check.run(case, {"action": "Authorize", "since": "first", "max": 0})


def test_clock_aligned_readings_on_the_boundary_pass():
    case = case_with(
        meter("2025-01-01T10:00:10.000Z", CLOCK),
        meter("2025-01-01T10:00:20.300Z", CLOCK),
        meter("2025-01-01T10:00:10Z", CLOCK, connector=2),  # another connector: ignored
        meter("2025-01-01T10:00:29.800Z", CLOCK),
    )
    out = checks.get("meter_values").run(case, {**ARGS, "aligned": True})
    assert out.startswith("3 readings")


def test_readings_off_the_boundary_fail_even_when_evenly_spaced():
    case = case_with(
        meter("2025-01-01T10:00:13Z", CLOCK),
        meter("2025-01-01T10:00:23Z", CLOCK),
        meter("2025-01-01T10:00:33Z", CLOCK),
    )
    checks.get("meter_values").run(case, ARGS)  # not aligned: only the spacing counts
    with pytest.raises(Failure, match="off the clock-aligned boundary"):
        checks.get("meter_values").run(case, {**ARGS, "aligned": True})


def test_a_wrong_interval_a_missing_measurand_or_too_few_readings_fail():
    check = checks.get("meter_values")
    spaced = case_with(*(meter(f"2025-01-01T10:00:{s}Z", CLOCK) for s in (10, 30, 50)))
    with pytest.raises(Failure, match="20 s apart"):
        check.run(spaced, ARGS)
    voltage = {**CLOCK, "measurand": "Voltage", "phase": "L1"}
    both = case_with(*(meter(f"2025-01-01T10:00:{s}Z", CLOCK, voltage) for s in (10, 20, 30)))
    check.run(both, {**ARGS, "measurands": "Energy.Active.Import.Register, Voltage.L1"})
    with pytest.raises(Failure, match="lacks measurand"):
        check.run(both, {**ARGS, "measurands": "Power.Active.Import"})
    periodic = {"value": "1"}  # no context: Sample.Periodic; no measurand: the energy register
    few = case_with(meter("2025-01-01T10:00:10Z", periodic))
    with pytest.raises(Failure, match="only 0 MeterValues"):
        check.run(few, ARGS)
    assert check.run(few, {**ARGS, "context": "Sample.Periodic", "min_count": 1})


def test_location_ev_is_only_for_the_state_of_charge():
    ev = {**CLOCK, "location": "EV"}
    case = case_with(*(meter(f"2025-01-01T10:00:{s}Z", ev) for s in (10, 20, 30)))
    with pytest.raises(Failure, match="location EV"):
        checks.get("meter_values").run(case, ARGS)


def test_sent_if_accepted_wants_the_message_after_an_accepted_request_and_none_otherwise():
    check = checks.get("sent_if_accepted")
    args = {"since": "trig", "action": "DiagnosticsStatusNotification", "match": {"status": "Idle"}}
    sent = case_with(("TriggerMessage", {}), ("DiagnosticsStatusNotification", {"status": "Idle"}))
    sent.alias_seq = {"trig": 1}
    assert check.run(sent, {**args, "status": "Accepted"}).startswith("Accepted")
    with pytest.raises(Failure, match="answered NotImplemented but"):
        check.run(sent, {**args, "status": "NotImplemented"})
    silent = case_with(("TriggerMessage", {}), ("Heartbeat", {}))
    silent.alias_seq = {"trig": 1}
    assert check.run(silent, {**args, "status": "NotImplemented"}) == (
        "NotImplemented: no DiagnosticsStatusNotification"
    )
    with pytest.raises(Failure, match="Accepted but no DiagnosticsStatusNotification"):
        check.run(silent, {**args, "status": "Accepted"})
