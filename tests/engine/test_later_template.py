"""``{later.N}``: a date-time N seconds ahead, in the form the run draws, rendered when used."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pile_interop.core.clock import parse_iso, utc_iso
from pile_interop.scenario.values import SecondsAhead, TemplateError, render


def test_later_renders_a_date_time_n_seconds_ahead() -> None:
    scope = {"later": SecondsAhead(lambda when: utc_iso(when))}
    ahead = (parse_iso(render("{later.60}", scope)) - datetime.now(UTC)).total_seconds()
    assert 58 <= ahead <= 61
    assert render("until {later.0}", scope).startswith("until 20")


def test_later_wants_a_number_of_seconds() -> None:
    with pytest.raises(TemplateError):
        render("{later.soon}", {"later": SecondsAhead(lambda when: utc_iso(when))})
