"""The OCPP 1.6 optional station profiles (Local Auth List, Reservation, Remote Trigger) pass
against the reference station: every case ``pass``, or ``na`` because the reference device
declares the feature the other way; those pass against a reference station built without it."""

from __future__ import annotations

import asyncio

import pytest

from tests.mutants.catalogue import run_sut

pytestmark = [pytest.mark.slow]


def _run(profile: str, cases: list[str] | None = None, **features: bool) -> dict[str, dict]:
    run = run_sut(None, cases, profile_id=profile, features=features or None)
    return asyncio.run(asyncio.wait_for(run, 300))


@pytest.mark.parametrize(
    ("profile", "na_by_feature"),
    [
        ("ocpp16/local-auth-list-cs", {"TC_042_1_CS", "TC_043_1_CS"}),
        ("ocpp16/reservation-cs", {"TC_048_4_CS"}),
        ("ocpp16/remote-trigger-cs", set()),
    ],
)
def test_every_case_passes_against_the_reference_station(profile, na_by_feature):
    results = _run(profile)
    verdicts = {cid: r["verdict"] for cid, r in results.items()}
    expected = {cid: "na" if cid in na_by_feature else "pass" for cid in results}
    assert verdicts == expected, {cid: r["reason"] for cid, r in results.items()}
    for cid in na_by_feature:
        assert results[cid]["reason"].startswith("device descriptor"), cid


def test_the_not_supported_cases_pass_against_a_station_without_the_local_list():
    results = _run("ocpp16/local-auth-list-cs", local_auth_list=False)
    verdicts = {cid: r["verdict"] for cid, r in results.items()}
    assert verdicts == {
        cid: "pass" if cid in ("TC_042_1_CS", "TC_043_1_CS") else "na" for cid in results
    }


def test_connector_zero_is_rejected_by_a_station_without_it():
    cases = ["TC_048_4_CS", "TC_049_CS", "TC_050_1_CS"]
    results = _run("ocpp16/reservation-cs", cases, reserve_connector_zero=False)
    verdicts = {cid: r["verdict"] for cid, r in results.items()}
    assert verdicts == {"TC_048_4_CS": "pass", "TC_049_CS": "na", "TC_050_1_CS": "na"}
