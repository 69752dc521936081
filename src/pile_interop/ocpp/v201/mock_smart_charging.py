"""What the suite's 2.0.1 mock station answers to the CSMS's Smart Charging requests (block K)
when no step says otherwise: SetChargingProfile and ClearChargingProfile Accepted,
GetChargingProfiles NoProfiles (it keeps none), GetCompositeSchedule Accepted with its own
maximum for the asked duration (Rejected for an EVSE it lacks)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pile_interop.core.clock import utc_iso

#: The mock station's maximum per phase (A) and in W (three phases at 230 V).
MAX_A = 32.0
MAX_W = MAX_A * 230.0 * 3


def smart_charging_reply(action: str, payload: dict[str, Any], evses: int) -> dict[str, Any] | None:
    """The default answer (None: not a Smart Charging request)."""
    evse = payload.get("evseId")
    known = evse is None or (isinstance(evse, int) and 0 <= evse <= evses)
    if action == "SetChargingProfile":
        return {"status": "Accepted" if known else "Rejected"}
    if action == "ClearChargingProfile":
        return {"status": "Accepted"}
    if action == "GetChargingProfiles":
        return {"status": "NoProfiles"}
    if action == "GetCompositeSchedule":
        if not known:
            return {"status": "Rejected"}
        unit = payload.get("chargingRateUnit") or "A"
        return {
            "status": "Accepted",
            "schedule": {
                "evseId": evse or 0,
                "duration": int(payload.get("duration") or 0),
                "scheduleStart": utc_iso(datetime.now(UTC)),
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": MAX_A if unit == "A" else MAX_W}
                ],
            },
        }
    return None
