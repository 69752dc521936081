"""GB/T 27930-2015 messages that end a session: stop reasons, statistics and error messages.

BST, CST (stopping), BSD, CSD (end statistics), BEM, CEM (errors: one time-out flag per awaited
message), in the standard's order; :mod:`.layout` derives the other variants from them.
"""

from __future__ import annotations

from pile_interop.gbt27930.layout_fields import (
    BMS,
    CHARGER,
    FAULT,
    REACHED,
    STATE,
    STOPPED,
    TIMEOUT,
    Field,
    MessageDef,
    cell_volts,
    celsius,
    flags,
    message,
    minutes,
    percent,
    raw,
    tenths,
)

BST = message(
    ("BST", 0x1900, 4, 4, 10, BMS),
    flags(
        ("SOCTargetReached", 1, 1, 3511, "required SOC reached", REACHED),
        ("TotalVoltageReached", 1, 3, 3511, "total voltage set point reached", REACHED),
        ("CellVoltageReached", 1, 5, 3511, "cell voltage set point reached", REACHED),
        ("ChargerStopped", 1, 7, 3511, "stopped on the charger's initiative", STOPPED),
        ("InsulationFault", 2, 1, 3512, "insulation fault", FAULT),
        ("OutputConnectorOverTemp", 2, 3, 3512, "output connector over-temperature", FAULT),
        (
            "ComponentOverTemp",
            2,
            5,
            3512,
            "BMS component / output connector over-temperature",
            FAULT,
        ),
        ("ChargingConnectorFault", 2, 7, 3512, "charging connector fault", FAULT),
        ("BatteryOverTemp", 3, 1, 3512, "battery pack over-temperature", FAULT),
        ("HVRelayFault", 3, 3, 3512, "high-voltage relay fault", FAULT),
        ("CC2VoltageFault", 3, 5, 3512, "detection point 2 voltage fault", FAULT),
        ("OtherFault", 3, 7, 3512, "other fault", FAULT),
        ("OverCurrentError", 4, 1, 3513, "current above demand", STATE),
        ("VoltageError", 4, 3, 3513, "voltage abnormal", STATE),
    ),
    "BMS stops charging: reasons (byte 1), faults (bytes 2-3), errors (byte 4).",
)

CST = message(
    ("CST", 0x1A00, 4, 4, 10, CHARGER),
    flags(
        ("ConditionReached", 1, 1, 3521, "charger's set condition reached", REACHED),
        ("ManualStop", 1, 3, 3521, "stopped manually", STOPPED),
        ("FaultStop", 1, 5, 3521, "stopped by a fault", STOPPED),
        ("BMSStopped", 1, 7, 3521, "stopped on the BMS's initiative (BST received)", STOPPED),
        ("ChargerOverTemp", 2, 1, 3522, "charger over-temperature", FAULT),
        ("ConnectorFault", 2, 3, 3522, "charging connector fault", FAULT),
        ("InternalOverTemp", 2, 5, 3522, "charger internal over-temperature", FAULT),
        ("EnergyTransferFault", 2, 7, 3522, "required energy cannot be delivered", FAULT),
        ("EmergencyStop", 3, 1, 3522, "charger emergency stop", FAULT),
        ("OtherFault", 3, 3, 3522, "other fault", FAULT),
        ("CurrentMismatch", 4, 1, 3523, "current mismatch", STATE),
        ("VoltageError", 4, 3, 3523, "voltage abnormal", STATE),
    ),
    "Charger stops charging: reasons (byte 1), faults (bytes 2-3), errors (byte 4).",
)

BSD = message(
    ("BSD", 0x1C00, 6, 7, 250, BMS),
    (
        percent("SOC", 1, 3601, "state of charge at the end"),
        cell_volts("MinCellVoltage", 2, 3602, "lowest cell voltage"),
        cell_volts("MaxCellVoltage", 4, 3603, "highest cell voltage"),
        celsius("MinTemperature", 6, 3604, "lowest battery temperature"),
        celsius("MaxTemperature", 7, 3605, "highest battery temperature"),
    ),
    "BMS statistics at the end of charging.",
)

CSD = message(
    ("CSD", 0x1D00, 6, 8, 250, CHARGER),
    (
        minutes("ChargingTime", 1, 3611, "cumulative charging time"),
        tenths("OutputEnergy", 3, "kWh", 1000, 3612, "output energy"),
        raw(
            "ChargerNumber",
            5,
            4,
            3613,
            "charger number (the 2015 table says 'offset 1'; sent as in CRM, raw)",
        ),
    ),
    "Charger statistics at the end of charging.",
)


def _timeouts(*rows: tuple[str, int, int, int, str]) -> tuple[Field, ...]:
    """BEM / CEM: a two-bit time-out flag per awaited message (name, byte, bit, SPN, what)."""
    return flags(
        *(
            (name, byte, bit, spn, f"timeout waiting for {what}", TIMEOUT)
            for name, byte, bit, spn, what in rows
        )
    )


BEM = message(
    ("BEM", 0x1E00, 2, 4, 250, BMS),
    _timeouts(
        ("CRM00Timeout", 1, 1, 3901, "CRM 0x00"),
        ("CRMAATimeout", 1, 3, 3902, "CRM 0xAA"),
        ("CTSCMLTimeout", 2, 1, 3903, "CTS / CML"),
        ("CROTimeout", 2, 3, 3904, "CRO"),
        ("CCSTimeout", 3, 1, 3905, "CCS"),
        ("CSTTimeout", 3, 3, 3906, "CST"),
        ("CSDTimeout", 4, 1, 3907, "CSD"),
    ),
    "BMS error message: 2-bit timeout flags per awaited charger message.",
)

CEM = message(
    ("CEM", 0x1F00, 2, 4, 250, CHARGER),
    _timeouts(
        ("BRMTimeout", 1, 1, 3921, "BRM"),
        ("BCPTimeout", 2, 1, 3922, "BCP"),
        ("BROTimeout", 2, 3, 3923, "BRO"),
        ("BCSTimeout", 3, 1, 3924, "BCS"),
        ("BCLTimeout", 3, 3, 3925, "BCL"),
        ("BSTTimeout", 3, 5, 3926, "BST"),
        ("BSDTimeout", 4, 1, 3927, "BSD"),
    ),
    "Charger error message: 2-bit timeout flags per awaited BMS message.",
)

MESSAGES: tuple[MessageDef, ...] = (BST, CST, BSD, CSD, BEM, CEM)
"""The messages that end a session, in the standard's order."""
