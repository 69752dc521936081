"""GB/T 27930-2015 messages of the charging phase.

BCL, BCS, CCS, BSM and the optional variable-length arrays BMV, BMT and BSP, in the standard's
order; :mod:`.layout` derives the other variants from them.
"""

from __future__ import annotations

from pile_interop.gbt27930.layout_fields import (
    BMS,
    CHARGER,
    HIGH_LOW,
    STATE,
    MessageDef,
    amps,
    cell_volts_and_group,
    celsius,
    flags,
    message,
    minutes,
    percent,
    point,
    raw,
    two_bit,
    volts,
)

MAX_CELLS = 256
MAX_TEMPERATURES = 128
MAX_RESERVED = 16

_MODES = {1: "constant voltage", 2: "constant current"}
_PAUSED = {0: "paused", 1: "permitted", 2: "untrusted", 3: "not available"}
_PERMITTED = {0: "forbidden", 1: "permitted", 2: "untrusted", 3: "not available"}

BCL = message(
    ("BCL", 0x1000, 6, 5, 50, BMS),
    (
        volts("VoltageDemand", 1, 3072, "charging voltage demand"),
        amps("CurrentDemand", 3, 3073, "charging current demand"),
        raw("ChargeMode", 5, 1, 3074, "1: constant voltage, 2: constant current", _MODES),
    ),
    "Battery charging demand.",
)

BCS = message(
    ("BCS", 0x1100, 7, 9, 250, BMS),
    (
        volts("MeasuredVoltage", 1, 3075, "measured charging voltage"),
        amps("MeasuredCurrent", 3, 3076, "measured charging current"),
        *cell_volts_and_group(
            ("MaxCellVoltage", "MaxCellGroup"),
            5,
            3077,
            (
                "highest cell voltage (bits 1-12 of bytes 5-6)",
                "group number of the highest cell (bits 13-16 of bytes 5-6)",
            ),
        ),
        percent("SOC", 7, 3078, "present state of charge (1 %/bit)"),
        minutes("RemainingTime", 8, 3079, "estimated remaining charging time"),
    ),
    "Battery charging overall status, multi-packet (9 bytes).",
)

CCS = message(
    ("CCS", 0x1200, 6, 8, 50, CHARGER),
    (
        volts("OutputVoltage", 1, 3081, "output voltage"),
        amps("OutputCurrent", 3, 3082, "output current"),
        minutes("ChargingTime", 5, 3083, "cumulative charging time"),
        two_bit("ChargingPermitted", 7, 1, 3929, "00 paused, 01 permitted (2015+)", _PAUSED),
    ),
    "Charger charging status. Bytes 7 (bits 3-8) and 8 are fill.",
)

BSM = message(
    ("BSM", 0x1300, 6, 7, 250, BMS),
    (
        point(
            "MaxCellVoltageIndex",
            1,
            256,
            3085,
            "number of the cell with the highest voltage (offset 1)",
        ),
        celsius("MaxTemperature", 2, 3086, "highest battery temperature"),
        point(
            "MaxTemperaturePoint", 3, 128, 3087, "number of the hottest measuring point (offset 1)"
        ),
        celsius("MinTemperature", 4, 3088, "lowest battery temperature"),
        point(
            "MinTemperaturePoint", 5, 128, 3089, "number of the coldest measuring point (offset 1)"
        ),
        *flags(
            ("CellVoltageState", 6, 1, 3090, "cell voltage too high / too low", HIGH_LOW),
            ("SOCState", 6, 3, 3091, "vehicle SOC too high / too low", HIGH_LOW),
            ("OverCurrent", 6, 5, 3092, "charging over-current", STATE),
            ("OverTemperature", 6, 7, 3093, "battery over-temperature", STATE),
            ("InsulationState", 7, 1, 3094, "battery insulation", STATE),
            ("ConnectorState", 7, 3, 3095, "output connector", STATE),
            ("ChargePermitted", 7, 5, 3096, "00 forbidden, 01 permitted", _PERMITTED),
        ),
    ),
    "Traction battery status. Byte 7 bits 7-8 are fill.",
)

BMV = message(
    ("BMV", 0x1500, 7, 2 * MAX_CELLS, 10_000, BMS),
    (
        f
        for i in range(MAX_CELLS)
        for f in cell_volts_and_group(
            (f"Cell{i + 1:03d}Voltage", f"Cell{i + 1:03d}Group"),
            2 * i + 1,
            3101 + i,
            (f"cell {i + 1} voltage", f"cell {i + 1} group number"),
        )
    ),
    "Cell voltages (optional), multi-packet, variable length: 2 bytes per cell, up to 256.",
    element_size=2,
)

BMT = message(
    ("BMT", 0x1600, 7, MAX_TEMPERATURES, 10_000, BMS),
    (
        celsius(f"Temperature{i + 1:03d}", i + 1, 3361 + i, f"measuring point {i + 1}")
        for i in range(MAX_TEMPERATURES)
    ),
    "Battery temperatures (optional), multi-packet, variable length: 1 byte per point, up to 128.",
    element_size=1,
)

BSP = message(
    ("BSP", 0x1700, 7, MAX_RESERVED, 10_000, BMS),
    (
        raw(f"Reserved{i + 1:02d}", i + 1, 1, 3491 + i, f"reserved byte {i + 1}")
        for i in range(MAX_RESERVED)
    ),
    "Traction battery reserved message (optional), variable length, up to 16 bytes.",
    element_size=1,
)

MESSAGES: tuple[MessageDef, ...] = (BCL, BCS, CCS, BSM, BMV, BMT, BSP)
"""The messages of the charging phase, in the standard's order."""
