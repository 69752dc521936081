"""Checks on date-times a SUT wrote: an expiry that lies ahead (a reservation's
``expiryDateTime``), judged against the real time in any RFC 3339 form (offsets included)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pile_interop.core.clock import parse_iso
from pile_interop.core.verdicts import Failure
from pile_interop.scenario.checks.registry import CheckContext, register


@register("in_future", "{value} lies ahead of now (at least {min_s} s)")
def in_future(case: CheckContext, args: dict[str, Any]) -> str:
    """A date-time saved earlier lies at least ``min_s`` (default 1) seconds after now."""
    value = args["value"]
    try:
        when = parse_iso(str(value))
    except ValueError:
        raise Failure(
            f"{value!r} is not a date-time",
            expected="an RFC 3339 date-time",
            observed=repr(value),
        ) from None
    ahead = (when - datetime.now(UTC)).total_seconds()
    minimum = float(args.get("min_s", 1))
    if ahead < minimum:
        raise Failure(
            f"{value} is {-ahead:.0f} s in the past"
            if ahead < 0
            else f"{value} is only {ahead:.0f} s ahead",
            expected=f"a date-time at least {minimum:g} s from now",
            observed=str(value),
        )
    return f"{ahead:.0f} s ahead"
