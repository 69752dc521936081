"""The reference OCPP 2.0.1 station (its station half) against a tiny in-test CSMS.

The CSMS is an ``ocpp.v201.ChargePoint`` behind ``websockets.asyncio.server.serve`` on
127.0.0.1; it answers every station CALL (validated against the 2.0.1 schemas) and records every
frame, so a test waits for "the next StatusNotification after the BootNotification" and checks
the order on the wire too. The EVSE half is a small stub (:class:`StubEvses`) speaking the
``Evses`` API, so these tests pin the station half alone; one test boots with the real one.
Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.v201.reference.station import ReferenceStation
from pile_interop.security.certhash import certificate_hash_data
from pile_interop.security.pki import client_context, generate_pki, sign_csr

#: Protocol seconds run 50 times faster than real ones.
SCALE = 0.02
#: Bound on one expected frame, and on a whole test, in real seconds.
WAIT = 3.0
TEST_BOUND = 25.0
#: How long "nothing of that kind is sent" is watched, in real seconds.
QUIET = 0.4
STATION_ID = "REF-201"
PASSWORD = "first-password-0001"


# ==========================================================================================
# the EVSE half, stubbed
# ==========================================================================================


class StubEvses:
    """Just enough of ``Evses`` for the station half: statuses at boot, a transaction flag."""

    def __init__(self, port: Any, evses: int, *, fixed_cable: bool = False) -> None:
        self.port = port
        self.count = evses
        self.transactions: set[int] = set()
        self.calls: list[Any] = []

    def variables(self) -> list[tuple[str, int | None, str, str, bool]]:
        return [
            ("TxCtrlr", None, "TxStartPoint", "PowerPathClosed", False),
            ("TxCtrlr", None, "EVConnectionTimeOut", "60", False),
            ("AuthCacheCtrlr", None, "Enabled", "true", False),
        ]

    def _status(self, evse: int) -> call.StatusNotification:
        return call.StatusNotification(
            timestamp=utc_iso(self.port.clock.now()),
            connector_status="Available",
            evse_id=evse,
            connector_id=1,
        )

    async def on_registered(self) -> None:
        for evse in range(1, self.count + 1):
            await self.port.send(self._status(evse))

    def on_connection_lost(self) -> None:
        self.calls.append("lost")

    async def on_power_loss(self) -> None:
        self.calls.append("power_loss")
        self.transactions.clear()

    async def end_all(self, reason: str) -> None:
        self.calls.append(("end_all", reason))
        for evse in sorted(self.transactions):
            await self.port.send_tx(
                call.TransactionEvent(
                    event_type="Ended",
                    timestamp=utc_iso(self.port.clock.now()),
                    trigger_reason="ResetCommand",
                    seq_no=1,
                    transaction_info={"transaction_id": f"T{evse}", "stopped_reason": reason},
                    evse={"id": evse, "connector_id": 1},
                )
            )
        self.transactions.clear()

    def has_transaction(self, evse: int | None = None) -> bool:
        return bool(self.transactions) if evse is None else evse in self.transactions

    def busy(self) -> bool:
        return bool(self.transactions)

    async def trigger(self, req: call.TriggerMessage) -> Any:
        if req.requested_message != "StatusNotification":
            return None
        self.calls.append("trigger")

        async def later() -> None:
            await self.port.send(self._status(1))

        asyncio.get_running_loop().create_task(later())
        return call_result.TriggerMessage(status="Accepted")

    async def request_start(self, req: call.RequestStartTransaction) -> Any:
        return call_result.RequestStartTransaction(status="Accepted")

    async def request_stop(self, req: call.RequestStopTransaction) -> Any:
        return call_result.RequestStopTransaction(status="Accepted")

    async def settle(self, timeout: float) -> None:
        self.transactions.clear()

    def snapshot(self) -> dict[str, Any]:
        return {"transactions": sorted(self.transactions)}


class Station(ReferenceStation):
    evses_class = StubEvses


# ==========================================================================================
# the tiny CSMS
# ==========================================================================================


@dataclass
class Frame:
    direction: str  # "in" (station → CSMS) or "out"
    type: int
    unique_id: str
    action: str | None
    payload: Any


@dataclass
class MiniCsms:
    """Answers the station and records frames. Attributes set the answers."""

    boot_status: str = "Accepted"
    boot_interval: int = 300
    subprotocol: str = "ocpp2.0.1"
    frames: list[Frame] = field(default_factory=list)
    handshakes: list[dict[str, Any]] = field(default_factory=list)
    cursor: int = 0

    def __post_init__(self) -> None:
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()
        self._link: _CsmsLink | None = None
        self._server: Any = None
        self._ids = itertools.count(1)
        self.url = ""

    async def __aenter__(self) -> MiniCsms:
        self._server = await serve(
            self._handle, "127.0.0.1", 0, subprotocols=[Subprotocol(self.subprotocol)]
        )
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await asyncio.wait_for(self._server.wait_closed(), WAIT)

    async def _handle(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None
        self.handshakes.append({"path": request.path, "headers": request.headers})
        link = _CsmsLink(request.path.rstrip("/").rsplit("/", 1)[-1], ws, self)
        self._link = link
        with contextlib.suppress(Exception):
            await link.start()

    def record(self, direction: str, raw: str) -> None:
        frame = json.loads(raw)
        action = frame[2] if frame[0] == 2 and len(frame) > 2 else None
        if frame[0] == 2:
            payload = frame[3] if len(frame) > 3 else None
        else:
            payload = frame[2] if frame[0] == 3 else frame[2:]
        self.frames.append(Frame(direction, frame[0], frame[1], action, payload))

        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()

        task = asyncio.ensure_future(notify())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- what tests call ---------------------------------------------------------------------

    def sent(self, action: str) -> list[dict[str, Any]]:
        return [f.payload for f in self.frames if f.direction == "in" and f.action == action]

    def _find(self, action: str, match: dict[str, Any]) -> int | None:
        for index in range(self.cursor, len(self.frames)):
            frame = self.frames[index]
            if (
                frame.direction == "in"
                and frame.action == action
                and all(frame.payload.get(k) == v for k, v in match.items())
            ):
                return index
        return None

    async def _wait_for(self, find: Callable[[], int | None], timeout: float, what: str) -> int:
        async def wait() -> int:
            async with self._changed:
                while (index := find()) is None:
                    await self._changed.wait()
                return index

        try:
            return await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            seen = [(f.action, f.payload) for f in self.frames[self.cursor :] if f.action]
            raise AssertionError(f"no {what} within {timeout}s; saw {seen}") from None

    async def expect(self, action: str, timeout: float = WAIT, **match: Any) -> dict[str, Any]:
        """The next CALL ``action`` from the station (after the previous expect) whose payload
        contains ``match``; moves the cursor past it."""
        index = await self._wait_for(lambda: self._find(action, match), timeout, action)
        self.cursor = index + 1
        return self.frames[index].payload

    async def answered(self, action: str) -> None:
        """Until the CSMS has answered the last CALL ``action`` of the station."""
        uid = [f.unique_id for f in self.frames if f.direction == "in" and f.action == action][-1]

        def find() -> int | None:
            for index, f in enumerate(self.frames):
                if f.direction == "out" and f.type in (3, 4) and f.unique_id == uid:
                    return index
            return None

        await self._wait_for(find, WAIT, f"the answer to {action}")
        await asyncio.sleep(0.05)  # ... and the station has read it

    async def expect_none(self, action: str, within: float = QUIET, **match: Any) -> None:
        with contextlib.suppress(AssertionError):
            payload = await self.expect(action, timeout=within, **match)
            raise RuntimeError(f"unexpected {action}: {payload}")

    async def call(self, payload: Any) -> Any:
        assert self._link is not None, "station not connected"
        return await asyncio.wait_for(self._link.call(payload, suppress=False), WAIT)

    async def raw(self, action: str, payload: Any, *, frame: list[Any] | None = None) -> Frame:
        """Send a CALL exactly as given (no schema check); the station's answer frame."""
        assert self._link is not None, "station not connected"
        uid = f"raw-{next(self._ids)}"
        sent = frame if frame is not None else [2, uid, action, payload]
        if frame is not None and len(frame) > 1 and isinstance(frame[1], str):
            uid = frame[1]
        await self._link.send_raw(json.dumps(sent))

        def find() -> int | None:
            for index, f in enumerate(self.frames):
                if f.direction == "in" and f.type in (3, 4) and f.unique_id == uid:
                    return index
            return None

        return self.frames[await self._wait_for(find, WAIT, f"answer to {uid}")]


class _CsmsLink(ChargePoint):
    def __init__(self, station_id: str, ws: ServerConnection, csms: MiniCsms) -> None:
        super().__init__(station_id, ws, response_timeout=WAIT)
        self.csms = csms

    async def route_message(self, raw_msg: str) -> None:
        self.csms.record("in", raw_msg)
        await super().route_message(raw_msg)

    async def _send(self, message: str) -> None:
        self.csms.record("out", message)
        await super()._send(message)

    async def send_raw(self, message: str) -> None:
        await self._send(message)

    @on(Action.boot_notification)
    def on_boot_notification(self, **_: Any) -> call_result.BootNotification:
        return call_result.BootNotification(
            current_time=utc_iso(),
            interval=self.csms.boot_interval,
            status=self.csms.boot_status,  # type: ignore[arg-type]
        )

    @on(Action.heartbeat)
    def on_heartbeat(self) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=utc_iso())

    @on(Action.status_notification)
    def on_status_notification(self, **_: Any) -> call_result.StatusNotification:
        return call_result.StatusNotification()

    @on(Action.notify_report)
    def on_notify_report(self, **_: Any) -> call_result.NotifyReport:
        return call_result.NotifyReport()

    @on(Action.security_event_notification)
    def on_security_event(self, **_: Any) -> call_result.SecurityEventNotification:
        return call_result.SecurityEventNotification()

    @on(Action.sign_certificate)
    def on_sign_certificate(self, **_: Any) -> call_result.SignCertificate:
        return call_result.SignCertificate(status="Accepted")  # type: ignore[arg-type]

    @on(Action.transaction_event)
    def on_transaction_event(self, **_: Any) -> call_result.TransactionEvent:
        return call_result.TransactionEvent()

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        return call_result.DataTransfer(status="Accepted", data=f"hello {vendor_id}")  # type: ignore[arg-type]


# ==========================================================================================
# harness
# ==========================================================================================


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), TEST_BOUND))


@contextlib.asynccontextmanager
async def station_and_csms(
    csms: MiniCsms | None = None,
    *,
    booted: bool = True,
    station_cls: type[ReferenceStation] = Station,
    **kwargs: Any,
) -> AsyncIterator[tuple[ReferenceStation, MiniCsms]]:
    async with csms or MiniCsms() as server:
        kwargs.setdefault("evses", 2)
        station = station_cls(server.url, STATION_ID, time_scale=SCALE, **kwargs)
        await station.start()
        try:
            if booted:
                await asyncio.wait_for(station.connected.wait(), WAIT)
                await server.expect("StatusNotification", evseId=kwargs["evses"])
            yield station, server
        finally:
            await asyncio.wait_for(station.stop(), WAIT + 6)


def cv(component: str, variable: str, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"component": {"name": component}, "variable": {"name": variable}}
    out.update(extra)
    return out


def statuses(result: Any) -> list[str]:
    key = "get_variable_result" if hasattr(result, "get_variable_result") else None
    items = getattr(result, key) if key else result.set_variable_result
    return [item["attribute_status"] for item in items]


def basic_password(handshake: dict[str, Any]) -> str:
    value = handshake["headers"]["Authorization"]
    return base64.b64decode(value.split()[1]).decode().split(":", 1)[1]


# ==========================================================================================
# boot (B01 – B03), heartbeat, connection
# ==========================================================================================


def test_boot_accepted_then_statuses_startup_event_and_heartbeats() -> None:
    async def test() -> None:
        csms = MiniCsms(boot_interval=10)
        async with station_and_csms(csms, password=PASSWORD) as (station, csms):
            boot = csms.sent("BootNotification")[0]
            assert boot["reason"] == "PowerUp"
            assert boot["chargingStation"]["model"] == "RefStation201"
            assert boot["chargingStation"]["vendorName"] == "pile-interop"
            assert csms.handshakes[0]["path"] == f"/{STATION_ID}"
            assert csms.handshakes[0]["headers"]["Sec-WebSocket-Protocol"] == "ocpp2.0.1"
            assert basic_password(csms.handshakes[0]) == PASSWORD
            order = [f.action for f in csms.frames if f.direction == "in" and f.type == 2]
            assert order[:3] == ["BootNotification", "StatusNotification", "StatusNotification"]
            await csms.expect("SecurityEventNotification", type="StartupOfTheDevice")
            await csms.expect("Heartbeat")
            await csms.expect("Heartbeat")
            assert station.var("OCPPCommCtrlr", "HeartbeatInterval") == "10"

    run(test)


def test_boot_pending_answers_reads_rejects_remote_start_and_sends_nothing_else() -> None:
    async def test() -> None:
        csms = MiniCsms(boot_status="Pending", boot_interval=20)
        async with station_and_csms(csms, booted=False) as (station, csms):
            await csms.expect("BootNotification")
            await csms.answered("BootNotification")
            got = await csms.call(
                call.GetVariables(get_variable_data=[cv("ChargingStation", "Model")])
            )
            assert got.get_variable_result[0]["attribute_value"] == "RefStation201"
            start = await csms.raw(
                "RequestStartTransaction",
                {"idToken": {"idToken": "X", "type": "ISO14443"}, "remoteStartId": 1},
            )
            assert (start.type, start.payload) == (3, {"status": "Rejected"})
            reset = await csms.raw("Reset", {"type": "Immediate"})
            assert reset.type == 4 and reset.payload[0] == "SecurityError"
            await csms.expect("BootNotification")  # retried after the interval (0.4 s)
            assert not csms.sent("StatusNotification")
            assert not csms.sent("SecurityEventNotification")
            # a TriggerMessage brings the next BootNotification at once
            await csms.answered("BootNotification")  # the retry was answered Pending
            csms.boot_status = "Accepted"
            trig = await csms.call(call.TriggerMessage(requested_message="BootNotification"))
            assert trig.status == "Accepted"
            boot = await csms.expect("BootNotification", timeout=0.3)
            assert boot["reason"] == "Triggered"
            await csms.expect("StatusNotification", evseId=2)
            await asyncio.wait_for(station.connected.wait(), WAIT)

    run(test)


def test_boot_rejected_sends_nothing_until_the_interval_and_refuses_calls() -> None:
    async def test() -> None:
        csms = MiniCsms(boot_status="Rejected", boot_interval=40)
        async with station_and_csms(csms, booted=False) as (_, csms):
            await csms.expect("BootNotification")
            await csms.answered("BootNotification")
            answer = await csms.raw(
                "GetVariables", {"getVariableData": [cv("ChargingStation", "Model")]}
            )
            assert answer.type == 4 and answer.payload[0] == "SecurityError"
            await csms.expect_none("BootNotification", within=0.5)
            assert [f.action for f in csms.frames if f.direction == "in" and f.type == 2] == [
                "BootNotification"
            ]
            await csms.expect("BootNotification", timeout=1.0)  # 40 s × 0.02
            trig = await csms.call(call.TriggerMessage(requested_message="BootNotification"))
            assert trig.status == "Accepted"
            await csms.expect("BootNotification", reason="Triggered")

    run(test)


def test_the_ocpp2_1_subprotocol_boots_too() -> None:
    async def test() -> None:
        csms = MiniCsms(subprotocol="ocpp2.1")
        async with station_and_csms(csms, subprotocol="ocpp2.1") as (_, csms):
            assert csms.handshakes[0]["headers"]["Sec-WebSocket-Protocol"] == "ocpp2.1"
            got = await csms.call(call.GetBaseReport(request_id=1, report_base="SummaryInventory"))
            assert got.status == "Accepted"
            await csms.expect("NotifyReport", requestId=1)

    run(test)


def test_a_csms_without_the_subprotocol_gets_no_boot() -> None:
    async def test() -> None:
        csms = MiniCsms(subprotocol="ocpp1.6")
        async with station_and_csms(csms, booted=False) as (station, csms):
            await asyncio.sleep(0.5)
            assert not csms.handshakes and not station.connected.is_set()

    run(test)


def test_stop_is_bounded_without_a_csms() -> None:
    async def test() -> None:
        station = Station("ws://127.0.0.1:9", STATION_ID, time_scale=SCALE)
        await station.start()
        await asyncio.sleep(0.2)
        await asyncio.wait_for(station.stop(), WAIT + 6)
        await station.stop()
        assert not station.connected.is_set()

    run(test)


# ==========================================================================================
# device model (B05 / B06)
# ==========================================================================================


def test_get_variables_statuses() -> None:
    async def test() -> None:
        async with station_and_csms() as (_, csms):
            got = await csms.call(
                call.GetVariables(
                    get_variable_data=[
                        cv("OCPPCommCtrlr", "HeartbeatInterval"),
                        cv("NoSuchCtrlr", "HeartbeatInterval"),
                        cv("OCPPCommCtrlr", "NoSuchVariable"),
                        cv("SecurityCtrlr", "BasicAuthPassword"),
                    ]
                )
            )
            assert statuses(got) == [
                "Accepted",
                "UnknownComponent",
                "UnknownVariable",
                "Rejected",
            ]
            assert got.get_variable_result[0]["attribute_value"] == "300"
            got = await csms.call(
                call.GetVariables(
                    get_variable_data=[
                        cv("ocppcommctrlr", "MessageAttempts", attribute_type="Target"),
                        {
                            "component": {"name": "OCPPCommCtrlr"},
                            "variable": {"name": "MessageAttempts", "instance": "TransactionEvent"},
                        },
                        {
                            "component": {"name": "EVSE", "evse": {"id": 2}},
                            "variable": {"name": "AvailabilityState"},
                        },
                        cv("TxCtrlr", "TxStartPoint"),
                    ]
                )
            )
            assert statuses(got) == ["UnknownVariable", "Accepted", "Accepted", "Accepted"]
            assert got.get_variable_result[3]["attribute_value"] == "PowerPathClosed"
            # B_08: more items than ItemsPerMessage[GetVariables] (4)
            answer = await csms.raw(
                "GetVariables",
                {"getVariableData": [cv("ChargingStation", "Model") for _ in range(5)]},
            )
            assert answer.type == 4 and answer.payload[0] == "OccurrenceConstraintViolation"

    run(test)


@pytest.mark.parametrize(
    ("item", "status"),
    [
        (cv("OCPPCommCtrlr", "HeartbeatInterval", attribute_value="20"), "Accepted"),
        (cv("OCPPCommCtrlr", "HeartbeatInterval", attribute_value="abc"), "Rejected"),
        (cv("OCPPCommCtrlr", "HeartbeatInterval", attribute_value="-5"), "Rejected"),
        (cv("ChargingStation", "Model", attribute_value="X"), "Rejected"),
        (cv("AuthCacheCtrlr", "Enabled", attribute_value="maybe"), "Rejected"),
        (cv("TxCtrlr", "TxStartPoint", attribute_value="EVConnected,Authorized"), "Accepted"),
        (cv("TxCtrlr", "TxStartPoint", attribute_value="Sunshine"), "Rejected"),
        (cv("NoSuchCtrlr", "X", attribute_value="1"), "UnknownComponent"),
        (cv("TxCtrlr", "X", attribute_value="1"), "UnknownVariable"),
        (
            cv("OCPPCommCtrlr", "HeartbeatInterval", attribute_value="20", attribute_type="MaxSet"),
            "NotSupportedAttributeType",
        ),
        (cv("SecurityCtrlr", "BasicAuthPassword", attribute_value="short"), "Rejected"),
    ],
)
def test_set_variables_statuses(item: dict[str, Any], status: str) -> None:
    async def test() -> None:
        async with station_and_csms(password=PASSWORD) as (station, csms):
            got = await csms.call(call.SetVariables(set_variable_data=[item]))
            assert statuses(got) == [status]
            if status == "Accepted":
                name = item["variable"]["name"]
                assert station.var(item["component"]["name"], name) == item["attribute_value"]

    run(test)


def test_new_heartbeat_interval_applies_at_once() -> None:
    async def test() -> None:
        async with station_and_csms() as (_, csms):
            got = await csms.call(
                call.SetVariables(
                    set_variable_data=[
                        cv("OCPPCommCtrlr", "HeartbeatInterval", attribute_value="10")
                    ]
                )
            )
            assert statuses(got) == ["Accepted"]
            await csms.expect("Heartbeat", timeout=1.0)

    run(test)


# ==========================================================================================
# reports (B07 / B08)
# ==========================================================================================


async def _report(csms: MiniCsms, request_id: int) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    while True:
        part = await csms.expect("NotifyReport", requestId=request_id)
        parts.append(part)
        if not part.get("tbc"):
            return parts


def test_full_inventory_arrives_in_parts_without_write_only_values() -> None:
    async def test() -> None:
        async with station_and_csms() as (station, csms):
            got = await csms.call(call.GetBaseReport(request_id=7, report_base="FullInventory"))
            assert got.status == "Accepted"
            parts = await _report(csms, 7)
            assert len(parts) >= 3
            assert [p["seqNo"] for p in parts] == list(range(len(parts)))
            assert all(p["tbc"] for p in parts[:-1]) and not parts[-1].get("tbc")
            assert len({p["generatedAt"] for p in parts}) == 1
            assert all(len(p["reportData"]) <= 10 for p in parts)
            data = [d for p in parts for d in p["reportData"]]
            assert len(data) == len(station.model)
            password = next(d for d in data if d["variable"]["name"] == "BasicAuthPassword")
            assert "value" not in password["variableAttribute"][0]
            assert password["variableAttribute"][0]["mutability"] == "WriteOnly"
            model = next(d for d in data if d["variable"]["name"] == "Model")
            assert model["variableAttribute"][0]["value"] == "RefStation201"
            assert model["variableCharacteristics"]["dataType"] == "string"
            evse = next(d for d in data if d["component"].get("evse") == {"id": 2})
            assert evse["component"]["name"] == "EVSE"

    run(test)


def test_configuration_and_summary_inventories() -> None:
    async def test() -> None:
        async with station_and_csms() as (_, csms):
            await csms.call(call.GetBaseReport(request_id=1, report_base="ConfigurationInventory"))
            data = [d for p in await _report(csms, 1) for d in p["reportData"]]
            assert data
            assert all(d["variableAttribute"][0]["mutability"] != "ReadOnly" for d in data)
            assert any(d["variable"]["name"] == "TxStartPoint" for d in data)
            await csms.call(call.GetBaseReport(request_id=2, report_base="SummaryInventory"))
            data = [d for p in await _report(csms, 2) for d in p["reportData"]]
            names = {d["variable"]["name"] for d in data}
            assert names <= {"AvailabilityState", "Available", "Problem"}
            assert "AvailabilityState" in names

    run(test)


def test_custom_report_filters_and_empty_result_set() -> None:
    async def test() -> None:
        async with station_and_csms() as (_, csms):
            got = await csms.call(
                call.GetReport(
                    request_id=3,
                    component_variable=[
                        {"component": {"name": "SecurityCtrlr"}},
                        {
                            "component": {"name": "EVSE", "evse": {"id": 1}},
                            "variable": {"name": "Power"},
                        },
                    ],
                )
            )
            assert got.status == "Accepted"
            data = [d for p in await _report(csms, 3) for d in p["reportData"]]
            components = {d["component"]["name"] for d in data}
            assert components == {"SecurityCtrlr", "EVSE"}
            assert [d["variable"]["name"] for d in data if d["component"]["name"] == "EVSE"] == [
                "Power"
            ]
            got = await csms.call(
                call.GetReport(request_id=4, component_variable=[{"component": {"name": "Nope"}}])
            )
            assert got.status == "EmptyResultSet"
            got = await csms.call(call.GetReport(request_id=5, component_criteria=["Problem"]))
            assert got.status == "EmptyResultSet"
            got = await csms.call(call.GetReport(request_id=6, component_criteria=["Available"]))
            assert got.status == "Accepted"
            data = [d for p in await _report(csms, 6) for d in p["reportData"]]
            assert {d["component"]["name"] for d in data} == {
                "ChargingStation",
                "EVSE",
                "Connector",
                "LocalAuthListCtrlr",  # block D, local_list.py
                "ReservationCtrlr",  # block H, reservations.py
            }
            await csms.expect_none("NotifyReport", requestId=4)

    run(test)


# ==========================================================================================
# reset (B11 / B12)
# ==========================================================================================


def test_reset_on_idle_without_transaction_reboots_with_remote_reset() -> None:
    async def test() -> None:
        async with station_and_csms() as (station, csms):
            got = await csms.call(call.Reset(type="OnIdle"))
            assert got.status == "Accepted"
            await csms.expect("SecurityEventNotification", type="ResetOrReboot")
            boot = await csms.expect("BootNotification")
            assert boot["reason"] == "RemoteReset"
            await csms.expect("StatusNotification", evseId=2)
            assert "power_loss" in station.evses.calls

    run(test)


def test_reset_on_idle_with_a_transaction_is_scheduled_until_it_ends() -> None:
    async def test() -> None:
        async with station_and_csms() as (station, csms):
            station.evses.transactions.add(1)
            got = await csms.call(call.Reset(type="OnIdle"))
            assert got.status == "Scheduled"
            await csms.expect_none("BootNotification", within=0.4)
            station.evses.transactions.clear()
            boot = await csms.expect("BootNotification")
            assert boot["reason"] == "ScheduledReset"  # B12.FR.03

    run(test)


def test_reset_immediate_ends_the_transaction_first() -> None:
    async def test() -> None:
        async with station_and_csms() as (station, csms):
            station.evses.transactions.add(2)
            got = await csms.call(call.Reset(type="Immediate"))
            assert got.status == "Accepted"
            ended = await csms.expect("TransactionEvent", eventType="Ended")
            assert ended["transactionInfo"]["stoppedReason"] == "ImmediateReset"
            assert "offline" not in ended
            await csms.expect("BootNotification", reason="RemoteReset")
            assert ("end_all", "ImmediateReset") in station.evses.calls

    run(test)


def test_reset_of_an_evse_needs_the_feature() -> None:
    async def test() -> None:
        async with station_and_csms() as (_, csms):
            got = await csms.call(call.Reset(type="Immediate", evse_id=1))
            assert got.status == "Rejected"
        async with station_and_csms(features={"reset_evse": True}) as (_, csms):
            got = await csms.call(call.Reset(type="Immediate", evse_id=1))
            assert got.status == "Accepted"
            got = await csms.call(call.Reset(type="Immediate", evse_id=9))
            assert got.status == "Rejected"

    run(test)


# ==========================================================================================
# security (A01 / A02 / A04 / A05), network profiles (B09 / B10)
# ==========================================================================================


def test_password_update_reconnects_with_the_new_password() -> None:
    async def test() -> None:
        new = "second-password-0002"
        async with station_and_csms(password=PASSWORD) as (station, csms):
            got = await csms.call(
                call.SetVariables(
                    set_variable_data=[
                        cv("SecurityCtrlr", "BasicAuthPassword", attribute_value=new)
                    ]
                )
            )
            assert statuses(got) == ["Accepted"]
            await asyncio.wait_for(_handshakes(csms, 2), WAIT)
            assert basic_password(csms.handshakes[1]) == new
            await asyncio.wait_for(station.connected.wait(), WAIT)
            await csms.expect_none("BootNotification")  # a reconnect is no reboot (B01)
            assert new not in json.dumps(station.snapshot())
            got = await csms.call(
                call.GetVariables(get_variable_data=[cv("SecurityCtrlr", "BasicAuthPassword")])
            )
            assert statuses(got) == ["Rejected"]

    run(test)


def test_network_profile_slots_priority_and_downgrade() -> None:
    async def test() -> None:
        async with station_and_csms() as (station, csms):
            other = {
                "ocpp_version": "OCPP20",
                "ocpp_transport": "JSON",
                "ocpp_csms_url": f"{csms.url}/other",
                "message_timeout": 30,
                "security_profile": 1,
                "ocpp_interface": "Wired0",
            }
            bad_slot = await csms.call(
                call.SetNetworkProfile(configuration_slot=9, connection_data=other)
            )
            assert bad_slot.status == "Rejected"
            got = await csms.call(
                call.SetNetworkProfile(configuration_slot=2, connection_data=other)
            )
            assert got.status == "Accepted"
            tls = {**other, "ocpp_csms_url": "wss://127.0.0.1:1", "security_profile": 2}
            got = await csms.call(call.SetNetworkProfile(configuration_slot=3, connection_data=tls))
            assert got.status == "Accepted"
            # slot 3 needs TLS trust: no CSMSRootCertificate, no TLS context → Rejected (A_20)
            prio = await csms.call(
                call.SetVariables(
                    set_variable_data=[
                        cv("OCPPCommCtrlr", "NetworkConfigurationPriority", attribute_value="3,1")
                    ]
                )
            )
            assert statuses(prio) == ["Rejected"]
            prio = await csms.call(
                call.SetVariables(
                    set_variable_data=[
                        cv("OCPPCommCtrlr", "NetworkConfigurationPriority", attribute_value="2,1")
                    ]
                )
            )
            assert statuses(prio) == ["Accepted"]
            await csms.call(call.Reset(type="Immediate"))
            await csms.expect("BootNotification", reason="RemoteReset")
            assert csms.handshakes[-1]["path"] == f"/other/{STATION_ID}"
            await asyncio.wait_for(station.connected.wait(), WAIT)
            assert station.var("OCPPCommCtrlr", "ActiveNetworkProfile") == "2"

    run(test)


def test_security_profile_downgrade_is_rejected() -> None:
    async def test() -> None:
        async with station_and_csms(security_profile=2) as (_, csms):
            lower = {
                "ocpp_version": "OCPP20",
                "ocpp_transport": "JSON",
                "ocpp_csms_url": csms.url,
                "message_timeout": 30,
                "security_profile": 1,
                "ocpp_interface": "Wired0",
            }
            got = await csms.call(
                call.SetNetworkProfile(configuration_slot=2, connection_data=lower)
            )
            assert got.status == "Rejected"

    run(test)


def test_install_list_and_delete_ca_certificates() -> None:
    async def test() -> None:
        pki = generate_pki(STATION_ID)
        try:
            root = pki.root_ca.read_text()
            async with station_and_csms() as (station, csms):
                got = await csms.call(
                    call.GetInstalledCertificateIds(certificate_type=["CSMSRootCertificate"])
                )
                assert got.status == "NotFound"
                bad = await csms.call(
                    call.InstallCertificate(
                        certificate_type="CSMSRootCertificate", certificate="not a certificate"
                    )
                )
                assert bad.status == "Rejected"
                for kind in ("CSMSRootCertificate", "ManufacturerRootCertificate"):
                    got = await csms.call(
                        call.InstallCertificate(certificate_type=kind, certificate=root)
                    )
                    assert got.status == "Accepted"
                assert station.var("SecurityCtrlr", "CertificateEntries") == "2"
                got = await csms.call(
                    call.GetInstalledCertificateIds(certificate_type=["CSMSRootCertificate"])
                )
                assert got.status == "Accepted"
                chain = got.certificate_hash_data_chain
                assert len(chain) == 1
                expected = certificate_hash_data(root)
                hash_data = chain[0]["certificate_hash_data"]
                assert hash_data["serial_number"] == expected["serialNumber"]
                assert hash_data["issuer_key_hash"] == expected["issuerKeyHash"]
                wire = {
                    "hash_algorithm": "SHA256",
                    "issuer_name_hash": expected["issuerNameHash"],
                    "issuer_key_hash": expected["issuerKeyHash"],
                    "serial_number": expected["serialNumber"],
                }
                got = await csms.call(call.DeleteCertificate(certificate_hash_data=wire))
                assert got.status == "Accepted"
                got = await csms.call(call.DeleteCertificate(certificate_hash_data=wire))
                assert got.status == "Accepted"  # the ManufacturerRootCertificate copy
                got = await csms.call(call.DeleteCertificate(certificate_hash_data=wire))
                assert got.status == "NotFound"
                got = await csms.call(call.GetInstalledCertificateIds())
                assert got.status == "NotFound"
        finally:
            pki.cleanup()

    run(test)


def test_the_tls_trust_anchor_is_listed_and_another_csms_root_may_be_deleted() -> None:
    async def test() -> None:
        pki, other = generate_pki(STATION_ID), generate_pki(STATION_ID)
        try:
            anchor = certificate_hash_data(pki.root_ca.read_text())
            context = client_context(pki.root_ca)  # given with a ws:// URL: not used yet
            async with station_and_csms(ssl=context) as (_, csms):
                kind = ["CSMSRootCertificate"]
                got = await csms.call(call.GetInstalledCertificateIds(certificate_type=kind))
                assert got.status == "Accepted"
                serials = [
                    c["certificate_hash_data"]["serial_number"]
                    for c in got.certificate_hash_data_chain
                ]
                assert serials == [anchor["serialNumber"]]
                root = other.root_ca.read_text()
                got = await csms.call(
                    call.InstallCertificate(certificate_type=kind[0], certificate=root)
                )
                assert got.status == "Accepted"
                extra = certificate_hash_data(root)
                wire = {
                    "hash_algorithm": "SHA256",
                    "issuer_name_hash": extra["issuerNameHash"],
                    "issuer_key_hash": extra["issuerKeyHash"],
                    "serial_number": extra["serialNumber"],
                }
                got = await csms.call(call.DeleteCertificate(certificate_hash_data=wire))
                assert got.status == "Accepted"  # M04.FR.02: the anchor stays
        finally:
            pki.cleanup()
            other.cleanup()

    run(test)


def test_an_iso15118_station_names_its_v2g_chain_with_the_sub_cas() -> None:
    async def test() -> None:
        async with station_and_csms(features={"iso15118": True}) as (station, csms):
            got = await csms.call(
                call.GetInstalledCertificateIds(certificate_type=["V2GCertificateChain"])
            )
            assert got.status == "Accepted"
            (entry,) = got.certificate_hash_data_chain
            leaf, sub2, sub1, _root = station.v2g_chain
            assert entry["certificate_type"] == "V2GCertificateChain"
            hashed = entry["certificate_hash_data"]
            assert hashed["serial_number"] == format(leaf.serial_number, "x")
            assert hashed["issuer_key_hash"] == certificate_hash_data(leaf, sub2)["issuerKeyHash"]
            children = [c["serial_number"] for c in entry["child_certificate_hash_data"]]
            assert children == [format(c.serial_number, "x") for c in (sub2, sub1)]
            got = await csms.call(
                call.GetInstalledCertificateIds(certificate_type=["MORootCertificate"])
            )
            assert got.status == "NotFound"
        async with station_and_csms() as (_, csms):  # without the feature: no chain
            got = await csms.call(
                call.GetInstalledCertificateIds(certificate_type=["V2GCertificateChain"])
            )
            assert got.status == "NotFound"

    run(test)


def test_station_certificate_renewal_accepts_a_signed_csr_and_refuses_a_wrong_cn() -> None:
    async def test() -> None:
        pki = generate_pki(STATION_ID)
        try:
            async with station_and_csms() as (station, csms):
                got = await csms.call(
                    call.TriggerMessage(requested_message="SignChargingStationCertificate")
                )
                assert got.status == "Accepted"
                sign = await csms.expect("SignCertificate")
                assert sign["certificateType"] == "ChargingStationCertificate"
                csr = x509.load_pem_x509_csr(sign["csr"].encode())
                assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
                    STATION_ID
                )
                assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
                    "pile-interop"
                )
                wrong = pki.client["wrong_cn"].cert.read_text()
                got = await csms.call(
                    call.CertificateSigned(
                        certificate_chain=wrong, certificate_type="ChargingStationCertificate"
                    )
                )
                assert got.status == "Rejected"
                await csms.expect(
                    "SecurityEventNotification", type="InvalidChargingStationCertificate"
                )
                signed = sign_csr(pki, sign["csr"])
                got = await csms.call(
                    call.CertificateSigned(
                        certificate_chain=signed, certificate_type="ChargingStationCertificate"
                    )
                )
                assert got.status == "Accepted"
                assert station.client_certificate == signed
        finally:
            pki.cleanup()

    run(test)


# ==========================================================================================
# TriggerMessage (F06), DataTransfer (P), RPC framework, offline queue
# ==========================================================================================


def test_trigger_message_answers() -> None:
    async def test() -> None:
        async with station_and_csms() as (station, csms):
            got = await csms.call(call.TriggerMessage(requested_message="BootNotification"))
            assert got.status == "Rejected"  # already Accepted (F06.FR.17)
            got = await csms.call(call.TriggerMessage(requested_message="Heartbeat"))
            assert got.status == "Accepted"
            await csms.expect("Heartbeat")
            got = await csms.call(call.TriggerMessage(requested_message="LogStatusNotification"))
            assert got.status == "Accepted"  # nothing uploads: Idle (F06, TC_F_15_CS)
            await csms.expect("LogStatusNotification", status="Idle")
            got = await csms.call(
                call.TriggerMessage(requested_message="FirmwareStatusNotification")
            )
            assert got.status == "Accepted"
            await csms.expect("FirmwareStatusNotification", status="Idle")
            got = await csms.call(
                call.TriggerMessage(requested_message="PublishFirmwareStatusNotification")
            )
            assert got.status == "NotImplemented"
            got = await csms.call(call.TriggerMessage(requested_message="StatusNotification"))
            assert got.status == "Accepted"
            await csms.expect("StatusNotification", evseId=1)
            assert station.evses.calls.count("trigger") == 1

    run(test)


def test_data_transfer_both_ways() -> None:
    async def test() -> None:
        async with station_and_csms() as (station, csms):
            got = await csms.call(call.DataTransfer(vendor_id="org.example", message_id="x"))
            assert got.status == "UnknownVendorId"
            out = await station.send_data_transfer("pile-interop", "m1", "ping")
            assert out == {"status": "Accepted", "data": "hello pile-interop"}
            assert csms.sent("DataTransfer")[0] == {
                "vendorId": "pile-interop",
                "messageId": "m1",
                "data": "ping",
            }

    run(test)


def test_rpc_errors_use_the_2_0_1_codes() -> None:
    async def test() -> None:
        async with station_and_csms() as (_, csms):
            unknown = await csms.raw("PileInteropNoSuchAction", {})
            assert unknown.payload[0] == "NotImplemented"
            unsupported = await csms.raw("SetMonitoringBase", {})
            assert unsupported.payload[0] == "NotSupported"
            missing = await csms.raw("GetVariables", {})
            assert missing.payload[0] in {
                "OccurrenceConstraintViolation",
                "ProtocolError",
                "FormatViolation",
            }
            wrong_type = await csms.raw("GetBaseReport", {"requestId": "x", "reportBase": "Full"})
            assert wrong_type.payload[0] == "TypeConstraintViolation"
            extra = await csms.raw("Reset", {"type": "OnIdle", "nonsense": 1})
            assert extra.payload[0] == "FormatViolation"
            short = await csms.raw("", None, frame=[2, "short-1", "Reset"])
            assert short.payload[0] == "RpcFrameworkError"
            weird = await csms.raw("", None, frame=[7, "weird-1", "Reset", {}])
            assert weird.payload[0] == "MessageTypeNotSupported"
            got = await csms.call(
                call.GetVariables(get_variable_data=[cv("ChargingStation", "Model")])
            )
            assert statuses(got) == ["Accepted"]  # the connection is still fine

    run(test)


def test_transaction_events_queued_offline_carry_offline_and_keep_their_order() -> None:
    async def test() -> None:
        async with station_and_csms() as (station, csms):
            await station.go_offline()
            await asyncio.sleep(0.1)
            for seq in range(3):
                result = await station.send_tx(
                    call.TransactionEvent(
                        event_type="Started" if seq == 0 else "Updated",
                        timestamp=utc_iso(station.clock.now()),
                        trigger_reason="Authorized",
                        seq_no=seq,
                        transaction_info={"transaction_id": "OFF-1"},
                    )
                )
                assert result is None  # queued
            station.security_event("TamperDetectionActivated")
            assert await station.send(call.Heartbeat()) is None  # not queued
            csms.cursor = len(csms.frames)
            await station.go_online()
            events = [await csms.expect("TransactionEvent", seqNo=seq) for seq in range(3)]
            assert all(event["offline"] is True for event in events)
            await csms.expect("SecurityEventNotification", type="TamperDetectionActivated")
            calls = [f.action for f in csms.frames[csms.cursor :] if f.direction == "in"]
            assert "BootNotification" not in calls  # still registered: no reboot, no boot
            assert "lost" in station.evses.calls

    run(test)


async def _handshakes(csms: MiniCsms, count: int) -> None:
    while len(csms.handshakes) < count:
        await asyncio.sleep(0.01)


def test_an_outage_longer_than_the_offline_threshold_reports_every_connector_first() -> None:
    async def test() -> None:
        async with station_and_csms() as (station, csms):
            station.set_var("OCPPCommCtrlr", "OfflineThreshold", "1")
            await station.go_offline()
            await asyncio.sleep(0.1)  # 5 protocol seconds
            await station.send_tx(
                call.TransactionEvent(
                    event_type="Started",
                    timestamp=utc_iso(station.clock.now()),
                    trigger_reason="Authorized",
                    seq_no=0,
                    transaction_info={"transaction_id": "OFF-2"},
                )
            )
            mark = len(csms.frames)
            await station.go_online()
            await csms.expect("TransactionEvent", seqNo=0)
            calls = [f.action for f in csms.frames[mark:] if f.direction == "in" and f.type == 2]
            assert "BootNotification" not in calls
            # B04.FR.01: every connector, before the queue goes on
            assert calls[:2] == ["StatusNotification", "StatusNotification"]
            assert calls.index("TransactionEvent") > 1

    run(test)


def test_a_short_outage_reports_only_the_connector_that_changed() -> None:
    async def test() -> None:
        async with station_and_csms(station_cls=ReferenceStation) as (station, csms):
            await station.go_offline()
            await asyncio.sleep(0.05)
            await station.plug_in(1)
            mark = csms.cursor = len(csms.frames)
            await station.go_online()
            # B04.FR.02: the connector whose status changed while offline, and only that one
            await csms.expect("StatusNotification", evseId=1, connectorStatus="Occupied")
            await csms.expect_none("StatusNotification", evseId=2)
            calls = [f.action for f in csms.frames[mark:] if f.direction == "in" and f.type == 2]
            assert "BootNotification" not in calls
            await station.settle(WAIT)

    run(test)


class BootsOnEveryConnection(Station):
    boot_on_every_connection = True


def test_reconnect_boots_only_after_a_reboot_unless_the_mutant_flag_says_otherwise() -> None:
    async def test() -> None:
        for cls, boots in ((Station, False), (BootsOnEveryConnection, True)):
            async with station_and_csms(station_cls=cls) as (station, csms):
                station.reconnect()
                await asyncio.wait_for(_handshakes(csms, 2), WAIT)
                if boots:
                    await csms.expect("BootNotification", reason="PowerUp")
                else:
                    await csms.expect_none("BootNotification")
                await asyncio.wait_for(station.connected.wait(), WAIT)
                got = await csms.call(
                    call.GetVariables(get_variable_data=[cv("OCPPCommCtrlr", "HeartbeatInterval")])
                )
                assert statuses(got) == ["Accepted"]
                await station.power_cycle()
                await csms.expect("BootNotification", reason="PowerUp")

    run(test)


def test_power_cycle_boots_with_power_up_and_the_real_evse_half_reports() -> None:
    async def test() -> None:
        async with station_and_csms(station_cls=ReferenceStation) as (station, csms):
            csms.cursor = 0  # the event may come before or after the statuses
            await csms.expect("SecurityEventNotification", type="StartupOfTheDevice")
            await station.power_cycle()
            boot = await csms.expect("BootNotification")
            assert boot["reason"] == "PowerUp"
            await csms.expect("StatusNotification", evseId=1, connectorStatus="Available")
            await csms.expect("StatusNotification", evseId=2)
            got = await csms.call(
                call.GetVariables(
                    get_variable_data=[
                        cv("TxCtrlr", "TxStartPoint"),
                        {
                            "component": {"name": "EVSE", "evse": {"id": 1}},
                            "variable": {"name": "AvailabilityState"},
                        },
                    ]
                )
            )
            assert statuses(got) == ["Accepted", "Accepted"]
            assert got.get_variable_result[1]["attribute_value"] == "Available"
            await station.settle(WAIT)

    run(test)


# ==========================================================================================
# mutants: the hooks make one defect each
# ==========================================================================================


class ReportWithoutTbc(Station):
    def report_parts(self, request_id: int, variables: list[Any]) -> list[call.NotifyReport]:
        parts = super().report_parts(request_id, variables)
        for part in parts:
            part.tbc = None
        return parts


class AcceptsAnyPassword(Station):
    def password_status(self, value: str) -> str:
        return "Accepted"


def test_mutant_report_without_tbc_is_visible_on_the_wire() -> None:
    async def test() -> None:
        async with station_and_csms(station_cls=ReportWithoutTbc) as (_, csms):
            await csms.call(call.GetBaseReport(request_id=9, report_base="FullInventory"))
            first = await csms.expect("NotifyReport", requestId=9)
            second = await csms.expect("NotifyReport", requestId=9)
            assert "tbc" not in first and second["seqNo"] == 1

    run(test)


def test_mutant_accepting_a_short_password() -> None:
    async def test() -> None:
        async with station_and_csms(station_cls=AcceptsAnyPassword, password=PASSWORD) as (
            _,
            csms,
        ):
            got = await csms.call(
                call.SetVariables(
                    set_variable_data=[
                        cv("SecurityCtrlr", "BasicAuthPassword", attribute_value="short")
                    ]
                )
            )
            assert statuses(got) == ["Accepted"]

    run(test)
