"""The reference OCPP 1.6J station against a tiny in-test CSMS.

The CSMS is an ``ocpp.v16.ChargePoint`` behind ``websockets.asyncio.server.serve`` on
127.0.0.1; it answers every station CALL (validating it against the 1.6 schemas) and records
every frame, so a test waits for "the next StatusNotification with status Charging after the
StartTransaction" and so checks the order on the wire too. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from ocpp.exceptions import InternalError, OccurenceConstraintViolationError
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from pile_interop.core.clock import parse_iso, utc_iso
from pile_interop.ocpp.v16.reference.station import ReferenceStation
from pile_interop.ocpp.v16.reference.station_model import TagInfo, Transaction
from pile_interop.ocpp.v16.reference.station_optional import OptionalProfilesHooks

logger = logging.getLogger(__name__)

#: Protocol seconds run 50 times faster than real ones.
SCALE = 0.02
#: Bound on one expected frame, and on a whole test, in real seconds.
WAIT = 3.0
TEST_BOUND = 20.0
#: How long "nothing of that kind is sent" is watched, in real seconds.
QUIET = 0.4
STATION_ID = "REF-CS-1"

TAGS = {
    "VALID": {"status": "Accepted"},
    "VALID2": {"status": "Accepted"},
    "BLOCKED": {"status": "Blocked"},
    "EXPIRED": {"status": "Expired"},
    "GROUP-A": {"status": "Accepted", "parentIdTag": "PARENT"},
    "GROUP-B": {"status": "Accepted", "parentIdTag": "PARENT"},
}


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
    at: float  # loop time, real seconds


@dataclass
class MiniCsms:
    """Answers the station and records frames. Attributes set the answers."""

    boot_status: str = RegistrationStatus.accepted
    boot_interval: int = 300  # protocol seconds: heartbeat (Accepted) or boot retry
    tags: dict[str, dict[str, str]] = field(default_factory=lambda: dict(TAGS))
    #: action → number of next CALLs of that action to answer with a CALLERROR
    fail_next: dict[str, int] = field(default_factory=dict)
    frames: list[Frame] = field(default_factory=list)
    handshakes: list[dict[str, Any]] = field(default_factory=list)
    cursor: int = 0

    def __post_init__(self) -> None:
        self._changed = asyncio.Condition()
        self._notifiers: set[asyncio.Future[None]] = set()
        self._link: _CsmsLink | None = None
        self._server: Any = None
        self._tx_id = 100
        self.connections = 0
        self.url = ""

    async def __aenter__(self) -> MiniCsms:
        self._server = await serve(
            self._handle, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp1.6")]
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
        self.connections += 1
        link = _CsmsLink(request.path.rstrip("/").rsplit("/", 1)[-1], ws, self)
        self._link = link
        with contextlib.suppress(Exception):
            await link.start()

    async def drop_connection(self) -> None:
        if self._link is not None:
            await self._link._connection.close()

    def record(self, direction: str, raw: str) -> None:
        frame = json.loads(raw)
        action = frame[2] if frame[0] == 2 else None
        payload = frame[3] if frame[0] == 2 else frame[2] if frame[0] == 3 else frame[2:]
        self.frames.append(
            Frame(direction, frame[0], frame[1], action, payload, asyncio.get_running_loop().time())
        )

        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()

        task = asyncio.ensure_future(notify())
        self._notifiers.add(task)
        task.add_done_callback(self._notifiers.discard)

    # -- what tests call ---------------------------------------------------------------------

    def sent(self, action: str) -> list[dict[str, Any]]:
        """Payloads of every CALL of ``action`` the station sent so far."""
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

    async def expect(self, action: str, timeout: float = WAIT, **match: Any) -> dict[str, Any]:
        """The next CALL ``action`` from the station (after the previous expect) whose
        payload contains ``match``; moves the cursor past it."""

        async def wait() -> int:
            async with self._changed:
                while (index := self._find(action, match)) is None:
                    await self._changed.wait()
                return index

        try:
            index = await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            seen = [(f.action, f.payload) for f in self.frames[self.cursor :] if f.action]
            raise AssertionError(f"no {action} {match} within {timeout}s; saw {seen}") from None
        self.cursor = index + 1
        return self.frames[index].payload

    async def expect_none(self, action: str, within: float = QUIET, **match: Any) -> None:
        """No CALL ``action`` matching ``match`` comes within ``within`` real seconds."""
        with contextlib.suppress(AssertionError):
            payload = await self.expect(action, timeout=within, **match)
            raise RuntimeError(f"unexpected {action}: {payload}")

    def index_of_call(self, action: str) -> int:
        """Index of the last CALL ``action`` among the frames (either direction)."""
        return max(i for i, f in enumerate(self.frames) if f.type == 2 and f.action == action)

    def index_of_answer(self, action: str) -> int:
        """Index of the station's answer to the last CALL ``action`` the CSMS sent."""
        unique_id = self.frames[self.index_of_call(action)].unique_id
        return next(
            i for i, f in enumerate(self.frames) if f.type in (3, 4) and f.unique_id == unique_id
        )

    async def call(self, payload: Any) -> Any:
        assert self._link is not None, "station not connected"
        return await asyncio.wait_for(self._link.call(payload, suppress=False), WAIT)

    def next_transaction_id(self) -> int:
        self._tx_id += 1
        return self._tx_id

    def maybe_fail(self, action: str) -> None:
        if self.fail_next.get(action, 0) > 0:
            self.fail_next[action] -= 1
            raise InternalError(description=f"test CSMS refuses this {action}")

    def tag_info(self, id_tag: str) -> dict[str, str]:
        return dict(self.tags.get(id_tag, {"status": AuthorizationStatus.invalid}))


def _now() -> str:
    return utc_iso(datetime.now(UTC))


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

    @on(Action.boot_notification)
    def on_boot_notification(self, **_: Any) -> call_result.BootNotification:
        self.csms.maybe_fail("BootNotification")
        return call_result.BootNotification(
            current_time=_now(),
            interval=self.csms.boot_interval,
            status=self.csms.boot_status,  # type: ignore[arg-type]
        )

    @on(Action.heartbeat)
    def on_heartbeat(self) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=_now())

    @on(Action.status_notification)
    def on_status_notification(self, **_: Any) -> call_result.StatusNotification:
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag: str) -> call_result.Authorize:
        self.csms.maybe_fail("Authorize")
        return call_result.Authorize(id_tag_info=self.csms.tag_info(id_tag))  # type: ignore[arg-type]

    @on(Action.start_transaction)
    def on_start_transaction(self, id_tag: str, **_: Any) -> call_result.StartTransaction:
        self.csms.maybe_fail("StartTransaction")
        return call_result.StartTransaction(
            transaction_id=self.csms.next_transaction_id(),
            id_tag_info=self.csms.tag_info(id_tag),  # type: ignore[arg-type]
        )

    @on(Action.stop_transaction)
    def on_stop_transaction(self, **_: Any) -> call_result.StopTransaction:
        self.csms.maybe_fail("StopTransaction")
        return call_result.StopTransaction()

    @on(Action.meter_values)
    def on_meter_values(self, **_: Any) -> call_result.MeterValues:
        self.csms.maybe_fail("MeterValues")
        return call_result.MeterValues()

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **kw: Any) -> call_result.DataTransfer:
        return call_result.DataTransfer(status="Accepted", data=f"hello {vendor_id}")  # type: ignore[arg-type]


# ==========================================================================================
# harness
# ==========================================================================================


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), TEST_BOUND))


@contextlib.asynccontextmanager
async def station_and_csms(
    station_cls: type[ReferenceStation] = ReferenceStation,
    csms: MiniCsms | None = None,
    *,
    booted: bool = True,
    **kwargs: Any,
) -> AsyncIterator[tuple[ReferenceStation, MiniCsms]]:
    async with csms or MiniCsms() as server:
        station = station_cls(server.url, STATION_ID, time_scale=SCALE, **kwargs)
        await station.start()
        try:
            if booted:
                await asyncio.wait_for(station.connected.wait(), WAIT)
                await server.expect("StatusNotification", connectorId=2)  # end of boot
            yield station, server
        finally:
            await asyncio.wait_for(station.stop(), WAIT + 6)


async def charging(station: ReferenceStation, csms: MiniCsms, connector: int = 1) -> int:
    """Plug in, swipe VALID, wait for Charging; returns the transactionId."""
    await station.plug_in(connector)
    await csms.expect("StatusNotification", connectorId=connector, status="Preparing")
    await station.present_id_tag("VALID")
    await csms.expect("Authorize", idTag="VALID")
    start = await csms.expect("StartTransaction", connectorId=connector)
    await csms.expect("StatusNotification", connectorId=connector, status="Charging")
    assert start["meterStart"] >= 0
    return station.snapshot()["connectors"][connector]["transaction"]["transactionId"]


# ==========================================================================================
# boot, heartbeat, connection
# ==========================================================================================


def test_boot_notification_then_status_of_connector_zero_and_each_connector() -> None:
    async def scenario() -> None:
        async with station_and_csms(booted=False, password="s3cret") as (station, csms):
            boot = await csms.expect("BootNotification")
            assert boot["chargePointVendor"] == "pile-interop"
            assert boot["chargePointModel"] == "RefStation16"
            for connector in (0, 1, 2):
                await csms.expect(
                    "StatusNotification",
                    connectorId=connector,
                    status="Available",
                    errorCode="NoError",
                )
            await asyncio.wait_for(station.connected.wait(), WAIT)
            handshake = csms.handshakes[0]
            assert handshake["path"] == f"/{STATION_ID}"
            expected = base64.b64encode(f"{STATION_ID}:s3cret".encode()).decode()
            assert handshake["headers"]["Authorization"] == f"Basic {expected}"
            assert handshake["headers"]["Sec-WebSocket-Protocol"] == "ocpp1.6"

    run(scenario)


def test_heartbeats_follow_the_interval_of_boot_notification_then_of_change_configuration() -> None:
    async def scenario() -> None:
        async with station_and_csms(csms=MiniCsms(boot_interval=10)) as (station, csms):
            assert station.config.get("HeartbeatInterval") == "10"
            for _ in range(3):
                await csms.expect("Heartbeat")
            beats = [f.at for f in csms.frames if f.action == "Heartbeat"]
            gaps = [b - a for a, b in itertools.pairwise(beats)]
            assert all(abs(gap - 10 * SCALE) < 0.1 for gap in gaps), gaps
            conf = await csms.call(call.ChangeConfiguration(key="HeartbeatInterval", value="25"))
            assert conf.status == "Accepted"
            for _ in range(3):
                assert await csms.expect("Heartbeat") == {}
            beats = [f.at for f in csms.frames if f.action == "Heartbeat"][-2:]
            assert abs(beats[1] - beats[0] - 25 * SCALE) < 0.1

    run(scenario)


def test_boot_pending_answers_the_csms_but_sends_nothing_else_and_retries_boot() -> None:
    async def scenario() -> None:
        csms = MiniCsms(boot_status=RegistrationStatus.pending, boot_interval=10)
        async with station_and_csms(csms=csms, booted=False) as (station, csms):
            await csms.expect("BootNotification")
            conf = await csms.call(call.GetConfiguration(key=["NumberOfConnectors"]))
            assert conf.configuration_key[0]["value"] == "2"
            await station.plug_in(1)
            await csms.expect_none("StatusNotification")
            csms.boot_status = RegistrationStatus.accepted
            await csms.expect("BootNotification")
            await csms.expect("StatusNotification", connectorId=1, status="Preparing")
            await asyncio.wait_for(station.connected.wait(), WAIT)

    run(scenario)


def test_boot_rejected_station_does_not_answer_csms_calls() -> None:
    async def scenario() -> None:
        csms = MiniCsms(boot_status=RegistrationStatus.rejected, boot_interval=20)
        async with station_and_csms(csms=csms, booted=False) as (station, csms):
            await csms.expect("BootNotification")
            await csms.expect("BootNotification")  # retried: the first Rejected was taken in
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(csms._link.call(call.ClearCache()), QUIET)  # type: ignore[union-attr]
            csms.boot_status = RegistrationStatus.accepted
            await csms.expect("BootNotification")
            await asyncio.wait_for(station.connected.wait(), WAIT)

    run(scenario)


def test_station_reconnects_and_boots_again_when_the_connection_drops() -> None:
    async def scenario() -> None:
        async with station_and_csms() as (station, csms):
            await csms.drop_connection()
            await csms.expect("BootNotification")
            await csms.expect("StatusNotification", connectorId=2)
            assert csms.connections == 2
            await asyncio.wait_for(station.connected.wait(), WAIT)

    run(scenario)


def test_stop_is_idempotent_and_bounded_even_without_a_csms() -> None:
    async def scenario() -> None:
        station = ReferenceStation("ws://127.0.0.1:9", "NOWHERE", time_scale=SCALE)
        await station.start()
        await station.go_offline()
        await station.go_online()
        await asyncio.wait_for(station.stop(), WAIT)
        await asyncio.wait_for(station.stop(), WAIT)
        assert not station.connected.is_set()

    run(scenario)


class _NothingFree(ReferenceStation):
    """Every connector Faulted and busy, as the station's own hooks say."""

    def derive_status(self, conn: Any) -> tuple[str, str]:
        return "Faulted", "OtherError"

    def is_free(self, conn: Any) -> bool:
        return False


def test_the_station_is_one_class_whose_components_call_the_hooks_through_it() -> None:
    async def scenario() -> None:
        # one class (the optional profiles' hooks are a mixin of it, for the module's size)
        assert ReferenceStation.__mro__ == (ReferenceStation, OptionalProfilesHooks, object)
        station = _NothingFree("ws://127.0.0.1:9", "HOOKS", time_scale=SCALE)
        # registration, authorization and remote control each see the overridden hooks
        assert station.snapshot()["connectors"][1]["status"] == "Faulted"
        assert station.choose_connector(None) is None
        assert station.remote_start_status("TAG", 1) == "Rejected"

    run(scenario)


# ==========================================================================================
# charging sessions
# ==========================================================================================


def test_plug_in_first_session_and_local_stop_with_the_same_tag() -> None:
    async def scenario() -> None:
        async with station_and_csms() as (station, csms):
            await station.plug_in(1)
            await csms.expect("StatusNotification", connectorId=1, status="Preparing")
            await station.present_id_tag("VALID")
            await csms.expect("Authorize", idTag="VALID")
            start = await csms.expect("StartTransaction", connectorId=1, idTag="VALID")
            parse_iso(start["timestamp"])
            await csms.expect("StatusNotification", connectorId=1, status="Charging")
            tx_id = station.snapshot()["connectors"][1]["transaction"]["transactionId"]
            await station.present_id_tag("VALID")
            stop = await csms.expect("StopTransaction", transactionId=tx_id, reason="Local")
            assert stop["idTag"] == "VALID"
            assert stop["meterStop"] >= start["meterStart"]
            await csms.expect("StatusNotification", connectorId=1, status="Finishing")
            await station.unplug(1)
            await csms.expect("StatusNotification", connectorId=1, status="Available")
            assert len(csms.sent("Authorize")) == 1  # the stop needed no authorization

    run(scenario)


def test_identification_first_session_starts_when_the_cable_is_plugged_in() -> None:
    async def scenario() -> None:
        async with station_and_csms() as (station, csms):
            await station.present_id_tag("VALID")
            await csms.expect("Authorize", idTag="VALID")
            await csms.expect("StatusNotification", connectorId=1, status="Preparing")
            await station.plug_in(1)
            await csms.expect("StartTransaction", connectorId=1)
            await csms.expect("StatusNotification", connectorId=1, status="Charging")

    run(scenario)


def test_connection_timeout_returns_the_connector_to_available() -> None:
    async def scenario() -> None:
        config = {"ConnectionTimeOut": "20"}
        async with station_and_csms(config=config) as (station, csms):
            await station.present_id_tag("VALID")
            await csms.expect("StatusNotification", connectorId=1, status="Preparing")
            started = asyncio.get_running_loop().time()
            await csms.expect("StatusNotification", connectorId=1, status="Available")
            assert asyncio.get_running_loop().time() - started >= 20 * SCALE * 0.8
            await station.plug_in(1)
            await csms.expect("StatusNotification", connectorId=1, status="Preparing")
            await csms.expect_none("StartTransaction")

    run(scenario)


@pytest.mark.parametrize("tag", ["BLOCKED", "EXPIRED", "UNKNOWN"])
def test_a_tag_that_is_not_accepted_starts_nothing(tag: str) -> None:
    async def scenario() -> None:
        async with station_and_csms() as (station, csms):
            await station.present_id_tag(tag)
            await csms.expect("Authorize", idTag=tag)
            await csms.expect_none("StatusNotification")
            await station.plug_in(1)
            await csms.expect("StatusNotification", connectorId=1, status="Preparing")
            await csms.expect_none("StartTransaction")

    run(scenario)


def test_another_tag_of_the_same_group_stops_the_transaction() -> None:
    async def scenario() -> None:
        async with station_and_csms() as (station, csms):
            await station.plug_in(1)
            await station.present_id_tag("GROUP-A")
            await csms.expect("StatusNotification", connectorId=1, status="Charging")
            await station.present_id_tag("GROUP-B")
            stop = await csms.expect("StopTransaction", reason="Local")
            assert stop["idTag"] == "GROUP-B"

    run(scenario)


def test_start_transaction_refused_by_the_csms_is_stopped_as_deauthorized() -> None:
    async def scenario() -> None:
        async with station_and_csms() as (station, csms):
            csms.tags["VALID"] = {"status": "Accepted"}
            await station.plug_in(1)
            await station.present_id_tag("VALID")
            await csms.expect("Authorize")
            csms.tags["VALID"] = {"status": "Blocked"}  # blocked between Authorize and Start
            start = await csms.expect("StartTransaction")
            stop = await csms.expect("StopTransaction", reason="DeAuthorized")
            assert stop["transactionId"] > 100
            assert start["idTag"] == "VALID"
            await csms.expect("StatusNotification", connectorId=1, status="Finishing")
            assert not [s for s in csms.sent("StatusNotification") if s["status"] == "Charging"]
            assert station.cache.get("VALID") == TagInfo("Blocked")

    run(scenario)


def test_unplug_during_a_transaction_stops_it_with_ev_disconnected() -> None:
    async def scenario() -> None:
        async with station_and_csms() as (station, csms):
            tx_id = await charging(station, csms)
            await station.unplug(1)
            await csms.expect("StopTransaction", transactionId=tx_id, reason="EVDisconnected")
            await csms.expect("StatusNotification", connectorId=1, status="Finishing")
            # UnlockConnectorOnEVSideDisconnect: the lock opens, the driver takes the cable
            await station.unplug(1)
            await csms.expect("StatusNotification", connectorId=1, status="Available")

    run(scenario)


def test_unplug_without_stop_on_ev_side_disconnect_suspends_the_transaction() -> None:
    async def scenario() -> None:
        config = {
            "StopTransactionOnEVSideDisconnect": "false",
            "UnlockConnectorOnEVSideDisconnect": "false",
        }
        async with station_and_csms(config=config) as (station, csms):
            tx_id = await charging(station, csms)
            await station.unplug(1)
            await csms.expect("StatusNotification", connectorId=1, status="SuspendedEV")
            await csms.expect_none("StopTransaction")
            conf = await csms.call(call.RemoteStopTransaction(transaction_id=tx_id))
            assert conf.status == "Accepted"
            await csms.expect("StopTransaction", reason="Remote")
            await csms.expect("StatusNotification", connectorId=1, status="Finishing")
            conf = await csms.call(call.UnlockConnector(connector_id=1))
            assert conf.status == "Unlocked"
            await csms.expect("StatusNotification", connectorId=1, status="Available")

    run(scenario)


def test_sampled_meter_values_carry_the_transaction_and_stop_carries_transaction_data() -> None:
    async def scenario() -> None:
        config = {
            "MeterValueSampleInterval": "10",
            "MeterValuesSampledData": (
                "Energy.Active.Import.Register,Power.Active.Import,Voltage.L1"
            ),
            "StopTxnSampledData": "Energy.Active.Import.Register",
        }
        async with station_and_csms(config=config) as (station, csms):
            tx_id = await charging(station, csms)
            first = await csms.expect("MeterValues", transactionId=tx_id)
            second = await csms.expect("MeterValues", transactionId=tx_id)
            values = first["meterValue"][0]["sampledValue"]
            assert [v["measurand"] for v in values] == [
                "Energy.Active.Import.Register",
                "Power.Active.Import",
                "Voltage",
            ]
            assert {v["context"] for v in values} == {"Sample.Periodic"}
            assert values[2]["phase"] == "L1" and values[1]["unit"] == "W"
            energy = [int(m["meterValue"][0]["sampledValue"][0]["value"]) for m in (first, second)]
            assert energy[1] > energy[0]  # 11 kW for 10 s is about 30 Wh
            await station.present_id_tag("VALID")
            stop = await csms.expect("StopTransaction", transactionId=tx_id)
            contexts = [mv["sampledValue"][0]["context"] for mv in stop["transactionData"]]
            assert contexts[0] == "Transaction.Begin" and contexts[-1] == "Transaction.End"
            assert "Sample.Periodic" in contexts

    run(scenario)


def test_clock_aligned_meter_values_are_on_the_boundaries_for_every_connector() -> None:
    async def scenario() -> None:
        config = {"ClockAlignedDataInterval": "15"}
        async with station_and_csms(config=config) as (_, csms):
            stamps = []
            for connector in (0, 1, 2, 0):
                mv = await csms.expect("MeterValues", connectorId=connector)
                assert "transactionId" not in mv
                sample = mv["meterValue"][0]
                assert sample["sampledValue"][0]["context"] == "Sample.Clock"
                stamps.append(parse_iso(sample["timestamp"]))
            for stamp in stamps:
                assert stamp.microsecond == 0 and stamp.second % 15 == 0, stamps
            assert (stamps[3] - stamps[0]).total_seconds() == 15

    run(scenario)


# ==========================================================================================
# CSMS-initiated actions
# ==========================================================================================


def test_remote_start_with_the_cable_plugged_in_and_remote_stop() -> None:
    async def scenario() -> None:
        async with station_and_csms() as (station, csms):
            await station.plug_in(2)
            await csms.expect("StatusNotification", connectorId=2, status="Preparing")
            conf = await csms.call(call.RemoteStartTransaction(id_tag="VALID", connector_id=2))
            assert conf.status == "Accepted"
            start = await csms.expect("StartTransaction", connectorId=2, idTag="VALID")
            assert not csms.sent("Authorize")  # AuthorizeRemoteTxRequests is false
            await csms.expect("StatusNotification", connectorId=2, status="Charging")
            tx_id = station.snapshot()["connectors"][2]["transaction"]["transactionId"]
            busy = await csms.call(call.RemoteStartTransaction(id_tag="VALID2", connector_id=2))
            assert busy.status == "Rejected"
            unknown = await csms.call(call.RemoteStopTransaction(transaction_id=tx_id + 50))
            assert unknown.status == "Rejected"
            conf = await csms.call(call.RemoteStopTransaction(transaction_id=tx_id))
            assert conf.status == "Accepted"
            stop = await csms.expect("StopTransaction", transactionId=tx_id, reason="Remote")
            assert stop["meterStop"] >= start["meterStart"]
            await csms.expect("StatusNotification", connectorId=2, status="Finishing")
            # the conf is on the wire before the StopTransaction.req it caused
            assert csms.index_of_answer("RemoteStopTransaction") < csms.index_of_call(
                "StopTransaction"
            )


def test_remote_start_authorizes_first_and_times_out_without_a_cable() -> None:
    async def scenario() -> None:
        config = {"AuthorizeRemoteTxRequests": "true", "ConnectionTimeOut": "15"}
        async with station_and_csms(config=config) as (_, csms):
            conf = await csms.call(call.RemoteStartTransaction(id_tag="VALID"))
            assert conf.status == "Accepted"
            await csms.expect("Authorize", idTag="VALID")
            await csms.expect("StatusNotification", connectorId=1, status="Preparing")
            await csms.expect("StatusNotification", connectorId=1, status="Available")
            await csms.expect_none("StartTransaction")
            bad = await csms.call(call.RemoteStartTransaction(id_tag="VALID", connector_id=7))
            assert bad.status == "Rejected"

    run(scenario)


@pytest.mark.parametrize("kind", ["Soft", "Hard"])
def test_reset_stops_the_transaction_reboots_and_boots_again(kind: str) -> None:
    async def scenario() -> None:
        async with station_and_csms() as (station, csms):
            tx_id = await charging(station, csms)
            boots = len(csms.sent("BootNotification"))
            conf = await csms.call(call.Reset(type=kind))
            assert conf.status == "Accepted"
            if kind == "Soft":  # terminated normally, before the reset (§5.14)
                await csms.expect("StopTransaction", transactionId=tx_id, reason="SoftReset")
                await csms.expect("BootNotification")
            else:  # queued, sent once the new BootNotification is accepted
                await csms.expect("BootNotification")
                await csms.expect("StatusNotification", connectorId=1, status="Finishing")
                await csms.expect("StopTransaction", transactionId=tx_id, reason="HardReset")
            assert len(csms.sent("BootNotification")) == boots + 1
            assert csms.connections == 2
            await asyncio.wait_for(station.connected.wait(), WAIT)
            assert station.snapshot()["transactions"] == []

    run(scenario)


def test_get_configuration_lists_all_keys_or_the_requested_ones() -> None:
    async def scenario() -> None:
        async with station_and_csms(config={"MeterValueSampleInterval": "30"}) as (_, csms):
            conf = await csms.call(call.GetConfiguration())
            keys = {entry["key"]: entry for entry in conf.configuration_key}
            for name in (
                "AuthorizeRemoteTxRequests",
                "ClockAlignedDataInterval",
                "ConnectionTimeOut",
                "GetConfigurationMaxKeys",
                "HeartbeatInterval",
                "LocalAuthorizeOffline",
                "LocalPreAuthorize",
                "MeterValuesAlignedData",
                "MeterValuesSampledData",
                "MeterValueSampleInterval",
                "NumberOfConnectors",
                "ResetRetries",
                "StopTransactionOnEVSideDisconnect",
                "StopTransactionOnInvalidId",
                "StopTxnAlignedData",
                "StopTxnSampledData",
                "SupportedFeatureProfiles",
                "TransactionMessageAttempts",
                "TransactionMessageRetryInterval",
                "UnlockConnectorOnEVSideDisconnect",
                "ConnectorPhaseRotation",
            ):
                assert name in keys, name
            assert keys["NumberOfConnectors"] == {
                "key": "NumberOfConnectors",
                "readonly": True,
                "value": "2",
            }
            profiles = set(keys["SupportedFeatureProfiles"]["value"].split(","))
            assert {"Core", "SmartCharging", "LocalAuthListManagement"} <= profiles
            assert {"Reservation", "RemoteTrigger"} <= profiles
            assert keys["MeterValueSampleInterval"]["value"] == "30"
            assert keys["HeartbeatInterval"]["readonly"] is False
            conf = await csms.call(call.GetConfiguration(key=["heartbeatinterval", "NoSuchKey"]))
            assert [e["key"] for e in conf.configuration_key] == ["HeartbeatInterval"]
            assert conf.unknown_key == ["NoSuchKey"]
            too_many = [f"Key{n}" for n in range(int(keys["GetConfigurationMaxKeys"]["value"]) + 1)]
            with pytest.raises(OccurenceConstraintViolationError):
                await csms.call(call.GetConfiguration(key=too_many))

    run(scenario)


@pytest.mark.parametrize(
    ("key", "value", "status"),
    [
        ("MeterValueSampleInterval", "15", "Accepted"),
        ("StopTransactionOnInvalidId", "FALSE", "Accepted"),
        ("MeterValuesSampledData", "Energy.Active.Import.Register,Current.Import.L2", "Accepted"),
        ("NumberOfConnectors", "3", "Rejected"),
        ("SupportedFeatureProfiles", "Core", "Rejected"),
        ("GetConfigurationMaxKeys", "5", "Rejected"),
        ("HeartbeatInterval", "-1", "Rejected"),
        ("HeartbeatInterval", "ten", "Rejected"),
        ("LocalPreAuthorize", "yes", "Rejected"),
        ("MeterValuesSampledData", "Energy.Active.Import.Register,Bogus", "Rejected"),
        ("LightIntensity", "101", "Rejected"),
        ("NoSuchKey", "1", "NotSupported"),
        ("WebSocketPingInterval", "30", "RebootRequired"),
    ],
)
def test_change_configuration_answers_per_key_and_value(key: str, value: str, status: str) -> None:
    async def scenario() -> None:
        async with station_and_csms() as (station, csms):
            before = station.config.as_dict()
            conf = await csms.call(call.ChangeConfiguration(key=key, value=value))
            assert conf.status == status
            if status in ("Accepted", "RebootRequired"):
                assert station.config.get(key).lower() == value.lower()
            else:
                assert station.config.as_dict() == before

    run(scenario)


def test_unlock_connector_answers_and_stops_a_running_transaction() -> None:
    async def scenario() -> None:
        async with station_and_csms() as (station, csms):
            assert (await csms.call(call.UnlockConnector(connector_id=9))).status == "NotSupported"
            assert (await csms.call(call.UnlockConnector(connector_id=2))).status == "Unlocked"
            tx_id = await charging(station, csms)
            conf = await csms.call(call.UnlockConnector(connector_id=1))
            assert conf.status == "Unlocked"
            await csms.expect("StopTransaction", transactionId=tx_id, reason="UnlockCommand")
            await csms.expect("StatusNotification", connectorId=1, status="Finishing")
            await station.set_lock_failure(2)
            assert (await csms.call(call.UnlockConnector(connector_id=2))).status == "UnlockFailed"

    run(scenario)


def test_unlock_connector_is_not_supported_with_a_fixed_cable() -> None:
    async def scenario() -> None:
        async with station_and_csms(fixed_cable=True) as (_, csms):
            assert (await csms.call(call.UnlockConnector(connector_id=1))).status == "NotSupported"

    run(scenario)


def test_lock_failure_at_start_reports_faulted_and_starts_nothing() -> None:
    async def scenario() -> None:
        async with station_and_csms() as (station, csms):
            await station.set_lock_failure(1)
            await station.present_id_tag("VALID")
            await csms.expect("StatusNotification", connectorId=1, status="Preparing")
            await station.plug_in(1)
            await csms.expect(
                "StatusNotification",
                connectorId=1,
                status="Faulted",
                errorCode="ConnectorLockFailure",
            )
            await csms.expect_none("StartTransaction")
            await station.settle()
            await csms.expect("StatusNotification", connectorId=1, status="Available")

    run(scenario)


def test_change_availability_is_scheduled_while_a_transaction_runs() -> None:
    async def scenario() -> None:
        async with station_and_csms() as (station, csms):
            conf = await csms.call(call.ChangeAvailability(connector_id=2, type="Inoperative"))
            assert conf.status == "Accepted"
            await csms.expect("StatusNotification", connectorId=2, status="Unavailable")
            bad = await csms.call(call.ChangeAvailability(connector_id=5, type="Inoperative"))
            assert bad.status == "Rejected"
            tx_id = await charging(station, csms)
            conf = await csms.call(call.ChangeAvailability(connector_id=1, type="Inoperative"))
            assert conf.status == "Scheduled"
            await csms.expect_none("StatusNotification", connectorId=1, status="Unavailable")
            await csms.call(call.RemoteStopTransaction(transaction_id=tx_id))
            await csms.expect("StopTransaction", transactionId=tx_id)
            await csms.expect("StatusNotification", connectorId=1, status="Unavailable")
            refused = await csms.call(call.RemoteStartTransaction(id_tag="VALID", connector_id=1))
            assert refused.status == "Rejected"
            # persists across a reboot
            await station.power_cycle()
            await csms.expect("BootNotification")
            await csms.expect("StatusNotification", connectorId=1, status="Unavailable")
            await csms.expect("StatusNotification", connectorId=2, status="Unavailable")
            conf = await csms.call(call.ChangeAvailability(connector_id=0, type="Operative"))
            assert conf.status == "Accepted"
            # connector 1: the EV is still plugged in after its session ended
            await csms.expect("StatusNotification", connectorId=1, status="Finishing")
            await csms.expect("StatusNotification", connectorId=2, status="Available")

    run(scenario)


def test_clear_cache_clears_or_is_rejected_when_the_cache_is_disabled() -> None:
    async def scenario() -> None:
        config = {"LocalPreAuthorize": "true"}
        async with station_and_csms(config=config) as (station, csms):
            await station.present_id_tag("VALID")
            await csms.expect("Authorize", idTag="VALID")
            await station.present_id_tag("VALID")  # swiped again: authorization cancelled
            await csms.expect("StatusNotification", connectorId=1, status="Available")
            await station.plug_in(1)
            await station.present_id_tag("VALID")  # cached and LocalPreAuthorize: no Authorize
            await csms.expect("StartTransaction", idTag="VALID")
            assert len(csms.sent("Authorize")) == 1
            await station.settle()
            assert (await csms.call(call.ClearCache())).status == "Accepted"
            assert station.cache.get("VALID") is None
            await station.present_id_tag("VALID")
            await csms.expect("Authorize", idTag="VALID")
            change = call.ChangeConfiguration(key="AuthorizationCacheEnabled", value="false")
            assert (await csms.call(change)).status == "Accepted"
            assert (await csms.call(call.ClearCache())).status == "Rejected"

    run(scenario)


def test_data_transfer_both_ways() -> None:
    async def scenario() -> None:
        async with station_and_csms() as (station, csms):
            unknown_vendor = await csms.call(call.DataTransfer(vendor_id="acme"))
            assert unknown_vendor.status == "UnknownVendorId"
            unknown_message = await csms.call(
                call.DataTransfer(vendor_id="pile-interop", message_id="nope")
            )
            assert unknown_message.status == "UnknownMessageId"
            echo = await csms.call(
                call.DataTransfer(vendor_id="pile-interop", message_id="echo", data="ping")
            )
            assert (echo.status, echo.data) == ("Accepted", "ping")
            answer = await station.send_data_transfer("pile-interop", "hello", "x")
            assert answer == {"status": "Accepted", "data": "hello pile-interop"}
            assert csms.sent("DataTransfer") == [
                {"vendorId": "pile-interop", "messageId": "hello", "data": "x"}
            ]

    run(scenario)


def test_unsupported_profiles_get_a_not_supported_call_error() -> None:
    """OCPP-J 1.6 §4.2.3: a recognised action the station does not support is NotSupported
    (the ocpp package alone would say NotImplemented, which means "not known")."""

    async def scenario() -> None:
        async with station_and_csms() as (_, csms):
            with pytest.raises(Exception) as caught:
                await csms.call(call.GetDiagnostics(location="ftp://127.0.0.1/diag"))
            assert type(caught.value).__name__ == "NotSupportedError"

    run(scenario)


# ==========================================================================================
# offline, retries, power
# ==========================================================================================


def test_transaction_messages_are_queued_offline_and_sent_in_order_after_boot() -> None:
    async def scenario() -> None:
        config = {"LocalPreAuthorize": "true", "MeterValueSampleInterval": "5"}
        async with station_and_csms(config=config) as (station, csms):
            tx_id = await charging(station, csms)  # VALID is now in the cache
            await station.unplug(1)
            await csms.expect("StopTransaction", transactionId=tx_id)
            await asyncio.wait_for(station.outbox.drained.wait(), WAIT)  # conf received
            await station.go_offline()
            await station.plug_in(2)
            await station.present_id_tag("VALID")  # offline: the cache authorizes it
            await station.present_id_tag("VALID")  # and stops it again
            await station.send_data_transfer("pile-interop", "lost")  # not queued
            assert station.snapshot()["queue"][:1] == ["StartTransaction"]
            await station.go_online()
            await csms.expect("BootNotification")
            await csms.expect("StatusNotification", connectorId=2, status="Finishing")
            start = await csms.expect("StartTransaction", connectorId=2)
            stop = await csms.expect("StopTransaction", reason="Local")
            new_id = stop["transactionId"]
            assert new_id == tx_id + 1
            assert start["meterStart"] <= stop["meterStop"]
            assert not csms.sent("DataTransfer")
            await station.settle()

    run(scenario)


def test_transaction_messages_are_retried_after_a_call_error() -> None:
    async def scenario() -> None:
        config = {"TransactionMessageAttempts": "3", "TransactionMessageRetryInterval": "5"}
        async with station_and_csms(config=config) as (station, csms):
            tx_id = await charging(station, csms)
            csms.fail_next["StopTransaction"] = 2
            await station.present_id_tag("VALID")
            for _ in range(3):
                await csms.expect("StopTransaction", transactionId=tx_id)
            stops = [f.at for f in csms.frames if f.action == "StopTransaction"]
            assert stops[2] - stops[1] > stops[1] - stops[0]  # interval x attempts
            await station.settle()
            assert station.snapshot()["queue"] == []

    run(scenario)


def test_power_cycle_ends_the_transaction_with_power_loss_after_the_new_boot() -> None:
    async def scenario() -> None:
        async with station_and_csms() as (station, csms):
            tx_id = await charging(station, csms)
            await station.power_cycle()
            await csms.expect("BootNotification")
            await csms.expect("StatusNotification", connectorId=1, status="Finishing")
            await csms.expect("StopTransaction", transactionId=tx_id, reason="PowerLoss")
            snap = station.snapshot()
            assert snap["connectors"][1]["evConnected"] is True
            assert snap["config"]["HeartbeatInterval"] == "300"

    run(scenario)


def test_fault_is_reported_and_cleared() -> None:
    async def scenario() -> None:
        async with station_and_csms() as (station, csms):
            await station.raise_fault(2, "GroundFailure")
            await csms.expect(
                "StatusNotification", connectorId=2, status="Faulted", errorCode="GroundFailure"
            )
            refused = await csms.call(call.RemoteStartTransaction(id_tag="VALID", connector_id=2))
            assert refused.status == "Rejected"
            await station.clear_fault(2)
            await csms.expect("StatusNotification", connectorId=2, status="Available")

    run(scenario)


def test_settle_brings_the_station_back_to_idle() -> None:
    async def scenario() -> None:
        async with station_and_csms() as (station, csms):
            tx_id = await charging(station, csms)
            await station.raise_fault(2)
            await station.go_offline()
            await station.settle(timeout=WAIT)
            await csms.expect("StopTransaction", transactionId=tx_id)
            snap = station.snapshot()
            assert snap["connected"] and snap["queue"] == [] and snap["transactions"] == []
            assert {c["status"] for c in snap["connectors"].values()} == {"Available"}

    run(scenario)


# ==========================================================================================
# mutants: one defect each, and the station's tests notice
# ==========================================================================================


class NoStatusAfterBoot(ReferenceStation):
    """Defect: no StatusNotification after BootNotification.conf Accepted."""

    def boot_status_notifications(self) -> list[call.StatusNotification]:
        for conn in self.connectors.values():
            conn.status, conn.error_code = self.derive_status(conn)
        return []


class WrongTransactionIdOnStop(ReferenceStation):
    """Defect: StopTransaction.req carries the wrong transactionId."""

    def stop_transaction_payload(self, tx: Transaction, reason: str) -> call.StopTransaction:
        payload = super().stop_transaction_payload(tx, reason)
        payload.transaction_id += 1
        return payload


class AcceptsBlockedTag(ReferenceStation):
    """Defect: a Blocked idTag is taken as authorized."""

    def authorize_outcome(self, info: TagInfo) -> bool:
        return info.status in (AuthorizationStatus.accepted, AuthorizationStatus.blocked)


def test_mutant_without_status_after_boot_sends_only_the_boot_notification() -> None:
    async def scenario() -> None:
        async with station_and_csms(NoStatusAfterBoot, booted=False) as (station, csms):
            await csms.expect("BootNotification")
            await asyncio.wait_for(station.connected.wait(), WAIT)
            await csms.expect_none("StatusNotification")

    run(scenario)


def test_mutant_with_wrong_transaction_id_on_stop_is_visible_on_the_wire() -> None:
    async def scenario() -> None:
        async with station_and_csms(WrongTransactionIdOnStop) as (station, csms):
            tx_id = await charging(station, csms)
            await station.present_id_tag("VALID")
            stop = await csms.expect("StopTransaction")
            assert stop["transactionId"] != tx_id

    run(scenario)


def test_mutant_accepting_a_blocked_tag_starts_a_transaction() -> None:
    async def scenario() -> None:
        async with station_and_csms(AcceptsBlockedTag) as (station, csms):
            await station.plug_in(1)
            await station.present_id_tag("BLOCKED")
            await csms.expect("Authorize", idTag="BLOCKED")
            await csms.expect("StartTransaction", idTag="BLOCKED")

    run(scenario)
