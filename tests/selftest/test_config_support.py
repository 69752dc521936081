"""``before.config`` against what the station supports: a Required key (1.6) or variable
(2.0.1) answered NotSupported fails the requirement that makes it Required; an optional one
makes the case ``na``; a key turning on a feature the device descriptor declares absent makes
the case ``na`` without asking the station."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from ocpp.v16.enums import ConfigurationStatus

from pile_interop.ocpp.v16.reference.station import ReferenceStation
from pile_interop.ocpp.v201.reference.station import ReferenceStation as ReferenceStation201
from tests.mutants.catalogue import run_sut

pytestmark = [pytest.mark.slow]


def _not_supported16(*keys: str) -> type:
    class NotSupported(ReferenceStation):
        def change_configuration_status(self, key: str, value: str) -> str:
            if key in keys:
                return ConfigurationStatus.not_supported
            return super().change_configuration_status(key, value)

    return NotSupported


def _unknown201(*names: str) -> type:
    class Unknown(ReferenceStation201):
        def set_variable_status(self, var: Any, value: str) -> tuple[str, str | None]:
            if f"{var.component}.{var.variable}" in names:
                return "UnknownVariable", None
            return super().set_variable_status(var, value)

    return Unknown


def _run(cls: type | None, cases: list[str], profile: str = "ocpp16/core-cs", **kw: Any) -> Any:
    return asyncio.run(asyncio.wait_for(run_sut(cls, cases, profile, **kw), 120))


def test_a_required_16_key_answered_not_supported_fails_its_requirement():
    result = _run(_not_supported16("LocalPreAuthorize"), ["TC_023_1_CS"])["TC_023_1_CS"]
    assert result["verdict"] == "fail", result["reason"]
    assert result["reason"].startswith(
        "[OCPP1.6 §9.1.13] the station does not support the Required"
    )
    assert "LocalPreAuthorize" in result["reason"]


def test_an_optional_16_key_answered_not_supported_makes_the_case_na():
    result = _run(_not_supported16("AuthorizationCacheEnabled"), ["TC_007_CS"])["TC_007_CS"]
    assert result["verdict"] == "na", result["reason"]
    assert result["reason"].startswith("the station does not support AuthorizationCacheEnabled")


def test_a_key_of_a_feature_declared_false_makes_the_case_na_without_asking():
    results = _run(None, ["TC_023_1_CS"], features={"local_pre_authorize": False})
    result = results["TC_023_1_CS"]
    assert result["verdict"] == "na", result["reason"]
    assert "LocalPreAuthorize = true" in result["reason"]
    assert "local_pre_authorize false" in result["reason"]
    assert not any(f["action"] == "ChangeConfiguration" for f in result["frames"])


def test_a_required_201_variable_answered_unknown_fails_its_requirement():
    mutant = _unknown201("OCPPCommCtrlr.OfflineThreshold")
    result = _run(mutant, ["TC_B_02_CS"], "ocpp201/core-cs")["TC_B_02_CS"]
    assert result["verdict"] == "fail", result["reason"]
    assert "OCPPCommCtrlr.OfflineThreshold (Required)" in result["reason"]


def test_an_optional_201_variable_answered_unknown_makes_the_case_na():
    mutant = _unknown201("AuthCacheCtrlr.Enabled")
    result = _run(mutant, ["TC_C_08_CS"], "ocpp201/core-cs")["TC_C_08_CS"]
    assert result["verdict"] == "na", result["reason"]
    assert result["reason"].startswith("the station does not support AuthCacheCtrlr.Enabled")


def test_the_references_support_every_key_the_cases_set():
    for profile, case in (("ocpp16/core-cs", "TC_023_1_CS"), ("ocpp201/core-cs", "TC_C_08_CS")):
        result = _run(None, [case], profile)[case]
        assert result["verdict"] == "pass", result["reason"]


class ReadOnlyEvSideStop(ReferenceStation):
    """StopTransactionOnEVSideDisconnect is read-only ``true`` (OCPP 1.6 §9.1.23 allows R or RW):
    GetConfiguration says so, ChangeConfiguration of it is Rejected."""

    def change_configuration_status(self, key: str, value: str) -> str:
        if key == "StopTransactionOnEVSideDisconnect":
            return ConfigurationStatus.rejected
        return super().change_configuration_status(key, value)

    def get_configuration_response(self, keys: list[str] | None) -> Any:
        result = super().get_configuration_response(keys)
        for entry in result.configuration_key or []:
            if entry["key"] == "StopTransactionOnEVSideDisconnect":
                entry["readonly"] = True
                entry["value"] = "true"
        return result


def test_a_read_only_key_at_the_value_a_case_needs_passes_and_at_another_makes_it_na():
    """A conforming station may have a key read-only: a case needing its value runs without
    writing it; a case needing another value is ``na`` (never an ``error`` of the harness)."""
    results = _run(ReadOnlyEvSideStop, ["TC_005_1_CS", "TC_005_3_CS"])
    assert results["TC_005_1_CS"]["verdict"] == "pass", results["TC_005_1_CS"]["reason"]
    na = results["TC_005_3_CS"]
    assert na["verdict"] == "na", na["reason"]
    assert na["reason"] == (
        "the station has StopTransactionOnEVSideDisconnect read-only at 'true'; "
        "the case needs 'false'"
    )
