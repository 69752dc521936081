"""A charging profile a case sends is refused at load when it is malformed, naming the case
file and the line of the profile; a profile the SUT must refuse for where it is set (the
cases' point) loads, and so do templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from pile_interop.core.errors import ConfigError
from pile_interop.scenario.charging_profiles import profile_problems
from pile_interop.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "conformance" / "ocpp201" / "cs" / "TC_K_91_CS.yaml"


def _good() -> dict:
    return {
        "id": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": "{params.low_limit}"},
                    {"startPeriod": 60, "limit": 10},
                ],
            }
        ],
    }


def test_a_well_formed_profile_and_a_1_6_schedule_have_no_problem():
    assert list(profile_problems(_good())) == []
    one = {**_good(), "chargingSchedule": _good()["chargingSchedule"][0]}
    assert list(profile_problems(one)) == []


@pytest.mark.parametrize(
    "change,problem",
    [
        (lambda p: p["chargingSchedule"][0].update(chargingRateUnit="kW"), "neither A nor W"),
        (lambda p: p["chargingSchedule"][0].update(chargingSchedulePeriod=[]), "at least one"),
        (lambda p: p["chargingSchedule"][0]["chargingSchedulePeriod"].reverse(), "starts at 0"),
        (lambda p: p["chargingSchedule"][0]["chargingSchedulePeriod"][1].update(limit=-1), "≥ 0"),
        (lambda p: p.update(chargingProfileKind="Recurring"), "recurrencyKind"),
        (lambda p: p.update(chargingSchedule=[]), "1 to 3"),
    ],
)
def test_a_malformed_profile_names_its_problem(change, problem):
    profile = _good()
    change(profile)
    assert any(problem in text for text, _ in profile_problems(profile))


def test_a_case_with_a_malformed_profile_is_refused_with_file_and_line(tmp_path):
    text = CASE.read_text().replace("chargingRateUnit: A", "chargingRateUnit: kW", 1)
    (tmp_path / "_states.yaml").write_text((CASE.parent / "_states.yaml").read_text())
    bad = tmp_path / "TC_K_91_CS.yaml"
    bad.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_scenario(bad)
    message = str(caught.value)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "kW" in t)
    # the message's JSON schema judges first (the rules a schema cannot say come after)
    assert "TC_K_91_CS.yaml" in message and "'kW'" in message and "chargingRateUnit" in message
    assert f":{line}" in message or f"line {line}" in message, message


def test_the_smart_charging_cases_load():
    for path in sorted((ROOT / "conformance" / "ocpp201").rglob("TC_K_*.yaml")):
        load_scenario(path)


def test_a_case_breaking_a_rule_no_schema_says_is_refused_with_file_and_line(tmp_path):
    """The second judge at load: a schema-valid profile whose first period starts late."""
    text = CASE.read_text().replace("[{startPeriod: 0,", "[{startPeriod: 30,", 1)
    (tmp_path / "_states.yaml").write_text((CASE.parent / "_states.yaml").read_text())
    bad = tmp_path / "TC_K_91_CS.yaml"
    bad.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_scenario(bad)
    message = str(caught.value)
    assert "TC_K_91_CS.yaml" in message and "starts at 0" in message, message
