"""The OCPP 1.6 run-wide invariants on hand-made frames: the legal variations pass, the
defects fail (or warn)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pile_interop.ocpp.frames import CALL, CALLRESULT, EVENT, IN, OUT, Frame
from pile_interop.ocpp.invariants import CS, CSMS, InvariantMonitor
from pile_interop.ocpp.v16.invariants import invariants


class Wire:
    """A conversation fed frame by frame to a monitor of the 1.6 invariants."""

    def __init__(self, sut: str = CS, time_scale: float = 1.0) -> None:
        self.monitor = InvariantMonitor.for_run(invariants(), sut, time_scale=time_scale)
        self.sut_dir = IN  # the SUT's frames come in, in both roles
        self.seq = 0
        self.mono = 0.0
        self.ids = 0

    def _add(self, frame: Frame) -> Frame:
        self.monitor.observe(frame)
        return frame

    def _frame(
        self, direction: str, kind: str, uid: str | None, action: str | None, payload: Any
    ) -> Frame:
        self.seq += 1
        return Frame(
            self.seq,
            direction,
            json.dumps(payload),
            mono=self.mono,
            type=kind,
            unique_id=uid,
            action=action,
            payload=payload,
        )

    def event(self, text: str) -> None:
        self.seq += 1
        self._add(Frame(self.seq, EVENT, text, mono=self.mono, type=EVENT))

    def exchange(
        self, action: str, payload: dict[str, Any], answer: dict[str, Any], *, by_sut: bool = True
    ) -> Frame:
        """A CALL (from the SUT, or from the suite) and its CALLRESULT; returns the CALL."""
        self.ids += 1
        uid = f"m{self.ids}"
        out_dir = IN if by_sut else OUT
        back = OUT if by_sut else IN
        frame = self._add(self._frame(out_dir, CALL, uid, action, payload))
        self._add(self._frame(back, CALLRESULT, uid, action, answer))
        return frame

    def station(
        self, action: str, payload: dict[str, Any], answer: dict[str, Any] | None = None
    ) -> Frame:
        return self.exchange(action, payload, answer or {}, by_sut=True)

    def csms(
        self, action: str, payload: dict[str, Any], answer: dict[str, Any] | None = None
    ) -> Frame:
        return self.exchange(action, payload, answer or {}, by_sut=False)

    def ids_found(self) -> list[str]:
        return [v.invariant for v in self.monitor.violations]


def booted(wire: Wire, status: str = "Accepted", interval: int = 60) -> None:
    wire.event("connected: station")
    wire.station(
        "BootNotification",
        {"chargePointVendor": "v", "chargePointModel": "m"},
        {"status": status, "currentTime": "2025-01-01T00:00:00Z", "interval": interval},
    )


def start(wire: Wire, connector: int, tx: int, meter: int = 1000) -> None:
    wire.station(
        "StartTransaction",
        {
            "connectorId": connector,
            "idTag": "T",
            "meterStart": meter,
            "timestamp": "2025-01-01T00:00:00Z",
        },
        {"transactionId": tx, "idTagInfo": {"status": "Accepted"}},
    )


def stop(wire: Wire, tx: int, meter: int = 2000, **extra: Any) -> Frame:
    return wire.station(
        "StopTransaction",
        {"transactionId": tx, "meterStop": meter, "timestamp": "2025-01-01T01:00:00Z", **extra},
    )


def meter_values(wire: Wire, connector: int, tx: int | None, *values: dict[str, Any]) -> None:
    payload: dict[str, Any] = {
        "connectorId": connector,
        "meterValue": [{"timestamp": "2025-01-01T00:30:00Z", "sampledValue": list(values)}],
    }
    if tx is not None:
        payload["transactionId"] = tx
    wire.station("MeterValues", payload)


def energy(value: str, **fields: str) -> dict[str, str]:
    return {"value": value, **fields}


# -- INV-16-TX-ID ----------------------------------------------------------------------------


def test_meter_values_of_the_open_transaction_pass() -> None:
    wire = Wire()
    booted(wire)
    start(wire, 1, 7)
    start(wire, 2, 8)
    meter_values(wire, 1, 7, energy("1500"))
    meter_values(wire, 2, 8, energy("1500"))
    stop(wire, 7)
    meter_values(wire, 1, 7, energy("2000"))  # just ended: queued before the stop went out
    meter_values(wire, 1, 99, energy("5"))  # never assigned in this run: not judged
    stop(wire, 12345)  # a leftover of an earlier run
    assert wire.ids_found() == []


def test_meter_values_of_another_connectors_transaction_fail() -> None:
    wire = Wire()
    booted(wire)
    start(wire, 1, 7)
    start(wire, 2, 8)
    meter_values(wire, 1, 8, energy("1500"))
    assert wire.ids_found() == ["INV-16-TX-ID"]


def test_meter_values_of_an_earlier_transaction_fail() -> None:
    wire = Wire()
    booted(wire)
    start(wire, 1, 7)
    stop(wire, 7)
    start(wire, 1, 8, meter=2000)
    meter_values(wire, 1, 7, energy("2100"))
    assert wire.ids_found() == ["INV-16-TX-ID"]


def test_stop_retransmitted_passes_a_second_different_stop_fails() -> None:
    wire = Wire()
    booted(wire)
    start(wire, 1, 7)
    stop(wire, 7)
    stop(wire, 7)  # the same content again: its answer may have been lost
    assert wire.ids_found() == []
    stop(wire, 7, meter=2500, reason="EVDisconnected")
    assert wire.ids_found() == ["INV-16-TX-ID"]


# -- INV-16-METER-STOP / INV-16-METER-MONOTONIC ----------------------------------------------


def test_meter_stop_below_meter_start_fails() -> None:
    wire = Wire()
    booted(wire)
    start(wire, 1, 7, meter=1000)
    stop(wire, 7, meter=1000)
    start(wire, 1, 8, meter=1000)
    stop(wire, 8, meter=999)
    assert wire.ids_found() == ["INV-16-METER-STOP"]


def test_register_readings_in_any_legal_form_pass() -> None:
    wire = Wire()
    booted(wire)
    start(wire, 1, 7, meter=1234)
    meter_values(wire, 1, 7, energy("1.23", unit="kWh"))  # rounded to its resolution
    meter_values(
        wire,
        1,
        7,
        energy("1300", measurand="Energy.Active.Import.Register", unit="Wh", location="Outlet"),
    )
    meter_values(
        wire, 1, 7, energy("1.3", unit="kWh"), energy("5", measurand="Power.Active.Import")
    )
    meter_values(wire, 1, 7, energy("10", phase="L1"))  # a phase: not the register
    meter_values(wire, 1, 7, energy("0", location="Inlet"))  # another meter
    stop(
        wire,
        7,
        meter=1400,
        transactionData=[
            {"timestamp": "2025-01-01T00:00:00Z", "sampledValue": [energy("1234")]},
            {"timestamp": "2025-01-01T01:00:00Z", "sampledValue": [energy("1400")]},
        ],
    )
    assert wire.ids_found() == []


def test_register_going_down_fails() -> None:
    wire = Wire()
    booted(wire)
    start(wire, 1, 7, meter=1000)
    meter_values(wire, 1, 7, energy("1500"))
    meter_values(wire, 1, 7, energy("1400"))
    assert wire.ids_found() == ["INV-16-METER-MONOTONIC"]


def test_register_below_meter_start_fails() -> None:
    wire = Wire()
    booted(wire)
    start(wire, 1, 7, meter=100_000)
    meter_values(wire, 1, 7, energy("12"))
    assert wire.ids_found() == ["INV-16-METER-MONOTONIC"]


# -- INV-16-STATUS-TRANSITION / INV-16-CONNECTOR0-STATUS -------------------------------------


def status(wire: Wire, connector: int, value: str) -> None:
    wire.station(
        "StatusNotification", {"connectorId": connector, "errorCode": "NoError", "status": value}
    )


def test_status_transitions_of_the_table_pass() -> None:
    wire = Wire()
    booted(wire)
    for value in (
        "Available",
        "Preparing",
        "Charging",
        "Charging",
        "SuspendedEV",
        "Charging",
        "Finishing",
        "Available",
        "Unavailable",
        "Faulted",
        "Finishing",
    ):
        status(wire, 1, value)
    status(wire, 0, "Available")
    status(wire, 0, "Faulted")
    wire.event("connection closed by the SUT (code 1006)")
    booted(wire)
    status(wire, 1, "Charging")  # the first status after a (re)connection is free
    assert wire.ids_found() == []


def test_the_reserved_transitions_of_the_table_pass() -> None:
    """§4.9: Available → Reserved (A7), Reserved → Available / Preparing / Unavailable /
    Faulted (G1, G2, G8, G9), Faulted → Reserved (I7): the Reservation cases' paths."""
    wire = Wire()
    booted(wire)
    for value in ("Available", "Reserved", "Available", "Reserved", "Preparing", "Charging"):
        status(wire, 1, value)
    for value in ("Available", "Reserved", "Unavailable", "Available", "Reserved", "Faulted"):
        status(wire, 2, value)
    status(wire, 2, "Reserved")
    assert wire.ids_found() == []


@pytest.mark.parametrize("before", ["Charging", "Finishing", "Unavailable", "Preparing"])
def test_reserved_from_a_busy_or_unavailable_connector_fails(before: str) -> None:
    wire = Wire()
    booted(wire)
    status(wire, 1, before)
    status(wire, 1, "Reserved")
    assert wire.ids_found() == ["INV-16-STATUS-TRANSITION"]


def test_charging_to_preparing_fails() -> None:
    wire = Wire()
    booted(wire)
    status(wire, 1, "Charging")
    status(wire, 1, "Preparing")
    assert wire.ids_found() == ["INV-16-STATUS-TRANSITION"]


def test_skipped_statuses_are_not_judged_with_minimum_status_duration() -> None:
    wire = Wire()
    booted(wire)
    wire.csms(
        "GetConfiguration",
        {"key": ["MinimumStatusDuration"]},
        {"configurationKey": [{"key": "MinimumStatusDuration", "readonly": True, "value": "5"}]},
    )
    status(wire, 1, "Charging")
    status(wire, 1, "Preparing")
    assert wire.ids_found() == []


def test_connector0_charging_fails() -> None:
    wire = Wire()
    booted(wire)
    status(wire, 0, "Charging")
    assert wire.ids_found() == ["INV-16-CONNECTOR0-STATUS"]


# -- INV-16-REGISTRATION ---------------------------------------------------------------------


def test_pending_answers_and_triggered_messages_pass() -> None:
    wire = Wire()
    booted(wire, "Pending", 10)
    wire.csms("GetConfiguration", {}, {"configurationKey": []})
    wire.csms("TriggerMessage", {"requestedMessage": "StatusNotification"}, {"status": "Accepted"})
    status(wire, 1, "Available")
    wire.station(
        "BootNotification",
        {"chargePointVendor": "v", "chargePointModel": "m"},
        {"status": "Accepted", "currentTime": "2025-01-01T00:00:00Z", "interval": 60},
    )
    wire.event("connection closed by the SUT (code 1006)")
    wire.event("connected: station")
    wire.station("Heartbeat", {}, {"currentTime": "2025-01-01T00:00:00Z"})  # plain reconnect
    assert wire.ids_found() == []


def test_request_while_pending_fails() -> None:
    wire = Wire()
    booted(wire, "Pending", 10)
    status(wire, 1, "Available")
    assert wire.ids_found() == ["INV-16-REGISTRATION"]


def test_request_while_rejected_fails() -> None:
    wire = Wire()
    booted(wire, "Rejected", 10)
    wire.station("Heartbeat", {}, {"currentTime": "2025-01-01T00:00:00Z"})
    assert wire.ids_found() == ["INV-16-REGISTRATION"]


def test_queued_messages_before_the_boot_fail() -> None:
    wire = Wire()
    booted(wire)
    start(wire, 1, 7)
    wire.event("connection closed by the SUT (code 1006)")
    wire.event("connected: station")
    stop(wire, 7, reason="PowerLoss")
    wire.station(
        "BootNotification",
        {"chargePointVendor": "v", "chargePointModel": "m"},
        {"status": "Accepted", "currentTime": "2025-01-01T00:00:00Z", "interval": 60},
    )
    assert wire.ids_found() == ["INV-16-REGISTRATION"]


# -- INV-16-TX-AFTER-REBOOT ------------------------------------------------------------------


def test_transaction_open_across_a_reboot_must_be_stopped() -> None:
    wire = Wire()
    booted(wire)
    start(wire, 1, 7)
    start(wire, 2, 8)
    wire.event("connection closed by the SUT (code 1006)")
    booted(wire)
    stop(wire, 7, reason="PowerLoss")
    found = wire.monitor.finish()
    assert [v.invariant for v in found] == ["INV-16-TX-AFTER-REBOOT"]
    assert "transaction 8" in found[0].text


def test_triggered_boot_is_no_reboot() -> None:
    wire = Wire()
    booted(wire)
    start(wire, 1, 7)
    wire.csms("TriggerMessage", {"requestedMessage": "BootNotification"}, {"status": "Accepted"})
    wire.station(
        "BootNotification",
        {"chargePointVendor": "v", "chargePointModel": "m"},
        {"status": "Accepted", "currentTime": "2025-01-01T00:00:00Z", "interval": 60},
    )
    assert wire.monitor.finish() == []


# -- INV-16-HEARTBEAT ------------------------------------------------------------------------


def beat(wire: Wire, at: float) -> None:
    wire.mono = at
    wire.station("Heartbeat", {}, {"currentTime": "2025-01-01T00:00:00Z"})


def test_heartbeats_at_the_interval_pass_too_frequent_ones_warn() -> None:
    wire = Wire(time_scale=0.1)
    booted(wire, interval=60)  # 6 s real
    for at in (6.0, 12.0, 18.0, 19.0):  # one early beat (a triggered one, a jitter) is fine
        beat(wire, at)
    assert wire.ids_found() == []
    for at in (20.0, 21.0):
        beat(wire, at)
    assert wire.ids_found() == ["INV-16-HEARTBEAT"]
    assert wire.monitor.violations[0].severity == "warn"


def test_heartbeat_interval_changed_by_configuration() -> None:
    wire = Wire(time_scale=0.1)
    booted(wire, interval=600)
    wire.csms(
        "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "10"}, {"status": "Accepted"}
    )
    for at in (1.0, 2.0, 3.0, 4.0):
        beat(wire, at)
    assert wire.ids_found() == []


# -- the CSMS's side -------------------------------------------------------------------------


def test_csms_giving_an_open_transactions_id_fails_reuse_of_an_ended_one_warns() -> None:
    wire = Wire(sut=CSMS)
    booted_csms = {"status": "Accepted", "currentTime": "2025-01-01T00:00:00Z", "interval": 60}
    wire.exchange(
        "BootNotification",
        {"chargePointVendor": "v", "chargePointModel": "m"},
        booted_csms,
        by_sut=False,
    )

    def start_csms(connector: int, tx: int) -> None:
        wire.exchange(
            "StartTransaction",
            {
                "connectorId": connector,
                "idTag": "T",
                "meterStart": 0,
                "timestamp": "2025-01-01T00:00:00Z",
            },
            {"transactionId": tx, "idTagInfo": {"status": "Accepted"}},
            by_sut=False,
        )

    start_csms(1, 5)
    wire.exchange(
        "StopTransaction",
        {"transactionId": 5, "meterStop": 1, "timestamp": "2025-01-01T00:00:00Z"},
        {},
        by_sut=False,
    )
    start_csms(1, 5)
    assert wire.ids_found() == ["INV-16-CSMS-TX-ID-REUSED"]
    start_csms(2, 5)
    assert wire.ids_found() == ["INV-16-CSMS-TX-ID-REUSED", "INV-16-CSMS-TX-ID-UNIQUE"]
    # the same StartTransaction again (its answer lost), answered with the same id: a CSMS
    # that recognises a retransmission is right
    start_csms(2, 5)
    assert wire.ids_found() == ["INV-16-CSMS-TX-ID-REUSED", "INV-16-CSMS-TX-ID-UNIQUE"]


@pytest.mark.parametrize(
    ("status_", "action", "expected"),
    [
        ("Pending", "GetConfiguration", []),
        ("Pending", "RemoteStartTransaction", ["INV-16-CSMS-PENDING"]),
        ("Accepted", "RemoteStartTransaction", []),
        ("Rejected", "GetConfiguration", ["INV-16-CSMS-REJECTED"]),
    ],
)
def test_csms_requests_by_registration(status_: str, action: str, expected: list[str]) -> None:
    wire = Wire(sut=CSMS)
    wire.exchange(
        "BootNotification",
        {"chargePointVendor": "v", "chargePointModel": "m"},
        {"status": status_, "currentTime": "2025-01-01T00:00:00Z", "interval": 10},
        by_sut=False,
    )
    wire.exchange(
        action, {"idTag": "T"} if "Remote" in action else {}, {"status": "Accepted"}, by_sut=True
    )
    assert wire.ids_found() == expected


def test_a_superseded_start_is_not_followed_across_a_reboot() -> None:
    wire = Wire()
    booted(wire)
    start(wire, 1, 7)  # its answer was lost: the station retried
    start(wire, 1, 8)
    wire.event("connection closed by the SUT (code 1006)")
    booted(wire)
    stop(wire, 8, reason="PowerLoss")
    assert wire.monitor.finish() == []


# -- INV-16-TX-TIMESTAMPS -----------------------------------------------------------------------


def test_timestamps_in_order_in_any_offset_pass_a_stop_stamped_earlier_warns() -> None:
    wire = Wire()
    booted(wire)
    start(wire, 1, 7)  # 00:00:00Z
    wire.station(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": 7,
            # 00:10 UTC written in +08:00, then 00:20 UTC with a fraction
            "meterValue": [
                {"timestamp": "2025-01-01T08:10:00+08:00", "sampledValue": [energy("1100")]},
                {"timestamp": "2025-01-01T00:20:00.250Z", "sampledValue": [energy("1200")]},
            ],
        },
    )
    assert wire.ids_found() == []
    # local time (UTC-5) written as UTC: five hours before the start
    wire.station(
        "StopTransaction",
        {"transactionId": 7, "meterStop": 1300, "timestamp": "2024-12-31T19:30:00Z"},
    )
    assert wire.ids_found() == ["INV-16-TX-TIMESTAMPS"]
    assert wire.monitor.violations[0].severity == "warn"


def test_a_clock_the_central_system_set_may_pull_stamps_back_to_its_time_only() -> None:
    wire = Wire()
    booted(wire)
    start(wire, 1, 8)  # 00:00:00Z by the station's clock
    # a Heartbeat answer sets the station's clock back an hour: what follows may be earlier
    wire.station("Heartbeat", {}, {"currentTime": "2024-12-31T23:00:00Z"})
    wire.station(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": 8,
            "meterValue": [{"timestamp": "2024-12-31T23:05:00Z", "sampledValue": [energy("1100")]}],
        },
    )
    assert wire.ids_found() == []
    # … but not before the time it was given
    wire.station(
        "StopTransaction",
        {"transactionId": 8, "meterStop": 1300, "timestamp": "2024-12-31T20:00:00Z"},
    )
    assert wire.ids_found() == ["INV-16-TX-TIMESTAMPS"]


def test_a_start_stamped_ahead_of_the_clock_the_central_system_set_is_not_judged() -> None:
    wire = Wire()
    booted(wire)  # the clock set to 2025-01-01T00:00:00Z
    # started offline with a clock two hours fast; its StartTransaction comes after the boot
    wire.station(
        "StartTransaction",
        {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "2025-01-01T02:00:00Z"},
        {"transactionId": 9, "idTagInfo": {"status": "Accepted"}},
    )
    wire.station(
        "StopTransaction",
        {"transactionId": 9, "meterStop": 10, "timestamp": "2025-01-01T00:01:00Z"},
    )
    assert wire.ids_found() == []
