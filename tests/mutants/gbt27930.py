"""Mutant GB/T 27930 chargers and BMSs: the reference state machines with ONE defect each.

Registered in the same catalogue as the OCPP stations (``tests.mutants.stations16.CATALOGUE``)
with the profile that must catch them.
"""

from __future__ import annotations

from typing import Any

from pile_interop.gbt27930.bms import Bms27930
from pile_interop.gbt27930.charger import Charger27930
from tests.mutants.stations16 import mutant

CHARGER = "gbt27930/charger"
BMS = "gbt27930/bms"


def _slower(cls: type, name: str, seconds: float) -> Any:
    class Slower(cls):  # type: ignore[misc, valid-type]
        def period(self, message: str) -> float:
            return seconds if message == name else super().period(message)

    return Slower


# -- chargers ----------------------------------------------------------------------------------


@mutant("DN.1001", "GBT27930 handshake+identification", profile=CHARGER)
class ChmEvery500ms(_slower(Charger27930, "CHM", 0.5)):  # type: ignore[misc]
    """Sends CHM every 500 ms instead of 250 ms."""


@mutant("DN.1002", "GBT27930 handshake+identification", profile=CHARGER)
class CrmEvery500ms(_slower(Charger27930, "CRM", 0.5)):  # type: ignore[misc]
    """Sends CRM every 500 ms instead of 250 ms."""


@mutant("DP.1003", "GBT27930 timeouts", profile=CHARGER)
class ChargerNeverReconnects(Charger27930):
    """After a time-out it sends CEM but never starts the identification again."""

    def should_reconnect(self, attempt: int) -> bool:
        return False


@mutant("DP.2002", "GBT27930 timeouts", profile=CHARGER)
class CemWrongBitForBcp(Charger27930):
    """On a BCP time-out it sets the BRO time-out field of CEM instead of the BCP one."""

    def on_timeout(self, key: str) -> dict[str, int]:
        return {"BROTimeout": 1} if key == "BCP" else super().on_timeout(key)


@mutant("DP.2005", "GBT27930 parameter check", profile=CHARGER)
class AcceptsAnyBatteryVoltage(Charger27930):
    """Accepts a battery voltage outside its own output range (no parameter check)."""

    def accepts_parameters(self, bcp: Any) -> bool:
        return True


@mutant("DN.3001", "GBT27930 charging", profile=CHARGER)
class CcsEvery100ms(_slower(Charger27930, "CCS", 0.1)):  # type: ignore[misc]
    """Sends CCS every 100 ms instead of 50 ms."""


@mutant("DP.3002", "GBT27930 timeouts", profile=CHARGER)
class BclTimeoutThreeSeconds(Charger27930):
    """Waits 3 s instead of 1 s for BCL before CEM."""

    def timeout(self, key: str) -> float:
        return 3.0 if key == "BCL" else super().timeout(key)


@mutant("DN.3004", "GBT27930 charging", profile=CHARGER)
class IgnoresChargePermit(Charger27930):
    """Keeps reporting charging permitted in CCS while the BMS withdraws the permit."""

    def values_ccs(self) -> dict[str, Any]:
        return {**super().values_ccs(), "ChargingPermitted": 1}


@mutant("DP.3006", "GBT27930 stop", profile=CHARGER)
class EmergencyStopWithoutItsField(Charger27930):
    """Stops on the emergency stop with CST 'other fault' instead of 'emergency stop'."""

    def stop_fields(self, reason: str) -> dict[str, int]:
        if reason == "emergency":
            return {"FaultStop": 1, "OtherFault": 1}
        return super().stop_fields(reason)


@mutant("DN.4001", "GBT27930 stop", profile=CHARGER)
class CstEvery50ms(_slower(Charger27930, "CST", 0.05)):  # type: ignore[misc]
    """Sends CST every 50 ms instead of 10 ms."""


# -- BMSs --------------------------------------------------------------------------------------


@mutant("BN.1001", "GBT27930 handshake+identification", profile=BMS)
class BhmEvery500ms(_slower(Bms27930, "BHM", 0.5)):  # type: ignore[misc]
    """Sends BHM every 500 ms instead of 250 ms."""


@mutant("BN.1002", "GBT27930 handshake+identification", profile=BMS)
class BrmVersionZero(Bms27930):
    """Reports protocol version 0.1 in BRM."""

    def values_brm(self) -> dict[str, Any]:
        return {**super().values_brm(), "Version": "0.1"}


@mutant("BP.1003", "GBT27930 timeouts", profile=BMS)
class NoCrmAaTimeout(Bms27930):
    """Waits a minute instead of 5 s for CRM 0xAA."""

    def timeout(self, key: str) -> float:
        return 60.0 if key == "CRMAA" else super().timeout(key)


@mutant("BN.3001", "GBT27930 charging", profile=BMS)
class BclEvery100ms(_slower(Bms27930, "BCL", 0.1)):  # type: ignore[misc]
    """Sends BCL every 100 ms instead of 50 ms."""


@mutant("BN.3003", "GBT27930 charging", profile=BMS)
class BsmEvery500ms(_slower(Bms27930, "BSM", 0.5)):  # type: ignore[misc]
    """Sends BSM every 500 ms instead of 250 ms."""


@mutant("BP.3004", "GBT27930 timeouts", profile=BMS)
class BemWrongBitForCcs(Bms27930):
    """On a CCS time-out it sets the CST time-out field of BEM instead of the CCS one."""

    def on_timeout(self, key: str) -> dict[str, int]:
        return {"CSTTimeout": 1} if key == "CCS" else super().on_timeout(key)


@mutant("BP.3006", "GBT27930 stop", profile=BMS)
class InsulationFaultWithoutItsField(Bms27930):
    """Stops on an insulation fault with BST 'other fault' instead of 'insulation fault'."""

    def stop_fields(self, reason: str) -> dict[str, int]:
        return {"OtherFault": 1} if reason == "insulation" else super().stop_fields(reason)


@mutant("BN.4001", "GBT27930 stop", profile=BMS)
class BstEvery50ms(_slower(Bms27930, "BST", 0.05)):  # type: ignore[misc]
    """Sends BST every 50 ms instead of 10 ms."""


@mutant("DN.1004", "GBT27930 2011 compatibility", profile=CHARGER)
class WaitsForeverForBhm(Charger27930):
    """Knows no 2011 BMS: without BHM it keeps sending CHM and never identifies."""

    def timeout(self, key: str) -> float:
        return 600.0 if key == "BHM" else super().timeout(key)


@mutant("DN.2001", "GBT27930 configuration", profile=CHARGER)
class CmlMaximumBelowMinimum(Charger27930):
    """States a maximum output voltage below its minimum in CML."""

    def values_cml(self) -> dict[str, Any]:
        return {**super().values_cml(), "MaxOutputVoltage": 100.0}


@mutant("DN.2003", "GBT27930 configuration", profile=CHARGER)
class CroAaSentOnce(_slower(Charger27930, "CRO", 5.0)):  # type: ignore[misc]
    """Sends CRO every 5 s instead of 250 ms (0xAA comes once while it waits for BCL)."""


@mutant("DP.2004", "GBT27930 timeouts", profile=CHARGER)
class CemWrongBitForBro(Charger27930):
    """On a BRO time-out it sets the BCP time-out field of CEM instead of the BRO one."""

    def on_timeout(self, key: str) -> dict[str, int]:
        return {"BCPTimeout": 1} if key in ("BRO", "BROAA") else super().on_timeout(key)


@mutant("DP.3003", "GBT27930 timeouts", profile=CHARGER)
class BcsTimeoutTenSeconds(Charger27930):
    """Waits 10 s instead of 5 s for BCS before CEM."""

    def timeout(self, key: str) -> float:
        return 10.0 if key == "BCS" else super().timeout(key)


@mutant("DN.3005", "GBT27930 stop", "DP.3007", profile=CHARGER)
class AnswersBstAsManualStop(Charger27930):
    """Answers the BMS's BST with CST 'manual stop' instead of 'BMS stopped'."""

    def stop_fields(self, reason: str) -> dict[str, int]:
        return {"ManualStop": 1} if reason == "peer" else super().stop_fields(reason)


@mutant("DN.4002", "GBT27930 stop", profile=CHARGER)
class CsdEvery5s(_slower(Charger27930, "CSD", 5.0)):  # type: ignore[misc]
    """Sends CSD every 5 s instead of 250 ms."""


@mutant("BN.2001", "GBT27930 configuration", profile=BMS)
class BcpEverySecond(_slower(Bms27930, "BCP", 1.0)):  # type: ignore[misc]
    """Sends BCP every second instead of 500 ms."""


@mutant("BP.2002", "GBT27930 timeouts", profile=BMS)
class BemWrongBitForCml(Bms27930):
    """On a CTS/CML time-out it sets the CRO time-out field of BEM instead."""

    def on_timeout(self, key: str) -> dict[str, int]:
        return {"CROTimeout": 1} if key == "CML" else super().on_timeout(key)


@mutant("BN.2003", "GBT27930 configuration", profile=BMS)
class BroEveryTwoSeconds(_slower(Bms27930, "BRO", 2.0)):  # type: ignore[misc]
    """Sends BRO every 2 s instead of 250 ms."""


@mutant("BP.2004", "GBT27930 timeouts", profile=BMS)
class NoCroTimeout(Bms27930):
    """Waits 30 s instead of 5 s for CRO."""

    def timeout(self, key: str) -> float:
        return 30.0 if key in ("CRO", "CROAA") else super().timeout(key)

    def first_message_timeout(self, key: str) -> float:
        return 30.0 if key in ("CRO", "CROAA") else super().first_message_timeout(key)


@mutant("BN.3002", "GBT27930 charging", profile=BMS)
class BcsEverySecond(_slower(Bms27930, "BCS", 1.0)):  # type: ignore[misc]
    """Sends BCS every second instead of 250 ms."""


@mutant("BN.3005", "GBT27930 stop", profile=BMS)
class AnswersCstAsOtherFault(Bms27930):
    """Answers the charger's CST with BST 'other fault' instead of 'charger stopped'."""

    def stop_fields(self, reason: str) -> dict[str, int]:
        return {"OtherFault": 1} if reason == "peer" else super().stop_fields(reason)


@mutant("BP.4002", "GBT27930 timeouts", profile=BMS)
class NoCsdTimeout(Bms27930):
    """Waits a minute instead of 10 s for CSD."""

    def timeout(self, key: str) -> float:
        return 60.0 if key == "CSD" else super().timeout(key)


@mutant("DP.2006", "GBT27930 timeouts", profile=CHARGER)
class WaitsForeverForReadiness(Charger27930):
    """Waits indefinitely for BRO 0xAA (no 60 s readiness time-out)."""

    def timeout(self, key: str) -> float:
        return 600.0 if key == "BROAA" else super().timeout(key)


@mutant("DP.4003", "GBT27930 timeouts", profile=CHARGER)
class CemWrongBitForBsd(Charger27930):
    """On a BSD time-out it sets the BST time-out field of CEM instead of the BSD one."""

    def on_timeout(self, key: str) -> dict[str, int]:
        return {"BSTTimeout": 1} if key == "BSD" else super().on_timeout(key)


@mutant("DP.3008", "GBT27930 timeouts", profile=CHARGER)
class CemWrongBitForBst(Charger27930):
    """On a BST time-out it sets the BSD time-out field of CEM instead of the BST one."""

    def on_timeout(self, key: str) -> dict[str, int]:
        return {"BSDTimeout": 1} if key == "BST" else super().on_timeout(key)


@mutant("BP.2005", "GBT27930 parameter check", profile=BMS)
class AcceptsAnyChargerRange(Bms27930):
    """Becomes ready whatever output range the charger states (no limit check)."""

    def accepts_limits(self, cml: Any) -> bool:
        return True


@mutant("BP.3007", "GBT27930 timeouts", profile=BMS)
class BemWrongBitForCst(Bms27930):
    """On a CST time-out it sets the CSD time-out field of BEM instead of the CST one."""

    def on_timeout(self, key: str) -> dict[str, int]:
        return {"CSDTimeout": 1} if key == "CST" else super().on_timeout(key)


# -- what real chargers and BMSs get wrong (issue 15): short messages, content ------------------


def _cut(cls: type, name: str, length: int) -> Any:
    class Cut(cls):  # type: ignore[misc, valid-type]
        def payload(self, message: str, values: Any, *, strict: bool = True) -> bytes:
            data: bytes = super().payload(message, values, strict=strict)
            return data[:length] if message == name else data

    return Cut


#: Every charger case that reaches the charging phase (a defect of CCS shows in each), and
#: every one that reaches the configuration (CTS); every BMS case that reaches BRM. A defect
#: in a message every session carries fails each of them (``tox -e mutants -- --full``).
_CHARGING_CASES = ("DP.2004", "DP.3002", "DP.3003", "DN.3004", "DN.3005", "DP.3006", "DP.3007",
                   "DP.3008", "DN.4001", "DN.4002", "DP.4003")  # fmt: skip
_CONFIGURED_CASES = ("DN.2003", "DN.3001", "DP.2002", "DP.2005", "DP.2006", *_CHARGING_CASES)
_IDENTIFIED_CASES = ("BN.2001", "BN.2003", "BN.3001", "BN.3002", "BN.3003", "BN.3005",
                     "BN.4001", "BP.1003", "BP.2002", "BP.2004", "BP.2005", "BP.3004",
                     "BP.3006", "BP.3007", "BP.4002")  # fmt: skip


@mutant("DN.3001", "CCS: DLC 7, GB/T 27930 gives 8", *_CHARGING_CASES, profile=CHARGER)
class CcsSevenBytes(_cut(Charger27930, "CCS", 7)):  # type: ignore[misc]
    """Sends CCS with 7 bytes (the 8th, a fill byte, left off), as real chargers do: the mock
    BMS charges on (it reads CCS leniently) and the length is the finding."""


@mutant("DN.3001", "CCS: DLC 5, GB/T 27930 gives 8", *_CHARGING_CASES, profile=CHARGER)
class CcsFiveBytes(_cut(Charger27930, "CCS", 5)):  # type: ignore[misc]
    """Sends CCS cut after the output current (5 bytes): shorter than any variant's CCS, the
    mock BMS still takes the voltage and current it carries; the length is the finding."""


@mutant("DN.2001", "is not a plausible clock", *_CONFIGURED_CASES, profile=CHARGER)
class CtsYearBytesSwapped(Charger27930):
    """Sends the CTS year's two BCD bytes the wrong way round (2026 as 20 26: year 2620)."""

    def payload(self, name: str, values: Any, *, strict: bool = True) -> bytes:
        data: bytes = super().payload(name, values, strict=strict)
        return data[:5] + data[6:7] + data[5:6] if name == "CTS" else data


@mutant("BN.1002", "VIN: not printable", *_IDENTIFIED_CASES, profile=BMS)
class VinAsUtf16(Bms27930):
    """Sends the VIN in BRM as UTF-16 (a 0x00 after every character)."""

    def payload(self, name: str, values: Any, *, strict: bool = True) -> bytes:
        data: bytes = super().payload(name, values, strict=strict)
        if name != "BRM":
            return data
        vin = "LSVAU2180N2183294".encode("utf-16-le")[:17]
        return data[:24] + vin + data[41:]


#: Every BMS case that reaches the charging phase (BN.3001 also misses the charge mode).
_BMS_CHARGING_CASES = ("BN.3001", "BN.3003", "BN.3005", "BN.4001", "BP.3004", "BP.3006",
                       "BP.3007", "BP.4002")  # fmt: skip


@mutant("BN.3002", "BCL: DLC 4, GB/T 27930 gives 5", *_BMS_CHARGING_CASES, profile=BMS)
class BclWithoutMode(_cut(Bms27930, "BCL", 4)):  # type: ignore[misc]
    """Sends BCL without its charge-mode byte (4 bytes): the mock charger still follows the
    demand it carries (it reads BCL leniently); the length is the finding."""
