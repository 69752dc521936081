"""The GB/T 27930 charger (pile, source address 0x56): the suite's mock charger when a BMS is
under test, and the reference charger (``pile-interop serve-reference charger``).

Flow (GB/T 27930-2015, §9-10 and annex D; 2011 and 2023 category A differences below):

* **handshake** — CHM every 250 ms from connection until BHM arrives, then the insulation
  check (:data:`INSULATION_CHECK_S`, scalable). No BHM within :data:`~.states.BHM_TIMEOUT_S`:
  the BMS is taken for a GB/T 27930-2011 one (§4.6 "forward compatibility"; it does not know
  CHM) and the charger goes on with the insulation check and CRM. 2011 charger: no CHM at all.
* **identification** — CRM 0x00 every 250 ms until BRM (5 s, CEM ``BRMTimeout``), then CRM
  0xAA until BCP (5 s, ``BCPTimeout``).
* **configuration** — BCP checked against the charger's own range
  (:meth:`Charger27930.accepts_parameters`); CTS every 500 ms and CML every 250 ms until BRO
  0xAA (first BRO within 5 s, 0xAA within 60 s: ``BROTimeout``); CRO 0x00 during the
  pre-charge (:data:`PRECHARGE_S`), then CRO 0xAA until the first BCL.
* **charging** — CCS every 50 ms: output from BCL's demand within CML and BCP limits; BCL
  supervised at 1 s, BCS at 5 s (2023 A: BSM at 5 s once seen, no reconnection). BSM charge
  permit 00 → CCS ``ChargingPermitted`` 00 and zero current (pause) until it is 01 again.
* **stopping / end** — CST every 10 ms (reasons: :attr:`Charger27930.STOP_REASONS`; a BST
  gives ``BMSStopped``) until BSD; BST within 5 s (``BSTTimeout``), BSD within 10 s
  (``BSDTimeout``); then CSD every 250 ms for :data:`~.states.END_HOLD_S` — phase ``done``.
* **errors** — a timeout sends CEM (250 ms) with the timeout's bit; a BEM received stops
  charging too. Unless the session was already stopping, the charger restarts identification
  (CRM 0x00) after :data:`~.states.RECONNECT_DELAY_S`, up to three times; then it stays in
  ``error`` (``failed``) sending CEM until disconnected.

**Parameter mismatch.** The BMS's present battery voltage (BCP) outside [CML minimum, CML
maximum], or its maximum charging voltage below the CML minimum, cannot be served. The
charger sends CML (so the BMS sees why) and then CST: 2023 A ``FaultStop`` +
``ParameterMismatch`` (the 2023 rule, "CML then CST"); 2015 and 2011, which have no such
field, ``FaultStop`` + ``EnergyTransferFault`` ("the required energy cannot be delivered").
No CRO is ever sent. The usual BST / BSD / CSD exchange follows.

Hooks for mutants (besides those of :class:`~.peer.Peer27930`): :meth:`accepts_parameters`,
:meth:`output`, :meth:`insulation_check_time`, :meth:`precharge_time`, ``values_<msg>``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import can

from pile_interop.core.clock import Clock
from pile_interop.gbt27930.ids import BMS_ADDRESS, CHARGER_ADDRESS
from pile_interop.gbt27930.layout_fields import CHARGER
from pile_interop.gbt27930.peer import Peer27930
from pile_interop.gbt27930.records import Message, fields_of, merge
from pile_interop.gbt27930.states import (
    CHARGING,
    CONFIGURATION,
    DONE,
    END,
    END_HOLD_S,
    HANDSHAKE,
    IDENTIFICATION,
    STOPPING,
    PeerTimeout,
    StopRequested,
)

logger = logging.getLogger(__name__)

__all__ = [
    "INSULATION_CHECK_S",
    "PRECHARGE_S",
    "Charger27930",
    "ChargerParams",
]

INSULATION_CHECK_S = 2.0
"""Protocol seconds the insulation check takes (between BHM and the first CRM)."""
PRECHARGE_S = 0.5
"""Protocol seconds from BRO 0xAA to CRO 0xAA (pre-charge: CRO 0x00 meanwhile)."""
READY = 0xAA
NOT_READY = 0x00
BEIJING = dt.timezone(dt.timedelta(hours=8))
"""CTS carries local (Beijing) time."""


@dataclass
class ChargerParams:
    """What the charger can do and tells the BMS (live values: change them with ``set``)."""

    max_voltage: float = 750.0
    """CML maximum output voltage, V."""
    min_voltage: float = 200.0
    max_current: float = 250.0
    """CML maximum output current, A (sent as −250 A: charging currents are negative)."""
    min_current: float = 0.0
    charger_number: int = 1
    region: str | None = None
    """CRM region code (ASCII, optional; absent → 0xFF)."""
    protocol_version: str = "1.1"
    """CHM: the charger's communication protocol version."""
    insulation_check_s: float = INSULATION_CHECK_S
    precharge_s: float = PRECHARGE_S


class Charger27930(Peer27930):
    """The charger's state machine (address 0x56); see the module documentation."""

    ROLE = "charger"
    ADDRESS = CHARGER_ADDRESS
    PEER_ADDRESS = BMS_ADDRESS
    SENDER = CHARGER
    ERROR_MESSAGE = "CEM"
    PEER_ERROR_MESSAGE = "BEM"
    STOP_MESSAGE = "CST"
    PEER_STOP_MESSAGE = "BST"
    TIMEOUT_BITS: ClassVar[dict[str, str]] = {
        "BRM": "BRMTimeout",
        "BCP": "BCPTimeout",
        "BRO": "BROTimeout",
        "BROAA": "BROTimeout",
        "BCS": "BCSTimeout",
        "BCL": "BCLTimeout",
        "BST": "BSTTimeout",
        "BSD": "BSDTimeout",
    }
    STOP_REASONS: ClassVar[dict[str, dict[str, int]]] = {
        "manual": {"ManualStop": 1},
        "condition": {"ConditionReached": 1},
        "peer": {"BMSStopped": 1},
        "fault": {"FaultStop": 1, "OtherFault": 1},
        "emergency": {"FaultStop": 1, "EmergencyStop": 1},
        "insulation": {"FaultStop": 1, "OtherFault": 1},
        "connector": {"FaultStop": 1, "ConnectorFault": 1},
        "overtemp": {"FaultStop": 1, "ChargerOverTemp": 1},
        "mismatch": {"FaultStop": 1, "EnergyTransferFault": 1},
    }

    def __init__(
        self,
        bus: can.BusABC,
        *,
        variant: str = "2015",
        clock: Clock | None = None,
        params: ChargerParams | None = None,
        name: str = "charger",
        owns_bus: bool = False,
    ) -> None:
        super().__init__(bus, variant=variant, clock=clock, name=name, owns_bus=owns_bus)
        self._params = params or ChargerParams()
        self._reset_session_state()

    @property
    def params(self) -> ChargerParams:
        return self._params

    def _reset_session_state(self) -> None:
        self.crm_result = NOT_READY
        self.charger_ready = NOT_READY
        self.paused = False
        self.output_voltage = 0.0
        self.output_current = 0.0
        """Amps delivered (positive; CCS sends it negative)."""
        self.energy_kwh = 0.0
        self.charging_since: float | None = None
        self.charging_until: float | None = None

    # -- hooks ---------------------------------------------------------------------------------

    def stop_fields(self, reason: str) -> dict[str, int]:
        fields = super().stop_fields(reason)
        if self.variant == "2023a":
            if reason == "mismatch":
                fields = {"FaultStop": 1, "ParameterMismatch": 1}
            elif reason == "insulation" and self.phase == HANDSHAKE:
                fields = {"FaultStop": 1, "SelfCheckFault": 1}
        return fields

    def accepts_parameters(self, bcp: Mapping[str, Any]) -> bool:
        """Whether the BMS's BCP can be served with this charger's CML range."""
        p = self.params
        voltage = bcp.get("BatteryVoltage")
        highest = bcp.get("MaxChargeVoltage")
        if voltage is not None and not p.min_voltage <= float(voltage) <= p.max_voltage:
            return False
        return not (highest is not None and float(highest) < p.min_voltage)

    def output(self, bcl: Mapping[str, Any]) -> tuple[float, float]:
        """(volts, amps ≥ 0) delivered for the BMS's demand, within CML and BCP limits.

        2011 / 2015: a zero demand means "the minimum output capability"; 2023 A dropped that
        rule (a zero demand is zero)."""
        p = self.params
        volts = min(max(float(bcl.get("VoltageDemand", 0.0)), 0.0), p.max_voltage)
        amps = min(abs(float(bcl.get("CurrentDemand", 0.0))), p.max_current)
        if self.variant != "2023a" and bcl:
            volts = volts or p.min_voltage
            amps = amps or p.min_current
        bcp = self.last.get("BCP")
        if bcp is not None and "MaxChargeCurrent" in bcp.values:
            amps = min(amps, abs(float(bcp.values["MaxChargeCurrent"])))
        return volts, (0.0 if self.paused else amps)

    def insulation_check_time(self) -> float:
        return self.params.insulation_check_s

    def precharge_time(self) -> float:
        return self.params.precharge_s

    def accepts_peer_error(self, message: Message) -> bool:
        # After a reconnection the BMS's BEM goes on until it sees the new CRM 0x00: a BEM
        # before this attempt's BRM is the old error, not a new one.
        if self.phase == IDENTIFICATION and not self._rx_after("BRM", self._attempt_t0):
            return False
        return super().accepts_peer_error(message)

    # -- message values ------------------------------------------------------------------------

    def values_chm(self) -> dict[str, Any]:
        return {"Version": self.params.protocol_version}

    def values_crm(self) -> dict[str, Any]:
        return {
            "RecognitionResult": self.crm_result,
            "ChargerNumber": self.params.charger_number,
            "RegionCode": self.params.region,
        }

    def values_cts(self) -> dict[str, Any]:
        local = self.clock.now().astimezone(BEIJING).replace(tzinfo=None, microsecond=0)
        return {"Time": local}

    def values_cml(self) -> dict[str, Any]:
        p = self.params
        return {
            "MaxOutputVoltage": p.max_voltage,
            "MinOutputVoltage": p.min_voltage,
            "MaxOutputCurrent": -abs(p.max_current),
            "MinOutputCurrent": -abs(p.min_current),
        }

    def values_cro(self) -> dict[str, Any]:
        return {"ChargerReady": self.charger_ready}

    def values_ccs(self) -> dict[str, Any]:
        bcl = self.last.get("BCL")
        volts, amps = self.output(bcl.values if bcl else {})
        self.output_voltage, self.output_current = volts, amps
        return {
            "OutputVoltage": volts,
            "OutputCurrent": -amps,
            "ChargingTime": min(600, int(self._charging_seconds() // 60)),
            "ChargingPermitted": 0 if self.paused else 1,
        }

    def values_cst(self) -> dict[str, Any]:
        return merge(fields_of("CST", self.variant), self.stop_fields_sent.items())

    def values_csd(self) -> dict[str, Any]:
        return {
            "ChargingTime": min(600, int(self._charging_seconds() // 60)),
            "OutputEnergy": min(1000.0, round(self.energy_kwh, 1)),
            "ChargerNumber": self.params.charger_number,
        }

    def values_cem(self) -> dict[str, Any]:
        return merge(fields_of("CEM", self.variant), self.error_bits.items())

    def _charging_seconds(self) -> float:
        if self.charging_since is None:
            return 0.0
        end = self.charging_until if self.charging_until is not None else self.clock.monotonic()
        return max(0.0, end - self.charging_since)

    def after_emit(self, name: str, values: Mapping[str, Any]) -> None:
        if name == "CCS":
            hours = self.period("CCS") / 3600
            self.energy_kwh += self.output_voltage * self.output_current * hours / 1000

    # -- reactions -----------------------------------------------------------------------------

    def on_message(self, message: Message) -> None:
        if message.name == "BSM" and self.phase == CHARGING:
            permit = message.values.get("ChargePermitted")
            if permit == 0 and not self.paused:
                self.paused = True
                self._event("pause", detail="BSM charge permit 00: output paused")
            elif permit == 1 and self.paused:
                self.paused = False
                self._event("resume", detail="BSM charge permit 01: output resumed")

    # -- the session ---------------------------------------------------------------------------

    async def _handshake(self) -> None:
        self._set_phase(HANDSHAKE)
        if self.variant != "2011":
            t0 = await self.tx.send_from_now("CHM")
            try:
                await self.waits.until(
                    lambda: self._rx_after("BHM", t0),
                    self._watch("BHM", "BHM", t0, always=True),
                )
            except PeerTimeout as exc:
                if exc.key != "BHM":
                    raise
                self.peer_variant = "2011"
                self._event(
                    "compatibility",
                    message="BHM",
                    detail="no BHM: GB/T 27930-2011 BMS assumed, identification follows",
                )
            finally:
                self.tx.stop("CHM")
        await self.waits.sleep(self.insulation_check_time())

    async def _identification(self) -> None:
        self._set_phase(IDENTIFICATION)
        self.crm_result = NOT_READY
        t0 = await self.tx.send_from_now("CRM")
        await self.waits.until(
            lambda: self._rx_after("BRM", t0), self._watch("BRM", "BRM", t0, "until")
        )
        brm = self.last["BRM"]
        if brm.values.get("VersionMajor") == 1 and brm.values.get("VersionMinor") == 0:
            if self.peer_variant is None:
                self._event("compatibility", message="BRM", detail="BRM V1.0: a 2011 BMS")
            self.peer_variant = "2011"
        self.crm_result = READY
        t1 = await self.tx.first_emit("CRM", t0, lambda v: v.get("RecognitionResult") == READY)
        await self.waits.until(
            lambda: self._rx_after("BCP", t1), self._watch("BCP", "BCP", t1, "until")
        )

    async def _configuration(self) -> None:
        self.tx.stop("CRM")
        self._set_phase(CONFIGURATION)
        bcp = self.last["BCP"].values
        t0 = await self.tx.send_from_now("CML", "CTS")
        if not self.accepts_parameters(bcp):
            self._event(
                "mismatch",
                message="BCP",
                detail=(
                    f"BCP battery {bcp.get('BatteryVoltage')} V, maximum "
                    f"{bcp.get('MaxChargeVoltage')} V outside {self.params.min_voltage}"
                    f"-{self.params.max_voltage} V"
                ),
            )
            raise StopRequested("mismatch", self.stop_fields("mismatch"), "local")
        await self.waits.until(
            lambda: self._rx_after("BRO", t0, lambda v: v.get("BMSReady") == READY),
            self._watch("BRO", "BRO", t0, "first"),
            self._watch("BROAA", "BRO", t0, "until"),
        )
        self.tx.stop("CTS", "CML")
        self.charger_ready = NOT_READY
        self.tx.start("CRO")
        await self.waits.sleep(self.precharge_time())
        self.charger_ready = READY

    async def _charging(self) -> None:
        t0 = await self.tx.first_emit("CRO", self._attempt_t0, lambda v: v["ChargerReady"] == READY)
        await self.waits.until(
            lambda: self._rx_after("BCL", t0),
            self._watch("BCL", "BCL", t0, "first"),
            self._watch("BCS", "BCS", t0, "every"),
        )
        self.tx.stop("CRO")
        self._set_phase(CHARGING)
        self.charging_since = self.clock.monotonic()
        self.charging_until = None
        self.paused = False
        self.tx.start("CCS")
        watches = [
            self._watch("BCL", "BCL", self.charging_since, "every"),
            self._watch("BCS", "BCS", t0, "every"),
        ]
        if self.variant == "2023a":
            watches.append(self._watch("BSM", "BSM", t0, "armed", terminal=True))
        await self.waits.until(lambda: False, *watches)

    async def _stopping(self, stop: StopRequested) -> None:
        self.tx.stop_all()
        if self.charging_since is not None and self.charging_until is None:
            self.charging_until = self.clock.monotonic()
        self.output_current = 0.0
        self.stop_reason = stop.reason
        self.stop_fields_sent = dict(stop.fields)
        self._event("stop", bits=stop.fields, detail=f"{stop.reason} ({stop.by})")
        self._set_phase(STOPPING)
        t0 = await self.tx.send_from_now("CST")
        await self.waits.until(
            lambda: self._peer_stop_t is not None, self._watch("BST", "BST", t0, "until")
        )
        self._set_phase(END)
        t1 = self.clock.monotonic()
        await self.waits.until(
            lambda: self._rx_after("BSD", t0), self._watch("BSD", "BSD", t1, "until")
        )
        self.tx.stop("CST")
        self.tx.start("CSD")
        self._set_phase(DONE)
        await self.waits.sleep(END_HOLD_S, interruptible=False)
        self.tx.stop("CSD")

    async def _reconnect_wait(self) -> None:
        await self.waits.sleep(self.reconnect_delay(), interruptible=False)
        self.tx.stop(self.ERROR_MESSAGE)
        self._reset_session_state_for_attempt()

    def _reset_session_state_for_attempt(self) -> None:
        self.crm_result = NOT_READY
        self.charger_ready = NOT_READY
        self.paused = False
        self.output_current = 0.0
