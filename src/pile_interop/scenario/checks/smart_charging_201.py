"""OCPP 2.0.1 K09: the ReportChargingProfiles a GetChargingProfiles asks for.

(A station's composite schedule is judged by ``composite_schedule`` in
:mod:`.smart_charging`, for both versions.)
"""

from __future__ import annotations

from typing import Any

from pile_interop.core.frames import CALL, IN, is_message
from pile_interop.core.verdicts import Failure
from pile_interop.scenario.checks.registry import CheckContext, register


@register(
    "charging_profile_reports",
    "the ReportChargingProfiles of request {request_id}: tbc on all but the last, the profiles "
    "asked for",
)
def charging_profile_reports(case: CheckContext, args: dict[str, Any]) -> str:
    """OCPP 2.0.1 K09: the profiles of a GetChargingProfiles come in ReportChargingProfiles
    with its ``requestId``, ``tbc`` true on every message but the last and false or absent on
    the last; together they hold every profile id of ``ids`` and none of ``absent``."""
    request_id = int(args["request_id"])
    parts = [
        f.payload or {}
        for f in case.session.log.since(case.seq0)
        if f.direction == IN
        and is_message(f)
        and f.type == CALL
        and f.action == "ReportChargingProfiles"
    ]
    mine = [p for p in parts if p.get("requestId") == request_id]
    shown = "; ".join(
        f"requestId {p.get('requestId')} tbc {p.get('tbc', False)} ids "
        + ",".join(str(c.get("id")) for c in p.get("chargingProfile") or [])
        for p in parts
    )
    if not mine:
        raise Failure(
            f"no ReportChargingProfiles with requestId {request_id}",
            expected=f"ReportChargingProfiles with requestId {request_id}",
            observed=shown or "none",
        )
    tbcs = [bool(p.get("tbc", False)) for p in mine]
    if any(not t for t in tbcs[:-1]) or tbcs[-1]:
        raise Failure(
            "tbc is not true on every message but the last, false on the last",
            expected="tbc true … true, then false or absent",
            observed=shown,
        )
    ids = {c.get("id") for p in mine for c in p.get("chargingProfile") or []}
    missing = [i for i in args.get("ids") or [] if int(i) not in ids]
    extra = [i for i in args.get("absent") or [] if int(i) in ids]
    if missing or extra:
        raise Failure(
            f"profiles missing {missing}" if missing else f"profiles reported {extra}",
            expected=f"ids {args.get('ids') or []}, not {args.get('absent') or []}",
            observed=shown,
        )
    return shown
