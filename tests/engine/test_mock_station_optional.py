"""The mock 1.6 station's default answers to the optional profiles' CALLs (Smart Charging,
Local Auth List, Reservation, Remote Trigger) and what it keeps of them."""

from __future__ import annotations

from typing import Any

from pile_interop.ocpp.frames import CALL, CALLRESULT, IN, OUT, Frame, FrameLog
from pile_interop.ocpp.schemas import violations
from pile_interop.ocpp.v16.mock_station import MockStation

PROFILE = {
    "chargingProfileId": 7,
    "stackLevel": 1,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Relative",
    "chargingSchedule": {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
    },
}


def _exchange(mock: MockStation, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The mock's default answer to ``action``; it then observes the exchange."""
    log = FrameLog()
    call: Frame = log.add(IN, "", type=CALL, unique_id="1", action=action, payload=payload)
    reply = mock.reply(call)
    assert reply.error is None, reply.error
    answer = log.add(OUT, "", type=CALLRESULT, unique_id="1", payload=reply.payload)
    mock.observe(call, answer)
    assert violations(3, action, reply.payload, "1.6") == []
    return dict(reply.payload or {})


def test_every_default_answer_is_schema_valid_and_sensible():
    mock = MockStation(connectors=2)
    assert _exchange(
        mock, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": PROFILE}
    ) == {"status": "Accepted"}
    schedule = _exchange(
        mock, "GetCompositeSchedule", {"connectorId": 1, "duration": 600, "chargingRateUnit": "A"}
    )
    assert schedule["status"] == "Accepted"
    assert schedule["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 10.0}
    ]
    assert _exchange(
        mock,
        "ReserveNow",
        {"connectorId": 0, "expiryDate": "2030-01-01T00:00:00Z", "idTag": "A", "reservationId": 3},
    ) == {"status": "Accepted"}
    assert _exchange(mock, "TriggerMessage", {"requestedMessage": "Heartbeat"}) == {
        "status": "Accepted"
    }
    assert _exchange(
        mock, "TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 9}
    ) == {"status": "Rejected"}


def test_clear_charging_profile_knows_what_it_holds():
    mock = MockStation(connectors=2)
    _exchange(mock, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": PROFILE})
    assert _exchange(mock, "ClearChargingProfile", {"id": 8}) == {"status": "Unknown"}
    criteria = {"connectorId": 1, "chargingProfilePurpose": "TxDefaultProfile"}
    assert _exchange(mock, "ClearChargingProfile", criteria) == {"status": "Accepted"}
    assert mock.optional.state.profiles == {}
    assert _exchange(mock, "ClearChargingProfile", {}) == {"status": "Unknown"}


def test_the_local_list_version_follows_full_and_differential_updates():
    mock = MockStation(connectors=2)
    assert _exchange(mock, "GetLocalListVersion", {}) == {"listVersion": 0}
    entry = {"idTag": "A", "idTagInfo": {"status": "Accepted"}}
    full = {"listVersion": 4, "updateType": "Full", "localAuthorizationList": [entry]}
    assert _exchange(mock, "SendLocalList", full) == {"status": "Accepted"}
    same = {"listVersion": 4, "updateType": "Differential", "localAuthorizationList": []}
    assert _exchange(mock, "SendLocalList", same) == {"status": "VersionMismatch"}
    remove = {
        "listVersion": 5,
        "updateType": "Differential",
        "localAuthorizationList": [{"idTag": "A"}],
    }
    assert _exchange(mock, "SendLocalList", remove) == {"status": "Accepted"}
    assert _exchange(mock, "GetLocalListVersion", {}) == {"listVersion": 5}
    assert mock.optional.state.local_list == {}


def test_a_reservation_can_be_cancelled_once():
    mock = MockStation(connectors=2)
    reserve = {
        "connectorId": 1,
        "expiryDate": "2030-01-01T00:00:00+02:00",
        "idTag": "A",
        "reservationId": 5,
    }
    _exchange(mock, "ReserveNow", reserve)
    assert _exchange(mock, "CancelReservation", {"reservationId": 5}) == {"status": "Accepted"}
    assert _exchange(mock, "CancelReservation", {"reservationId": 5}) == {"status": "Rejected"}


def test_the_station_declares_the_optional_profiles():
    value = MockStation().config["SupportedFeatureProfiles"][0].split(",")
    assert {
        "Core",
        "SmartCharging",
        "LocalAuthListManagement",
        "Reservation",
        "RemoteTrigger",
    } <= set(value)


def test_a_profile_is_refused_where_its_purpose_does_not_belong():
    mock = MockStation(connectors=2)
    station_max = {**PROFILE, "chargingProfilePurpose": "ChargePointMaxProfile"}
    tx_profile = {**PROFILE, "chargingProfilePurpose": "TxProfile", "transactionId": 5}
    set_max = {"connectorId": 1, "csChargingProfiles": station_max}
    assert _exchange(mock, "SetChargingProfile", set_max) == {"status": "Rejected"}
    set_max["connectorId"] = 0
    assert _exchange(mock, "SetChargingProfile", set_max) == {"status": "Accepted"}
    set_tx = {"connectorId": 1, "csChargingProfiles": tx_profile}
    assert _exchange(mock, "SetChargingProfile", set_tx) == {"status": "Rejected"}  # no tx
    mock.state.transactions[5] = 1
    assert _exchange(mock, "SetChargingProfile", set_tx) == {"status": "Accepted"}
