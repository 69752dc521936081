"""The transaction half of the reference 2.0.1 station (:class:`Evses`) against a fake
:class:`StationPort`: it records every message the half hands over, answers Authorize and
TransactionEvent from a token table, and goes offline / online on demand (queueing transaction
messages while offline and delivering them in order). The clock runs 100 times faster than
protocol time; every wait is bounded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.messages import Call, _validate_payload
from ocpp.v201 import call, call_result
from ocpp.v201.datatypes import EVSEType

from pile_interop.core.clock import Clock, parse_iso
from pile_interop.ocpp.v201.reference.station_tx import VARIABLES, Evses

SCALE = 0.01
#: Bound on one expected message and on a whole test, in real seconds.
WAIT = 2.0
TEST_BOUND = 15.0

GROUP = {"id_token": "GROUP-1", "type": "Central"}
MASTER = {"id_token": "MASTER-GROUP", "type": "Central"}
TOKENS: dict[str, dict[str, Any]] = {
    "VALID": {"status": "Accepted"},
    "VALID2": {"status": "Accepted"},
    "BLOCKED": {"status": "Blocked"},
    "GROUP-A": {"status": "Accepted", "group_id_token": GROUP},
    "GROUP-B": {"status": "Accepted", "group_id_token": GROUP},
    "MASTERCARD": {"status": "Accepted", "group_id_token": MASTER},
}


class FakePort:
    """A station as the transaction half sees it."""

    def __init__(self, **config: str) -> None:
        self.clock = Clock(SCALE)
        self.is_online = True
        self.values = {(c, v): default for c, _e, v, default, _ro in VARIABLES}
        for key, value in config.items():
            component, variable = key.split("__")
            self.values[(component, variable)] = value
        self.sent: list[Any] = []  # what reached the "CSMS", in order
        self.queue: list[Any] = []  # transaction messages queued while offline

    @property
    def online(self) -> bool:
        return self.is_online

    def set(self, component: str, variable: str, value: str) -> None:
        self.values[(component, variable)] = value

    def var(self, component: str, variable: str, evse: int | None = None) -> str:
        return self.values.get((component, variable), "")

    def answer(self, request: Any) -> Any:
        if isinstance(request, call.Authorize):
            info = TOKENS.get(request.id_token.id_token, {"status": "Invalid"})
            return call_result.Authorize(id_token_info=info)
        if isinstance(request, call.TransactionEvent):
            if request.id_token is None:
                return call_result.TransactionEvent()
            info = TOKENS.get(request.id_token.id_token, {"status": "Invalid"})
            return call_result.TransactionEvent(id_token_info=info)
        return object()

    def validate(self, request: Any) -> None:
        """The request as the ``ocpp`` package would put it on the wire, against the 2.0.1
        schema."""
        payload = snake_to_camel_case(remove_nones(serialize_as_dict(request)))
        action = type(request).__name__
        _validate_payload(Call("1", action, payload), "2.0.1")

    async def send(self, request: Any) -> Any:
        self.validate(request)
        if not self.is_online:
            return None
        self.sent.append(request)
        return self.answer(request)

    async def send_tx(self, request: Any) -> Any:
        self.validate(request)
        if not self.is_online:
            request.offline = True
            self.queue.append(request)
            return None
        self.sent.append(request)
        return self.answer(request)

    def queued_tx(self) -> list[Any]:
        return list(self.queue)

    def go_online(self) -> None:
        self.is_online = True
        self.sent.extend(self.queue)
        self.queue.clear()

    def security_event(self, kind: str, tech_info: str | None = None) -> None:
        pass

    # -- looking at what was sent --

    def of(self, kind: type) -> list[Any]:
        return [m for m in self.sent if isinstance(m, kind)]

    def events(self, tx_id: str | None = None) -> list[call.TransactionEvent]:
        return [
            m
            for m in self.of(call.TransactionEvent)
            if tx_id is None or m.transaction_info.transaction_id == tx_id
        ]

    def statuses(self, evse: int = 1) -> list[str]:
        return [
            str(m.connector_status) for m in self.of(call.StatusNotification) if m.evse_id == evse
        ]

    async def until(self, what: Callable[[], Any], label: str) -> Any:
        """The first truthy ``what()`` within WAIT real seconds."""
        deadline = asyncio.get_running_loop().time() + WAIT
        while True:
            value = what()
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {label}; sent: {self.sent}")
            await asyncio.sleep(0.005)

    async def event(self, event_type: str, trigger: str | None = None, n: int = 1) -> Any:
        def find() -> Any:
            found = [
                m
                for m in self.events()
                if m.event_type == event_type and (trigger is None or m.trigger_reason == trigger)
            ]
            return found[n - 1] if len(found) >= n else None

        return await self.until(find, f"TransactionEvent {event_type} {trigger or ''}")


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), TEST_BOUND))


async def started(port: FakePort, evses: Evses, token: str = "VALID", evse: int = 1) -> Any:
    await evses.on_registered()
    await evses.plug_in(evse)
    await evses.present_id_tag(token, evse)
    return await port.event("Started")


def seq_nos(port: FakePort, tx_id: str) -> list[int]:
    return [m.seq_no for m in port.events(tx_id)]


def contexts(event: Any) -> list[str]:
    return [str(sv.context) for mv in event.meter_value or [] for sv in mv.sampled_value]


def energy(event: Any, context: str) -> float:
    return next(
        sv.value
        for mv in event.meter_value
        for sv in mv.sampled_value
        if sv.context == context and sv.measurand == "Energy.Active.Import.Register"
    )


# ==========================================================================================
# local sessions
# ==========================================================================================


def test_plug_then_authorize_started_updated_ended_with_continuous_seq_no() -> None:
    async def main() -> None:
        port = FakePort(SampledDataCtrlr__TxUpdatedInterval="20")
        evses = Evses(port, 2)
        first = await started(port, evses)
        assert port.of(call.Authorize)[0].id_token.id_token == "VALID"
        assert first.seq_no == 0 and first.trigger_reason == "Authorized"
        assert first.id_token.id_token == "VALID"
        assert first.transaction_info.charging_state == "Charging"
        assert first.evse.id == 1 and first.evse.connector_id == 1
        assert contexts(first) == ["Transaction.Begin"]
        assert port.statuses(1)[-1] == "Occupied"
        tx_id = first.transaction_info.transaction_id
        periodic = await port.event("Updated", "MeterValuePeriodic")
        assert contexts(periodic) == ["Sample.Periodic"]
        assert periodic.id_token is None
        await evses.present_id_tag("VALID")
        ended = await port.event("Ended")
        assert ended.trigger_reason == "StopAuthorized"
        assert ended.transaction_info.stopped_reason == "Local"
        assert "Transaction.End" in contexts(ended)
        assert energy(ended, "Transaction.End") > energy(first, "Transaction.Begin")
        assert len(port.of(call.Authorize)) == 1  # the same token stops without Authorize
        assert seq_nos(port, tx_id) == list(range(len(port.events(tx_id))))
        await evses.unplug(1)
        await port.until(lambda: port.statuses(1)[-1:] == ["Available"], "Available")
        assert not evses.has_transaction() and not evses.busy()

    run(main)


def test_start_point_ev_connected_and_unplug_ends() -> None:
    async def main() -> None:
        port = FakePort(TxCtrlr__TxStartPoint="EVConnected")
        evses = Evses(port, 1)
        await evses.on_registered()
        await evses.plug_in(1)
        first = await port.event("Started")
        assert first.trigger_reason == "CablePluggedIn" and first.id_token is None
        assert first.transaction_info.charging_state == "EVConnected"
        await evses.present_id_tag("VALID")
        auth = await port.event("Updated", "Authorized")
        assert auth.id_token.id_token == "VALID"
        assert auth.transaction_info.charging_state == "Charging"
        await evses.unplug(1)
        ended = await port.event("Ended")
        assert ended.trigger_reason == "EVCommunicationLost"
        assert ended.transaction_info.stopped_reason == "EVDisconnected"
        assert seq_nos(port, first.transaction_info.transaction_id) == [0, 1, 2]

    run(main)


def test_ev_side_disconnect_suspends_when_stop_tx_on_ev_side_disconnect_is_false() -> None:
    async def main() -> None:
        port = FakePort(TxCtrlr__StopTxOnEVSideDisconnect="false")
        evses = Evses(port, 1)
        await started(port, evses)
        await evses.ev_suspend(1)
        update = await port.event("Updated", "ChargingStateChanged")
        assert update.transaction_info.charging_state == "SuspendedEV"
        await evses.ev_resume(1)
        await evses.unplug(1)
        lost = await port.event("Updated", "EVCommunicationLost")
        assert lost.transaction_info.charging_state == "SuspendedEV"
        assert evses.has_transaction(1) and port.statuses(1)[-1] == "Occupied"
        await evses.plug_in(1)
        back = await port.event("Updated", "CablePluggedIn")
        assert back.transaction_info.charging_state == "Charging"
        await evses.present_id_tag("VALID")
        await port.event("Ended")

    run(main)


def test_invalid_token_starts_nothing() -> None:
    async def main() -> None:
        port = FakePort()
        evses = Evses(port, 1)
        await evses.on_registered()
        await evses.plug_in(1)
        await evses.present_id_tag("BLOCKED")
        await port.until(lambda: port.of(call.Authorize), "Authorize")
        await asyncio.sleep(0.1)
        assert port.events() == [] and not evses.busy()

    run(main)


def test_ev_connection_timeout_ends_transaction_started_at_authorized() -> None:
    async def main() -> None:
        port = FakePort(TxCtrlr__TxStartPoint="Authorized", TxCtrlr__EVConnectionTimeOut="5")
        evses = Evses(port, 1)
        await evses.on_registered()
        await evses.present_id_tag("VALID")
        first = await port.event("Started")
        assert first.transaction_info.charging_state == "Idle"
        ended = await port.event("Ended")
        assert ended.trigger_reason == "EVConnectTimeout"
        assert ended.transaction_info.stopped_reason == "Timeout"

    run(main)


def test_csms_deauthorizes_in_transaction_event_response() -> None:
    async def main() -> None:
        port = FakePort(AuthCtrlr__AuthorizeRemoteStart="false")
        evses = Evses(port, 1)
        await evses.on_registered()
        await evses.plug_in(1)
        req = call.RequestStartTransaction(
            id_token={"id_token": "UNKNOWN", "type": "ISO14443"}, remote_start_id=7, evse_id=1
        )
        await evses.request_start(req)
        first = await port.event("Started")
        assert first.id_token.id_token == "UNKNOWN"
        ended = await port.event("Ended")
        assert ended.trigger_reason == "Deauthorized"
        assert ended.transaction_info.stopped_reason == "DeAuthorized"

    run(main)


# ==========================================================================================
# groups, master pass
# ==========================================================================================


def test_group_id_token_stops_the_transaction() -> None:
    async def main() -> None:
        port = FakePort()
        evses = Evses(port, 1)
        await started(port, evses, "GROUP-A")
        await evses.present_id_tag("GROUP-B")
        ended = await port.event("Ended")
        assert ended.trigger_reason == "StopAuthorized"
        assert ended.id_token.id_token == "GROUP-B"
        assert [m.id_token.id_token for m in port.of(call.Authorize)] == ["GROUP-A", "GROUP-B"]

    run(main)


def test_master_pass_stops_all_and_starts_none() -> None:
    async def main() -> None:
        port = FakePort(AuthCtrlr__MasterPassGroupId="MASTER-GROUP")
        evses = Evses(port, 2)
        await started(port, evses, "VALID", 1)
        await evses.plug_in(2)
        await evses.present_id_tag("VALID2", 2)
        await port.event("Started", n=2)
        await evses.present_id_tag("MASTERCARD")
        await port.event("Ended", n=2)
        ended = [m for m in port.events() if m.event_type == "Ended"]
        assert {m.transaction_info.stopped_reason for m in ended} == {"MasterPass"}
        assert {m.trigger_reason for m in ended} == {"StopAuthorized"}
        await evses.unplug(1)
        await evses.plug_in(1)
        await evses.present_id_tag("MASTERCARD", 1)
        await asyncio.sleep(0.1)
        assert not evses.has_transaction()

    run(main)


# ==========================================================================================
# remote start / stop
# ==========================================================================================


def test_remote_start_authorize_remote_start_true_then_remote_stop() -> None:
    async def main() -> None:
        port = FakePort()
        evses = Evses(port, 1)
        await evses.on_registered()
        req = call.RequestStartTransaction(
            id_token={"id_token": "VALID", "type": "Central"}, remote_start_id=42, evse_id=1
        )
        answer = await evses.request_start(req)
        assert answer.status == "Accepted" and answer.transaction_id is None
        await port.until(lambda: port.of(call.Authorize), "Authorize")
        await evses.plug_in(1)
        first = await port.event("Started")
        assert first.transaction_info.remote_start_id == 42
        assert first.id_token.type == "Central"
        tx_id = first.transaction_info.transaction_id
        unknown = await evses.request_stop(call.RequestStopTransaction(transaction_id="nope"))
        assert unknown.status == "Rejected"
        stop = await evses.request_stop(call.RequestStopTransaction(transaction_id=tx_id))
        assert stop.status == "Accepted"
        ended = await port.event("Ended")
        assert ended.trigger_reason == "RemoteStop"
        assert ended.transaction_info.stopped_reason == "Remote"

    run(main)


def test_remote_start_authorize_remote_start_false_and_tx_already_started() -> None:
    async def main() -> None:
        port = FakePort(
            AuthCtrlr__AuthorizeRemoteStart="false", TxCtrlr__TxStartPoint="EVConnected"
        )
        evses = Evses(port, 1)
        await evses.on_registered()
        await evses.plug_in(1)
        first = await port.event("Started")
        req = call.RequestStartTransaction(
            id_token={"id_token": "VALID", "type": "Central"}, remote_start_id=5
        )
        answer = await evses.request_start(req)
        assert answer.transaction_id == first.transaction_info.transaction_id
        update = await port.event("Updated", "RemoteStart")
        assert update.transaction_info.remote_start_id == 5
        assert update.id_token.id_token == "VALID"
        assert port.of(call.Authorize) == []
        busy = await evses.request_start(req)
        assert busy.status == "Rejected"

    run(main)


# ==========================================================================================
# offline
# ==========================================================================================


def test_offline_events_are_queued_in_order() -> None:
    async def main() -> None:
        port = FakePort(SampledDataCtrlr__TxUpdatedInterval="10")
        evses = Evses(port, 1)
        first = await started(port, evses)
        tx_id = first.transaction_info.transaction_id
        port.is_online = False
        evses.on_connection_lost()
        await port.until(lambda: len(port.queue) >= 2, "queued periodic events")
        status = await evses.get_transaction_status(call.GetTransactionStatus(transaction_id=tx_id))
        assert status.messages_in_queue and status.ongoing_indicator
        await evses.present_id_tag("VALID")  # the same token stops it offline
        await port.until(lambda: any(m.event_type == "Ended" for m in port.queue), "Ended")
        assert all(m.offline for m in port.queue)
        port.go_online()
        assert seq_nos(port, tx_id) == list(range(len(port.events(tx_id))))
        status = await evses.get_transaction_status(call.GetTransactionStatus())
        assert not status.messages_in_queue and status.ongoing_indicator is None

    run(main)


def test_offline_unknown_token_needs_offline_tx_for_unknown_id() -> None:
    async def main() -> None:
        port = FakePort()
        evses = Evses(port, 1)
        await evses.on_registered()
        port.is_online = False
        await evses.plug_in(1)
        await evses.present_id_tag("STRANGER")
        assert not evses.has_transaction()
        port.set("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "true")
        await evses.present_id_tag("STRANGER")
        assert evses.has_transaction()
        await port.until(lambda: port.queue, "queued Started")
        assert port.queue[0].event_type == "Started" and port.queue[0].offline

    run(main)


def test_cache_local_pre_authorize_and_clear_cache() -> None:
    async def main() -> None:
        port = FakePort(AuthCtrlr__LocalPreAuthorize="true")
        evses = Evses(port, 1)
        await started(port, evses)
        await evses.present_id_tag("VALID")
        await port.event("Ended")
        await evses.unplug(1)
        await evses.plug_in(1)
        await evses.present_id_tag("VALID")
        await port.event("Started", n=2)
        assert len(port.of(call.Authorize)) == 1  # the second start came from the cache
        assert (await evses.clear_cache(call.ClearCache())).status == "Accepted"
        assert evses.cache.as_dict() == {}
        port.set("AuthCacheCtrlr", "Enabled", "false")
        assert (await evses.clear_cache(call.ClearCache())).status == "Rejected"

    run(main)


# ==========================================================================================
# availability, unlock, triggers
# ==========================================================================================


def test_change_availability_scheduled_during_transaction() -> None:
    async def main() -> None:
        port = FakePort()
        evses = Evses(port, 2)
        await started(port, evses)
        inop = "Inoperative"
        answer = await evses.change_availability(
            call.ChangeAvailability(operational_status=inop, evse=EVSEType(id=1))
        )
        assert answer.status == "Scheduled"
        answer = await evses.change_availability(
            call.ChangeAvailability(operational_status=inop, evse={"id": 2, "connector_id": 1})
        )
        assert answer.status == "Accepted"
        await port.until(lambda: port.statuses(2)[-1:] == ["Unavailable"], "EVSE 2 Unavailable")
        unknown = await evses.change_availability(
            call.ChangeAvailability(operational_status=inop, evse=EVSEType(id=9))
        )
        assert unknown.status == "Rejected"
        await asyncio.sleep(0.1)
        assert port.statuses(1)[-1] == "Occupied"
        await evses.present_id_tag("VALID")
        await port.event("Ended")
        await evses.unplug(1)
        await port.until(lambda: port.statuses(1)[-1:] == ["Unavailable"], "EVSE 1 Unavailable")
        req = call.RequestStartTransaction(
            id_token={"id_token": "VALID", "type": "Central"}, remote_start_id=1, evse_id=1
        )
        assert (await evses.request_start(req)).status == "Rejected"
        answer = await evses.change_availability(
            call.ChangeAvailability(operational_status="Operative", evse=EVSEType(id=1))
        )
        assert answer.status == "Accepted"
        await port.until(lambda: port.statuses(1)[-1:] == ["Available"], "EVSE 1 Available")

    run(main)


def test_unlock_connector() -> None:
    async def main() -> None:
        port = FakePort()
        evses = Evses(port, 2)
        await started(port, evses)
        unlock = call.UnlockConnector
        assert (await evses.unlock_connector(unlock(1, 1))).status == (
            "OngoingAuthorizedTransaction"
        )
        assert (await evses.unlock_connector(unlock(3, 1))).status == "UnknownConnector"
        assert (await evses.unlock_connector(unlock(2, 2))).status == "UnknownConnector"
        assert (await evses.unlock_connector(unlock(2, 1))).status == "Unlocked"
        await evses.set_lock_failure(2)
        assert (await evses.unlock_connector(unlock(2, 1))).status == "UnlockFailed"

    run(main)


def test_lock_failure_at_start_faults_the_connector() -> None:
    async def main() -> None:
        port = FakePort()
        evses = Evses(port, 1)
        await evses.on_registered()
        await evses.set_lock_failure(1)
        await evses.plug_in(1)
        await evses.present_id_tag("VALID")
        await port.until(lambda: port.statuses(1)[-1:] == ["Faulted"], "Faulted")
        assert not evses.has_transaction()
        # G05.FR.02: the failure is reported with a NotifyEvent
        event = (await port.until(lambda: port.of(call.NotifyEvent), "NotifyEvent"))[0]
        data = event.event_data[0]
        assert data.component.name == "ConnectorPlugRetentionLock"
        assert data.component.evse.id == 1 and data.component.evse.connector_id == 1
        assert data.variable.name == "Problem" and data.actual_value == "true"
        assert event.seq_no == 0 and not data.cleared
        await evses.set_lock_failure(1, failing=False)  # repaired: the problem clears
        cleared = (await port.until(lambda: port.of(call.NotifyEvent)[1:], "cleared"))[0]
        assert cleared.event_data[0].actual_value == "false" and cleared.event_data[0].cleared
        assert cleared.event_data[0].event_id != data.event_id
        await evses.settle(WAIT)
        assert port.statuses(1)[-1] == "Available"

    run(main)


def test_trigger_messages() -> None:
    async def main() -> None:
        port = FakePort()
        evses = Evses(port, 2)
        await evses.on_registered()
        trig = call.TriggerMessage

        async def status(req: call.TriggerMessage) -> str:
            answer = await evses.trigger(req)
            assert answer is not None
            return str(answer.status)

        assert await status(trig("TransactionEvent", evse=EVSEType(id=1))) == "Rejected"
        assert await evses.trigger(trig("Heartbeat")) is None
        assert await status(trig("MeterValues", evse=EVSEType(id=2))) == "Accepted"
        mv = await port.until(lambda: port.of(call.MeterValues), "MeterValues")
        assert mv[0].evse_id == 2
        assert mv[0].meter_value[0].sampled_value[0].context == "Trigger"
        before = len(port.statuses(1))
        assert await status(trig("StatusNotification", evse=EVSEType(1, 1))) == "Accepted"
        await port.until(lambda: len(port.statuses(1)) == before + 1, "StatusNotification")
        first = await started(port, evses)
        assert await status(trig("TransactionEvent", evse=EVSEType(id=1))) == "Accepted"
        update = await port.event("Updated", "Trigger")
        assert update.transaction_info.transaction_id == first.transaction_info.transaction_id
        assert update.seq_no == 1

    run(main)


# ==========================================================================================
# meter values
# ==========================================================================================


def test_clock_aligned_values_on_the_boundary_idle_and_in_transaction() -> None:
    async def main() -> None:
        port = FakePort(AlignedDataCtrlr__Interval="5")
        evses = Evses(port, 2)
        await evses.on_registered()
        mv = await port.until(lambda: port.of(call.MeterValues), "clock-aligned MeterValues")
        stamp = mv[0].meter_value[0].timestamp
        when = parse_iso(stamp)
        assert stamp.endswith(".000Z") and when.second % 5 == 0 and when.microsecond == 0
        assert mv[0].meter_value[0].sampled_value[0].context == "Sample.Clock"
        await evses.plug_in(1)
        await evses.present_id_tag("VALID", 1)
        update = await port.event("Updated", "MeterValueClock")
        assert contexts(update) == ["Sample.Clock"]
        assert parse_iso(update.meter_value[0].timestamp).second % 5 == 0

    run(main)


def test_power_loss_ends_with_power_loss_and_keeps_the_cable() -> None:
    async def main() -> None:
        port = FakePort()
        evses = Evses(port, 1)
        first = await started(port, evses)
        port.is_online = False
        evses.on_connection_lost()
        await evses.on_power_loss()
        await port.until(lambda: port.queue, "queued Ended")
        ended = port.queue[-1]
        assert ended.event_type == "Ended"
        assert ended.transaction_info.stopped_reason == "PowerLoss"
        assert ended.transaction_info.transaction_id == first.transaction_info.transaction_id
        port.go_online()
        before = len(port.statuses(1))
        await evses.on_registered()
        await port.until(lambda: len(port.statuses(1)) > before, "boot status")
        assert port.statuses(1)[-1] == "Occupied"
        assert not evses.has_transaction()
        await evses.present_id_tag("VALID")  # no new session before the cable was unplugged
        await asyncio.sleep(0.05)
        assert not evses.has_transaction()

    run(main)


def test_end_all_immediate_reset() -> None:
    async def main() -> None:
        port = FakePort()
        evses = Evses(port, 1)
        await started(port, evses)
        await evses.end_all("ImmediateReset")
        ended = port.events()[-1]
        assert ended.event_type == "Ended" and ended.trigger_reason == "ResetCommand"
        assert ended.transaction_info.stopped_reason == "ImmediateReset"
        assert evses.snapshot()["transactions"] == []

    run(main)


def test_reset_evse_immediate_ends_its_transaction_and_reports_the_evse_again() -> None:
    async def main() -> None:
        port = FakePort()
        evses = Evses(port, 2)
        first = await started(port, evses)
        await evses.plug_in(2)
        await evses.present_id_tag("VALID2", 2)
        await port.until(lambda: len(port.events()) >= 2, "the second transaction")
        before = len(port.statuses(1))
        await evses.reset_evse(1, "Immediate")
        ended = port.events(first.transaction_info.transaction_id)[-1]
        assert ended.event_type == "Ended" and ended.trigger_reason == "ResetCommand"
        assert ended.transaction_info.stopped_reason == "ImmediateReset"
        assert "Transaction.End" in contexts(ended)
        assert len(port.statuses(1)) > before and port.statuses(1)[-1] == "Occupied"
        assert evses.has_transaction(2) and not evses.has_transaction(1)
        await evses.present_id_tag("VALID", 1)  # the cable must be plugged in again
        await asyncio.sleep(0.05)
        assert not evses.has_transaction(1)

    run(main)


def test_reset_evse_on_idle_leaves_a_running_transaction_alone() -> None:
    async def main() -> None:
        port = FakePort()
        evses = Evses(port, 1)
        await started(port, evses)
        await evses.reset_evse(1, "OnIdle")
        assert evses.has_transaction(1)
        await evses.present_id_tag("VALID")  # stopped: now the EVSE may reset
        await port.event("Ended")
        count = len(port.statuses(1))
        await evses.reset_evse(1, "OnIdle")
        assert len(port.statuses(1)) == count + 1

    run(main)


def test_two_availability_changes_in_a_row_are_both_reported() -> None:
    async def main() -> None:
        port = FakePort()
        evses = Evses(port, 1)
        await evses.on_registered()

        def change(status: str) -> Any:
            return call.ChangeAvailability(operational_status=status, evse={"id": 1})

        await evses.change_availability(change("Inoperative"))
        await port.until(lambda: port.statuses(1)[-1:] == ["Unavailable"], "Unavailable")
        # the state changes with the answer; a second change right after it is reported too
        await evses.change_availability(change("Operative"))
        assert evses.snapshot()["evses"][0]["operative"]
        await evses.change_availability(change("Inoperative"))
        await port.until(lambda: port.statuses(1)[-2:] == ["Available", "Unavailable"], "both")
        await evses.change_availability(change("Operative"))
        await port.until(lambda: port.statuses(1)[-1:] == ["Available"], "Available")

    run(main)


def test_settle_waits_for_a_card_still_being_authorized() -> None:
    async def main() -> None:
        port = FakePort()
        evses = Evses(port, 1)
        await evses.on_registered()
        presenting = asyncio.create_task(evses.present_id_tag("VALID", 1))
        await asyncio.sleep(0)  # the card is presented, its Authorize under way
        await evses.settle(WAIT)
        await presenting
        assert evses.snapshot()["evses"][0]["authorizedIdToken"] is None

    run(main)
