"""The GB/T 27930 BMS (vehicle, source address 0xF4): the suite's mock vehicle when a charger
is under test, and the reference BMS (``pile-interop serve-reference bms``).

Flow (GB/T 27930-2015, §9-10 and annex D):

* **handshake** — waits for CHM; answers BHM every 250 ms until CRM 0x00. A CRM 0x00 without
  a CHM before it comes from a GB/T 27930-2011 charger: the BMS skips BHM and identifies
  (compatibility, §4.6). A 2011 BMS ignores CHM and waits for CRM. The first CRM 0x00 must come
  within :data:`~.states.BMS_CRM_TIMEOUT_S` (BEM ``CRM00Timeout``).
* **identification** — BRM (multi-packet, 49 bytes; 41 in 2011) every 250 ms until CRM 0xAA
  (5 s, ``CRMAATimeout``).
* **configuration** — BCP (multi-packet) every 500 ms until CML (5 s, ``CTSCMLTimeout``); the
  charger's limits are checked (:meth:`Bms27930.accepts_limits`); BRO 0x00, after
  :attr:`BmsParams.ready_delay_s` BRO 0xAA, until CRO 0xAA (first CRO within 5 s, 0xAA within
  60 s: ``CROTimeout``).
* **charging** — BCL every 50 ms, BCS (multi-packet) and BSM every 250 ms, optional BMV / BMT /
  BSP every 10 s; CCS supervised at 1 s (``CCSTimeout``). :meth:`Bms27930.pause` /
  :meth:`Bms27930.resume` set the BSM charge permit (00 / 01). The SOC rises with
  :attr:`BmsParams.soc_rate` while current flows; at :attr:`BmsParams.target_soc` the BMS
  stops (BST ``SOCTargetReached``).
* **stopping / end** — BST every 10 ms until CST (5 s, ``CSTTimeout``; a CST gives
  ``ChargerStopped``), then BSD every 250 ms until CSD (10 s, ``CSDTimeout``) — ``done``.
* **errors** — a timeout sends BEM (250 ms) with its bit; a CEM received stops charging too.
  Unless stopping, the BMS waits for the charger's new CRM 0x00 (at least
  :data:`~.states.ERROR_SETTLE_S` after the error) and identifies again — up to three times.

Hooks for mutants (besides those of :class:`~.peer.Peer27930`): :meth:`accepts_limits`,
:meth:`ready_delay`, ``values_<msg>``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import can

from pile_interop.core.clock import Clock
from pile_interop.gbt27930.ids import BMS_ADDRESS, CHARGER_ADDRESS
from pile_interop.gbt27930.layout_fields import BMS
from pile_interop.gbt27930.peer import Peer27930
from pile_interop.gbt27930.records import fields_of, merge
from pile_interop.gbt27930.states import (
    CHARGING,
    CONFIGURATION,
    DONE,
    END,
    ERROR_SETTLE_S,
    HANDSHAKE,
    IDENTIFICATION,
    STOPPING,
    StopRequested,
)

logger = logging.getLogger(__name__)

__all__ = ["BMS_READY_S", "Bms27930", "BmsParams"]

BMS_READY_S = 0.5
"""Protocol seconds from CML to BRO 0xAA (BRO 0x00 meanwhile)."""
READY = 0xAA
NOT_READY = 0x00
OPTIONAL = ("BMV", "BMT", "BSP")


def _is_00(values: Mapping[str, Any]) -> bool:
    return values.get("RecognitionResult") == NOT_READY


def _is_aa(values: Mapping[str, Any]) -> bool:
    return values.get("RecognitionResult") == READY


@dataclass
class BmsParams:
    """The vehicle's battery and its live values (change them with ``set``)."""

    max_charge_voltage: float = 603.0
    """BHM / BCP maximum permissible total charging voltage, V."""
    max_cell_voltage: float = 4.14
    max_current: float = 100.0
    """BCP maximum charging current, A (sent negative)."""
    nominal_energy: float = 60.0
    max_temperature: float = 60.0
    battery_voltage: float = 490.0
    """Present battery voltage (BCP), V."""
    soc: float = 50.0
    target_soc: float = 100.0
    soc_rate: float = 0.0
    """SOC rise in % per protocol second while current flows (0: constant)."""
    voltage_demand: float = 560.0
    current_demand: float = 50.0
    """BCL current demand, A (sent negative)."""
    charge_mode: int = 2
    """1 constant voltage, 2 constant current."""
    cell_voltage: float = 3.71
    cell_group: int = 1
    temperature_max: float = 30.0
    temperature_min: float = 25.0
    charge_permit: bool = True
    """BSM charge permit (False: 00, the charger pauses)."""
    remaining_minutes: int = 60
    battery_type: int = 3
    rated_capacity: float = 150.0
    rated_voltage: float = 492.1
    maker: str | None = "PILE"
    vin: str | None = "LPIDEMO0000000001"
    software_version: int = 0x0000000000000101
    protocol_version: str | None = None
    """BRM version; None: 1.1 (2015, 2023 A) or 1.0 (2011)."""
    cells: int = 8
    """Cells reported in BMV (and temperature points in BMT)."""
    send_optional: bool = False
    """Send BMV, BMT and BSP (optional, every 10 s) while charging."""
    ready_delay_s: float = BMS_READY_S


class Bms27930(Peer27930):
    """The BMS's state machine (address 0xF4); see the module documentation."""

    ROLE = "bms"
    ADDRESS = BMS_ADDRESS
    PEER_ADDRESS = CHARGER_ADDRESS
    SENDER = BMS
    ERROR_MESSAGE = "BEM"
    PEER_ERROR_MESSAGE = "CEM"
    STOP_MESSAGE = "BST"
    PEER_STOP_MESSAGE = "CST"
    TIMEOUT_BITS: ClassVar[dict[str, str]] = {
        "CRM00": "CRM00Timeout",
        "CRMAA": "CRMAATimeout",
        "CML": "CTSCMLTimeout",
        "CRO": "CROTimeout",
        "CROAA": "CROTimeout",
        "CCS": "CCSTimeout",
        "CST": "CSTTimeout",
        "CSD": "CSDTimeout",
    }
    STOP_REASONS: ClassVar[dict[str, dict[str, int]]] = {
        "soc": {"SOCTargetReached": 1},
        "manual": {"SOCTargetReached": 1},
        "total_voltage": {"TotalVoltageReached": 1},
        "cell_voltage": {"CellVoltageReached": 1},
        "peer": {"ChargerStopped": 1},
        "insulation": {"InsulationFault": 1},
        "emergency": {"OtherFault": 1},
        "fault": {"OtherFault": 1},
        "overtemp": {"BatteryOverTemp": 1},
        "connector": {"ChargingConnectorFault": 1},
        "relay": {"HVRelayFault": 1},
        "mismatch": {"OtherFault": 1},
    }

    def __init__(
        self,
        bus: can.BusABC,
        *,
        variant: str = "2015",
        clock: Clock | None = None,
        params: BmsParams | None = None,
        name: str = "bms",
        owns_bus: bool = False,
    ) -> None:
        super().__init__(bus, variant=variant, clock=clock, name=name, owns_bus=owns_bus)
        self._params = params or BmsParams()
        self._reset_session_state()

    @property
    def params(self) -> BmsParams:
        return self._params

    def _reset_session_state(self) -> None:
        self.bms_ready = NOT_READY
        self.insulation_failed = False

    # -- control surface -----------------------------------------------------------------------

    async def pause(self) -> None:
        """BSM charge permit 00: the charger must stop its output current."""
        self.set(charge_permit=False)

    async def resume(self) -> None:
        """BSM charge permit 01: the charger may deliver current again."""
        self.set(charge_permit=True)

    async def insulation_fault(self) -> None:
        self.insulation_failed = True
        await super().insulation_fault()

    def _on_params_changed(self, params: Mapping[str, Any]) -> None:
        if "charge_permit" in params:
            permitted = bool(params["charge_permit"])
            self._event(
                "resume" if permitted else "pause",
                detail=f"BSM charge permit {'01' if permitted else '00'}",
            )

    # -- hooks ---------------------------------------------------------------------------------

    def stop_fields(self, reason: str) -> dict[str, int]:
        if reason == "mismatch" and self.variant == "2023a":
            return {"ParameterMismatch": 1}
        return super().stop_fields(reason)

    def accepts_limits(self, cml: Mapping[str, Any]) -> bool:
        """Whether the charger's CML range can charge this battery."""
        p = self.params
        highest = cml.get("MaxOutputVoltage")
        lowest = cml.get("MinOutputVoltage")
        if highest is not None and p.battery_voltage > float(highest):
            return False
        return not (lowest is not None and float(lowest) > p.max_charge_voltage)

    def ready_delay(self) -> float:
        """Protocol seconds from CML to BRO 0xAA."""
        return self.params.ready_delay_s

    # -- message values ------------------------------------------------------------------------

    def values_bhm(self) -> dict[str, Any]:
        return {"MaxChargeVoltage": self.params.max_charge_voltage}

    def values_brm(self) -> dict[str, Any]:
        p = self.params
        version = p.protocol_version or ("1.0" if self.variant == "2011" else "1.1")
        return {
            "Version": version,
            "BatteryType": p.battery_type,
            "RatedCapacity": p.rated_capacity,
            "RatedVoltage": p.rated_voltage,
            "BatteryMaker": p.maker,
            "PackSerialNumber": 1,
            "ProductionYear": 2024,
            "ProductionMonth": 1,
            "ProductionDay": 1,
            "ChargeCycles": 10,
            "Ownership": 1,
            "VIN": p.vin,
            "BMSSoftwareVersion": p.software_version,
        }

    def values_bcp(self) -> dict[str, Any]:
        p = self.params
        return {
            "MaxCellChargeVoltage": p.max_cell_voltage,
            "MaxChargeCurrent": -abs(p.max_current),
            "NominalEnergy": p.nominal_energy,
            "MaxChargeVoltage": p.max_charge_voltage,
            "MaxTemperature": p.max_temperature,
            "SOC": round(p.soc, 1),
            "BatteryVoltage": p.battery_voltage,
        }

    def values_bro(self) -> dict[str, Any]:
        return {"BMSReady": self.bms_ready}

    def values_bcl(self) -> dict[str, Any]:
        p = self.params
        return {
            "VoltageDemand": p.voltage_demand,
            "CurrentDemand": -abs(p.current_demand),
            "ChargeMode": p.charge_mode,
        }

    def values_bcs(self) -> dict[str, Any]:
        p = self.params
        ccs = self.last.get("CCS")
        measured_v = p.battery_voltage
        measured_a = 0.0
        if ccs is not None:
            measured_v = float(ccs.values.get("OutputVoltage", measured_v)) or measured_v
            measured_a = float(ccs.values.get("OutputCurrent", 0.0))
        return {
            "MeasuredVoltage": measured_v,
            "MeasuredCurrent": measured_a,
            "MaxCellVoltage": p.cell_voltage,
            "MaxCellGroup": p.cell_group,
            "SOC": max(0, min(100, round(p.soc))),
            "RemainingTime": max(0, min(600, p.remaining_minutes)),
        }

    def values_bsm(self) -> dict[str, Any]:
        p = self.params
        return {
            "MaxCellVoltageIndex": 1,
            "MaxTemperature": p.temperature_max,
            "MaxTemperaturePoint": 1,
            "MinTemperature": p.temperature_min,
            "MinTemperaturePoint": 2,
            "CellVoltageState": 0,
            "SOCState": 0,
            "OverCurrent": 0,
            "OverTemperature": 0,
            "InsulationState": 1 if self.insulation_failed else 0,
            "ConnectorState": 0,
            "ChargePermitted": 1 if p.charge_permit else 0,
        }

    def values_bmv(self) -> dict[str, Any]:
        p = self.params
        out: dict[str, Any] = {}
        for i in range(1, max(1, p.cells) + 1):
            out[f"Cell{i:03d}Voltage"] = p.cell_voltage
            out[f"Cell{i:03d}Group"] = p.cell_group
        return out

    def values_bmt(self) -> dict[str, Any]:
        p = self.params
        return {f"Temperature{i:03d}": p.temperature_max for i in range(1, max(1, p.cells) + 1)}

    def values_bsp(self) -> dict[str, Any]:
        return {"Reserved01": 0xFF}

    def values_bst(self) -> dict[str, Any]:
        return merge(fields_of("BST", self.variant), self.stop_fields_sent.items())

    def values_bsd(self) -> dict[str, Any]:
        p = self.params
        return {
            "SOC": max(0, min(100, round(p.soc))),
            "MinCellVoltage": max(0.0, round(p.cell_voltage - 0.02, 2)),
            "MaxCellVoltage": p.cell_voltage,
            "MinTemperature": p.temperature_min,
            "MaxTemperature": p.temperature_max,
        }

    def values_bem(self) -> dict[str, Any]:
        return merge(fields_of("BEM", self.variant), self.error_bits.items())

    def after_emit(self, name: str, values: Mapping[str, Any]) -> None:
        if name != "BCL" or self.phase != CHARGING:
            return
        p = self.params
        ccs = self.last.get("CCS")
        flowing = ccs is not None and float(ccs.values.get("OutputCurrent", 0.0)) < 0
        if p.soc_rate > 0 and flowing:
            p.soc = min(100.0, p.soc + p.soc_rate * self.period("BCL"))
        if p.soc >= p.target_soc and self.waits.pending is None:
            self.waits.interrupt(StopRequested("soc", self.stop_fields("soc"), "local"))

    # -- the session ---------------------------------------------------------------------------

    async def _handshake(self) -> None:
        self._set_phase(HANDSHAKE)
        t0 = self.clock.monotonic()
        if self.variant != "2011":
            await self.waits.until(
                lambda: self._rx_after("CHM", t0) or self._rx_after("CRM", t0, _is_00),
                self._watch("CRM00", "CRM", t0, "until"),
            )
            if self._rx_after("CRM", t0, _is_00) and not self._rx_after("CHM", t0):
                self.peer_variant = "2011"
                self._event(
                    "compatibility",
                    message="CRM",
                    detail="CRM without CHM: GB/T 27930-2011 charger, no BHM",
                )
                return
            t1 = await self.tx.send_from_now("BHM")
            try:
                await self.waits.until(
                    lambda: self._rx_after("CRM", t0, _is_00),
                    self._watch("CRM00", "CRM", t1, "until"),
                )
            finally:
                self.tx.stop("BHM")
        else:
            await self.waits.until(
                lambda: self._rx_after("CRM", t0, _is_00),
                self._watch("CRM00", "CRM", t0, "until"),
            )

    async def _identification(self) -> None:
        self._set_phase(IDENTIFICATION)
        t0 = await self.tx.send_from_now("BRM")
        await self.waits.until(
            lambda: self._rx_after("CRM", t0, _is_aa), self._watch("CRMAA", "CRM", t0, "until")
        )

    async def _configuration(self) -> None:
        self.tx.stop("BRM")
        self._set_phase(CONFIGURATION)
        t0 = await self.tx.send_from_now("BCP")
        await self.waits.until(
            lambda: self._rx_after("CML", t0), self._watch("CML", "CML", t0, "until")
        )
        self.tx.stop("BCP")
        cml = self.last["CML"].values
        if not self.accepts_limits(cml):
            self._event("mismatch", message="CML", detail=f"CML {dict(cml)} cannot charge")
            raise StopRequested("mismatch", self.stop_fields("mismatch"), "local")
        self.bms_ready = NOT_READY
        self.tx.start("BRO")
        await self.waits.sleep(self.ready_delay())
        self.bms_ready = READY
        t1 = await self.tx.first_emit("BRO", t0, lambda v: v.get("BMSReady") == READY)
        await self.waits.until(
            lambda: self._rx_after("CRO", t1, lambda v: v.get("ChargerReady") == READY),
            self._watch("CRO", "CRO", t1, "first"),
            self._watch("CROAA", "CRO", t1, "until"),
        )

    async def _charging(self) -> None:
        self.tx.stop("BRO")
        self._set_phase(CHARGING)
        t0 = await self.tx.send_from_now("BCL", "BCS", "BSM")
        if self.params.send_optional:
            self.tx.start(*OPTIONAL)
        await self.waits.until(lambda: False, self._watch("CCS", "CCS", t0, "every"))

    async def _stopping(self, stop: StopRequested) -> None:
        self.tx.stop_all()
        self.stop_reason = stop.reason
        self.stop_fields_sent = dict(stop.fields)
        self._event("stop", bits=stop.fields, detail=f"{stop.reason} ({stop.by})")
        self._set_phase(STOPPING)
        t0 = await self.tx.send_from_now("BST")
        await self.waits.until(
            lambda: self._peer_stop_t is not None and self.tx.emitted_after("BST", t0) is not None,
            self._watch("CST", "CST", t0, "until"),
        )
        self.tx.stop("BST")
        self._set_phase(END)
        t1 = await self.tx.send_from_now("BSD")
        await self.waits.until(
            lambda: self._rx_after("CSD", t0), self._watch("CSD", "CSD", t1, "until")
        )
        self.tx.stop("BSD")
        self._set_phase(DONE)

    async def _reconnect_wait(self) -> None:
        since = self._error_t + ERROR_SETTLE_S
        await self.waits.until(lambda: self._rx_after("CRM", since, _is_00), interruptible=False)
        self.tx.stop(self.ERROR_MESSAGE)
        self.bms_ready = NOT_READY
