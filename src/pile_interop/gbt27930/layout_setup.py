"""GB/T 27930-2015 messages before charging: handshake, identification and configuration.

CHM, BHM (handshake, 2015+), CRM, BRM (identification), BCP, CTS, CML, BRO, CRO
(configuration), in the standard's order; :mod:`.layout` derives the other variants from them.
"""

from __future__ import annotations

from pile_interop.gbt27930.layout_fields import (
    BMS,
    CHARGER,
    MessageDef,
    amps,
    ascii_text,
    bcd,
    cell_volts,
    celsius,
    fld,
    message,
    raw,
    tenths,
    version,
    volts,
)

READY = {0x00: "not ready", 0xAA: "ready", 0xFF: "invalid"}
_RECOGNISED = {0x00: "not recognised", 0xAA: "recognised"}
_OWNERSHIP = {0: "leased", 1: "owned by the vehicle"}
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

# -- handshake ---------------------------------------------------------------------------------

CHM = message(
    ("CHM", 0x2600, 6, 3, 250, CHARGER),
    version(2600, "charger communication"),
    "Charger handshake (2015+): the charger's communication protocol version.",
)

BHM = message(
    ("BHM", 0x2700, 6, 2, 250, BMS),
    (volts("MaxChargeVoltage", 1, 2601, "maximum permissible total charging voltage"),),
    "BMS handshake (2015+).",
)

# -- identification ----------------------------------------------------------------------------

CRM = message(
    ("CRM", 0x0100, 6, 8, 250, CHARGER),
    (
        raw(
            "RecognitionResult",
            1,
            1,
            2560,
            "0x00: BMS not recognised, 0xAA: BMS recognised",
            _RECOGNISED,
        ),
        raw("ChargerNumber", 2, 4, 2561, "charger number, 1/bit"),
        *ascii_text("RegionCode", 6, 3, 2562, "charger/station region code (optional)"),
    ),
    "Charger recognition.",
)

_PRODUCTION_DATE = (
    # field, byte, offset, minimum, maximum, what the comment adds
    ("Year", 17, 1985, 1985, 2240, " (offset 1985, optional)"),
    ("Month", 18, 0, 1, 12, " (optional)"),
    ("Day", 19, 0, 1, 31, " (optional)"),
)

BRM = message(
    ("BRM", 0x0200, 7, 49, 250, BMS),
    (
        *version(2565, "BMS communication"),
        raw("BatteryType", 4, 1, 2566, "battery type", BATTERY_TYPES),
        tenths("RatedCapacity", 5, "Ah", 1000, 2567, "rated capacity of the traction battery"),
        volts("RatedVoltage", 7, 2568, "rated total voltage of the traction battery"),
        *ascii_text("BatteryMaker", 9, 4, 2569, "battery manufacturer name (optional)"),
        raw(
            "PackSerialNumber", 13, 4, 2570, "battery pack serial number (optional, maker-defined)"
        ),
        *(
            fld(
                f"Production{part}",
                byte,
                1,
                offset=offset,
                minimum=lowest,
                maximum=highest,
                unit=part.lower(),
                spn=2571,
                comment=f"battery pack production date: {part.lower()}{more}",
            )
            for part, byte, offset, lowest, highest, more in _PRODUCTION_DATE
        ),
        raw("ChargeCycles", 20, 3, 2572, "battery pack charge count (optional)"),
        raw("Ownership", 23, 1, 2573, "battery pack ownership (optional)", _OWNERSHIP),
        # byte 24 is SPN 2574, "reserved": a fill byte (0xFF).
        *ascii_text("VIN", 25, 17, 2575, "vehicle identification number (optional)"),
        raw("BMSSoftwareVersion", 42, 8, 2576, "BMS software version, 8 bytes, raw (2015+)"),
    ),
    "BMS and vehicle recognition, multi-packet. Table 5 of the 2015 text says 41 bytes while "
    "its field table adds up to 49 (the 2011 fields + the 8-byte BMS software version); "
    "chargers in the field send 49, so 49 is the length and 41 is accepted.",
    min_length=41,
)

# -- configuration -----------------------------------------------------------------------------

BCP = message(
    ("BCP", 0x0600, 7, 13, 500, BMS),
    (
        cell_volts("MaxCellChargeVoltage", 1, 2816, "maximum permissible cell charging voltage"),
        amps("MaxChargeCurrent", 3, 2817, "maximum permissible charging current"),
        tenths(
            "NominalEnergy", 5, "kWh", 1000, 2818, "nominal total energy of the traction battery"
        ),
        volts("MaxChargeVoltage", 7, 2819, "maximum permissible total charging voltage"),
        celsius("MaxTemperature", 9, 2820, "maximum permissible temperature"),
        tenths(
            "SOC",
            10,
            "%",
            100,
            2821,
            "state of charge of the vehicle battery (0.1 %/bit, unlike BCS)",
        ),
        volts("BatteryVoltage", 12, 2822, "present total voltage of the vehicle battery"),
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
CTS = message(
    ("CTS", 0x0700, 6, 7, 500, CHARGER),
    (
        *(
            f
            for unit, byte in _CTS_DIGITS
            for f in (
                bcd(f"{unit}Units", byte, False, 2823, f"{unit.lower()}, BCD units digit"),
                bcd(f"{unit}Tens", byte, True, 2823, f"{unit.lower()}, BCD tens digit"),
            )
        ),
        bcd("YearUnits", 6, False, 2823, "year, BCD units digit"),
        bcd("YearTens", 6, True, 2823, "year, BCD tens digit"),
        bcd("YearHundreds", 7, False, 2823, "year, BCD hundreds digit"),
        bcd("YearThousands", 7, True, 2823, "year, BCD thousands digit"),
    ),
    "Charger time synchronisation (optional): compressed BCD, second to year, the year as two "
    "little-endian BCD bytes (2015 is sent as 15 20).",
)

CML = message(
    ("CML", 0x0800, 6, 8, 250, CHARGER),
    (
        volts("MaxOutputVoltage", 1, 2824, "maximum output voltage"),
        volts("MinOutputVoltage", 3, 2825, "minimum output voltage"),
        amps("MaxOutputCurrent", 5, 2826, "maximum output current"),
        amps("MinOutputCurrent", 7, 2827, "minimum output current (2015+)"),
    ),
    "Charger maximum output capability.",
)

BRO = message(
    ("BRO", 0x0900, 4, 1, 250, BMS),
    (raw("BMSReady", 1, 1, 2829, "0x00 not ready, 0xAA ready for charging, 0xFF invalid", READY),),
    "BMS ready for charging.",
)

CRO = message(
    ("CRO", 0x0A00, 4, 1, 250, CHARGER),
    (raw("ChargerReady", 1, 1, 2830, "0x00 not ready, 0xAA ready to output, 0xFF invalid", READY),),
    "Charger ready for output.",
)

MESSAGES: tuple[MessageDef, ...] = (CHM, BHM, CRM, BRM, BCP, CTS, CML, BRO, CRO)
"""The messages before charging, in the standard's order."""
