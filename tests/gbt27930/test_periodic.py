"""Drift-free periodic sending on the scalable clock, and the period statistics."""

from __future__ import annotations

import asyncio
import time

import pytest

from pile_interop.core.clock import Clock
from pile_interop.gbt27930.periodic import (
    PeriodicSender,
    intervals,
    period_stats,
    quantile,
)

from .conftest import run

pytestmark = pytest.mark.timing

BLOCK_S = 0.06
"""Real seconds one action blocks the loop in the skip test (six 10 ms periods)."""


async def _run_for(sender: PeriodicSender, protocol_seconds: float) -> None:
    sender.start()
    await sender.clock.sleep(protocol_seconds)
    await sender.stop()


def test_ticks_follow_the_schedule_without_drift():
    clock = Clock(1.0)
    calls: list[float] = []
    sender = PeriodicSender(clock, 0.010, lambda: calls.append(clock.monotonic()), name="t")
    run(_run_for(sender, 0.505))
    assert 45 <= sender.calls <= 52
    times = list(sender.times)
    # drift-free: the n-th call is due at start + n × period, whatever the latency of each
    origin = times[0] - sender.lateness[0]
    last_slot = origin + (len(times) - 1 + sender.skipped) * 0.010
    assert times[-1] - last_slot == pytest.approx(sender.lateness[-1], abs=1e-9)
    assert sender.lateness[-1] < 0.010
    stats = sender.stats()
    assert stats.mean == pytest.approx(0.010, rel=0.05)
    assert calls == pytest.approx(times, abs=0.002)


def test_periods_are_protocol_seconds_on_a_scaled_clock():
    clock = Clock(0.5)
    sender = PeriodicSender(clock, 0.050, lambda: None)
    started = time.monotonic()
    run(_run_for(sender, 1.0))
    real = time.monotonic() - started
    assert 0.45 <= real < 1.0
    assert 18 <= sender.calls <= 22
    assert sender.stats().mean == pytest.approx(0.050, rel=0.05)


def test_a_late_loop_skips_slots_instead_of_sending_a_burst():
    clock = Clock(1.0)
    blocked = False

    def action() -> None:
        nonlocal blocked
        if sender.calls == 5 and not blocked:
            blocked = True
            end = time.monotonic() + BLOCK_S
            while time.monotonic() < end:  # the loop is busy elsewhere
                pass

    sender = PeriodicSender(clock, 0.010, action)
    run(_run_for(sender, 0.2))
    assert sender.skipped >= 4
    gaps = intervals(list(sender.times))
    # after the stall no two calls come back to back
    assert sum(1 for g in gaps if g < 0.003) <= 1, gaps


def test_a_failing_action_does_not_stop_the_sender():
    clock = Clock(1.0)

    def action() -> None:
        raise RuntimeError("boom")

    sender = PeriodicSender(clock, 0.010, action)
    run(_run_for(sender, 0.1))
    assert sender.calls >= 8


def test_stop_is_idempotent_and_start_twice_runs_one_task():
    async def scenario() -> PeriodicSender:
        sender = PeriodicSender(Clock(1.0), 0.010, lambda: None)
        sender.start()
        sender.start()
        await sender.clock.sleep(0.05)
        await sender.stop()
        await sender.stop()
        sender.cancel()
        return sender

    sender = run(scenario())
    assert not sender.running
    assert 4 <= sender.calls <= 7


def test_a_first_delay_postpones_the_first_call():
    clock = Clock(1.0)
    sender = PeriodicSender(clock, 0.010, lambda: None, delay=0.05)
    started = clock.monotonic()
    run(_run_for(sender, 0.1))
    assert sender.times[0] - started >= 0.05


def test_period_must_be_positive():
    with pytest.raises(ValueError, match="period"):
        PeriodicSender(Clock(), 0.0, lambda: None)


def test_period_stats_of_a_regular_series_and_one_with_an_outlier():
    regular = [i * 0.05 for i in range(21)]
    stats = period_stats(regular, 0.05)
    assert stats.count == 20
    assert stats.mean == pytest.approx(0.05)
    assert stats.max_deviation == pytest.approx(0.0, abs=1e-12)
    late = [*regular[:10], regular[10] + 0.02, *regular[11:]]
    stats = period_stats(late, 0.05)
    assert stats.max_deviation == pytest.approx(0.02)
    assert stats.max_interval == pytest.approx(0.07)
    assert stats.min_interval == pytest.approx(0.03)
    assert stats.p50 == pytest.approx(0.0, abs=1e-12)
    assert stats.as_dict(0.001)["max_deviation"] == pytest.approx(20.0)
    assert period_stats([1.0], 0.05).count == 0


def test_quantile_interpolates():
    assert quantile([], 0.5) == 0.0
    assert quantile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert quantile([0.0, 10.0], 0.95) == pytest.approx(9.5)
    assert quantile([5.0], 0.99) == 5.0


def test_the_sender_runs_inside_a_running_loop_only():
    sender = PeriodicSender(Clock(), 0.01, lambda: None)
    with pytest.raises(RuntimeError):
        sender.start()
    asyncio.run(sender.stop())
