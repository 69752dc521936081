"""The period check's figures: a stall of the machine moves neither the mean nor the 95 %
quantile of a correct sender, a wrong period and regular misses still show."""

from __future__ import annotations

import pytest

from pile_interop.scenario.checks.messages import period_figures


def test_one_stall_among_a_short_window_leaves_the_mean_of_a_correct_sender():
    # BN.4001 in CI: 49 BST intervals of 10 ms, one stretched to 336 ms by the machine
    gaps = [0.010] * 48 + [0.336]
    average, typical, longest = period_figures(gaps)
    assert average == pytest.approx(0.010)
    assert typical == pytest.approx(0.010)
    assert longest == pytest.approx(0.336)


def test_a_wrong_period_moves_the_mean():
    average, _typical, _longest = period_figures([0.0125] * 40)
    assert average == pytest.approx(0.0125)  # 25 % off a 10 ms period: the check fails it


def test_regular_misses_reach_the_quantile():
    # every 5th message missing: 20 % of the intervals are two periods
    gaps = ([0.010] * 4 + [0.020]) * 10
    _average, typical, _longest = period_figures(gaps)
    assert typical == pytest.approx(0.020)


def test_a_single_interval_is_its_own_figures():
    assert period_figures([0.05]) == (0.05, 0.05, 0.05)
