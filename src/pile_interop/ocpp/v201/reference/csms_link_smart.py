"""The Smart Charging requests a station sends the reference OCPP 2.0.1 CSMS (K09
ReportChargingProfiles, K12 NotifyChargingLimit, K13 ClearedChargingLimit): ``ocpp`` handlers
of a base class of :class:`~pile_interop.ocpp.v201.reference.csms_link.CsmsLink`; each is
recorded (``note``) and answered."""

from __future__ import annotations

from typing import Any

from ocpp.routing import on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action


class SmartChargingLink:
    """Handlers of the station's Smart Charging requests (a base class of the link)."""

    id: str
    _csms: Any

    @on(Action.report_charging_profiles)
    async def _report_charging_profiles(self, **payload: Any) -> Any:
        self._csms.note(self.id, "ReportChargingProfiles", payload)
        return call_result.ReportChargingProfiles()

    @on(Action.notify_charging_limit)
    async def _notify_charging_limit(self, **payload: Any) -> Any:
        self._csms.note(self.id, "NotifyChargingLimit", payload)
        return call_result.NotifyChargingLimit()

    @on(Action.cleared_charging_limit)
    async def _cleared_charging_limit(self, **payload: Any) -> Any:
        self._csms.note(self.id, "ClearedChargingLimit", payload)
        return call_result.ClearedChargingLimit()
