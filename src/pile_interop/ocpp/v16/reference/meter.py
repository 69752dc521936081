"""The reference 1.6 station's ``SampledValue`` readings (OCPP 1.6 §3.12) of the shared
simulated meter (:mod:`pile_interop.ocpp.reference.meter`). Connector 0 stands for the
station's main meter: the sum of all connectors.
"""

from __future__ import annotations

import logging
from datetime import datetime

from ocpp.v16.datatypes import MeterValue, SampledValue
from ocpp.v16.enums import Measurand, UnitOfMeasure

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.reference.meter import format_value, split_measurand

logger = logging.getLogger(__name__)

_UNITS: dict[str, str] = {
    Measurand.energy_active_import_register: UnitOfMeasure.wh,
    Measurand.power_active_import: UnitOfMeasure.w,
    Measurand.power_offered: UnitOfMeasure.w,
    Measurand.current_import: UnitOfMeasure.a,
    Measurand.current_offered: UnitOfMeasure.a,
    Measurand.voltage: UnitOfMeasure.v,
    Measurand.temperature: UnitOfMeasure.celsius,
    Measurand.soc: UnitOfMeasure.percent,
}


def sampled_values(
    readings: list[tuple[str, float]], context: str, *, location: str | None = None
) -> list[SampledValue]:
    """``SampledValue`` items for (measurand item, value) pairs in one reading ``context``."""
    values = []
    for item, value in readings:
        measurand, phase = split_measurand(item)
        unit = _UNITS.get(measurand)
        values.append(
            SampledValue(
                value=format_value(value),
                context=context,  # type: ignore[arg-type]
                measurand=measurand,  # type: ignore[arg-type]
                phase=phase,  # type: ignore[arg-type]
                location=location,  # type: ignore[arg-type]
                unit=unit,  # type: ignore[arg-type]
            )
        )
    return values


def meter_value(when: datetime, values: list[SampledValue]) -> MeterValue:
    return MeterValue(timestamp=utc_iso(when), sampled_value=values)
