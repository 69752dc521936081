"""The suite's own side varied within the spec: every form early whatever the seed, the same
seed the same forms, each form legal (RFC 3339 date-times naming the same instant, message ids
of at most 36 characters, unique), and the seed in the report."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rfc3339_validator import validate_rfc3339

from pile_interop.core.clock import parse_iso
from pile_interop.ocpp.variation import (
    DATE_TIME_FORMS,
    MAX_MESSAGE_ID,
    Variation,
    write_date_time,
)
from tests.selftest.conftest import cli

WHEN = datetime(2026, 12, 5, 17, 30, 15, 123456, tzinfo=UTC)


@given(st.integers(min_value=0, max_value=2**31))
def test_every_form_comes_within_the_first_uses_whatever_the_seed(seed: int) -> None:
    variation = Variation(seed)
    forms = [variation.date_time(WHEN) for _ in DATE_TIME_FORMS]
    assert len(set(forms)) == len(DATE_TIME_FORMS)
    assert all(abs((parse_iso(text) - WHEN).total_seconds()) < 1 for text in forms)


def test_the_same_seed_gives_the_same_forms_in_the_same_order() -> None:
    one, two = Variation(5), Variation(5)
    assert [one.date_time(WHEN) for _ in range(12)] == [two.date_time(WHEN) for _ in range(12)]

    def drawn(variation: Variation) -> list[str]:  # a UUID is random: its place is drawn
        ids = [variation.message_id() for _ in range(9)]
        return ["uuid" if i.count("-") == 4 and len(i) == 36 else i for i in ids]

    assert drawn(one) == drawn(two)


def test_each_date_time_form_is_rfc3339_and_names_the_same_instant() -> None:
    for form in DATE_TIME_FORMS:
        text = write_date_time(WHEN, form)
        assert validate_rfc3339(text), text
        assert abs((parse_iso(text) - WHEN).total_seconds()) < 1, text
    assert write_date_time(WHEN, "+08:00, no fraction") == "2026-12-06T01:30:15+08:00"
    assert write_date_time(WHEN, "-03:30, milliseconds") == "2026-12-05T14:00:15.123-03:30"
    assert write_date_time(WHEN, "Z, microseconds") == "2026-12-05T17:30:15.123456Z"


def test_message_ids_are_short_enough_unique_and_of_every_shape() -> None:
    variation = Variation(1)
    ids = [variation.message_id() for _ in range(300)]
    assert len(set(ids)) == len(ids)
    assert all(0 < len(i) <= MAX_MESSAGE_ID for i in ids)
    shapes = {("uuid" if len(i) == 36 and i.count("-") == 4 else "other", i.isdigit()) for i in ids}
    assert ("other", True) in shapes and ("uuid", False) in shapes
    assert any(len(i) == MAX_MESSAGE_ID and not i.isdigit() and i.count("-") != 4 for i in ids)


RUN = ("run", "--profile", "ocpp16/core-cs", "--against", "reference")


def test_a_bad_seed_is_exit_2_naming_the_flag() -> None:
    run = cli(*RUN, "--seed", "x", timeout=60)
    assert run.returncode == 2 and "--seed" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.slow
def test_the_report_names_the_seed_a_run_was_given(tmp_path: Path) -> None:
    out = tmp_path / "r"
    run = cli(*RUN, "--case", "TC_001_CS", "--seed", "42", "--out", str(out))
    assert run.returncode == 0, run.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["variation"]["seed"] == 42
    assert "Variation seed" in (out / "index.html").read_text()
