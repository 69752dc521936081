from __future__ import annotations

import pytest

from pile_interop.core.errors import ConfigError
from pile_interop.scenario.timing import Timing


def test_upper_bounds_scale_but_never_drop_below_the_floor():
    timing = Timing({"response": 30, "heartbeat_min": 25}, scale=0.01, floor=2.0)
    assert timing.upper("response") == 2.0
    assert timing.lower("heartbeat_min") == pytest.approx(0.25)


def test_a_real_sut_keeps_real_time():
    timing = Timing({"response": 30})
    assert timing.upper("response") == 30
    assert timing.describe("response") == "timeouts.response = 30 s"


def test_an_unknown_bound_is_a_config_error_listing_the_known_ones():
    with pytest.raises(ConfigError, match=r"no timeout named 'x' \(known: response\)"):
        Timing({"response": 30}, source="p.yaml").upper("x")


def test_a_minimum_counted_from_a_received_frame_allows_for_its_read_delay():
    timing = Timing({"connection_timeout_min": 18}, scale=0.1, receipt_slack=0.25)
    assert timing.lower("connection_timeout_min") == pytest.approx(1.8)
    assert timing.lower_since_frame("connection_timeout_min") == pytest.approx(1.55)
    # never below zero, and a real SUT loses only the slack of its 18 s
    assert Timing({"m": 0.1}, scale=0.1).lower_since_frame("m") == 0.0
    assert Timing({"m": 18}).lower_since_frame("m") == pytest.approx(17.75)
