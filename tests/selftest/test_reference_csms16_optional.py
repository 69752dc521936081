"""The OCPP 1.6 optional profiles of a Central System (Smart Charging, Local Auth List,
Reservation, Remote Trigger) pass against the reference CSMS, and the reference's operator
actions build what the profiles' rules ask for."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from ocpp.v16 import call

from pile_interop.ocpp.v16.reference.csms import ReferenceCsms
from pile_interop.ocpp.v16.reference.csms_optional import charging_profile
from tests.mutants.catalogue import run_sut

PROFILES = [
    "ocpp16/smart-charging-csms",
    "ocpp16/local-auth-list-csms",
    "ocpp16/reservation-csms",
    "ocpp16/remote-trigger-csms",
]


@pytest.mark.slow
@pytest.mark.parametrize("profile_id", PROFILES)
def test_every_case_passes_against_the_reference_csms(profile_id):
    results = asyncio.run(asyncio.wait_for(run_sut(None, profile_id=profile_id), 300))
    failing = {
        cid: f"{r['verdict']}: {r['reason']}"
        for cid, r in results.items()
        if r["verdict"] != "pass"
    }
    assert failing == {}
    for cid, result in results.items():
        assert all(s["verdict"] in ("pass", "skipped") for s in result["steps"]), cid
        assert result["frames"], f"{cid} saw nothing of the SUT"


class OtherLegalForms(ReferenceCsms):
    """A conforming CSMS that writes what the reference writes in other legal forms: Absolute
    charging profiles, an expiryDate at +02:00 with no fraction, a clear by criteria without
    the connector, a full list with every id tag it knows, a TxProfile whose stack level is
    the operator's but whose id is its own."""

    def set_charging_profile_request(
        self, connector: int, profile: dict[str, Any]
    ) -> call.SetChargingProfile:
        if profile.get("chargingProfileKind") == "Relative":
            profile = charging_profile(
                profile["chargingProfileId"] + 100,
                profile["chargingProfilePurpose"],
                profile["stackLevel"],
                kind="Absolute",
                limit=profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"],
                transaction_id=profile.get("transactionId"),
            )
        return super().set_charging_profile_request(connector, profile)

    def remote_start_profile(self, spec: dict[str, Any]) -> dict[str, Any]:
        return {**super().remote_start_profile({**spec, "kind": "Absolute"})}

    def reservation_expiry(self, seconds: float) -> str:
        when = datetime.now(UTC) + timedelta(seconds=float(seconds))
        return when.astimezone(timezone(timedelta(hours=2))).replace(microsecond=0).isoformat()

    def clear_charging_profile_request(
        self,
        profile_id: int | None,
        connector: int | None,
        purpose: str | None,
        stack_level: int | None,
    ) -> call.ClearChargingProfile:
        if profile_id is None and purpose is not None:
            connector = None
        return super().clear_charging_profile_request(profile_id, connector, purpose, stack_level)

    async def send_local_list(
        self,
        update_type: str = "Full",
        version: int | None = None,
        id_tags: list[str] | None = None,
        station: str | None = None,
    ) -> Any:
        if update_type == "Full":
            id_tags = None  # every id tag it knows
        return await super().send_local_list(update_type, version, id_tags, station)


@pytest.mark.slow
@pytest.mark.parametrize("profile_id", PROFILES)
def test_a_csms_writing_other_legal_forms_passes(profile_id):
    results = asyncio.run(asyncio.wait_for(run_sut(OtherLegalForms, profile_id=profile_id), 300))
    failing = {
        cid: f"{r['verdict']}: {r['reason']}"
        for cid, r in results.items()
        if r["verdict"] != "pass"
    }
    assert failing == {}


def test_a_relative_profile_has_no_start_an_absolute_one_its_validity():
    relative = charging_profile(1, "TxProfile", 2, transaction_id=5)
    assert relative["chargingProfileKind"] == "Relative"
    assert "startSchedule" not in relative["chargingSchedule"]
    assert relative["transactionId"] == 5
    absolute = charging_profile(2, "ChargePointMaxProfile", limit=32, unit="W")
    assert absolute["chargingProfileKind"] == "Absolute"
    assert {"validFrom", "validTo"} <= set(absolute)
    assert {"startSchedule", "duration"} <= set(absolute["chargingSchedule"])
    with pytest.raises(ValueError, match="chargingProfilePurpose"):
        charging_profile(3, "ChargingStationMaxProfile")


def test_the_terminal_commands_of_serve_reference_reach_the_optional_actions():
    from pile_interop.ocpp.serve import parse_command
    from pile_interop.ocpp.v16.serve import CSMS_COMMANDS

    assert parse_command("profile 0 ChargePointMaxProfile 2", CSMS_COMMANDS) == (
        "set_charging_profile",
        {"connector": 0, "purpose": "ChargePointMaxProfile", "stack_level": 2},
    )
    assert parse_command("reserve TAG 1", CSMS_COMMANDS) == (
        "reserve_now",
        {"id_tag": "TAG", "connector": 1},
    )
    assert parse_command("trigger Heartbeat", CSMS_COMMANDS) == (
        "trigger_message",
        {"requested_message": "Heartbeat"},
    )


@pytest.mark.slow
def test_a_csms_that_does_not_declare_the_feature_gets_na():
    run = run_sut(None, profile_id="ocpp16/remote-trigger-csms", features={"remote_trigger": False})
    results = asyncio.run(asyncio.wait_for(run, 120))
    assert {r["verdict"] for r in results.values()} == {"na"}
    assert all("remote_trigger" in r["reason"] for r in results.values())


class _Link:
    id = "CS-1"


def _offline_csms(answers: dict[str, Any]) -> tuple[ReferenceCsms, list[Any]]:
    """A reference CSMS whose requests are recorded and answered from ``answers``."""
    from types import SimpleNamespace

    csms = ReferenceCsms(id_tags={"A": "Accepted", "B": "Blocked"})
    sent: list[Any] = []

    async def send(request: Any, station: str | None) -> Any:
        sent.append(request)
        return SimpleNamespace(**answers.get(type(request).__name__, {"status": "Accepted"}))

    csms._send = send  # type: ignore[method-assign]
    csms._link = lambda station=None: _Link()  # type: ignore[method-assign]
    return csms, sent


def test_the_operator_actions_build_what_they_are_asked_for():
    csms, sent = _offline_csms({"GetLocalListVersion": {"list_version": 7}})
    own = {**charging_profile(42, "TxDefaultProfile", 3), "chargingProfileKind": "Recurring"}

    async def scenario() -> None:
        await csms.set_charging_profile(2, profile=own)
        with pytest.raises(ValueError, match="no open transaction"):
            await csms.set_charging_profile(1, purpose="TxProfile")
        await csms.get_local_list_version()
        await csms.send_local_list("Differential", id_tags=["A"])
        await csms.reserve_now("A", connector=1, parent_id_tag="P")
        await csms.cancel_reservation()
        with pytest.raises(ValueError, match="requestedMessage"):
            await csms.trigger_message("SignCertificate")

    asyncio.run(scenario())
    profile, _version, local_list, reserve, cancel = sent
    assert profile.connector_id == 2 and profile.cs_charging_profiles == own
    assert csms.charging_profiles["CS-1"][42]["connectorId"] == 2
    assert local_list.list_version == 8 and local_list.update_type == "Differential"
    assert local_list.local_authorization_list == [
        {"idTag": "A", "idTagInfo": {"status": "Accepted"}}
    ]
    assert reserve.parent_id_tag == "P" and cancel.reservation_id == reserve.reservation_id
    assert csms.reservations[reserve.reservation_id].status == "Cancelled"


def test_an_invalid_profile_from_the_operator_is_refused_before_it_is_sent():
    csms, sent = _offline_csms({})
    broken = {**charging_profile(1, "TxDefaultProfile"), "chargingProfileKind": "Sometimes"}
    with pytest.raises(ValueError, match="chargingProfileKind"):
        asyncio.run(csms.set_charging_profile(1, profile=broken))
    with pytest.raises(ValueError, match="operator's charging profile"):
        asyncio.run(csms.remote_start("A", 1, charging_profile={"profile": {"stackLevel": 1}}))
    assert sent == []
