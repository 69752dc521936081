"""The shared charger capture decodes completely; candump logs read the same way."""

from __future__ import annotations

import datetime as dt

import pytest

from pile_interop.gbt27930 import capture, codec
from pile_interop.gbt27930.capture import LogFormatError

from .conftest import CAPTURE

FRAMES = 1149
"""Frames in charger-capture.csv (1,150 lines with the header)."""
MESSAGES = {
    "CHM": 7,
    "BHM": 5,
    "CRM": 2,
    "BRM": 1,
    "BCP": 1,
    "CTS": 2,
    "CML": 3,
    "BRO": 5,
    "CRO": 2,
    "BCL": 353,
    "BCS": 62,
    "CCS": 329,
    "BSM": 71,
    "BEM": 45,
}


@pytest.fixture(scope="module")
def decoded() -> capture.LogDecode:
    return capture.decode_log(CAPTURE)


def values(decoded: capture.LogDecode, name: str) -> list[dict]:
    return [m.values for m in decoded.messages if m.name == name]


def test_every_frame_of_the_capture_is_understood(decoded):
    assert len(decoded.frames) == FRAMES
    assert decoded.issues == []
    assert len(decoded.understood) == FRAMES
    assert decoded.complete


def test_the_capture_holds_these_messages(decoded):
    assert dict(decoded.counts()) == MESSAGES
    assert {m.direction for m in decoded.messages if m.name in ("CHM", "CCS", "CML")} == {"C→B"}
    assert {m.direction for m in decoded.messages if m.name in ("BHM", "BCL", "BEM")} == {"B→C"}


def test_every_multi_packet_message_with_data_reassembles(decoded):
    states = {}
    for transfer in decoded.transfers:
        states[transfer.state] = states.get(transfer.state, 0) + 1
    assert states == {"complete": 63, "complete, no EndOfMsgAck": 1, "RTS not answered": 1}
    multi = [m for m in decoded.messages if m.multi_packet]
    assert {m.name for m in multi} == {"BRM", "BCP", "BCS"}
    assert len(multi) == 64  # one per transfer that carried data
    for transfer in decoded.transfers:
        if transfer.dts:
            assert transfer.complete and transfer.data is not None
            assert len(transfer.data) == transfer.size
    # the one RTS the charger never answered: the charger had stopped (BEM reports CCS timeout)
    unanswered = next(t for t in decoded.transfers if t.state == "RTS not answered")
    assert (unanswered.pgn, decoded.frames[unanswered.rts].index) == (0x1100, 1082)


def test_decoded_values_are_the_sessions_values(decoded):
    chm = codec.interpret("CHM", values(decoded, "CHM")[0])
    assert chm["Version"] == "1.1"
    assert {v["MaxChargeVoltage"] for v in values(decoded, "BHM")} == {603.0}

    brm = codec.interpret("BRM", values(decoded, "BRM")[0])
    assert (brm["Version"], brm["BatteryMaker"], brm["VIN"]) == ("1.1", "KLIE", None)
    assert brm["RatedVoltage"] == 492.1
    assert brm["BatteryMaker"].isprintable()

    bcp = values(decoded, "BCP")[0]
    assert (bcp["MaxChargeVoltage"], bcp["MaxChargeCurrent"], bcp["SOC"]) == (603.0, -100.0, 97.0)

    cml = values(decoded, "CML")[0]
    assert cml["MinOutputVoltage"] < cml["MaxOutputVoltage"] == 700.0
    assert -400 <= cml["MaxOutputCurrent"] <= cml["MinOutputCurrent"] <= 0
    assert cml["MaxOutputVoltage"] >= bcp["MaxChargeVoltage"]  # the charger can serve the BMS

    cts = codec.interpret("CTS", values(decoded, "CTS")[0])
    assert cts["Time"] == dt.datetime(2015, 5, 16, 8, 24, 36)

    assert [v["RecognitionResult"] for v in values(decoded, "CRM")] == [0x00, 0xAA]
    assert [v["BMSReady"] for v in values(decoded, "BRO")] == [0x00] * 3 + [0xAA] * 2
    assert {v["ChargerReady"] for v in values(decoded, "CRO")} == {0xAA}
    assert {v["ChargeMode"] for v in values(decoded, "BCL")} == {2}
    assert {v["ChargingPermitted"] for v in values(decoded, "CCS")} == {1}
    assert {v["SOC"] for v in values(decoded, "BCS")} == {97}
    assert max(v["OutputVoltage"] for v in values(decoded, "CCS")) == pytest.approx(540.6)
    assert {v["CCSTimeout"] for v in values(decoded, "BEM")} == {1}


def test_the_captured_frames_have_their_fill_bits_set(decoded):
    for message in decoded.messages:
        assert codec.fill_bit_violations(message.name, message.data) == [], message


def test_the_capture_converts_to_candump_and_decodes_the_same(tmp_path, decoded):
    log = tmp_path / "session.log"
    log.write_text(capture.to_candump(decoded.frames), encoding="utf-8")
    assert log.read_text(encoding="utf-8").splitlines()[0] == "(3256.500000) can0 1826F456#010100"
    again = capture.decode_log(log)
    assert again.complete and again.counts() == decoded.counts()
    assert [m.values for m in again.messages] == [m.values for m in decoded.messages]


def test_candump_lines_parse_with_interface_and_time():
    lines = [
        "(1700000000.123456) vcan0 1826F456#010100",
        "",
        "# a comment",
        "(1700000000.373456) vcan0 182756F4#8E17",
        "(1700000000.400000) vcan0 123#R",
    ]
    frames = capture.parse_candump(lines)
    assert [(f.t, f.can_id, f.data, f.info, f.line) for f in frames] == [
        (1700000000.123456, 0x1826F456, b"\x01\x01\x00", "vcan0", 1),
        (1700000000.373456, 0x182756F4, b"\x8e\x17", "vcan0", 4),
    ]
    out = capture.decode_frames(frames)
    assert [m.name for m in out.messages] == ["CHM", "BHM"]


@pytest.mark.parametrize(
    ("line", "match"),
    [("1826F456#010100", "not a candump log line"), ("(1.0) can0 1826F456#0G", "bad data")],
)
def test_malformed_candump_lines_name_the_line(line, match):
    with pytest.raises(LogFormatError, match=match):
        capture.parse_candump([line], "x.log")


def test_frames_the_decoder_cannot_place_are_issues():
    frames = capture.parse_candump(
        [
            "(1.0) can0 1CEB56F4#0101020304050607",  # TP.DT without an RTS
            "(1.1) can0 18FF56F4#00",  # not a GB/T 27930 PGN
            "(1.2) can0 1C1156F4#00",  # BCS as a 1-byte single frame: short, decoded leniently
        ]
    )
    out = capture.decode_frames(frames)
    assert not out.complete and out.understood == {2}
    assert [i.message for i in out.issues] == [
        "TP.DT outside a transfer",
        "PGN 0xff56 is not a GB/T 27930 (2015) message",
    ]
    (bcs,) = out.messages
    assert (bcs.name, bcs.short, bcs.values) == ("BCS", True, {})


def test_a_short_message_is_decoded_as_far_as_its_bytes_go():
    frames = capture.parse_candump(
        [
            "(1.00) can0 1812F456#1C15A00F0100FD",  # CCS with 7 bytes (a real charger's)
            "(1.05) can0 1808F456#581BD007D80E",  # CML with 6 bytes (2011-era)
        ]
    )
    out = capture.decode_frames(frames)
    assert out.complete
    ccs, cml = out.messages
    assert ccs.short and ccs.values["OutputVoltage"] == 540.4
    assert ccs.values["ChargingPermitted"] == 1
    assert cml.short and set(cml.values) == {
        "MaxOutputVoltage",
        "MinOutputVoltage",
        "MaxOutputCurrent",
    }


def test_an_aborted_transfer_is_reported_as_such():
    frames = capture.parse_candump(
        [
            "(1.0) can0 1CEC56F4#10310005FF000200",
            "(1.0) can0 1CEC56F4#10310007FF000200",
            "(1.1) can0 1CECF456#110701FFFF000200",
            "(1.2) can0 1CEB56F4#0101010006B40039",
            "(2.0) can0 1CECF456#FF03FFFFFF000200",
        ]
    )
    out = capture.decode_frames(frames)
    assert out.issues[0].message == "RTS: 5 packets for 49 bytes"
    transfer = out.transfers[0]
    assert transfer.state == "aborted (TIMEOUT)"
    assert not transfer.complete and out.messages == []


def test_a_csv_with_a_wrong_length_column_is_refused(tmp_path):
    bad = tmp_path / "bad.csv"
    header = "序号,帧ID,时间标识,类型,报文描述,报文内容,长度,数据(Hex)\n"
    bad.write_text(header + "0,0x1826F456,54:16.5,接收,PDU1,x,4,01 01 00\n", encoding="utf-8")
    with pytest.raises(LogFormatError, match="length 4 but 3 data bytes"):
        capture.read_log(bad)
