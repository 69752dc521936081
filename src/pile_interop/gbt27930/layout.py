"""The GB/T 27930 message table: every field of every message, per protocol variant.

This table is the single place where field layouts are written down. The shipped DBC files
(``gbt27930_2011.dbc``, ``gbt27930_2015.dbc``, ``gbt27930_2023a.dbc``) are generated from it by
:mod:`pile_interop.gbt27930.dbcgen`; the codec reads the DBC files, not this table (a test checks
that the two agree).

Conventions (GB/T 27930-2015 §4 and §7):

* bytes are numbered from 1 and multi-byte values are little-endian ("low byte first");
* bits inside a byte are numbered from 1 (the least significant bit) — ``byte 7 bit 1-2`` of CCS
  is the mask ``0x03`` of the seventh byte, which the shared capture confirms (``FD`` = permitted,
  the other six bits filled with 1);
* every bit that no field covers is a fill bit and is sent as 1.

Physical value = raw × scale + offset, as in a DBC file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

logger = logging.getLogger(__name__)

CHARGER = "Charger"
BMS = "BMS"

VARIANTS = ("2011", "2015", "2023a")
"""Protocol variants: GB/T 27930-2011, GB/T 27930-2015 and GB/T 27930-2023 category A."""


@dataclass(frozen=True)
class Field:
    """One signal: ``start`` is the DBC little-endian start bit (byte index × 8 + bit index)."""

    name: str
    start: int
    length: int
    scale: float = 1
    offset: float = 0
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    spn: int | None = None
    comment: str = ""
    choices: Mapping[int, str] | None = None

    @property
    def raw_max(self) -> int:
        return (1 << self.length) - 1


@dataclass(frozen=True)
class MessageDef:
    """One parameter group as GB/T 27930 defines it."""

    name: str
    pgn: int
    priority: int
    length: int
    period_ms: int
    sender: str
    fields: tuple[Field, ...]
    comment: str
    min_length: int | None = None
    """Shortest payload that still carries every mandatory field (BRM: 41, see the docs)."""
    element_size: int = 0
    """Non-zero for the variable-length arrays (BMV, BMT, BSP): bytes per element."""
    notes: tuple[str, ...] = field(default=())

    @property
    def variable(self) -> bool:
        return self.element_size > 0


def fld(
    name: str,
    byte: int,
    nbytes: int = 1,
    *,
    scale: float = 1,
    offset: float = 0,
    minimum: float | None = None,
    maximum: float | None = None,
    unit: str = "",
    spn: int | None = None,
    comment: str = "",
    choices: Mapping[int, str] | None = None,
) -> Field:
    """A field of whole bytes, ``byte`` numbered from 1 as in the standard's tables."""
    return Field(
        name,
        (byte - 1) * 8,
        nbytes * 8,
        scale,
        offset,
        minimum,
        maximum,
        unit,
        spn,
        comment,
        choices,
    )


def bits(
    name: str,
    byte: int,
    bit: int,
    length: int,
    *,
    scale: float = 1,
    offset: float = 0,
    minimum: float | None = None,
    maximum: float | None = None,
    unit: str = "",
    spn: int | None = None,
    comment: str = "",
    choices: Mapping[int, str] | None = None,
) -> Field:
    """A bit field starting at ``bit`` (1 = least significant) of ``byte`` (from 1)."""
    return Field(
        name,
        (byte - 1) * 8 + bit - 1,
        length,
        scale,
        offset,
        minimum,
        maximum,
        unit,
        spn,
        comment,
        choices,
    )


# -- value ranges and enumerations shared by several messages ---------------------------------

V_MAX = 750.0
"""Upper bound of the 0.1 V/bit voltages in the 2011/2015 tables ("0 V ~ 750 V")."""
A_MIN = -400.0
"""Currents are 0.1 A/bit with a −400 A offset; the tables give −400 A … 0 A (charging < 0)."""

READY = {0x00: "not ready", 0xAA: "ready", 0xFF: "invalid"}
STATE = {0: "normal", 1: "abnormal", 2: "untrusted", 3: "not available"}
REACHED = {0: "not reached", 1: "reached", 2: "untrusted", 3: "not available"}
STOPPED = {0: "normal", 1: "stopped", 2: "untrusted", 3: "not available"}
FAULT = {0: "normal", 1: "fault", 2: "untrusted", 3: "not available"}
TIMEOUT = {0: "normal", 1: "timeout", 2: "untrusted", 3: "not available"}
HIGH_LOW = {0: "normal", 1: "too high", 2: "too low", 3: "not available"}
BATTERY_TYPES = {
    0x01: "lead-acid",
    0x02: "nickel-metal hydride",
    0x03: "lithium iron phosphate",
    0x04: "lithium manganate",
    0x05: "lithium cobaltate",
    0x06: "ternary (NCM/NCA)",
    0x07: "lithium-ion polymer",
    0x08: "lithium titanate",
    0xFF: "other",
}


def _volts(name: str, byte: int, spn: int, comment: str) -> Field:
    return fld(
        name, byte, 2, scale=0.1, minimum=0, maximum=V_MAX, unit="V", spn=spn, comment=comment
    )


def _amps(name: str, byte: int, spn: int, comment: str) -> Field:
    return fld(
        name,
        byte,
        2,
        scale=0.1,
        offset=A_MIN,
        minimum=A_MIN,
        maximum=0,
        unit="A",
        spn=spn,
        comment=comment + " (negative = charging)",
    )


def _cell_volts(name: str, byte: int, spn: int, comment: str) -> Field:
    return fld(name, byte, 2, scale=0.01, minimum=0, maximum=24, unit="V", spn=spn, comment=comment)


def _celsius(name: str, byte: int, spn: int, comment: str) -> Field:
    return fld(
        name, byte, 1, offset=-50, minimum=-50, maximum=200, unit="degC", spn=spn, comment=comment
    )


def _minutes(name: str, byte: int, spn: int, comment: str) -> Field:
    return fld(name, byte, 2, minimum=0, maximum=600, unit="min", spn=spn, comment=comment)


def _version(spn: int, whose: str) -> tuple[Field, ...]:
    return (
        fld(
            "VersionMinor",
            1,
            1,
            minimum=0,
            maximum=255,
            spn=spn,
            comment=f"{whose} protocol version, byte 1 (minor): V1.1 is sent as 01 01 00",
        ),
        fld(
            "VersionMajor",
            2,
            2,
            minimum=0,
            maximum=65535,
            spn=spn,
            comment=f"{whose} protocol version, bytes 2-3 (major, little-endian)",
        ),
    )


def _ascii(prefix: str, first_byte: int, count: int, spn: int, what: str) -> tuple[Field, ...]:
    width = len(str(count))
    return tuple(
        fld(
            f"{prefix}{i + 1:0{width}d}",
            first_byte + i,
            1,
            minimum=0,
            maximum=255,
            spn=spn,
            comment=f"{what}, character {i + 1} (ASCII; 0xFF when not provided)",
        )
        for i in range(count)
    )


def _two_bit(
    name: str, byte: int, bit: int, spn: int, comment: str, choices: Mapping[int, str]
) -> Field:
    return bits(name, byte, bit, 2, minimum=0, maximum=3, spn=spn, comment=comment, choices=choices)


def _bcd(name: str, byte: int, high: bool, spn: int, comment: str) -> Field:
    return bits(name, byte, 5 if high else 1, 4, minimum=0, maximum=9, spn=spn, comment=comment)


# -- GB/T 27930-2015 ---------------------------------------------------------------------------

_CHM = MessageDef(
    "CHM",
    0x2600,
    6,
    3,
    250,
    CHARGER,
    _version(2600, "charger communication"),
    "Charger handshake (2015+): the charger's communication protocol version.",
)

_BHM = MessageDef(
    "BHM",
    0x2700,
    6,
    2,
    250,
    BMS,
    (_volts("MaxChargeVoltage", 1, 2601, "maximum permissible total charging voltage"),),
    "BMS handshake (2015+).",
)

_CRM = MessageDef(
    "CRM",
    0x0100,
    6,
    8,
    250,
    CHARGER,
    (
        fld(
            "RecognitionResult",
            1,
            1,
            minimum=0,
            maximum=255,
            spn=2560,
            comment="0x00: BMS not recognised, 0xAA: BMS recognised",
            choices={0x00: "not recognised", 0xAA: "recognised"},
        ),
        fld(
            "ChargerNumber",
            2,
            4,
            minimum=0,
            maximum=0xFFFFFFFF,
            spn=2561,
            comment="charger number, 1/bit",
        ),
        *_ascii("RegionCode", 6, 3, 2562, "charger/station region code (optional)"),
    ),
    "Charger recognition.",
)

_BRM = MessageDef(
    "BRM",
    0x0200,
    7,
    49,
    250,
    BMS,
    (
        *_version(2565, "BMS communication"),
        fld(
            "BatteryType",
            4,
            1,
            minimum=0,
            maximum=255,
            spn=2566,
            comment="battery type",
            choices=BATTERY_TYPES,
        ),
        fld(
            "RatedCapacity",
            5,
            2,
            scale=0.1,
            minimum=0,
            maximum=1000,
            unit="Ah",
            spn=2567,
            comment="rated capacity of the traction battery",
        ),
        _volts("RatedVoltage", 7, 2568, "rated total voltage of the traction battery"),
        *_ascii("BatteryMaker", 9, 4, 2569, "battery manufacturer name (optional)"),
        fld(
            "PackSerialNumber",
            13,
            4,
            minimum=0,
            maximum=0xFFFFFFFF,
            spn=2570,
            comment="battery pack serial number (optional, maker-defined)",
        ),
        fld(
            "ProductionYear",
            17,
            1,
            offset=1985,
            minimum=1985,
            maximum=2240,
            unit="year",
            spn=2571,
            comment="battery pack production date: year (offset 1985, optional)",
        ),
        fld(
            "ProductionMonth",
            18,
            1,
            minimum=1,
            maximum=12,
            unit="month",
            spn=2571,
            comment="battery pack production date: month (optional)",
        ),
        fld(
            "ProductionDay",
            19,
            1,
            minimum=1,
            maximum=31,
            unit="day",
            spn=2571,
            comment="battery pack production date: day (optional)",
        ),
        fld(
            "ChargeCycles",
            20,
            3,
            minimum=0,
            maximum=0xFFFFFF,
            spn=2572,
            comment="battery pack charge count (optional)",
        ),
        fld(
            "Ownership",
            23,
            1,
            minimum=0,
            maximum=255,
            spn=2573,
            comment="battery pack ownership (optional)",
            choices={0: "leased", 1: "owned by the vehicle"},
        ),
        # byte 24 is SPN 2574, "reserved": a fill byte (0xFF).
        *_ascii("VIN", 25, 17, 2575, "vehicle identification number (optional)"),
        fld(
            "BMSSoftwareVersion",
            42,
            8,
            minimum=0,
            maximum=0xFFFFFFFFFFFFFFFF,
            spn=2576,
            comment="BMS software version, 8 bytes, raw (2015+)",
        ),
    ),
    "BMS and vehicle recognition, multi-packet. Table 5 of the 2015 text says 41 bytes while "
    "its field table adds up to 49 (the 2011 fields + the 8-byte BMS software version); "
    "chargers in the field send 49, so 49 is the length and 41 is accepted.",
    min_length=41,
)

_BCP = MessageDef(
    "BCP",
    0x0600,
    7,
    13,
    500,
    BMS,
    (
        _cell_volts("MaxCellChargeVoltage", 1, 2816, "maximum permissible cell charging voltage"),
        _amps("MaxChargeCurrent", 3, 2817, "maximum permissible charging current"),
        fld(
            "NominalEnergy",
            5,
            2,
            scale=0.1,
            minimum=0,
            maximum=1000,
            unit="kWh",
            spn=2818,
            comment="nominal total energy of the traction battery",
        ),
        _volts("MaxChargeVoltage", 7, 2819, "maximum permissible total charging voltage"),
        _celsius("MaxTemperature", 9, 2820, "maximum permissible temperature"),
        fld(
            "SOC",
            10,
            2,
            scale=0.1,
            minimum=0,
            maximum=100,
            unit="%",
            spn=2821,
            comment="state of charge of the vehicle battery (0.1 %/bit, unlike BCS)",
        ),
        _volts("BatteryVoltage", 12, 2822, "present total voltage of the vehicle battery"),
    ),
    "Charging parameters of the traction battery, multi-packet.",
)

_CTS_DIGITS = (
    ("Second", 1),
    ("Minute", 2),
    ("Hour", 3),
    ("Day", 4),
    ("Month", 5),
)
_CTS = MessageDef(
    "CTS",
    0x0700,
    6,
    7,
    500,
    CHARGER,
    (
        *(
            f
            for unit, byte in _CTS_DIGITS
            for f in (
                _bcd(f"{unit}Units", byte, False, 2823, f"{unit.lower()}, BCD units digit"),
                _bcd(f"{unit}Tens", byte, True, 2823, f"{unit.lower()}, BCD tens digit"),
            )
        ),
        _bcd("YearUnits", 6, False, 2823, "year, BCD units digit"),
        _bcd("YearTens", 6, True, 2823, "year, BCD tens digit"),
        _bcd("YearHundreds", 7, False, 2823, "year, BCD hundreds digit"),
        _bcd("YearThousands", 7, True, 2823, "year, BCD thousands digit"),
    ),
    "Charger time synchronisation (optional): compressed BCD, second to year, the year as two "
    "little-endian BCD bytes (2015 is sent as 15 20).",
)

_CML = MessageDef(
    "CML",
    0x0800,
    6,
    8,
    250,
    CHARGER,
    (
        _volts("MaxOutputVoltage", 1, 2824, "maximum output voltage"),
        _volts("MinOutputVoltage", 3, 2825, "minimum output voltage"),
        _amps("MaxOutputCurrent", 5, 2826, "maximum output current"),
        _amps("MinOutputCurrent", 7, 2827, "minimum output current (2015+)"),
    ),
    "Charger maximum output capability.",
)

_BRO = MessageDef(
    "BRO",
    0x0900,
    4,
    1,
    250,
    BMS,
    (
        fld(
            "BMSReady",
            1,
            1,
            minimum=0,
            maximum=255,
            spn=2829,
            comment="0x00 not ready, 0xAA ready for charging, 0xFF invalid",
            choices=READY,
        ),
    ),
    "BMS ready for charging.",
)

_CRO = MessageDef(
    "CRO",
    0x0A00,
    4,
    1,
    250,
    CHARGER,
    (
        fld(
            "ChargerReady",
            1,
            1,
            minimum=0,
            maximum=255,
            spn=2830,
            comment="0x00 not ready, 0xAA ready to output, 0xFF invalid",
            choices=READY,
        ),
    ),
    "Charger ready for output.",
)

_BCL = MessageDef(
    "BCL",
    0x1000,
    6,
    5,
    50,
    BMS,
    (
        _volts("VoltageDemand", 1, 3072, "charging voltage demand"),
        _amps("CurrentDemand", 3, 3073, "charging current demand"),
        fld(
            "ChargeMode",
            5,
            1,
            minimum=0,
            maximum=255,
            spn=3074,
            comment="1: constant voltage, 2: constant current",
            choices={1: "constant voltage", 2: "constant current"},
        ),
    ),
    "Battery charging demand.",
)

_BCS = MessageDef(
    "BCS",
    0x1100,
    7,
    9,
    250,
    BMS,
    (
        _volts("MeasuredVoltage", 1, 3075, "measured charging voltage"),
        _amps("MeasuredCurrent", 3, 3076, "measured charging current"),
        bits(
            "MaxCellVoltage",
            5,
            1,
            12,
            scale=0.01,
            minimum=0,
            maximum=24,
            unit="V",
            spn=3077,
            comment="highest cell voltage (bits 1-12 of bytes 5-6)",
        ),
        bits(
            "MaxCellGroup",
            6,
            5,
            4,
            minimum=0,
            maximum=15,
            spn=3077,
            comment="group number of the highest cell (bits 13-16 of bytes 5-6)",
        ),
        fld(
            "SOC",
            7,
            1,
            minimum=0,
            maximum=100,
            unit="%",
            spn=3078,
            comment="present state of charge (1 %/bit)",
        ),
        _minutes("RemainingTime", 8, 3079, "estimated remaining charging time"),
    ),
    "Battery charging overall status, multi-packet (9 bytes).",
)

_CCS = MessageDef(
    "CCS",
    0x1200,
    6,
    8,
    50,
    CHARGER,
    (
        _volts("OutputVoltage", 1, 3081, "output voltage"),
        _amps("OutputCurrent", 3, 3082, "output current"),
        _minutes("ChargingTime", 5, 3083, "cumulative charging time"),
        _two_bit(
            "ChargingPermitted",
            7,
            1,
            3929,
            "00 paused, 01 permitted (2015+)",
            {0: "paused", 1: "permitted", 2: "untrusted", 3: "not available"},
        ),
    ),
    "Charger charging status. Bytes 7 (bits 3-8) and 8 are fill.",
)

_BSM = MessageDef(
    "BSM",
    0x1300,
    6,
    7,
    250,
    BMS,
    (
        fld(
            "MaxCellVoltageIndex",
            1,
            1,
            offset=1,
            minimum=1,
            maximum=256,
            spn=3085,
            comment="number of the cell with the highest voltage (offset 1)",
        ),
        _celsius("MaxTemperature", 2, 3086, "highest battery temperature"),
        fld(
            "MaxTemperaturePoint",
            3,
            1,
            offset=1,
            minimum=1,
            maximum=128,
            spn=3087,
            comment="number of the hottest measuring point (offset 1)",
        ),
        _celsius("MinTemperature", 4, 3088, "lowest battery temperature"),
        fld(
            "MinTemperaturePoint",
            5,
            1,
            offset=1,
            minimum=1,
            maximum=128,
            spn=3089,
            comment="number of the coldest measuring point (offset 1)",
        ),
        _two_bit("CellVoltageState", 6, 1, 3090, "cell voltage too high / too low", HIGH_LOW),
        _two_bit("SOCState", 6, 3, 3091, "vehicle SOC too high / too low", HIGH_LOW),
        _two_bit("OverCurrent", 6, 5, 3092, "charging over-current", STATE),
        _two_bit("OverTemperature", 6, 7, 3093, "battery over-temperature", STATE),
        _two_bit("InsulationState", 7, 1, 3094, "battery insulation", STATE),
        _two_bit("ConnectorState", 7, 3, 3095, "output connector", STATE),
        _two_bit(
            "ChargePermitted",
            7,
            5,
            3096,
            "00 forbidden, 01 permitted",
            {0: "forbidden", 1: "permitted", 2: "untrusted", 3: "not available"},
        ),
    ),
    "Traction battery status. Byte 7 bits 7-8 are fill.",
)

MAX_CELLS = 256
MAX_TEMPERATURES = 128
MAX_RESERVED = 16

_BMV = MessageDef(
    "BMV",
    0x1500,
    7,
    2 * MAX_CELLS,
    10_000,
    BMS,
    tuple(
        f
        for i in range(MAX_CELLS)
        for f in (
            bits(
                f"Cell{i + 1:03d}Voltage",
                2 * i + 1,
                1,
                12,
                scale=0.01,
                minimum=0,
                maximum=24,
                unit="V",
                spn=3101 + i,
                comment=f"cell {i + 1} voltage",
            ),
            bits(
                f"Cell{i + 1:03d}Group",
                2 * i + 2,
                5,
                4,
                minimum=0,
                maximum=15,
                spn=3101 + i,
                comment=f"cell {i + 1} group number",
            ),
        )
    ),
    "Cell voltages (optional), multi-packet, variable length: 2 bytes per cell, up to 256.",
    element_size=2,
)

_BMT = MessageDef(
    "BMT",
    0x1600,
    7,
    MAX_TEMPERATURES,
    10_000,
    BMS,
    tuple(
        _celsius(f"Temperature{i + 1:03d}", i + 1, 3361 + i, f"measuring point {i + 1}")
        for i in range(MAX_TEMPERATURES)
    ),
    "Battery temperatures (optional), multi-packet, variable length: 1 byte per point, up to 128.",
    element_size=1,
)

_BSP = MessageDef(
    "BSP",
    0x1700,
    7,
    MAX_RESERVED,
    10_000,
    BMS,
    tuple(
        fld(
            f"Reserved{i + 1:02d}",
            i + 1,
            1,
            minimum=0,
            maximum=255,
            spn=3491 + i,
            comment=f"reserved byte {i + 1}",
        )
        for i in range(MAX_RESERVED)
    ),
    "Traction battery reserved message (optional), variable length, up to 16 bytes.",
    element_size=1,
)

_BST = MessageDef(
    "BST",
    0x1900,
    4,
    4,
    10,
    BMS,
    (
        _two_bit("SOCTargetReached", 1, 1, 3511, "required SOC reached", REACHED),
        _two_bit("TotalVoltageReached", 1, 3, 3511, "total voltage set point reached", REACHED),
        _two_bit("CellVoltageReached", 1, 5, 3511, "cell voltage set point reached", REACHED),
        _two_bit("ChargerStopped", 1, 7, 3511, "stopped on the charger's initiative", STOPPED),
        _two_bit("InsulationFault", 2, 1, 3512, "insulation fault", FAULT),
        _two_bit("OutputConnectorOverTemp", 2, 3, 3512, "output connector over-temperature", FAULT),
        _two_bit(
            "ComponentOverTemp",
            2,
            5,
            3512,
            "BMS component / output connector over-temperature",
            FAULT,
        ),
        _two_bit("ChargingConnectorFault", 2, 7, 3512, "charging connector fault", FAULT),
        _two_bit("BatteryOverTemp", 3, 1, 3512, "battery pack over-temperature", FAULT),
        _two_bit("HVRelayFault", 3, 3, 3512, "high-voltage relay fault", FAULT),
        _two_bit("CC2VoltageFault", 3, 5, 3512, "detection point 2 voltage fault", FAULT),
        _two_bit("OtherFault", 3, 7, 3512, "other fault", FAULT),
        _two_bit("OverCurrentError", 4, 1, 3513, "current above demand", STATE),
        _two_bit("VoltageError", 4, 3, 3513, "voltage abnormal", STATE),
    ),
    "BMS stops charging: reasons (byte 1), faults (bytes 2-3), errors (byte 4).",
)

_CST = MessageDef(
    "CST",
    0x1A00,
    4,
    4,
    10,
    CHARGER,
    (
        _two_bit("ConditionReached", 1, 1, 3521, "charger's set condition reached", REACHED),
        _two_bit("ManualStop", 1, 3, 3521, "stopped manually", STOPPED),
        _two_bit("FaultStop", 1, 5, 3521, "stopped by a fault", STOPPED),
        _two_bit(
            "BMSStopped", 1, 7, 3521, "stopped on the BMS's initiative (BST received)", STOPPED
        ),
        _two_bit("ChargerOverTemp", 2, 1, 3522, "charger over-temperature", FAULT),
        _two_bit("ConnectorFault", 2, 3, 3522, "charging connector fault", FAULT),
        _two_bit("InternalOverTemp", 2, 5, 3522, "charger internal over-temperature", FAULT),
        _two_bit("EnergyTransferFault", 2, 7, 3522, "required energy cannot be delivered", FAULT),
        _two_bit("EmergencyStop", 3, 1, 3522, "charger emergency stop", FAULT),
        _two_bit("OtherFault", 3, 3, 3522, "other fault", FAULT),
        _two_bit("CurrentMismatch", 4, 1, 3523, "current mismatch", STATE),
        _two_bit("VoltageError", 4, 3, 3523, "voltage abnormal", STATE),
    ),
    "Charger stops charging: reasons (byte 1), faults (bytes 2-3), errors (byte 4).",
)

_BSD = MessageDef(
    "BSD",
    0x1C00,
    6,
    7,
    250,
    BMS,
    (
        fld(
            "SOC",
            1,
            1,
            minimum=0,
            maximum=100,
            unit="%",
            spn=3601,
            comment="state of charge at the end",
        ),
        _cell_volts("MinCellVoltage", 2, 3602, "lowest cell voltage"),
        _cell_volts("MaxCellVoltage", 4, 3603, "highest cell voltage"),
        _celsius("MinTemperature", 6, 3604, "lowest battery temperature"),
        _celsius("MaxTemperature", 7, 3605, "highest battery temperature"),
    ),
    "BMS statistics at the end of charging.",
)

_CSD = MessageDef(
    "CSD",
    0x1D00,
    6,
    8,
    250,
    CHARGER,
    (
        _minutes("ChargingTime", 1, 3611, "cumulative charging time"),
        fld(
            "OutputEnergy",
            3,
            2,
            scale=0.1,
            minimum=0,
            maximum=1000,
            unit="kWh",
            spn=3612,
            comment="output energy",
        ),
        fld(
            "ChargerNumber",
            5,
            4,
            minimum=0,
            maximum=0xFFFFFFFF,
            spn=3613,
            comment="charger number (the 2015 table says 'offset 1'; sent as in CRM, raw)",
        ),
    ),
    "Charger statistics at the end of charging.",
)

_BEM = MessageDef(
    "BEM",
    0x1E00,
    2,
    4,
    250,
    BMS,
    (
        _two_bit("CRM00Timeout", 1, 1, 3901, "timeout waiting for CRM 0x00", TIMEOUT),
        _two_bit("CRMAATimeout", 1, 3, 3902, "timeout waiting for CRM 0xAA", TIMEOUT),
        _two_bit("CTSCMLTimeout", 2, 1, 3903, "timeout waiting for CTS / CML", TIMEOUT),
        _two_bit("CROTimeout", 2, 3, 3904, "timeout waiting for CRO", TIMEOUT),
        _two_bit("CCSTimeout", 3, 1, 3905, "timeout waiting for CCS", TIMEOUT),
        _two_bit("CSTTimeout", 3, 3, 3906, "timeout waiting for CST", TIMEOUT),
        _two_bit("CSDTimeout", 4, 1, 3907, "timeout waiting for CSD", TIMEOUT),
    ),
    "BMS error message: 2-bit timeout flags per awaited charger message.",
)

_CEM = MessageDef(
    "CEM",
    0x1F00,
    2,
    4,
    250,
    CHARGER,
    (
        _two_bit("BRMTimeout", 1, 1, 3921, "timeout waiting for BRM", TIMEOUT),
        _two_bit("BCPTimeout", 2, 1, 3922, "timeout waiting for BCP", TIMEOUT),
        _two_bit("BROTimeout", 2, 3, 3923, "timeout waiting for BRO", TIMEOUT),
        _two_bit("BCSTimeout", 3, 1, 3924, "timeout waiting for BCS", TIMEOUT),
        _two_bit("BCLTimeout", 3, 3, 3925, "timeout waiting for BCL", TIMEOUT),
        _two_bit("BSTTimeout", 3, 5, 3926, "timeout waiting for BST", TIMEOUT),
        _two_bit("BSDTimeout", 4, 1, 3927, "timeout waiting for BSD", TIMEOUT),
    ),
    "Charger error message: 2-bit timeout flags per awaited BMS message.",
)

MESSAGES_2015: tuple[MessageDef, ...] = (
    _CHM,
    _BHM,
    _CRM,
    _BRM,
    _BCP,
    _CTS,
    _CML,
    _BRO,
    _CRO,
    _BCL,
    _BCS,
    _CCS,
    _BSM,
    _BMV,
    _BMT,
    _BSP,
    _BST,
    _CST,
    _BSD,
    _CSD,
    _BEM,
    _CEM,
)


# -- variants ----------------------------------------------------------------------------------


def _without(fields: Iterable[Field], *names: str) -> tuple[Field, ...]:
    return tuple(f for f in fields if f.name not in names)


def _variant_2011(base: tuple[MessageDef, ...]) -> tuple[MessageDef, ...]:
    by_name = {m.name: m for m in base}
    crm = replace(
        by_name["CRM"],
        fields=(
            by_name["CRM"].fields[0],
            fld(
                "ChargerNumber",
                2,
                1,
                minimum=0,
                maximum=255,
                spn=2561,
                comment="charger number, 1/bit (1 byte in 2011, 1-100)",
            ),
            *_ascii("RegionCode", 3, 6, 2562, "charger/station region code (optional)"),
        ),
        comment="Charger recognition (2011 layout: 1-byte charger number, 6-byte region).",
    )
    brm = replace(
        by_name["BRM"],
        length=41,
        min_length=None,
        fields=_without(by_name["BRM"].fields, "BMSSoftwareVersion"),
        comment="BMS and vehicle recognition, multi-packet, 41 bytes (version 00 01 00 = V1.0).",
    )
    cml = replace(
        by_name["CML"],
        length=6,
        fields=_without(by_name["CML"].fields, "MinOutputCurrent"),
        comment="Charger maximum output capability (2011: no minimum current).",
    )
    ccs = replace(
        by_name["CCS"],
        length=6,
        fields=_without(by_name["CCS"].fields, "ChargingPermitted"),
        comment="Charger charging status (2011: no charging-permitted field).",
    )
    replaced = {"CRM": crm, "BRM": brm, "CML": cml, "CCS": ccs}
    return tuple(replaced.get(m.name, m) for m in base if m.name not in ("CHM", "BHM"))


def _variant_2023a(base: tuple[MessageDef, ...]) -> tuple[MessageDef, ...]:
    by_name = {m.name: m for m in base}
    bst = replace(
        by_name["BST"],
        fields=(
            *by_name["BST"].fields,
            _two_bit(
                "ParameterMismatch", 4, 5, 3513, "charging parameters mismatch (2023 A)", STATE
            ),
        ),
    )
    cst = replace(
        by_name["CST"],
        fields=(
            *by_name["CST"].fields,
            _two_bit(
                "SelfCheckFault",
                3,
                5,
                3522,
                "self-check fault: insulation, short-circuit, adhesion checks (2023 A)",
                FAULT,
            ),
            _two_bit("PrechargeFault", 3, 7, 3522, "pre-charge fault (2023 A)", FAULT),
            _two_bit(
                "ParameterMismatch",
                4,
                5,
                3523,
                "charging parameters mismatch, e.g. BCP voltage outside CML (2023 A)",
                STATE,
            ),
        ),
    )
    replaced = {"BST": bst, "CST": cst}
    return tuple(replaced.get(m.name, m) for m in base)


MESSAGES: dict[str, tuple[MessageDef, ...]] = {
    "2015": MESSAGES_2015,
    "2011": _variant_2011(MESSAGES_2015),
    "2023a": _variant_2023a(MESSAGES_2015),
}

TITLES = {
    "2011": "GB/T 27930-2011",
    "2015": "GB/T 27930-2015",
    "2023a": "GB/T 27930-2023 category A",
}


def normalise_variant(variant: str) -> str:
    """``"2015"``, ``"2011"``, ``"2023a"`` (``"2023A"``, ``"2023"`` accepted); else ValueError."""
    key = str(variant).strip().lower()
    if key == "2023":
        key = "2023a"
    if key not in MESSAGES:
        raise ValueError(f"unknown GB/T 27930 variant {variant!r} (expected one of {VARIANTS})")
    return key
