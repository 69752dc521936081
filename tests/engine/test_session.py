"""The OCPP engine against a raw WebSocket client: every frame seen, nothing swallowed."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from pile_interop.ocpp.frames import CALLERROR, CALLRESULT, EVENT, IN
from pile_interop.ocpp.server import CsmsServer
from pile_interop.ocpp.session import CallTimeout, Disconnected, Reply, Session
from pile_interop.ocpp.v16.mock_csms import MockCsms
from pile_interop.ocpp.versions import V16

BOUND = 5.0  # every wait in these tests


def run(coro: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 20))


async def with_server(
    body: Callable[[CsmsServer, Session], Awaitable[None]], *, password: str | None = None
) -> None:
    session = Session(V16, MockCsms({"valid": "OK1", "blocked": "BAD1"}))

    async def on_connect(conn, station_id, sub):
        await session.serve(conn, f"{station_id} {sub}")

    server = CsmsServer(
        "127.0.0.1",
        0,
        on_connect,
        station_ids=["CS1"],
        password=password,
        on_refused=session.log.event,
    )
    async with server:
        await body(server, session)
        await session.close()


async def client(server: CsmsServer, path: str = "CS1", **kwargs) -> ClientConnection:
    kwargs.setdefault("subprotocols", ["ocpp1.6"])
    return await connect(f"{server.url}/{path}", open_timeout=BOUND, **kwargs)


async def roundtrip(ws: ClientConnection, frame: list) -> list:
    await ws.send(json.dumps(frame))
    return json.loads(await asyncio.wait_for(ws.recv(), BOUND))


def test_a_client_offering_no_ocpp_subprotocol_is_refused_and_the_refusal_logged():
    async def body(server, session):
        with pytest.raises(InvalidStatus) as err:
            await client(server, subprotocols=["ocpp1.5"])
        assert err.value.response.status_code == 400
        assert "no supported OCPP subprotocol offered (ocpp1.5" in session.log.frames[-1].raw

    run(with_server(body))


def test_an_unknown_station_identity_is_refused():
    async def body(server, session):
        with pytest.raises(InvalidStatus) as err:
            await client(server, path="OTHER")
        assert err.value.response.status_code == 404

    run(with_server(body))


def auth(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_basic_auth_needs_the_station_identity_and_the_right_password():
    async def body(server, session):
        for headers, status in [
            ({}, 401),
            (auth("CS1", "wrong"), 401),
            (auth("OTHER", "s3cret-pw"), 401),
        ]:
            with pytest.raises(InvalidStatus) as err:
                await client(server, additional_headers=headers)
            assert err.value.response.status_code == status
        ws = await client(server, additional_headers=auth("CS1", "s3cret-pw"))
        assert ws.subprotocol == "ocpp1.6"
        await ws.close()
        assert not any("s3cret-pw" in f.raw for f in session.log.frames)

    run(with_server(body, password="s3cret-pw"))


def test_an_unclaimed_call_gets_the_default_answer_and_is_recorded():
    async def body(server, session):
        ws = await client(server)
        answer = await roundtrip(ws, [2, "a1", "Authorize", {"idTag": "BAD1"}])
        assert answer == [3, "a1", {"idTagInfo": {"status": "Blocked"}}]
        kinds = [(f.direction, f.type) for f in session.log.frames]
        assert kinds == [(EVENT, EVENT), (IN, "CALL"), ("out", CALLRESULT)]
        await ws.close()

    run(with_server(body))


def test_a_schema_violation_by_the_sut_is_a_finding_not_a_crash():
    async def body(server, session):
        ws = await client(server)
        answer = await roundtrip(ws, [2, "s1", "StatusNotification", {"connectorId": "one"}])
        assert answer[0] == 3
        call = next(f for f in session.log.frames if f.unique_id == "s1" and f.direction == IN)
        assert any("errorCode' is a required property" in x for x in call.findings)
        assert any("'one' is not of type 'integer'" in x for x in call.findings)
        await ws.close()

    run(with_server(body))


def test_an_armed_expectation_claims_the_matching_call_and_answers_with_its_reply():
    async def body(server, session):
        ws = await client(server)
        expectation = session.arm(
            "StatusNotification",
            lambda f: f.payload.get("status") == "Preparing",
            lambda f: Reply.result({}),
        )
        await roundtrip(
            ws,
            [
                2,
                "x1",
                "StatusNotification",
                {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
            ],
        )
        assert not expectation.claimed
        await roundtrip(
            ws,
            [
                2,
                "x2",
                "StatusNotification",
                {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"},
            ],
        )
        exchange = await asyncio.wait_for(expectation.future, BOUND)
        assert exchange.call.unique_id == "x2"
        await ws.close()

    run(with_server(body))


def test_a_callerror_answer_to_our_call_is_returned_never_swallowed():
    async def body(server, session):
        ws = await client(server)
        await session.wait_connected(BOUND)

        async def station():
            call = json.loads(await ws.recv())
            await ws.send(json.dumps([4, call[1], "NotImplemented", "no", {}]))

        task = asyncio.create_task(station())
        response = await session.call("ClearCache", {}, timeout=BOUND)
        await task
        assert response.type == CALLERROR
        assert response.error_code == "NotImplemented"
        assert response.action == "ClearCache"
        await ws.close()

    run(with_server(body))


def test_a_response_with_an_unknown_unique_id_is_a_finding():
    async def body(server, session):
        ws = await client(server)
        await ws.send(json.dumps([3, "never-sent", {}]))
        await ws.send(json.dumps([2, "h1", "Heartbeat", {}]))
        await asyncio.wait_for(ws.recv(), BOUND)
        stray = next(f for f in session.log.frames if f.unique_id == "never-sent")
        assert "unique id 'never-sent' that the suite never sent" in stray.findings[0]
        assert "OCPP-J 1.6 §4.1.3" in stray.findings[0]
        await ws.close()

    run(with_server(body))


def test_a_silent_sut_times_out_and_a_late_answer_is_noted_as_late_for_the_sending_case():
    async def body(server, session):
        ws = await client(server)
        await session.wait_connected(BOUND)
        session.case_tag = "TC_SENDER"
        with pytest.raises(CallTimeout, match="no CALLRESULT or CALLERROR for ClearCache"):
            await session.call("ClearCache", {}, timeout=0.2)
        call = json.loads(await ws.recv())
        await ws.send(json.dumps([3, call[1], {"status": "Accepted"}]))
        await ws.send(json.dumps([2, "h2", "Heartbeat", {}]))
        await asyncio.wait_for(ws.recv(), BOUND)
        late = next(f for f in session.log.frames if f.unique_id == call[1] and f.direction == IN)
        assert not late.findings  # no finding: it must not fail the case running now
        assert late.action == "ClearCache"
        assert late.notes[0].startswith("late CALLRESULT to ClearCache")
        assert "belongs to case TC_SENDER" in late.notes[0]
        (answer,) = session.take_late_answers()
        assert (answer.case, answer.action, answer.type) == ("TC_SENDER", "ClearCache", CALLRESULT)
        assert answer.delay_s >= 0.2 and answer.waited_s == 0.2
        assert session.take_late_answers() == []  # taken once
        await ws.close()

    run(with_server(body))


def test_a_disconnect_while_awaiting_a_response_is_reported_as_such():
    async def body(server, session):
        ws = await client(server)
        await session.wait_connected(BOUND)

        async def station():
            await ws.recv()
            await ws.close()

        task = asyncio.create_task(station())
        with pytest.raises(Disconnected, match="awaiting the response to Reset"):
            await session.call("Reset", {"type": "Soft"}, timeout=BOUND)
        await task
        await session.wait_disconnected(BOUND)
        assert "connection closed by the SUT (code 1000)" in session.log.frames[-1].raw

    run(with_server(body))


def test_our_own_invalid_payload_is_refused_before_it_is_sent():
    async def body(server, session):
        ws = await client(server)
        await session.wait_connected(BOUND)
        with pytest.raises(ValueError, match="'Sometimes' is not one of"):
            await session.call("Reset", {"type": "Sometimes"}, timeout=BOUND)
        await ws.close()

    run(with_server(body))


def test_a_malformed_frame_with_an_id_gets_a_callerror_and_a_finding():
    async def body(server, session):
        ws = await client(server)
        await ws.send('[2,"m1","Heartbeat"]')
        answer = json.loads(await asyncio.wait_for(ws.recv(), BOUND))
        assert answer[:3] == [4, "m1", "ProtocolError"]
        await ws.send("not json")
        await ws.send(json.dumps([2, "h3", "Heartbeat", {}]))
        await asyncio.wait_for(ws.recv(), BOUND)
        bad = [f for f in session.log.frames if f.direction == IN and f.findings]
        assert len(bad) == 2
        await ws.close()

    run(with_server(body))


def test_a_new_connection_replaces_the_old_one_and_the_log_says_so():
    async def body(server, session):
        first = await client(server)
        await session.wait_connected(BOUND)
        second = await client(server)
        await asyncio.wait_for(first.wait_closed(), BOUND)
        assert session.connections == 2
        assert any("replaces the open one" in f.raw for f in session.log.frames)
        await second.close()

    run(with_server(body))


def test_a_raw_frame_goes_out_exactly_and_its_answer_is_matched():
    async def body(server, session):
        ws = await client(server)
        await session.wait_connected(BOUND)
        raw = '[2,"raw-1","Reset",{"type":"Sometimes"}]'  # deliberately invalid
        sent = await session.send_raw(raw)
        assert sent.raw == raw
        assert await asyncio.wait_for(ws.recv(), BOUND) == raw
        await ws.send(json.dumps([4, "raw-1", "PropertyConstraintViolation", "bad type", {}]))
        await ws.send(json.dumps([2, "h9", "Heartbeat", {}]))
        await asyncio.wait_for(ws.recv(), BOUND)
        answer = next(f for f in session.log.frames if f.unique_id == "raw-1" and f.direction == IN)
        assert answer.type == CALLERROR
        assert answer.action == "Reset"
        assert answer.findings == []
        await ws.close()

    run(with_server(body))
