"""The GB/T 27930 BMS profile passes against the reference BMS on the virtual bus (a module of
its own: loadscope gives it a worker apart from the charger profile's)."""

from __future__ import annotations

import pytest

from tests.selftest.test_reference_gbt import every_case_passes_against_the_reference

pytestmark = [pytest.mark.slow, pytest.mark.timing]


def test_every_bms_case_passes_against_the_reference_bms():
    every_case_passes_against_the_reference("gbt27930/bms")
