"""The codec: message table, known frames from the shared capture, fill bits, variants."""

from __future__ import annotations

import datetime as dt

import pytest

from pile_interop.gbt27930 import codec, dbcgen
from pile_interop.gbt27930.codec import CodecError, FillBit
from pile_interop.gbt27930.ids import can_id, parse_can_id
from pile_interop.gbt27930.layout import MESSAGES

# name: (PGN, priority, length, period ms, direction, 29-bit id) — the reference table
TABLE_2015 = {
    "CHM": (0x2600, 6, 3, 250, "C→B", 0x1826F456),
    "BHM": (0x2700, 6, 2, 250, "B→C", 0x182756F4),
    "CRM": (0x0100, 6, 8, 250, "C→B", 0x1801F456),
    "BRM": (0x0200, 7, 49, 250, "B→C", 0x1C0256F4),
    "BCP": (0x0600, 7, 13, 500, "B→C", 0x1C0656F4),
    "CTS": (0x0700, 6, 7, 500, "C→B", 0x1807F456),
    "CML": (0x0800, 6, 8, 250, "C→B", 0x1808F456),
    "BRO": (0x0900, 4, 1, 250, "B→C", 0x100956F4),
    "CRO": (0x0A00, 4, 1, 250, "C→B", 0x100AF456),
    "BCL": (0x1000, 6, 5, 50, "B→C", 0x181056F4),
    "BCS": (0x1100, 7, 9, 250, "B→C", 0x1C1156F4),
    "CCS": (0x1200, 6, 8, 50, "C→B", 0x1812F456),
    "BSM": (0x1300, 6, 7, 250, "B→C", 0x181356F4),
    "BMV": (0x1500, 7, 512, 10_000, "B→C", 0x1C1556F4),
    "BMT": (0x1600, 7, 128, 10_000, "B→C", 0x1C1656F4),
    "BSP": (0x1700, 7, 16, 10_000, "B→C", 0x1C1756F4),
    "BST": (0x1900, 4, 4, 10, "B→C", 0x101956F4),
    "CST": (0x1A00, 4, 4, 10, "C→B", 0x101AF456),
    "BSD": (0x1C00, 6, 7, 250, "B→C", 0x181C56F4),
    "CSD": (0x1D00, 6, 8, 250, "C→B", 0x181DF456),
    "BEM": (0x1E00, 2, 4, 250, "B→C", 0x081E56F4),
    "CEM": (0x1F00, 2, 4, 250, "C→B", 0x081FF456),
}


def test_the_2015_database_has_every_message_of_the_table_with_its_metadata():
    infos = {i.name: i for i in codec.messages("2015")}
    assert set(infos) == set(TABLE_2015)
    for name, (pgn, prio, length, period, direction, frame_id) in TABLE_2015.items():
        info = infos[name]
        assert (info.pgn, info.priority, info.length, info.period_ms) == (
            pgn,
            prio,
            length,
            period,
        ), name
        assert (info.direction, info.can_id) == (direction, frame_id), name
        assert info.multi_packet == (length > 8), name
        assert info.src == (0x56 if direction == "C→B" else 0xF4)
        assert codec.message_info(pgn).name == name


def test_shipped_dbc_files_match_the_layout_table():
    assert dbcgen.main(["--check"]) == 0


def test_can_id_builds_and_parses_pdu1_identifiers():
    assert can_id(0x2600, 6, 0x56, 0xF4) == 0x1826F456
    assert can_id(0xEC00, 7, 0xF4, 0x56) == 0x1CEC56F4
    assert parse_can_id(0x1CEB56F4) == (7, 0xEB00, 0xF4, 0x56)
    assert parse_can_id(0x081E56F4).priority == 2
    assert parse_can_id(0x18FEF100) == (6, 0xFEF1, 0x00, 0xFF)  # PDU2 keeps its group extension


@pytest.mark.parametrize(
    ("pgn", "priority", "src", "dst"),
    [(0x100, 8, 1, 2), (0x40000, 6, 1, 2), (0x2601, 6, 1, 2), (0x100, 6, 256, 2)],
)
def test_can_id_rejects_what_is_not_a_gb_t_identifier(pgn, priority, src, dst):
    with pytest.raises(ValueError):
        can_id(pgn, priority, src, dst)


# Frames from the shared capture (tests/gbt27930/data/charger-capture.csv) and what they mean.
CAPTURED = [
    ("CHM", "01 01 00", {"VersionMinor": 1, "VersionMajor": 1}),
    ("BHM", "8E 17", {"MaxChargeVoltage": 603.0}),
    ("CRM", "AA 01 FF FF FF FF FF FF", {"RecognitionResult": 0xAA}),
    (
        "BCP",
        "9E 01 B8 0B 4E 00 8E 17 6E CA 03 24 13",
        {
            "MaxCellChargeVoltage": 4.14,
            "MaxChargeCurrent": -100.0,
            "NominalEnergy": 7.8,
            "MaxChargeVoltage": 603.0,
            "MaxTemperature": 60,
            "SOC": 97.0,
            "BatteryVoltage": 490.0,
        },
    ),
    (
        "CML",
        "58 1B D0 07 D8 0E A0 0F",
        {
            "MaxOutputVoltage": 700.0,
            "MinOutputVoltage": 200.0,
            "MaxOutputCurrent": -20.0,
            "MinOutputCurrent": 0.0,
        },
    ),
    ("BRO", "AA", {"BMSReady": 0xAA}),
    ("BCL", "52 17 82 0F 02", {"VoltageDemand": 597.0, "CurrentDemand": -3.0, "ChargeMode": 2}),
    (
        "BCS",
        "25 13 A0 0F 73 11 61 00 00",
        {
            "MeasuredVoltage": 490.1,
            "MeasuredCurrent": 0.0,
            "MaxCellVoltage": 3.71,
            "MaxCellGroup": 1,
            "SOC": 97,
            "RemainingTime": 0,
        },
    ),
    (
        "CCS",
        "17 15 83 0F 00 00 FD FF",
        {"OutputVoltage": 539.9, "OutputCurrent": -2.9, "ChargingTime": 0, "ChargingPermitted": 1},
    ),
    (
        "BSM",
        "42 4B 01 4A 1B 00 D0",
        {
            "MaxCellVoltageIndex": 67,
            "MaxTemperature": 25,
            "MaxTemperaturePoint": 2,
            "MinTemperature": 24,
            "MinTemperaturePoint": 28,
            "InsulationState": 0,
            "ChargePermitted": 1,
        },
    ),
    ("BEM", "F0 F0 F1 FC", {"CCSTimeout": 1, "CRM00Timeout": 0, "CSDTimeout": 0}),
]


@pytest.mark.parametrize(("name", "hex_data", "expected"), CAPTURED, ids=[c[0] for c in CAPTURED])
def test_captured_frames_decode_to_the_values_they_carry_and_encode_back(name, hex_data, expected):
    data = bytes.fromhex(hex_data)
    values = codec.decode(name, data)
    assert {k: values[k] for k in expected} == expected
    assert codec.encode(name, values) == data
    assert codec.fill_bit_violations(name, data) == []


def test_the_captured_brm_decodes_with_its_text_fields_and_version():
    brm = bytes.fromhex(
        "010100 06 B400 3913 4B4C4945 01000000 1E0101 010000 01 FF" + "00" * 17 + "83" + "FF" * 7
    )
    view = codec.interpret("BRM", codec.decode("BRM", brm))
    assert view["Version"] == "1.1"
    assert view["BatteryType"] == "ternary (NCM/NCA)"
    assert (view["RatedCapacity"], view["RatedVoltage"]) == (18.0, 492.1)
    assert view["BatteryMaker"] == "KLIE"
    assert view["ProductionDate"] == dt.date(2015, 1, 1)
    assert view["VIN"] is None  # seventeen 0x00: the BMS sends no VIN
    assert view["BMSSoftwareVersion"] == "83 FF FF FF FF FF FF FF"


def test_a_41_byte_brm_is_accepted_in_2015_without_the_software_version():
    values = codec.decode("BRM", codec.encode("BRM", {"Version": "1.1"}, fill_missing=True)[:41])
    assert "BMSSoftwareVersion" not in values
    assert values["VersionMajor"] == 1


def test_cts_time_is_bcd_and_round_trips_through_a_datetime():
    when = dt.datetime(2015, 5, 16, 8, 24, 36)
    data = codec.encode("CTS", {"Time": when})
    assert data == bytes.fromhex("36 24 08 16 05 15 20")
    assert codec.interpret("CTS", codec.decode("CTS", data))["Time"] == when
    not_sent = codec.decode("CTS", b"\xff" * 7)
    assert codec.interpret("CTS", not_sent)["Time"] is None


def test_vin_and_region_code_are_text_composites():
    vin = "LSVAU2180N2183294"
    data = codec.encode("BRM", {"VIN": vin, "Version": "1.1"}, fill_missing=True)
    assert data[24:41] == vin.encode()
    assert data[23] == 0xFF  # SPN 2574 reserved byte is fill
    assert codec.interpret("BRM", codec.decode("BRM", data))["VIN"] == vin
    crm = codec.encode(
        "CRM", {"RecognitionResult": 0, "ChargerNumber": 7, "RegionCode": "BJ"}, fill_missing=True
    )
    assert crm == bytes.fromhex("00 07 00 00 00 42 4A FF")


def test_encode_fills_unused_bits_and_bytes_with_ones():
    assert codec.encode(
        "CCS", {"OutputVoltage": 0, "OutputCurrent": 0, "ChargingTime": 0, "ChargingPermitted": 0}
    ) == bytes.fromhex("00 00 A0 0F 00 00 FC FF")
    assert codec.encode("BEM", {}, fill_missing=True) == b"\xff" * 4
    bsm = codec.encode("BSM", {"ChargePermitted": 1}, fill_missing=True)
    assert bsm[6] == 0xDF


def test_fill_bit_violations_name_each_zero_fill_bit():
    assert codec.fill_bit_violations("CCS", bytes.fromhex("2A 00 A0 0F 00 00 01 FF")) == [
        FillBit(7, b) for b in range(3, 9)
    ]
    # a 1-byte BRO sent with DLC 8: the extra bytes are fill too
    assert codec.fill_bit_violations("BRO", bytes.fromhex("AA FF FF FF FF FF FF 7F")) == [
        FillBit(8, 8)
    ]
    assert str(FillBit(3, 5)) == "byte 3 bit 5"


def test_strict_encoding_rejects_out_of_range_values_and_lenient_encoding_sends_them():
    # the 2015 table sets no 750 V cap (2011's does)
    assert codec.encode("BHM", {"MaxChargeVoltage": 900.0}) == (9000).to_bytes(2, "little")
    with pytest.raises(CodecError, match="outside"):
        codec.encode("CML", {"MaxOutputVoltage": 900.0}, "2011", fill_missing=True)
    with pytest.raises(CodecError, match="outside"):
        codec.encode("BCS", {"SOC": 101}, fill_missing=True)
    assert codec.encode("BCS", {"SOC": 101}, strict=False, fill_missing=True)[6] == 101
    with pytest.raises(CodecError, match="does not fit"):
        codec.encode("BHM", {"MaxChargeVoltage": 7000.0}, strict=False)


def test_choice_labels_encode_and_decode():
    data = codec.encode("BRO", {"BMSReady": "ready"})
    assert data == b"\xaa"
    assert codec.decode("BRO", data, choices=True) == {"BMSReady": "ready"}
    with pytest.raises(CodecError, match="none of"):
        codec.encode("BRO", {"BMSReady": "maybe"})


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: codec.encode("XYZ", {}), "not a GB/T 27930"),
        (lambda: codec.decode(0x4200, b""), "not a GB/T 27930"),
        (lambda: codec.decode("BCP", b"\x00" * 12), "at least 13 bytes"),
        (lambda: codec.encode("BHM", {}), "missing signal MaxChargeVoltage"),
        (lambda: codec.encode("BHM", {"Voltage": 1}), "no signal Voltage"),
        (lambda: codec.encode("BMV", {}), "at least one element"),
        (lambda: codec.encode("BHM", {"MaxChargeVoltage": "high"}), "none of"),
        (lambda: codec.encode("BHM", {"MaxChargeVoltage": None}), "expected a number"),
        (lambda: codec.message_info("BRM", "2019"), "unknown GB/T 27930 variant"),
    ],
)
def test_codec_errors_say_what_is_wrong(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_variable_length_messages_are_as_long_as_their_elements():
    values = {"Cell001Voltage": 3.71, "Cell001Group": 1, "Cell002Voltage": 3.7, "Cell002Group": 1}
    data = codec.encode("BMV", values)
    assert data == bytes.fromhex("73 11 72 11")
    assert codec.decode("BMV", data) == values
    temps = codec.encode("BMT", {"Temperature001": 25, "Temperature002": -10, "Temperature003": 0})
    assert temps == bytes([75, 40, 50])


def test_the_2011_variant_has_no_handshake_and_the_shorter_layouts():
    names = {i.name for i in codec.messages("2011")}
    assert names == set(TABLE_2015) - {"CHM", "BHM"}
    lengths = {i.name: i.length for i in codec.messages("2011")}
    assert (lengths["BRM"], lengths["CML"], lengths["CCS"]) == (41, 6, 6)
    crm = codec.decode("CRM", bytes.fromhex("00 01 FF FF FF FF FF FF"), "2011")
    assert crm["ChargerNumber"] == 1
    brm = codec.encode("BRM", {"Version": "1.0"}, "2011", fill_missing=True)
    assert brm[:3] == bytes.fromhex("00 01 00")
    assert codec.interpret("BRM", codec.decode("BRM", brm, "2011"), "2011")["Version"] == "1.0"
    with pytest.raises(CodecError):
        codec.message_info("CHM", "2011")


def test_the_2023a_variant_adds_stop_fields_and_keeps_the_rest():
    for name in ("BST", "CST"):
        assert "ParameterMismatch" in codec.message_info(name, "2023a").signals
        assert "ParameterMismatch" not in codec.message_info(name, "2015").signals
    cst = codec.encode(
        "CST",
        {"FaultStop": 1, "SelfCheckFault": 1, "PrechargeFault": 0},
        "2023A",
        fill_missing=True,
    )
    assert cst == bytes.fromhex("DF FF 1F FF")
    # a 2023 A frame read as 2015: the new fields are fill bits there
    assert codec.fill_bit_violations("CST", cst, "2015") == [FillBit(3, b) for b in (6, 7, 8)]
    base = {m.name for m in MESSAGES["2015"]}
    assert {m.name for m in MESSAGES["2023a"]} == base


def test_every_signal_of_every_variant_has_a_unit_range_and_spn():
    for variant in ("2011", "2015", "2023a"):
        for message in codec.database(variant).messages:
            for sig in message.signals:
                assert sig.minimum is not None and sig.maximum is not None, sig.name
                assert sig.spn, (message.name, sig.name)
                assert sig.comment, (message.name, sig.name)
