"""The mock 1.6 charging station's default answers to the CALLs of the optional feature profiles
(Smart Charging, Local Auth List Management, Reservation, Remote Trigger), and what it keeps of
them: the charging profiles it accepted, its local list and version, its reservations.

A case overrides any of these answers per step (``expect: ReserveNow`` with ``reply:`` or
``reply_error:``). The mock never sends a message on its own: a case's ``send`` steps send
what a TriggerMessage asked for, and a reservation's status changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.frames import CALLRESULT, Frame
from pile_interop.ocpp.session import Reply

#: The configuration keys of these profiles the mock station has: key → (value, read-only).
OPTIONAL_CONFIG: dict[str, tuple[str, bool]] = {
    "SupportedFeatureProfiles": (
        "Core,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger",
        True,
    ),
    "LocalAuthListEnabled": ("true", False),
    "LocalAuthListMaxLength": ("100", True),
    "SendLocalListMaxLength": ("100", True),
    "ReserveConnectorZeroSupported": ("true", True),
    "ChargeProfileMaxStackLevel": ("8", True),
    "ChargingScheduleAllowedChargingRateUnit": ("Current,Power", True),
    "ChargingScheduleMaxPeriods": ("24", True),
    "MaxChargingProfilesInstalled": ("16", True),
}
#: What TriggerMessage.req may ask for in 1.6.
TRIGGERABLE = frozenset(
    {
        "BootNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StatusNotification",
    }
)
#: The limit a composite schedule reports where no profile limits: 32 A or 22 kW.
UNLIMITED = {"A": 32.0, "W": 22000.0}


@dataclass
class OptionalState:
    """What the mock station keeps of the optional profiles, from the CSMS's CALLs."""

    #: accepted charging profiles: chargingProfileId → {connectorId, csChargingProfiles…}
    profiles: dict[int, dict[str, Any]] = field(default_factory=dict)
    list_version: int = 0
    local_list: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: reservations: reservationId → the ReserveNow.req payload
    reservations: dict[int, dict[str, Any]] = field(default_factory=dict)


class OptionalStation:
    """Default answers of the mock station for the optional profiles' CALLs."""

    ACTIONS = frozenset(
        {
            "SetChargingProfile",
            "ClearChargingProfile",
            "GetCompositeSchedule",
            "SendLocalList",
            "GetLocalListVersion",
            "ReserveNow",
            "CancelReservation",
            "TriggerMessage",
        }
    )

    def __init__(
        self, connectors: int, transactions: Callable[[], Mapping[int, int]] = dict
    ) -> None:
        self.connectors = connectors
        #: the open transactions of the station (transactionId → connector)
        self.transactions = transactions
        self.state = OptionalState()

    def _connector(self, payload: dict[str, Any]) -> bool:
        connector = payload.get("connectorId", 0)
        return isinstance(connector, int) and 0 <= connector <= self.connectors

    def reply(self, call: Frame) -> Reply | None:
        """The default answer to ``call``, or None when it is not one of these profiles'."""
        action = call.action or ""
        if action not in self.ACTIONS:
            return None
        payload = call.payload or {}
        answer = getattr(self, f"_{action}")(payload)
        return Reply.result(answer)

    def _SetChargingProfile(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Accepted, unless the connector is unknown, a ChargePointMaxProfile is not on
        connector 0, or a TxProfile names no transaction open on its connector (§3.13.1)."""
        profile = payload.get("csChargingProfiles") or {}
        purpose = profile.get("chargingProfilePurpose")
        ok = self._connector(payload)
        if purpose == "ChargePointMaxProfile":
            ok = ok and payload.get("connectorId") == 0
        elif purpose == "TxProfile":
            connector, tx = payload.get("connectorId"), profile.get("transactionId")
            running = [t for t, c in self.transactions().items() if c == connector]
            ok = ok and bool(running) and (tx is None or tx in running)
        return {"status": "Accepted" if ok else "Rejected"}

    def _ClearChargingProfile(self, payload: dict[str, Any]) -> dict[str, Any]:
        hit = any(_cleared(p, payload) for p in self.state.profiles.values())
        return {"status": "Accepted" if hit else "Unknown"}

    def _GetCompositeSchedule(self, payload: dict[str, Any]) -> dict[str, Any]:
        if not self._connector(payload):
            return {"status": "Rejected"}
        connector = payload.get("connectorId", 0)
        unit = payload.get("chargingRateUnit") or "A"
        limits = [
            float(p["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"])
            for p in self.state.profiles.values()
            if p.get("connectorId") in (0, connector)
            and p["csChargingProfiles"]["chargingSchedule"].get("chargingRateUnit") == unit
        ]
        limit = min(limits) if limits else UNLIMITED[unit]
        return {
            "status": "Accepted",
            "connectorId": connector,
            "scheduleStart": utc_iso(),
            "chargingSchedule": {
                "duration": payload.get("duration", 0),
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            },
        }

    def _SendLocalList(self, payload: dict[str, Any]) -> dict[str, Any]:
        version = payload.get("listVersion")
        if payload.get("updateType") == "Differential" and (
            not isinstance(version, int) or version <= self.state.list_version
        ):
            return {"status": "VersionMismatch"}  # OCPP1.6 §6.43
        return {"status": "Accepted"}

    def _GetLocalListVersion(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"listVersion": self.state.list_version}

    def _ReserveNow(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Accepted" if self._connector(payload) else "Rejected"}

    def _CancelReservation(self, payload: dict[str, Any]) -> dict[str, Any]:
        known = payload.get("reservationId") in self.state.reservations
        return {"status": "Accepted" if known else "Rejected"}

    def _TriggerMessage(self, payload: dict[str, Any]) -> dict[str, Any]:
        # a connectorId names one of the station's connectors, or 0 (§6.53)
        where = self._connector(payload)
        ok = payload.get("requestedMessage") in TRIGGERABLE and where
        return {"status": "Accepted" if ok else "Rejected"}

    # -- learning -----------------------------------------------------------------------

    def observe(self, call: Frame, reply: Frame | None) -> None:
        """A CALL from the CSMS was answered (by default or by the case): keep what it set."""
        answer = reply.payload if reply is not None and reply.type == CALLRESULT else None
        if not isinstance(answer, dict):
            return
        payload = call.payload or {}
        accepted = answer.get("status") == "Accepted"
        state = self.state
        if call.action == "SetChargingProfile" and accepted:
            profile = payload.get("csChargingProfiles") or {}
            state.profiles[profile.get("chargingProfileId", -1)] = dict(payload)
        elif call.action == "ClearChargingProfile" and accepted:
            state.profiles = {k: p for k, p in state.profiles.items() if not _cleared(p, payload)}
        elif call.action == "SendLocalList" and accepted:
            entries = {str(e.get("idTag")): e for e in payload.get("localAuthorizationList") or []}
            if payload.get("updateType") == "Full":
                state.local_list = {k: e for k, e in entries.items() if "idTagInfo" in e}
            else:
                for tag, entry in entries.items():
                    if "idTagInfo" in entry:
                        state.local_list[tag] = entry
                    else:
                        state.local_list.pop(tag, None)
            state.list_version = int(payload.get("listVersion", state.list_version))
        elif call.action == "ReserveNow" and accepted:
            state.reservations[int(payload.get("reservationId", -1))] = dict(payload)
        elif call.action == "CancelReservation" and accepted:
            state.reservations.pop(payload.get("reservationId", -1), None)


def _cleared(stored: dict[str, Any], criteria: dict[str, Any]) -> bool:
    """Whether ClearChargingProfile.req ``criteria`` clears ``stored`` (OCPP1.6 §6.13)."""
    profile = stored.get("csChargingProfiles") or {}
    if "id" in criteria:
        return bool(profile.get("chargingProfileId") == criteria["id"])
    return (
        criteria.get("connectorId", stored.get("connectorId")) == stored.get("connectorId")
        and criteria.get("chargingProfilePurpose", profile.get("chargingProfilePurpose"))
        == profile.get("chargingProfilePurpose")
        and criteria.get("stackLevel", profile.get("stackLevel")) == profile.get("stackLevel")
    )
