"""Checks on the date-times the SUT writes: an RFC 3339 time stamp with an offset, in the
future by at least a given span (a reservation's expiryDate, a profile's validTo)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from pile_interop.core.verdicts import Failure
from pile_interop.scenario.checks.registry import CheckContext, register

#: RFC 3339 §5.6 date-time: a full date, a full time, and an offset (Z or ±hh:mm).
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


@register(
    "future_date_time",
    "{value} is an RFC 3339 date-time with an offset, at least {min_s} s after the check "
    "(less {slack_s} s)",
)
def future_date_time(case: CheckContext, args: dict[str, Any]) -> str:
    """``value`` is a date-time with an offset (any offset: ``Z``, ``+02:00``, …) later than
    now by at least ``min_s`` seconds (default 0), less ``slack_s`` (default 5) for clocks and
    the time since the SUT wrote it."""
    value = args["value"]
    min_s, slack_s = float(args.get("min_s", 0)), float(args.get("slack_s", 5))
    text = str(value)
    if not isinstance(value, str) or not _RFC3339.fullmatch(text):
        raise Failure(
            f"{text!r} is not an RFC 3339 date-time with an offset",
            expected="a date-time such as 2026-05-01T10:00:00Z or 2026-05-01T12:00:00+02:00",
            observed=repr(value),
        )
    try:
        when = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise Failure(
            f"{text!r} is not a valid date-time", expected="a valid date", observed=text
        ) from None
    now = datetime.now(UTC)
    earliest = now + timedelta(seconds=min_s - slack_s)
    if when <= earliest or when <= now - timedelta(seconds=slack_s):
        ahead = (when - now).total_seconds()
        raise Failure(
            f"{text} is {ahead:.0f} s from now, not at least {min_s:g} s in the future",
            expected=f"a date-time at least {min_s:g} s after {now:%Y-%m-%dT%H:%M:%SZ}",
            observed=text,
        )
    return f"{text} ({(when - now).total_seconds():.0f} s ahead)"
