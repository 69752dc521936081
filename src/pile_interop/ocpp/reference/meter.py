"""The reference stations' simulated energy meter, shared by every OCPP version.

Each connector (EVSE) has an energy register (Wh) that rises while energy flows, at
``power_w`` in protocol time. Measurands are named as OCPP 1.6 and 2.0.1 both spell them
(``Energy.Active.Import.Register``, ``Voltage.L1`` …); a version's module turns readings into
its own ``SampledValue`` types.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from pile_interop.core.clock import Clock

#: Charging power of the simulated EV, in W (11 kW, three phases).
CHARGING_POWER_W = 11_000.0
#: Nominal phase voltage in V and the number of phases.
NOMINAL_VOLTAGE_V = 230.0
PHASES = 3
#: Current the station offers per phase, in A.
OFFERED_CURRENT_A = 16.0
#: A constant station temperature in °C.
TEMPERATURE_C = 25.0
#: Simulated EV battery: capacity in Wh and state of charge at plug-in, in %.
EV_BATTERY_WH = 60_000.0
EV_INITIAL_SOC = 20.0

#: The measurands the simulated meter can read.
MEASURANDS = (
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Power.Offered",
    "Current.Import",
    "Current.Offered",
    "Voltage",
    "Temperature",
    "SoC",
)


class EnergyMeter:
    """One connector's meter: an energy register driven by protocol time."""

    def __init__(self, clock: Clock, *, power_w: float = CHARGING_POWER_W) -> None:
        self._clock = clock
        self.power_w = power_w
        self._wh = 0.0
        self._flowing_since: float | None = None
        self._session_start_wh = 0.0

    @property
    def flowing(self) -> bool:
        return self._flowing_since is not None

    def energy_wh(self) -> float:
        """The register now, in Wh."""
        if self._flowing_since is None:
            return self._wh
        elapsed = self._clock.monotonic() - self._flowing_since
        return self._wh + self.power_w * max(0.0, elapsed) / 3600.0

    def register_wh(self) -> int:
        """The register as an integer Wh value (``meterStart`` / ``meterStop``)."""
        return math.floor(self.energy_wh())

    def set_flowing(self, flowing: bool) -> None:
        """Start or stop energy flow (the register keeps its value)."""
        if flowing and self._flowing_since is None:
            self._flowing_since = self._clock.monotonic()
        elif not flowing and self._flowing_since is not None:
            self._wh = self.energy_wh()
            self._flowing_since = None

    def start_session(self) -> None:
        """Mark the start of an EV session (for the simulated state of charge)."""
        self._session_start_wh = self.energy_wh()

    def read(self, measurand: str, phase: str | None = None) -> float:
        """The value of ``measurand`` now (phase values are per phase)."""
        power = self.power_w if self.flowing else 0.0
        if measurand == "Energy.Active.Import.Register":
            return float(self.register_wh())
        if measurand == "Power.Active.Import":
            return power / PHASES if phase else power
        if measurand == "Power.Offered":
            return OFFERED_CURRENT_A * NOMINAL_VOLTAGE_V * PHASES
        if measurand == "Current.Import":
            return power / (NOMINAL_VOLTAGE_V * PHASES)
        if measurand == "Current.Offered":
            return OFFERED_CURRENT_A
        if measurand == "Voltage":
            return NOMINAL_VOLTAGE_V
        if measurand == "Temperature":
            return TEMPERATURE_C
        if measurand == "SoC":
            charged = self.energy_wh() - self._session_start_wh
            return min(100.0, EV_INITIAL_SOC + 100.0 * charged / EV_BATTERY_WH)
        raise ValueError(f"unsupported measurand {measurand!r}")


def split_measurand(item: str) -> tuple[str, str | None]:
    """``"Voltage.L1"`` → ``("Voltage", "L1")``; ``"Voltage"`` → ``("Voltage", None)``."""
    for measurand in MEASURANDS:
        if item == measurand:
            return item, None
        if item.startswith(measurand + "."):
            return measurand, item[len(measurand) + 1 :]
    return item, None


def format_value(value: float) -> str:
    """A reading as OCPP writes it: integral values without decimals, others with two."""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def next_aligned_boundary(now: datetime, interval_s: int) -> datetime:
    """The next clock-aligned boundary strictly after ``now``.

    §9.1.5 ClockAlignedDataInterval: "evenly spaced aggregation intervals per day, starting at
    00:00:00 (midnight)".
    """
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    since = (now - midnight).total_seconds()
    steps = math.floor(since / interval_s) + 1
    return midnight + timedelta(seconds=steps * interval_s)
