"""The OCPP 2.0.1 run-wide invariants on hand-made frames: the legal variations pass, each
defect fails (or warns) naming its invariant."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from pile_interop.ocpp.frames import CALL, CALLERROR, CALLRESULT, EVENT, IN, OUT, Frame
from pile_interop.ocpp.invariants import CS, CSMS, InvariantMonitor
from pile_interop.ocpp.v201.invariants import invariants


class Talk:
    """A conversation fed frame by frame to the 2.0.1 invariants of one SUT role."""

    def __init__(self, sut: str = CS, time_scale: float = 1.0) -> None:
        self.monitor = InvariantMonitor.for_run(invariants(), sut, time_scale=time_scale)
        self.sut = sut
        self._seq = itertools.count(1)
        self._ids = itertools.count(1)
        self.now = 0.0

    def _frame(
        self, direction: str, kind: str, uid: str | None, action: str | None, payload: Any
    ) -> Frame:
        frame = Frame(
            next(self._seq),
            direction,
            f"{kind} {action} {payload}",
            mono=self.now,
            type=kind,
            unique_id=uid,
            action=action,
            payload=payload,
        )
        self.monitor.observe(frame)
        return frame

    def event(self, text: str) -> Frame:
        frame = Frame(next(self._seq), IN, text, mono=self.now, type=EVENT)
        self.monitor.observe(frame)
        return frame

    def sut_call(self, action: str, payload: dict[str, Any], answer: Any = None) -> Frame:
        """The SUT sends a CALL; the suite answers it (CALLRESULT ``answer``, default {})."""
        sut_dir, our_dir = (IN, OUT) if self.sut == CS else (OUT, IN)
        uid = f"s{next(self._ids)}"
        frame = self._frame(sut_dir, CALL, uid, action, payload)
        if answer != "none":
            self._frame(our_dir, CALLRESULT, uid, None, {} if answer is None else answer)
        return frame

    def our_call(self, action: str, payload: dict[str, Any], answer: Any = None) -> Frame:
        """The suite sends a CALL; the SUT answers it (CALLRESULT ``answer``, default {})."""
        sut_dir, our_dir = (IN, OUT) if self.sut == CS else (OUT, IN)
        uid = f"o{next(self._ids)}"
        frame = self._frame(our_dir, CALL, uid, action, payload)
        if answer == "error":
            self._frame(sut_dir, CALLERROR, uid, None, {})
        elif answer != "none":
            self._frame(sut_dir, CALLRESULT, uid, None, {} if answer is None else answer)
        return frame

    def our_call_answered_by_sut(self, action: str, payload: dict[str, Any], answer: Any) -> None:
        """CSMS role: the mock station (the suite) sends a CALL, the CSMS under test answers."""
        uid = f"o{next(self._ids)}"
        self._frame(OUT, CALL, uid, action, payload)
        self._frame(IN, CALLRESULT, uid, None, answer)

    def sut_request(self, action: str, payload: dict[str, Any]) -> Frame:
        """CSMS role: the CSMS under test sends a CALL."""
        return self._frame(IN, CALL, f"c{next(self._ids)}", action, payload)

    def ids(self) -> list[str]:
        return [v.invariant for v in self.monitor.violations]

    def boot(self, status: str = "Accepted", interval: int = 60) -> None:
        self.sut_call(
            "BootNotification",
            {"reason": "PowerUp", "chargingStation": {"model": "m", "vendorName": "v"}},
            {"status": status, "interval": interval, "currentTime": "2026-01-01T00:00:00Z"},
        )


def tx(
    event_type: str,
    seq_no: int,
    *,
    tx_id: str = "tx-1",
    trigger: str = "Authorized",
    at: str = "2026-01-01T10:00:00Z",
    evse: int | None = 1,
    energy: Any = None,
    **extra: Any,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": at,
        "triggerReason": trigger,
        "seqNo": seq_no,
        "transactionInfo": {"transactionId": tx_id},
        **extra,
    }
    if evse is not None:
        payload["evse"] = {"id": evse, "connectorId": 1}
    if energy is not None:
        values = energy if isinstance(energy, list) else [energy]
        payload["meterValue"] = [
            {"timestamp": at, "sampledValue": [v if isinstance(v, dict) else {"value": v}]}
            for v in values
        ]
    return payload


def run_tx(talk: Talk, *payloads: dict[str, Any]) -> None:
    for payload in payloads:
        talk.sut_call("TransactionEvent", payload)


# -- seqNo --------------------------------------------------------------------------------------


def test_a_whole_transaction_and_its_retransmissions_pass():
    talk = Talk()
    talk.boot()
    started = tx("Started", 0, energy=100)
    run_tx(
        talk,
        started,
        {**started, "offline": True},  # retransmitted (queued), the same event
        tx(
            "Updated", 1, trigger="ChargingStateChanged", at="2026-01-01T18:00:05+08:00", energy=150
        ),
        tx("Ended", 2, trigger="StopAuthorized", at="2026-01-01T10:01:00.250Z", energy=200),
        tx("Ended", 2, trigger="StopAuthorized", at="2026-01-01T10:01:00.250Z", energy=200),
    )
    assert talk.ids() == []


def test_a_transaction_numbered_from_where_an_earlier_counter_left_passes():
    talk = Talk()
    run_tx(talk, tx("Started", 7), tx("Updated", 8), tx("Ended", 9))
    assert talk.ids() == []


def test_the_same_seq_no_on_a_different_event_fails():
    talk = Talk()
    run_tx(talk, tx("Started", 0), tx("Updated", 1), tx("Ended", 1, trigger="EVDeparted"))
    assert talk.ids() == ["INV-201-SEQNO"]
    assert "seqNo 1 is carried by two different events" in talk.monitor.violations[0].text


def test_a_seq_no_going_down_fails():
    talk = Talk()
    run_tx(
        talk,
        tx("Started", 0),
        tx("Updated", 1),
        tx("Updated", 2),
        tx("Ended", 0, trigger="EVDeparted", at="2026-01-01T10:02:00Z"),
    )
    assert "INV-201-SEQNO" in talk.ids()


def test_a_gap_is_a_warning():
    talk = Talk()
    run_tx(talk, tx("Started", 0), tx("Ended", 2, trigger="EVDeparted"))
    assert talk.ids() == ["INV-201-SEQNO-GAP"]
    assert talk.monitor.violations[0].severity == "warn"


def test_seq_nos_are_per_transaction():
    talk = Talk()
    run_tx(
        talk,
        tx("Started", 0, tx_id="a", evse=1),
        tx("Started", 0, tx_id="b", evse=2),
        tx("Ended", 1, tx_id="a", evse=None, trigger="EVDeparted"),
        tx("Ended", 1, tx_id="b", evse=None, trigger="EVDeparted"),
    )
    assert talk.ids() == []


# -- lifecycle ----------------------------------------------------------------------------------


def test_an_event_after_ended_fails():
    talk = Talk()
    run_tx(talk, tx("Started", 0), tx("Ended", 1, trigger="EVDeparted"), tx("Updated", 2))
    assert talk.ids() == ["INV-201-TX-LIFECYCLE"]


def test_a_second_started_fails():
    talk = Talk()
    run_tx(talk, tx("Started", 0), tx("Started", 1, trigger="CablePluggedIn"))
    assert talk.ids() == ["INV-201-TX-LIFECYCLE"]


def test_a_leftover_transaction_is_not_judged_for_its_lifecycle():
    talk = Talk()
    run_tx(
        talk,
        tx("Updated", 4, tx_id="old"),
        tx("Ended", 5, tx_id="old"),
        tx("Updated", 6, tx_id="old"),
    )
    assert talk.ids() == []


# -- one transaction per EVSE -------------------------------------------------------------------


def test_a_second_transaction_on_a_busy_evse_fails():
    talk = Talk()
    run_tx(talk, tx("Started", 0, tx_id="a"), tx("Started", 0, tx_id="b"))
    assert talk.ids() == ["INV-201-ONE-TX-PER-EVSE"]


def test_transactions_one_after_the_other_and_on_other_evses_pass():
    talk = Talk()
    run_tx(
        talk,
        tx("Started", 0, tx_id="a"),
        tx("Started", 0, tx_id="b", evse=2),
        tx("Ended", 1, tx_id="a", evse=None),
        tx("Started", 0, tx_id="c"),
    )
    assert talk.ids() == []


def test_a_reboot_forgets_what_was_open():
    talk = Talk()
    talk.boot()
    run_tx(talk, tx("Started", 0, tx_id="a"))
    talk.boot()
    run_tx(
        talk, tx("Started", 0, tx_id="b"), tx("Ended", 1, tx_id="a", trigger="AbnormalCondition")
    )
    assert talk.ids() == []


def test_an_evse_given_only_after_started_counts():
    talk = Talk()
    run_tx(talk, tx("Started", 0, tx_id="a", evse=None), tx("Updated", 1, tx_id="a"))
    run_tx(talk, tx("Started", 0, tx_id="b"))
    assert talk.ids() == ["INV-201-ONE-TX-PER-EVSE"]


# -- meter register -----------------------------------------------------------------------------


def test_register_readings_in_any_unit_and_older_samples_in_ended_pass():
    talk = Talk()
    kwh = {"value": 1.5, "unitOfMeasure": {"unit": "kWh"}}
    other = {"value": 3, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}}
    phase = {"value": 1, "phase": "L1"}
    run_tx(
        talk,
        tx("Started", 0, energy=[1000, other, phase]),
        tx("Updated", 1, energy=kwh),
        tx("Updated", 2, energy={"value": 1.6, "unitOfMeasure": {"unit": "Wh", "multiplier": 3}}),
        tx("Ended", 3, energy=[1200, 1700]),  # an older sample next to the final reading
    )
    assert talk.ids() == []


def test_a_register_going_down_fails():
    talk = Talk()
    run_tx(talk, tx("Started", 0, energy=5000), tx("Ended", 1, energy=120))
    assert talk.ids() == ["INV-201-METER-MONOTONIC"]


# -- timestamps ---------------------------------------------------------------------------------


def test_timestamps_going_back_warn_and_offsets_are_compared_as_instants():
    talk = Talk()
    run_tx(
        talk,
        tx("Started", 0, at="2026-01-01T10:00:00Z"),
        tx("Updated", 1, at="2026-01-01T18:00:01+08:00"),
        tx("Ended", 2, at="2026-01-01T09:59:00Z"),
    )
    assert talk.ids() == ["INV-201-TX-TIMESTAMPS"]


def test_a_clock_set_by_the_csms_may_move_timestamps_back():
    talk = Talk()
    run_tx(talk, tx("Started", 0, at="2026-01-01T10:00:00Z"))
    talk.sut_call("Heartbeat", {}, {"currentTime": "2026-01-01T09:00:00Z"})
    run_tx(talk, tx("Ended", 1, at="2026-01-01T09:00:05Z"))
    assert talk.ids() == []


# -- registration -------------------------------------------------------------------------------


def test_while_pending_only_boot_and_what_the_csms_asked_for():
    talk = Talk()
    talk.boot("Pending")
    talk.our_call(
        "GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}, {"status": "Accepted"}
    )
    talk.sut_call(
        "NotifyReport", {"requestId": 1, "seqNo": 0, "generatedAt": "2026-01-01T00:00:00Z"}
    )
    talk.our_call(
        "TriggerMessage", {"requestedMessage": "BootNotification"}, {"status": "Accepted"}
    )
    talk.boot("Accepted")
    talk.sut_call("StatusNotification", {"evseId": 1})
    assert talk.ids() == []


def test_a_status_notification_while_pending_fails():
    talk = Talk()
    talk.boot("Pending")
    talk.sut_call("StatusNotification", {"evseId": 1})
    assert talk.ids() == ["INV-201-REGISTRATION"]


def test_while_rejected_nothing_but_a_boot():
    talk = Talk()
    talk.boot("Rejected")
    talk.event("connection closed 1000")
    talk.event("connected: /cs")
    talk.boot("Accepted")
    assert talk.ids() == []
    talk.boot("Rejected")
    talk.sut_call("Heartbeat", {})
    assert talk.ids() == ["INV-201-REGISTRATION"]


def test_before_the_first_boot_nothing_is_judged():
    talk = Talk()
    talk.sut_call("StatusNotification", {"evseId": 1})
    assert talk.ids() == []


# -- the CSMS's side of Pending / Rejected -------------------------------------------------------


def _csms_boot(talk: Talk, status: str) -> None:
    talk.our_call_answered_by_sut(
        "BootNotification",
        {"reason": "PowerUp", "chargingStation": {"model": "m", "vendorName": "v"}},
        {"status": status, "interval": 30, "currentTime": "2026-01-01T00:00:00Z"},
    )


def test_a_csms_may_read_and_configure_a_pending_station():
    talk = Talk(CSMS)
    _csms_boot(talk, "Pending")
    talk.sut_request("GetVariables", {"getVariableData": []})
    _csms_boot(talk, "Accepted")
    talk.sut_request("RequestStartTransaction", {"remoteStartId": 1})
    assert talk.ids() == []


def test_a_csms_starting_a_transaction_on_a_pending_station_fails():
    talk = Talk(CSMS)
    _csms_boot(talk, "Pending")
    talk.sut_request("RequestStartTransaction", {"remoteStartId": 1})
    assert talk.ids() == ["INV-201-CSMS-PENDING"]


def test_a_csms_requesting_from_a_rejected_station_warns_but_may_trigger_a_boot():
    talk = Talk(CSMS)
    _csms_boot(talk, "Rejected")
    talk.sut_request("TriggerMessage", {"requestedMessage": "BootNotification"})
    assert talk.ids() == []
    talk.sut_request("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"})
    assert talk.ids() == ["INV-201-CSMS-REJECTED"]
    assert talk.monitor.violations[0].severity == "warn"


# -- heartbeat ----------------------------------------------------------------------------------


def _beat(talk: Talk, at: float) -> None:
    talk.now = at
    talk.sut_call("Heartbeat", {}, {"currentTime": "2026-01-01T00:00:00Z"})


@pytest.mark.parametrize("scale", [1.0, 0.05])
def test_heartbeats_at_the_interval_pass_and_too_often_warn(scale):
    talk = Talk(time_scale=scale)
    talk.boot(interval=60)
    for n in range(1, 4):
        _beat(talk, 60 * n * scale)
    assert talk.ids() == []
    _beat(talk, (180 + 5) * scale)
    assert talk.ids() == ["INV-201-HEARTBEAT"]


def test_a_new_interval_a_trigger_and_a_reconnect_restart_the_measure():
    talk = Talk()
    talk.boot(interval=60)
    _beat(talk, 60)
    talk.our_call(
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                    "attributeValue": "10",
                }
            ]
        },
        {
            "setVariableResult": [
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                    "attributeStatus": "Accepted",
                }
            ]
        },
    )
    _beat(talk, 62)
    _beat(talk, 72)
    talk.our_call("TriggerMessage", {"requestedMessage": "Heartbeat"}, {"status": "Accepted"})
    _beat(talk, 73)
    _beat(talk, 83)
    talk.event("connection closed 1006")
    talk.event("connected: /cs")
    _beat(talk, 84)
    _beat(talk, 94)
    assert talk.ids() == []
    _beat(talk, 95)
    assert talk.ids() == ["INV-201-HEARTBEAT"]


def test_queued_heartbeats_going_out_in_a_burst_are_not_judged():
    talk = Talk()
    talk.boot(interval=60)
    _beat(talk, 60)
    _beat(talk, 200.001)  # held in the queue: two go out back to back
    _beat(talk, 200.002)
    _beat(talk, 240)  # the timer's next tick
    _beat(talk, 300)
    assert talk.ids() == []


def test_each_role_gets_its_invariants_each_with_a_stable_id_and_requirement():
    station = {i.id for i in Talk(CS).monitor.invariants}
    csms = {i.id for i in Talk(CSMS).monitor.invariants}
    assert {"INV-201-SEQNO", "INV-201-REGISTRATION", "INV-201-HEARTBEAT"} <= station
    assert {"INV-201-CSMS-PENDING", "INV-201-CSMS-REJECTED"} <= csms
    assert not station & {"INV-201-CSMS-PENDING", "INV-201-CSMS-REJECTED"}
    every = invariants()
    assert len({i.id for i in every}) == len(every)
    assert all(i.requirement and i.title for i in every)
