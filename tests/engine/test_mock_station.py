"""The mock charging station's default answers (what a CSMS under test meets when no case step
claims its CALL) and what it learns from the CSMS's answers."""

from __future__ import annotations

import asyncio

import pytest

from pile_interop.ocpp.client import ConnectFailed, check_url, open_station_connection
from pile_interop.ocpp.frames import CALL, CALLRESULT, IN, OUT, FrameLog
from pile_interop.ocpp.schemas import violations
from pile_interop.ocpp.v16.mock_station import MockStation


def _call(action: str, payload: dict) -> object:
    return FrameLog().add(IN, "", type=CALL, unique_id="1", action=action, payload=payload)


def _result(call_action: str, payload: dict) -> tuple[object, object]:
    log = FrameLog()
    call = log.add(OUT, "", type=CALL, unique_id="1", action=call_action, payload={})
    return call, log.add(IN, "", type=CALLRESULT, unique_id="1", payload=payload)


def test_every_default_answer_is_schema_valid():
    mock = MockStation(connectors=2)
    requests = {
        "GetConfiguration": {"key": ["HeartbeatInterval", "NoSuchKey"]},
        "ChangeConfiguration": {"key": "HeartbeatInterval", "value": "60"},
        "RemoteStartTransaction": {"idTag": "A", "connectorId": 1},
        "RemoteStopTransaction": {"transactionId": 5},
        "Reset": {"type": "Hard"},
        "UnlockConnector": {"connectorId": 1},
        "ChangeAvailability": {"connectorId": 0, "type": "Inoperative"},
        "ClearCache": {},
        "DataTransfer": {"vendorId": "x"},
    }
    for action, payload in requests.items():
        reply = mock.reply(_call(action, payload))
        assert reply.payload is not None, action
        assert violations(3, action, reply.payload, "1.6") == [], action


@pytest.mark.parametrize(
    ("key", "value", "status"),
    [
        ("HeartbeatInterval", "60", "Accepted"),
        ("HeartbeatInterval", "-1", "Rejected"),
        ("HeartbeatInterval", "sixty", "Rejected"),
        ("StopTransactionOnInvalidId", "maybe", "Rejected"),
        ("NumberOfConnectors", "4", "Rejected"),  # read-only
        ("NoSuchKey", "1", "NotSupported"),
    ],
)
def test_change_configuration_answers_as_section_5_3_says(key, value, status):
    assert MockStation().configuration_status(key, value) == status


def test_get_configuration_names_unknown_keys_and_all_keys_when_none_asked():
    mock = MockStation(connectors=3)
    got = mock.get_configuration(["NumberOfConnectors", "Nope"])
    assert got["configurationKey"] == [
        {"key": "NumberOfConnectors", "readonly": True, "value": "3"}
    ]
    assert got["unknownKey"] == ["Nope"]
    assert len(mock.get_configuration(None)["configurationKey"]) == len(mock.config)


def test_unknown_connectors_and_transactions_are_refused():
    mock = MockStation(connectors=2)
    assert mock.reply(_call("UnlockConnector", {"connectorId": 3})).payload == {
        "status": "NotSupported"
    }
    assert mock.reply(_call("RemoteStopTransaction", {"transactionId": 9})).payload == {
        "status": "Rejected"
    }
    error = mock.reply(_call("GetDiagnostics", {"location": "ftp://x/"})).error
    assert error is not None and error[0] == "NotSupported"


def test_it_learns_registration_and_transactions_from_the_csms_answers():
    mock = MockStation()
    mock.observe_response(*_result("BootNotification", {"status": "Accepted", "interval": 42}))
    assert mock.state.registration == "Accepted"
    assert mock.config["HeartbeatInterval"][0] == "42"
    call, answer = _result(
        "StartTransaction", {"transactionId": 7, "idTagInfo": {"status": "Accepted"}}
    )
    call.payload = {"connectorId": 2}
    mock.observe_response(call, answer)
    assert mock.state.transactions == {7: 2}
    assert mock.reply(_call("RemoteStopTransaction", {"transactionId": 7})).payload == {
        "status": "Accepted"
    }
    mock.rebooted()
    assert mock.state.registration is None and mock.state.transactions == {}


def test_urls_are_checked_before_connecting():
    assert check_url("ws://127.0.0.1:9000/ocpp") is None
    assert "ws://" in (check_url("http://x/ocpp") or "")
    assert "port" in (check_url("ws://x:99999/ocpp") or "")


#: How long the silent server holds a connection (longer than the client's bound).
SILENT_HOLD_S = 5.0


def test_a_server_that_never_answers_the_upgrade_is_a_bounded_failure():
    async def scenario() -> str:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(SILENT_HOLD_S)  # accepts TCP, never answers the HTTP upgrade
            writer.close()

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            await open_station_connection(
                f"ws://127.0.0.1:{port}/ocpp", "CS-1", "ocpp1.6", timeout=0.5
            )
        except ConnectFailed as exc:
            assert not exc.unreachable
            return exc.reason
        finally:
            server.close()
        return "connected"

    reason = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert "within 0.5 s" in reason
