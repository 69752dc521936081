"""The OCPP 2.0.1 mock charging station's default answers (what a CSMS under test meets when no
case step claims its CALL) and what it learns from the CSMS's answers."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pile_interop.ocpp.frames import CALL, CALLERROR, CALLRESULT, IN, OUT, FrameLog
from pile_interop.ocpp.schemas import violations
from pile_interop.ocpp.v201.mock_station import MockStation
from pile_interop.security.certhash import certificate_hash_data

STATION = "CS-MOCK"


def _call(action: str, payload: dict) -> object:
    return FrameLog().add(IN, "", type=CALL, unique_id="1", action=action, payload=payload)


def _exchange(action: str, payload: dict, answer: dict, kind: str = CALLRESULT) -> tuple:
    log = FrameLog()
    call = log.add(IN, "", type=CALL, unique_id="1", action=action, payload=payload)
    return call, log.add(OUT, "", type=kind, unique_id="1", payload=answer)


def _sent(action: str, payload: dict, answer: dict) -> tuple:
    log = FrameLog()
    call = log.add(OUT, "", type=CALL, unique_id="1", action=action, payload=payload)
    return call, log.add(IN, "", type=CALLRESULT, unique_id="1", payload=answer)


def _cert(common_name: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _var(component: str, variable: str, **extra: object) -> dict:
    return {"component": {"name": component}, "variable": {"name": variable}, **extra}


def test_every_default_answer_is_schema_valid():
    mock = MockStation(evses=2, station_id=STATION)
    requests = {
        "GetVariables": {"getVariableData": [_var("TxCtrlr", "TxStartPoint")]},
        "SetVariables": {
            "setVariableData": [_var("TxCtrlr", "EVConnectionTimeOut", attributeValue="30")]
        },
        "RequestStartTransaction": {
            "idToken": {"idToken": "A", "type": "ISO14443"},
            "remoteStartId": 1,
        },
        "RequestStopTransaction": {"transactionId": "T1"},
        "Reset": {"type": "Immediate"},
        "UnlockConnector": {"evseId": 1, "connectorId": 1},
        "ChangeAvailability": {"operationalStatus": "Inoperative"},
        "ClearCache": {},
        "GetBaseReport": {"requestId": 1, "reportBase": "FullInventory"},
        "GetReport": {"requestId": 2},
        "TriggerMessage": {"requestedMessage": "Heartbeat"},
        "DataTransfer": {"vendorId": "x"},
        "SetNetworkProfile": {
            "configurationSlot": 1,
            "connectionData": {
                "ocppVersion": "OCPP20",
                "ocppTransport": "JSON",
                "ocppCsmsUrl": "ws://x/ocpp",
                "messageTimeout": 30,
                "securityProfile": 1,
                "ocppInterface": "Wired0",
            },
        },
        "InstallCertificate": {
            "certificateType": "CSMSRootCertificate",
            "certificate": _cert("CA"),
        },
        "GetInstalledCertificateIds": {},
        "DeleteCertificate": {"certificateHashData": certificate_hash_data(_cert("CA"))},
        "CertificateSigned": {"certificateChain": _cert(STATION)},
        "GetTransactionStatus": {"transactionId": "T1"},
    }
    for action, payload in requests.items():
        assert violations(2, action, payload, "2.0.1") == [], action
        reply = mock.reply(_call(action, payload))
        assert reply.payload is not None, action
        assert violations(3, action, reply.payload, "2.0.1") == [], action


@pytest.mark.parametrize(
    ("component", "variable", "value", "status"),
    [
        ("OCPPCommCtrlr", "HeartbeatInterval", "60", "Accepted"),
        ("OCPPCommCtrlr", "HeartbeatInterval", "-1", "Rejected"),
        ("OCPPCommCtrlr", "HeartbeatInterval", "sixty", "Rejected"),
        ("AuthCtrlr", "AuthorizeRemoteStart", "maybe", "Rejected"),
        ("AuthCacheCtrlr", "Enabled", "false", "Accepted"),
        ("TxCtrlr", "TxStartPoint", "EVConnected,Authorized", "Accepted"),
        ("TxCtrlr", "TxStartPoint", "Whenever", "Rejected"),
        ("SecurityCtrlr", "SecurityProfile", "3", "Rejected"),  # read-only
        ("ChargingStation", "Model", "X", "Rejected"),  # read-only
        ("TxCtrlr", "NoSuchVariable", "1", "UnknownVariable"),
        ("NoSuchCtrlr", "HeartbeatInterval", "1", "UnknownComponent"),
    ],
)
def test_set_variables_answers_per_item(component, variable, value, status):
    mock = MockStation()
    reply = mock.reply(
        _call(
            "SetVariables", {"setVariableData": [_var(component, variable, attributeValue=value)]}
        )
    )
    result = reply.payload["setVariableResult"][0]
    assert (result["attributeStatus"], result["attributeType"]) == (status, "Actual")
    assert result["component"] == {"name": component}


def test_get_variables_reads_the_model_and_hides_the_password():
    mock = MockStation(basic_auth=True)
    items = [
        _var("OCPPCommCtrlr", "HeartbeatInterval"),
        {
            "component": {"name": "DeviceDataCtrlr"},
            "variable": {"name": "ItemsPerMessage", "instance": "GetVariables"},
        },
        _var("SecurityCtrlr", "BasicAuthPassword"),
        _var("TxCtrlr", "Nope"),
        _var("Nope", "Nope"),
        _var("OCPPCommCtrlr", "HeartbeatInterval", attributeType="Target"),
    ]
    results = mock.reply(_call("GetVariables", {"getVariableData": items})).payload[
        "getVariableResult"
    ]
    assert [r["attributeStatus"] for r in results] == [
        "Accepted",
        "Accepted",
        "Rejected",
        "UnknownVariable",
        "UnknownComponent",
        "NotSupportedAttributeType",
    ]
    assert results[0]["attributeValue"] == "300" and "attributeValue" not in results[2]
    assert results[5]["attributeType"] == "Target"


def test_accepted_set_variables_change_the_model_and_a_new_password_is_reported():
    mock = MockStation(basic_auth=True)
    learned: list[str] = []
    mock.on_new_password = learned.append
    items = [
        _var("SampledDataCtrlr", "TxUpdatedInterval", attributeValue="15"),
        _var("SecurityCtrlr", "BasicAuthPassword", attributeValue="a-new-password-of-24chr"),
        _var("ChargingStation", "Model", attributeValue="X"),
    ]
    call = _call("SetVariables", {"setVariableData": items})
    reply = mock.reply(call)
    assert [r["attributeStatus"] for r in reply.payload["setVariableResult"]] == [
        "Accepted",
        "Accepted",
        "Rejected",
    ]
    mock.observe(*_exchange("SetVariables", call.payload, reply.payload))
    assert mock.get_variable("SampledDataCtrlr.TxUpdatedInterval") == "15"
    assert mock.get_variable("SecurityCtrlr.BasicAuthPassword") is None  # write-only
    assert mock.get_variable("ChargingStation.Model") != "X"
    assert learned == ["a-new-password-of-24chr"]


def test_the_password_needs_basic_auth_and_16_to_40_printable_characters():
    plain, basic = MockStation(), MockStation(basic_auth=True)

    def status(mock: MockStation, value: str) -> str:
        item = _var("SecurityCtrlr", "BasicAuthPassword", attributeValue=value)
        return mock.set_variable_status(item)

    assert status(plain, "x" * 20) == "Rejected"
    assert status(basic, "x" * 15) == "Rejected"
    assert status(basic, "x" * 41) == "Rejected"
    assert status(basic, "x" * 16) == "Accepted"
    assert status(basic, "x" * 15 + "\n") == "Rejected"


def test_before_config_sets_and_adds_variables():
    mock = MockStation()
    mock.set_variable("TxCtrlr.TxStartPoint", "Authorized")
    mock.set_variable("Vendor.Custom", "7")
    assert mock.get_variable("TxCtrlr.TxStartPoint") == "Authorized"
    assert mock.get_variable("Vendor.Custom") == "7"
    assert mock.get_variable("No.Such") is None


def test_certificate_signed_needs_a_certificate_for_the_station_identity():
    mock = MockStation(station_id=STATION)

    def status(chain: str) -> str:
        return mock.reply(_call("CertificateSigned", {"certificateChain": chain})).payload["status"]

    assert status(_cert(STATION)) == "Accepted"
    assert status(_cert(STATION) + _cert("intermediate")) == "Accepted"
    assert status(_cert("SOMEONE-ELSE")) == "Rejected"
    assert status("not a certificate") == "Rejected"


def test_installed_certificates_are_listed_and_deleted_by_hash():
    mock = MockStation()
    pem = _cert("CSMS root")
    install = {"certificateType": "CSMSRootCertificate", "certificate": pem}
    assert mock.reply(_call("InstallCertificate", install)).payload == {"status": "Accepted"}
    mock.observe(*_exchange("InstallCertificate", install, {"status": "Accepted"}))
    ids = mock.reply(
        _call("GetInstalledCertificateIds", {"certificateType": ["CSMSRootCertificate"]})
    )
    chain = ids.payload["certificateHashDataChain"]
    assert chain == [
        {
            "certificateType": "CSMSRootCertificate",
            "certificateHashData": certificate_hash_data(pem),
        }
    ]
    other = mock.reply(
        _call("GetInstalledCertificateIds", {"certificateType": ["V2GRootCertificate"]})
    )
    assert other.payload == {"status": "NotFound"}
    delete = {"certificateHashData": certificate_hash_data(pem)}
    assert mock.reply(_call("DeleteCertificate", delete)).payload == {"status": "Accepted"}
    mock.observe(*_exchange("DeleteCertificate", delete, {"status": "Accepted"}))
    assert mock.reply(_call("DeleteCertificate", delete)).payload == {"status": "NotFound"}
    bad = {"certificateType": "CSMSRootCertificate", "certificate": "junk"}
    assert mock.reply(_call("InstallCertificate", bad)).payload == {"status": "Rejected"}


def test_unsupported_and_unknown_actions_are_call_errors():
    mock = MockStation()
    assert mock.reply(_call("SetMonitoringBase", {})).error[0] == "NotSupported"
    assert mock.reply(_call("RemoteStartTransaction", {})).error[0] == "NotImplemented"


def test_local_list_and_reservation_answers():
    mock = MockStation(evses=2)
    full = {"versionNumber": 4, "updateType": "Full"}
    entry = {
        "idToken": {"idToken": "AB", "type": "ISO14443"},
        "idTokenInfo": {"status": "Accepted"},
    }
    assert mock.reply(_call("GetLocalListVersion", {})).payload == {"versionNumber": 0}
    listed = {**full, "localAuthorizationList": [entry]}
    assert mock.reply(_call("SendLocalList", listed)).payload == {"status": "Accepted"}
    assert mock.reply(_call("GetLocalListVersion", {})).payload == {"versionNumber": 4}
    stale = {"versionNumber": 4, "updateType": "Differential", "localAuthorizationList": [entry]}
    assert mock.reply(_call("SendLocalList", stale)).payload == {"status": "VersionMismatch"}
    reserve = {"id": 3, "expiryDateTime": "2099-01-01T00:00:00Z", "evseId": 1}
    assert mock.reply(_call("ReserveNow", reserve)).payload == {"status": "Accepted"}
    assert mock.reply(_call("ReserveNow", {**reserve, "evseId": 9})).payload == {
        "status": "Rejected"
    }
    assert mock.reply(_call("CancelReservation", {"reservationId": 3})).payload == {
        "status": "Accepted"
    }
    assert mock.reply(_call("CancelReservation", {"reservationId": 3})).payload == {
        "status": "Rejected"
    }


def test_registration_interval_and_transactions_are_learned_from_the_exchanges():
    mock = MockStation()
    boot = mock.boot_payload({"station_model": "M" * 30, "station_vendor": "V"})
    assert boot["reason"] == "PowerUp" and boot["chargingStation"]["model"] == "M" * 20
    assert violations(2, "BootNotification", boot, "2.0.1") == []
    mock.observe_response(
        *_sent("BootNotification", boot, {"status": "Accepted", "interval": 60, "currentTime": "x"})
    )
    assert (mock.state.registration, mock.state.interval) == ("Accepted", 60)
    assert mock.get_variable("OCPPCommCtrlr.HeartbeatInterval") == "60"

    started = {
        "eventType": "Started",
        "timestamp": "2025-01-01T00:00:00Z",
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "TX-7"},
        "evse": {"id": 2, "connectorId": 1},
    }
    mock.observe_response(*_sent("TransactionEvent", started, {}))
    assert mock.state.transactions == {"TX-7": 2}
    stop = mock.reply(_call("RequestStopTransaction", {"transactionId": "TX-7"}))
    assert stop.payload == {"status": "Accepted"}
    status = mock.reply(_call("GetTransactionStatus", {"transactionId": "TX-7"}))
    assert status.payload == {"messagesInQueue": False, "ongoingIndicator": True}
    ended = {**started, "eventType": "Ended", "seqNo": 1}
    mock.observe_response(*_sent("TransactionEvent", ended, {}))
    assert mock.state.transactions == {}
    assert mock.reply(_call("RequestStopTransaction", {"transactionId": "TX-7"})).payload == {
        "status": "Rejected"
    }

    mock.connection_lost()
    assert mock.state.registration == "Accepted"
    mock.observe_response(*_sent("TransactionEvent", started, {}))
    mock.rebooted()
    assert (mock.state.registration, mock.state.transactions) == (None, {})


def test_evse_ranges_are_checked():
    mock = MockStation(evses=2)
    assert mock.reply(_call("UnlockConnector", {"evseId": 3, "connectorId": 1})).payload == {
        "status": "UnknownConnector"
    }
    assert mock.reply(
        _call("ChangeAvailability", {"operationalStatus": "Operative", "evse": {"id": 0}})
    ).payload == {"status": "Accepted"}
    assert mock.reply(
        _call(
            "RequestStartTransaction",
            {"idToken": {"idToken": "A", "type": "ISO14443"}, "remoteStartId": 1, "evseId": 9},
        )
    ).payload == {"status": "Rejected"}


def test_a_call_error_answer_teaches_nothing():
    mock = MockStation()
    items = [_var("SampledDataCtrlr", "TxUpdatedInterval", attributeValue="15")]
    mock.observe(*_exchange("SetVariables", {"setVariableData": items}, {}, CALLERROR))
    assert mock.get_variable("SampledDataCtrlr.TxUpdatedInterval") == "0"


def test_smart_charging_requests_get_default_answers():
    mock = MockStation()
    assert mock.reply(_call("SetChargingProfile", {"evseId": 1})).payload == {"status": "Accepted"}
    assert mock.reply(_call("ClearChargingProfile", {})).payload == {"status": "Accepted"}
    assert mock.reply(_call("GetChargingProfiles", {"requestId": 1})).payload == {
        "status": "NoProfiles"
    }
    composite = mock.reply(_call("GetCompositeSchedule", {"evseId": 1, "duration": 60})).payload
    assert composite["status"] == "Accepted"
    assert composite["schedule"]["chargingSchedulePeriod"][0]["limit"] == 32.0
    unknown = mock.reply(_call("GetCompositeSchedule", {"evseId": 99, "duration": 60})).payload
    assert unknown == {"status": "Rejected"}
