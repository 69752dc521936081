"""A charging profile a case writes literally is checked against the OCPP schema at load."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pile_interop.core.errors import ConfigError
from pile_interop.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]

CASE = """\
id: TC_999_CS
title: a case with a charging profile
ocpp: "1.6"
sut: cs
profiles: [ocpp16/smart-charging-cs]
description: x
requirements:
  - {{id: X, text: y}}
steps:
  - send: SetChargingProfile
    payload:
      connectorId: "{{connector}}"
      csChargingProfiles:
        chargingProfileId: 1
        stackLevel: {stack}
        chargingProfilePurpose: {purpose}
        chargingProfileKind: Relative
        chargingSchedule:
          chargingRateUnit: A
          chargingSchedulePeriod: [{{startPeriod: 0, limit: 6.3}}]
    {expect}
"""


def _load(tmp_path: Path, **fields: str) -> None:
    shutil.copy(ROOT / "conformance/ocpp16/cs/_states.yaml", tmp_path)
    values = {"stack": "0", "purpose": "TxDefaultProfile", "expect": "expect_result: {}"}
    path = tmp_path / "TC_999_CS.yaml"
    path.write_text(CASE.format(**{**values, **fields}))
    load_scenario(path)


def test_a_valid_or_templated_profile_loads(tmp_path: Path) -> None:
    _load(tmp_path)
    _load(tmp_path, stack='"{params.stack_level}"')  # left to the run


def test_a_profile_that_breaks_the_schema_is_refused_with_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, purpose="TxDefault")
    assert "TC_999_CS.yaml:16" in str(err.value)
    assert "chargingProfilePurpose" in str(err.value)
    with pytest.raises(ConfigError, match="stackLevel"):
        _load(tmp_path, stack="two")


def test_a_step_expecting_a_callerror_may_send_an_invalid_profile(tmp_path: Path) -> None:
    _load(tmp_path, purpose="TxDefault", expect="expect_error: {code: FormationViolation}")
