"""What check-log judges beyond single frames, and what it must not judge: legal values (all
ones, the tables' ranges, small positive currents, CTS anywhere around CML), short messages,
cause and effect, mandatory answers, unanswered RTS, CTS and text content."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from pile_interop.gbt27930 import codec
from pile_interop.gbt27930.capture import (
    DecodedMessage,
    LogFrame,
    decode_frames,
    read_capture_csv,
    to_candump,
)
from pile_interop.gbt27930.conformance import message_findings
from pile_interop.gbt27930.logcheck import check_log

from .conftest import CAPTURE

CCS, CML, CTS, BCS, BCL, BRM, CRM, BSM = (
    0x1200,
    0x0800,
    0x0700,
    0x1100,
    0x1000,
    0x0200,
    0x0100,
    0x1300,
)


@pytest.fixture(scope="module")
def frames() -> list[LogFrame]:
    return read_capture_csv(CAPTURE)


def findings(name: str, data: bytes, variant: str = "2015") -> list[str]:
    """The findings on ``data`` as a single-frame (or reassembled) message of the SUT."""
    info = codec.message_info(name, variant)
    out = decode_frames(
        [LogFrame(0, 0.0, info.can_id, data, 1)] if not info.multi_packet else [], variant
    )
    message = (
        out.messages[0]
        if out.messages
        else DecodedMessage(
            name, info.pgn, 0.0, info.src, info.dst, info.direction, data,
            dict(codec.decode(name, data, variant, lenient=True)), (0,), True,
            len(data) < info.min_length,
        )
    )  # fmt: skip
    frame = [LogFrame(0, 0.0, info.can_id, data, 1)]
    return message_findings(message, frame, variant)


def judged(tmp_path: Path, frames: list[LogFrame], sut: str = "charger", variant: str = "2015"):
    path = tmp_path / "session.log"
    path.write_text(to_candump(frames))
    return {c["id"]: c for c in check_log(path, sut, variant, f"gbt27930/{sut}")}


def replaced(frames: list[LogFrame], pgn: int, change: Callable[[bytes], bytes]) -> list[LogFrame]:
    return [dataclasses.replace(f, data=change(f.data)) if f.pgn == pgn else f for f in frames]


# -- legal values: no finding -----------------------------------------------------------------


def test_cml_above_750_v_is_legal_in_2015_not_in_2011():
    data = codec.encode("CML", {"MaxOutputVoltage": 1000.0, "MinOutputVoltage": 200.0,
                                "MaxOutputCurrent": -250.0, "MinOutputCurrent": 0.0})  # fmt: skip
    assert findings("CML", data) == []
    assert findings("CML", data, "2023a") == []
    assert any("MaxOutputVoltage" in f for f in findings("CML", data[:6], "2011"))


def test_the_whole_recording_with_a_1000_v_charger_meets_the_format_check(tmp_path, frames):
    thousand = replaced(frames, CML, lambda d: (10000).to_bytes(2, "little") + d[2:])
    assert judged(tmp_path, thousand)["log:CML.format"]["verdict"] == "pass"


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("BCS", {"MeasuredCurrent": 0.5}),  # a small positive current around charging
        ("BCL", {"CurrentDemand": 0.2, "VoltageDemand": 500.0, "ChargeMode": 2}),
        ("CCS", {"OutputCurrent": 1.0}),
    ],
)
def test_a_small_positive_current_is_legal(name, values):
    assert findings(name, codec.encode(name, values, fill_missing=True)) == []


def test_optional_fields_sent_as_all_ones_are_not_available_not_out_of_range():
    brm = codec.encode(
        "BRM", {"Version": "1.1", "BatteryType": 3, "RatedCapacity": 100.0, "RatedVoltage": 400.0},
        fill_missing=True,
    )  # fmt: skip
    assert brm[16:19] == b"\xff\xff\xff"  # production date not available
    assert findings("BRM", brm) == []
    bsm = bytes.fromhex("FF FF FF FF FF 00 D0")  # no cell index, no temperatures
    assert findings("BSM", bsm) == []
    assert findings("BSD", bytes.fromhex("50 72 01 74 01 FF FF")) == []
    assert findings("CTS", b"\xff" * 7) == []  # the optional CTS "not available"


def test_a_value_outside_the_table_is_still_a_finding():
    assert any("SOC" in f for f in findings("BSD", bytes.fromhex("65 72 01 74 01 41 46")))
    assert any(
        "MaxTemperature" in f for f in findings("BSM", bytes.fromhex("00 FB 00 41 00 00 D0"))
    )


@pytest.mark.parametrize("cts_after_cml", [False, True])
def test_cts_before_or_after_cml_is_free(tmp_path, frames, cts_after_cml):
    cts = [f for f in frames if f.pgn == CTS]
    rest = [f for f in frames if f.pgn != CTS]
    first_cml = next(i for i, f in enumerate(rest) if f.pgn == CML)
    at = first_cml + 1 if cts_after_cml else first_cml
    moved = [dataclasses.replace(f, t=rest[at].t) for f in cts]
    cases = judged(tmp_path, rest[:at] + moved + rest[at:])
    assert cases["log:sequence"]["verdict"] == "pass", cases["log:sequence"]["reason"]


# -- content ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ("36 24 08 32 05 15 20", "not a valid BCD date"),  # day 32
        ("36 24 08 1A 05 15 20", "outside 0..9"),  # not BCD
        ("36 24 08 16 05 90 19", "not a plausible clock"),  # 1990
    ],
)
def test_cts_must_be_a_valid_plausible_bcd_time(data, words):
    assert any(words in f for f in findings("CTS", bytes.fromhex(data))), findings(
        "CTS", bytes.fromhex(data)
    )


def test_the_captured_cts_is_valid():
    assert findings("CTS", bytes.fromhex("36 24 08 16 05 15 20")) == []


def test_brm_text_fields_must_be_printable():
    base = {"Version": "1.1", "BatteryType": 3, "RatedCapacity": 100.0, "RatedVoltage": 400.0}
    good = codec.encode("BRM", {**base, "VIN": "LSVAU2180N2183294"}, fill_missing=True)
    assert findings("BRM", good) == []
    bad = bytearray(good)
    bad[24 + 3] = 0x07  # a control character in the VIN
    assert any("VIN: not printable" in f for f in findings("BRM", bytes(bad)))
    no_vin = bytearray(good)
    no_vin[24:41] = b"\x00" * 17  # the capture's BMS: 17 × 00, "not provided"
    assert findings("BRM", bytes(no_vin)) == []


# -- short messages -----------------------------------------------------------------------------


def _ccs_every(frames: list[LogFrame], seconds: float, length: int) -> list[LogFrame]:
    ccs = [f for f in frames if f.pgn == CCS]
    rest = [f for f in frames if f.pgn != CCS]
    start = ccs[0].t
    made = [
        dataclasses.replace(f, t=start + i * seconds, data=f.data[:length])
        for i, f in enumerate(ccs)
        if start + i * seconds <= ccs[-1].t
    ]
    return sorted(rest + made, key=lambda f: f.t)


def test_a_7_byte_ccs_every_69_ms_is_one_length_finding_and_judged_for_its_period(tmp_path, frames):
    cases = judged(tmp_path, _ccs_every(frames, 0.069, 7))
    fmt, period = cases["log:CCS.format"], cases["log:CCS.period"]
    assert fmt["verdict"] == "fail"
    assert "CCS: DLC 7, GB/T 27930 gives 8 (×" in fmt["reason"]
    assert "more kinds" not in fmt["reason"]  # one length finding for the message type
    assert period["verdict"] == "fail" and "mean 69.0 ms" in period["reason"]
    assert cases["log:frames"]["verdict"] == "pass"  # every frame understood


def test_a_2011_era_6_byte_cml_and_ccs_are_decoded_and_judged(tmp_path, frames):
    short = replaced(replaced(frames, CML, lambda d: d[:6]), CCS, lambda d: d[:6])
    cases = judged(tmp_path, short)
    assert cases["log:CML.format"]["verdict"] == "fail"
    assert "CML: DLC 6" in cases["log:CML.format"]["reason"]
    assert cases["log:CCS.period"]["verdict"] == "pass"
    assert cases["log:causes"]["verdict"] == "pass"
    assert cases["log:mandatory"]["verdict"] == "pass"
    # read as 2011, those lengths are the standard's
    as_2011 = judged(tmp_path, short, variant="2011")
    assert as_2011["log:CCS.format"]["verdict"] == "pass"


def test_frames_of_other_nodes_are_not_part_of_the_conversation(tmp_path, frames):
    other = [
        LogFrame(10_000 + i, f.t, 0x18FF1234, b"\x00" * 8, 0) for i, f in enumerate(frames[::10])
    ] + [LogFrame(20_000, frames[5].t, 0x1826F401, b"\x01\x01\x00", 0)]
    cases = judged(tmp_path, sorted(frames + other, key=lambda f: f.t))
    assert cases["log:frames"]["verdict"] == "pass"
    observed = cases["log:frames"]["steps"][0]["observed"]
    assert "not part of the conversation" in observed and "18FF1234" in observed
    assert "1826F401 (from 0x01 to 0xf4)" in observed


# -- cause and effect, mandatory answers, RTS -----------------------------------------------------


def test_the_shared_capture_keeps_every_cause_and_effect(tmp_path, frames):
    for sut in ("charger", "bms"):
        cases = judged(tmp_path, frames, sut)
        for check in ("log:causes", "log:mandatory", "log:sequence", "log:transport"):
            assert cases[check]["verdict"] in ("pass", "warn"), (sut, cases[check]["reason"])


def test_crm_aa_before_a_complete_brm_fails(tmp_path, frames):
    first_brm = next(i for i, f in enumerate(frames) if f.pgn == 0xEC00)  # its RTS
    early = dataclasses.replace(frames[12], data=b"\xaa" + frames[12].data[1:])
    cases = judged(tmp_path, [*frames[:first_brm], early, *frames[first_brm:]])
    assert cases["log:causes"]["verdict"] == "fail"
    assert (
        "CRM 0xAA" in cases["log:causes"]["reason"]
        and "complete BRM" in cases["log:causes"]["reason"]
    )


def test_cro_aa_before_bro_aa_fails(tmp_path, frames):
    bro_aa = [f for f in frames if f.pgn == 0x0900 and f.data == b"\xaa"]
    late = [dataclasses.replace(f, t=f.t + 2) for f in bro_aa]
    rest = [f for f in frames if f not in bro_aa]
    cases = judged(tmp_path, sorted(rest + late, key=lambda f: f.t))
    assert cases["log:causes"]["verdict"] == "fail"
    assert "CRO 0xAA" in cases["log:causes"]["reason"]


def test_ccs_before_the_charging_phase_fails(tmp_path, frames):
    ccs = next(f for f in frames if f.pgn == CCS)
    early = dataclasses.replace(ccs, t=frames[20].t)
    cases = judged(tmp_path, [*frames[:20], early, *frames[20:]])
    assert cases["log:causes"]["verdict"] == "fail"
    assert "charging phase" in cases["log:causes"]["reason"]


def test_a_mandatory_answer_that_never_comes_fails(tmp_path, frames):
    cases = judged(tmp_path, [f for f in frames if f.pgn != CML])
    assert cases["log:mandatory"]["verdict"] == "fail"
    assert "CML never sent" in cases["log:mandatory"]["reason"]


def test_an_rts_the_charger_ignores_while_it_keeps_talking_fails(tmp_path, frames):
    # the charger's CTS answers to BCS are dropped: it keeps sending CCS
    silent = [
        f
        for f in frames
        if not (f.pgn == 0xEC00 and f.src == 0x56 and f.data[0] == 0x11 and f.t > 3260)
    ]
    cases = judged(tmp_path, silent)
    transport = cases["log:transport"]
    assert transport["verdict"] == "fail"
    assert "never answered, though the SUT went on sending" in transport["reason"]


def test_an_rts_after_the_charger_went_quiet_is_not_judged(tmp_path, frames):
    transport = judged(tmp_path, frames)["log:transport"]
    assert transport["verdict"] == "warn"  # one BCS without EndOfMsgAck, as recorded
    assert "SUT sent nothing after it (not judged)" in transport["steps"][0]["observed"]


def _bursts(periods: list[float]) -> list[LogFrame]:
    """CCS in bursts of 6, one burst per period given, 2 s apart."""
    out, t = [], 0.0
    ccs = codec.encode("CCS", {"OutputVoltage": 500.0, "OutputCurrent": -10.0,
                               "ChargingTime": 1, "ChargingPermitted": 1})  # fmt: skip
    for period in periods:
        for _ in range(6):
            out.append(LogFrame(len(out), t, 0x1812F456, ccs, len(out) + 1))
            t += period
        t += 2.0
    return out


def test_bursts_judged_early_on_a_long_recording_give_the_same_verdict(tmp_path, monkeypatch):
    periods = [0.05] * 7 + [0.1] + [0.05] * 7
    whole = judged(tmp_path, _bursts(periods))["log:CCS.period"]
    with monkeypatch.context() as patch:
        patch.setattr("pile_interop.gbt27930.logjudge.MAX_BURSTS", 3)
        early = judged(tmp_path, _bursts(periods))["log:CCS.period"]
    assert whole["verdict"] == early["verdict"] == "fail"
    assert "mean 100.0 ms over 6 messages" in early["reason"]
    assert early["reason"] == whole["reason"]
    steady = [0.05] * 15
    passed = judged(tmp_path, _bursts(steady))["log:CCS.period"]
    assert passed["verdict"] == "pass"
    assert "(and 10 more bursts)" in passed["steps"][0]["observed"]
    monkeypatch.setattr("pile_interop.gbt27930.logjudge.MAX_BURSTS", 3)
    again = judged(tmp_path, _bursts(steady))["log:CCS.period"]
    assert again["steps"][0]["observed"] == passed["steps"][0]["observed"]
