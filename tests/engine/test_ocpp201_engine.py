"""The OCPP 2.0.1 side of the engine: the dialect table, the mock CSMS's answers and what it
learns, the device-model names of ``before.config``, and the 2.0.1 checks."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pile_interop.core.frames import IN, FrameLog
from pile_interop.core.verdicts import Failure
from pile_interop.ocpp import dialects
from pile_interop.ocpp.frames import CALL, CALLRESULT, OUT
from pile_interop.ocpp.schemas import violations
from pile_interop.ocpp.v201.mock_csms import MockCsms
from pile_interop.ocpp.v201.station_role import component_variable
from pile_interop.scenario import checks

TOKENS = {
    "valid": "V",
    "invalid": "I",
    "blocked": "B",
    "expired": "E",
    "group_a": "GA",
    "master": "M",
}
PARAMS = {"group_id": "G-1", "master_pass_group_id": "MP", "heartbeat_interval": 30}


def _call(action: str, payload: dict[str, Any]) -> Any:
    return FrameLog().add(IN, "", type=CALL, unique_id="1", action=action, payload=payload)


def _answered(mock: MockCsms, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    call = _call(action, payload)
    reply = mock.reply(call)
    assert reply.payload is not None, action
    assert violations(3, action, reply.payload, "2.0.1") == [], action
    frame = FrameLog().add(OUT, "", type=CALLRESULT, unique_id="1", payload=reply.payload)
    mock.observe(call, frame)
    return reply.payload


def test_a_profile_runs_against_devices_of_its_dialect_only():
    assert dialects.for_run("1.6", "1.6")[0].name == "1.6"  # type: ignore[index]
    dialect, version = dialects.for_run("2.0.1", "2.1")  # type: ignore[misc]
    assert dialect.name == "2.0.1" and version.subprotocol == "ocpp2.1"
    assert dialects.for_run("2.0.1", "1.6") is None
    assert dialects.for_run("1.6", "2.0.1") is None


def test_the_mock_csms_answers_tokens_by_their_role_with_group_ids():
    mock = MockCsms(TOKENS, heartbeat_interval=30, params=PARAMS)

    def info(token: str) -> dict[str, Any]:
        got = _answered(mock, "Authorize", {"idToken": {"idToken": token, "type": "ISO14443"}})
        return got["idTokenInfo"]

    assert info("V") == {"status": "Accepted"}
    assert info("I")["status"] == "Invalid"
    assert info("unknown")["status"] == "Invalid"
    assert info("B")["status"] == "Blocked"
    assert info("E")["status"] == "Expired"
    assert info("GA")["groupIdToken"] == {"idToken": "G-1", "type": "Central"}
    assert info("M")["groupIdToken"]["idToken"] == "MP"
    boot = _answered(
        mock,
        "BootNotification",
        {"reason": "PowerUp", "chargingStation": {"model": "m", "vendorName": "v"}},
    )
    assert boot["interval"] == 30 and boot["status"] == "Accepted"
    assert mock.station_identity()["vendor"] == "v"


def test_the_mock_csms_learns_statuses_transactions_reports_and_csrs():
    mock = MockCsms(TOKENS, params=PARAMS)
    _answered(
        mock,
        "BootNotification",
        {"reason": "PowerUp", "chargingStation": {"model": "m", "vendorName": "v"}},
    )
    state = mock.state
    assert state.registration == "Accepted" and not state.ready(2, grace=60)
    for evse in (1, 2):
        status = {"timestamp": "2026-01-01T00:00:00Z", "connectorStatus": "Available"}
        _answered(mock, "StatusNotification", {**status, "evseId": evse, "connectorId": 1})
    assert state.ready(2, grace=60) and state.is_idle()
    event = {
        "eventType": "Started",
        "timestamp": "2026-01-01T00:00:00Z",
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "T1"},
        "idToken": {"idToken": "V", "type": "ISO14443"},
    }
    assert _answered(mock, "TransactionEvent", event)["idTokenInfo"]["status"] == "Accepted"
    assert state.open_transactions() == ["T1"]
    _answered(mock, "TransactionEvent", {**event, "eventType": "Ended", "seqNo": 1})
    assert state.open_transactions() == [] and state.seq_nos["T1"] == [0, 1]
    _answered(mock, "SignCertificate", {"csr": "-----BEGIN CERTIFICATE REQUEST-----"})
    assert state.csrs == ["-----BEGIN CERTIFICATE REQUEST-----"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "TxCtrlr.TxStartPoint",
            {"component": {"name": "TxCtrlr"}, "variable": {"name": "TxStartPoint"}},
        ),
        (
            "DeviceDataCtrlr.ItemsPerMessage[GetVariables]",
            {
                "component": {"name": "DeviceDataCtrlr"},
                "variable": {"name": "ItemsPerMessage", "instance": "GetVariables"},
            },
        ),
    ],
)
def test_config_names_become_component_variable_pairs(name, expected):
    assert component_variable(name) == expected


def test_a_config_name_without_a_component_is_refused():
    with pytest.raises(ValueError, match=r"Component\.Variable"):
        component_variable("HeartbeatInterval")


def case_with(*calls: tuple[str, dict[str, Any]]) -> Any:
    log = FrameLog()
    for action, payload in calls:
        log.add(IN, "[]", type=CALL, unique_id="x", action=action, payload=payload)
    return SimpleNamespace(session=SimpleNamespace(log=log), seq0=0, alias_seq={})


def tx(kind: str, seq: int, tx_id: str = "T1") -> tuple[str, dict[str, Any]]:
    return (
        "TransactionEvent",
        {"eventType": kind, "seqNo": seq, "transactionInfo": {"transactionId": tx_id}},
    )


def test_seq_no_passes_a_continuous_transaction_and_names_a_gap():
    check = checks.get("seq_no")
    good = case_with(tx("Started", 0), tx("Updated", 1), tx("Updated", 0, "other"), tx("Ended", 2))
    assert check.run(good, {"transaction": "T1", "first": 0}) == "Started#0, Updated#1, Ended#2"
    gap = case_with(tx("Started", 0), tx("Updated", 2), tx("Ended", 3))
    with pytest.raises(Failure, match="seqNo 2 after 0"):
        check.run(gap, {"transaction": "T1"})
    late = case_with(tx("Started", 0), tx("Ended", 1), tx("Updated", 2))
    with pytest.raises(Failure, match="after Ended"):
        check.run(late, {"transaction": "T1"})
    with pytest.raises(Failure, match="wanted 0"):
        check.run(case_with(tx("Started", 5), tx("Ended", 6)), {"transaction": "T1", "first": 0})


def report(
    seq: int, tbc: bool | None, items: int = 2, request_id: int = 7
) -> tuple[str, dict[str, Any]]:
    payload: dict[str, Any] = {"requestId": request_id, "seqNo": seq, "reportData": [{}] * items}
    if tbc is not None:
        payload["tbc"] = tbc
    return ("NotifyReport", payload)


def test_report_parts_needs_tbc_on_all_but_the_last():
    check = checks.get("report_parts")
    good = case_with(
        report(0, True), report(1, True), report(2, None), report(0, False, request_id=8)
    )
    assert check.run(good, {"request_id": 7, "min_items": 6}).startswith("3 part(s), 6 entries")
    no_tbc = case_with(report(0, False), report(1, False))
    with pytest.raises(Failure, match=r"tbc not true on part\(s\) \[0\]"):
        check.run(no_tbc, {"request_id": 7})
    dangling = case_with(report(0, True))
    with pytest.raises(Failure, match="last part says tbc"):
        check.run(dangling, {"request_id": 7})
    with pytest.raises(Failure, match="seqNo"):
        check.run(case_with(report(1, None)), {"request_id": 7})


def test_report_parts_checks_what_the_entries_hold():
    check = checks.get("report_parts")
    hb = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    entry = {**hb, "variableAttribute": [{"mutability": "ReadWrite"}]}
    ro = {
        "component": {"name": "X"},
        "variable": {"name": "Y"},
        "variableAttribute": [{"mutability": "ReadOnly"}],
    }
    case = case_with(("NotifyReport", {"requestId": 1, "seqNo": 0, "reportData": [entry, ro]}))
    each = {"variableAttribute": {"$each": {"mutability": {"$in": ["ReadWrite", "WriteOnly"]}}}}
    assert check.run(case, {"request_id": 1, "contains": [hb]}).startswith("1 part(s)")
    with pytest.raises(Failure, match=r"X\.Y"):
        check.run(case, {"request_id": 1, "each": each})
    with pytest.raises(Failure, match="no reportData entry matches"):
        check.run(case, {"request_id": 1, "contains": [{"component": {"name": "Nope"}}]})


def test_meter_values_of_an_evse_and_its_transaction_events():
    clock = {"value": 10, "context": "Sample.Clock", "measurand": "Energy.Active.Import.Register"}

    def mv(ts: str) -> tuple[str, dict[str, Any]]:
        return (
            "MeterValues",
            {"evseId": 1, "meterValue": [{"timestamp": ts, "sampledValue": [clock]}]},
        )

    def te(ts: str) -> tuple[str, dict[str, Any]]:
        payload = {
            "eventType": "Updated",
            "seqNo": 1,
            "transactionInfo": {"transactionId": "T1"},
            "meterValue": [{"timestamp": ts, "sampledValue": [clock]}],
        }
        return ("TransactionEvent", payload)

    other_evse = (
        "MeterValues",
        {
            "evseId": 2,
            "meterValue": [{"timestamp": "2026-01-01T00:00:05Z", "sampledValue": [clock]}],
        },
    )
    case = case_with(
        mv("2026-01-01T00:00:10Z"),
        other_evse,
        te("2026-01-01T00:00:20Z"),
        mv("2026-01-01T00:00:30Z"),
    )
    check = checks.get("meter_values")
    args = {
        "evse": 1,
        "transaction": "T1",
        "context": "Sample.Clock",
        "interval": 10,
        "aligned": True,
    }
    assert check.run(case, args).startswith("3 readings")
    with pytest.raises(Failure, match="only 2"):  # without the transaction's events
        check.run(case, {**args, "transaction": "T9"})


def test_the_version_packages_register_their_dialects_by_folder():
    assert dialects.known() == ["1.6", "2.0.1", "2.1"]
    with pytest.raises(ValueError, match=r"no dialect for OCPP '3\.0'"):
        dialects.for_device("3.0")
