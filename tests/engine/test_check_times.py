"""The ``future_date_time`` check: an RFC 3339 date-time with any offset, far enough ahead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pile_interop.core.verdicts import Failure
from pile_interop.scenario.checks.times import future_date_time


def _iso(delta_s: float, offset_min: int = 0) -> str:
    tz = timezone(timedelta(minutes=offset_min))
    return (datetime.now(UTC) + timedelta(seconds=delta_s)).astimezone(tz).isoformat()


@pytest.mark.parametrize("offset_min,zulu", [(0, False), (0, True), (120, False), (-330, False)])
def test_any_offset_far_enough_ahead_passes(offset_min, zulu):
    value = _iso(700, offset_min)
    value = value.replace("+00:00", "Z") if zulu else value
    assert "ahead" in future_date_time(None, {"value": value, "min_s": 600})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "form,why",
    [
        ("past", "not at least"),
        ("near", "not at least"),
        ("naive", "with an offset"),
        ("word", "with an offset"),
        ("number", "with an offset"),
    ],
)
def test_past_near_naive_or_no_date_fails(form, why):
    value = {
        "past": _iso(-600),
        "near": _iso(100),
        "naive": _iso(700).replace("+00:00", ""),
        "word": "tomorrow",
        "number": 1234,
    }[form]
    with pytest.raises(Failure, match=why):
        future_date_time(None, {"value": value, "min_s": 600})  # type: ignore[arg-type]
