"""Meter readings of the reference OCPP 2.0.1 station (Part 2 block J).

The simulated energy meter is the shared one (:class:`~pile_interop.ocpp.reference.meter.
EnergyMeter`: a register that rises at 11 kW of protocol time while energy flows); this module
turns its readings into 2.0.1 ``MeterValueType`` / ``SampledValueType`` items (numeric values,
``unitOfMeasure`` objects) and reads the measurand lists of the device model.
"""

from __future__ import annotations

import logging
from datetime import datetime

from ocpp.v201.datatypes import MeterValueType, SampledValueType, UnitOfMeasureType

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.reference.meter import (
    EnergyMeter,
    next_aligned_boundary,
    split_measurand,
)

__all__ = [
    "EnergyMeter",
    "measurand_list",
    "meter_value",
    "next_aligned_boundary",
    "read_meter",
    "sampled_values",
]

logger = logging.getLogger(__name__)

#: Units of the measurands the simulated meter can read (2.0.1 StandardizedUnitsOfMeasure).
UNITS: dict[str, str] = {
    "Energy.Active.Import.Register": "Wh",
    "Power.Active.Import": "W",
    "Power.Offered": "W",
    "Current.Import": "A",
    "Current.Offered": "A",
    "Voltage": "V",
    "Temperature": "Celsius",
    "SoC": "Percent",
}


def measurand_list(text: str) -> list[str]:
    """A device-model measurand list (``"Energy.Active.Import.Register,Voltage"``)."""
    return [item.strip() for item in text.split(",") if item.strip()]


def read_meter(meter: EnergyMeter, items: list[str]) -> list[tuple[str, float]]:
    """(measurand item, value) pairs; measurands the simulated meter cannot read are left out
    (a SetVariables of an unsupported measurand is the device model's business)."""
    readings = []
    for item in items:
        measurand, phase = split_measurand(item)
        if measurand not in UNITS:
            logger.debug("measurand %s not supported by the simulated meter", item)
            continue
        readings.append((item, meter.read(measurand, phase)))
    return readings


def sampled_values(readings: list[tuple[str, float]], context: str) -> list[SampledValueType]:
    """``SampledValueType`` items for (measurand item, value) pairs in one reading context."""
    values = []
    for item, value in readings:
        measurand, phase = split_measurand(item)
        values.append(
            SampledValueType(
                value=round(float(value), 2),
                context=context,  # type: ignore[arg-type]
                measurand=measurand,  # type: ignore[arg-type]
                phase=phase,  # type: ignore[arg-type]
                unit_of_measure=UnitOfMeasureType(unit=UNITS[measurand]),
            )
        )
    return values


def meter_value(when: datetime, values: list[SampledValueType]) -> MeterValueType:
    return MeterValueType(timestamp=utc_iso(when), sampled_value=values)
