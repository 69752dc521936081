"""The Smart Charging requests of the reference OCPP 2.0.1 station (Part 2 block K) and their
hooks: a base class of :class:`~pile_interop.ocpp.v201.reference.station.ReferenceStation`
(the station keeps its own hooks; this family lives here to keep the station module small).

Requests: SetChargingProfile (K01), GetChargingProfiles → ReportChargingProfiles (K09),
ClearChargingProfile (K10), GetCompositeSchedule (K08), RequestStartTransaction with a
TxProfile (K05; without smart charging the profile is ignored, F01.FR.12). The station's
control surface adds :meth:`set_external_limit` / :meth:`clear_external_limit` (an energy
manager's limit: NotifyChargingLimit, with the schedule when
SmartChargingCtrlr.NotifyChargingLimitWithSchedules is true, K12; ClearedChargingLimit, K13).

Hooks a mutant overrides (one decision each): :meth:`charging_profile_problem`,
:meth:`install_charging_profile`, :meth:`clear_matches`, :meth:`report_charging_profiles`,
:meth:`composite_profiles`, :meth:`composite_periods`, :meth:`keep_tx_profile`,
:meth:`charging_power`, :meth:`remote_start_profile`, :meth:`external_constraints`,
:meth:`notify_charging_limit_request`, :meth:`charging_rate_changed`.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import NotSupportedError
from ocpp.v201 import call, call_result

from pile_interop.ocpp.charging_schedule import Period, Profile
from pile_interop.ocpp.v201.charging_profiles import (
    EXTERNAL,
    STATION_MAX_201,
    TX,
    first_schedule,
    schedule_payload,
)
from pile_interop.ocpp.v201.reference.smart_charging import (
    CTRLR,
    PENDING,
    PROFILE_ENTRIES,
    SmartCharging,
    wire_profile,
)

#: ReportChargingProfiles: profiles per message.
PROFILES_PER_REPORT = 2


def _status(status: str, reason: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"status": status}
    if reason:
        out["status_info"] = {"reason_code": reason[:20]}
    return out


class SmartChargingStation:
    """The Smart Charging half of the reference 2.0.1 station (a base class of it)."""

    features: dict[str, Any]
    evses: Any
    clock: Any

    @property
    def smart(self) -> SmartCharging:
        found = self.__dict__.get("_smart_charging")
        if found is None:
            found = self.__dict__["_smart_charging"] = SmartCharging(self)
        return found

    def _require_smart(self) -> None:
        if not self.smart.supported():
            raise NotSupportedError(description="Smart Charging is not supported")

    # -- K01 SetChargingProfile ----------------------------------------------------------------

    async def handle_set_charging_profile(
        self, req: call.SetChargingProfile
    ) -> call_result.SetChargingProfile:
        self._require_smart()
        wire = wire_profile(req.charging_profile)
        problem = self.charging_profile_problem(int(req.evse_id), wire)
        if problem is not None:
            return call_result.SetChargingProfile(**_status("Rejected", problem))
        self.install_charging_profile(int(req.evse_id), wire)
        return call_result.SetChargingProfile(status="Accepted")

    def charging_profile_problem(self, evse_id: int, wire: dict[str, Any]) -> str | None:
        """Why a SetChargingProfile is refused (None: accepted), K01."""
        sc = self.smart
        purpose = str(wire.get("charging_profile_purpose"))
        if evse_id != 0 and evse_id not in self.evses.evses:
            return "UnknownEVSE"
        if purpose == EXTERNAL:
            return "ExternalConstraints"  # set by an external system only (K01)
        if purpose == STATION_MAX_201 and evse_id != 0:
            return "StationMaxNotOnEvse0"
        if purpose == TX:
            if evse_id == 0:
                return "TxProfileOnEvse0"
            tx = sc.transaction_of(evse_id)
            if wire.get("transaction_id") is None or tx is None:
                return "NoTransaction"
            if str(wire["transaction_id"]) != str(tx.id):
                return "UnknownTransaction"
        elif wire.get("transaction_id") is not None:
            return "TransactionIdNotTx"
        if int(wire.get("stack_level", 0)) > sc.int_var("ProfileStackLevel", 8):
            return "StackLevelTooHigh"
        schedules = wire.get("charging_schedule") or []
        if not schedules or len(schedules) > 3:
            return "SchedulesCount"
        units = self.var(CTRLR, "RateUnit").split(",")
        for sched in schedules:
            if str(sched.get("charging_rate_unit")) not in units:
                return "UnsupportedRateUnit"
            periods = sched.get("charging_schedule_period") or []
            if len(periods) > sc.int_var("PeriodsPerSchedule", 24):
                return "TooManyPeriods"
        if wire.get("charging_profile_kind") == "Recurring" and not wire.get("recurrency_kind"):
            return "NoRecurrencyKind"
        same = [
            w
            for e, w, _p in sc.installed
            if e == evse_id
            and w.get("id") != wire.get("id")
            and w.get("stack_level") == wire.get("stack_level")
            and w.get("charging_profile_purpose") == purpose
            and (purpose != TX or w.get("transaction_id") == wire.get("transaction_id"))
        ]
        if same:
            return "DuplicateStackLevel"  # same stackLevel and purpose on the EVSE (K01)
        if len(sc.installed) >= PROFILE_ENTRIES:
            return "TooManyProfiles"
        return None

    def install_charging_profile(self, evse_id: int, wire: dict[str, Any]) -> None:
        self.smart.install(evse_id, wire)

    # -- K09 GetChargingProfiles ---------------------------------------------------------------

    async def handle_get_charging_profiles(
        self, req: call.GetChargingProfiles
    ) -> call_result.GetChargingProfiles:
        self._require_smart()
        criteria = wire_profile(req.charging_profile or {})
        found = [
            (evse, source, wire)
            for evse, source, wire in self.smart.report_entries()
            if self.report_matches(req.evse_id, criteria, evse, source, wire)
        ]
        if not found:
            return call_result.GetChargingProfiles(status="NoProfiles")
        requests = self.report_charging_profiles(int(req.request_id), found)

        async def send_all() -> None:
            for request in requests:
                await self.send(request)

        self.defer(send_all)
        return call_result.GetChargingProfiles(status="Accepted")

    @staticmethod
    def report_matches(
        evse_id: int | None,
        criteria: dict[str, Any],
        evse: int,
        source: str,
        wire: dict[str, Any],
    ) -> bool:
        """K09: by ids when given, else by every criterion given (evseId: that EVSE; 0 the
        station's own profiles)."""
        if evse_id is not None and evse != evse_id:
            return False
        ids = criteria.get("charging_profile_id")
        if ids:
            return wire.get("id") in ids
        purpose = criteria.get("charging_profile_purpose")
        if purpose is not None and wire.get("charging_profile_purpose") != purpose:
            return False
        level = criteria.get("stack_level")
        if level is not None and wire.get("stack_level") != level:
            return False
        sources = criteria.get("charging_limit_source")
        return not sources or source in sources

    def report_charging_profiles(
        self, request_id: int, found: list[tuple[int, str, dict[str, Any]]]
    ) -> list[call.ReportChargingProfiles]:
        """One message per EVSE and source, at most :data:`PROFILES_PER_REPORT` profiles
        each; ``tbc`` on every message but the last."""
        groups: list[tuple[int, str, list[dict[str, Any]]]] = []
        for evse, source, wire in found:
            last = groups[-1] if groups else None
            if last and last[:2] == (evse, source) and len(last[2]) < PROFILES_PER_REPORT:
                last[2].append(wire)
                continue
            groups.append((evse, source, [wire]))
        return [
            call.ReportChargingProfiles(
                request_id=request_id,
                charging_limit_source=source,
                charging_profile=profiles,
                evse_id=evse,
                tbc=i < len(groups) - 1,
            )
            for i, (evse, source, profiles) in enumerate(groups)
        ]

    # -- K10 ClearChargingProfile --------------------------------------------------------------

    async def handle_clear_charging_profile(
        self, req: call.ClearChargingProfile
    ) -> call_result.ClearChargingProfile:
        self._require_smart()
        criteria = wire_profile(req.charging_profile_criteria or {})
        profile_id = req.charging_profile_id
        if criteria.get("charging_profile_purpose") == EXTERNAL:
            return call_result.ClearChargingProfile(status="Unknown")
        gone = self.smart.clear(
            lambda evse, wire: not self.clear_matches(profile_id, criteria, evse, wire)
        )
        return call_result.ClearChargingProfile(status="Accepted" if gone else "Unknown")

    def clear_matches(
        self, profile_id: int | None, criteria: dict[str, Any], evse: int, wire: dict[str, Any]
    ) -> bool:
        """K10: the profile ``profile_id``, or every profile matching all criteria given."""
        if profile_id is not None:
            return wire.get("id") == profile_id
        checks = (
            ("evse_id", evse),
            ("charging_profile_purpose", wire.get("charging_profile_purpose")),
            ("stack_level", wire.get("stack_level")),
        )
        return all(criteria.get(k) is None or criteria[k] == v for k, v in checks)

    # -- K08 GetCompositeSchedule --------------------------------------------------------------

    async def handle_get_composite_schedule(
        self, req: call.GetCompositeSchedule
    ) -> call_result.GetCompositeSchedule:
        self._require_smart()
        evse_id = int(req.evse_id)
        units = self.var(CTRLR, "RateUnit").split(",")
        unit = str(req.charging_rate_unit) if req.charging_rate_unit else units[0]
        if (evse_id != 0 and evse_id not in self.evses.evses) or unit not in units:
            return call_result.GetCompositeSchedule(**_status("Rejected", "UnknownEVSE"))
        duration = int(req.duration)
        start = self.clock.now()
        periods = self.composite_periods(evse_id, start, duration, unit)
        return call_result.GetCompositeSchedule(
            status="Accepted",
            schedule=schedule_payload(periods, evse_id, start, duration, unit),
        )

    def composite_periods(self, evse_id: int, start: Any, duration: int, unit: str) -> list[Period]:
        return [
            p if math.isfinite(p.limit) else Period(p.start, self.smart.no_limit(unit), p.phases)
            for p in self.smart.composite(evse_id, start, duration, unit)
        ]

    def composite_profiles(self, profiles: list[Profile], evse_id: int) -> list[Profile]:
        """The profiles the composite schedule is made of (all of them)."""
        return profiles

    def external_constraints(self) -> list[Profile]:
        """The external limits that cap every composite schedule (K08, K12)."""
        return [p for _e, _w, p in self.smart.external]

    def keep_tx_profile(self, profile: Profile, transaction: Any) -> bool:
        """A TxProfile stays while its transaction runs (K01)."""
        return transaction is not None and str(profile.transaction) in (
            str(transaction.id),
            PENDING,
        )

    def charging_power(self, evse_id: int, limit_w: float) -> float:
        """The power the EV may draw: the limit in force (W)."""
        return limit_w

    def charging_rate_changed(self, evse: Any, transaction: Any) -> None:
        """The limit of a running transaction changed by more than LimitChangeSignificance:
        TransactionEvent Updated, triggerReason ChargingRateChanged."""
        self.evses._emit(evse, transaction, "Updated", "ChargingRateChanged")

    # -- K05 RequestStartTransaction with a TxProfile ------------------------------------------

    async def handle_request_start_transaction(self, req: call.RequestStartTransaction) -> Any:
        profile = req.charging_profile
        if profile is None or not self.smart.supported():
            # F01.FR.12: without smart charging a chargingProfile is ignored
            return await self.evses.request_start(req)
        wire = wire_profile(profile)
        if str(wire.get("charging_profile_purpose")) != TX or wire.get("transaction_id"):
            return call_result.RequestStartTransaction(**_status("Rejected", "InvalidProfile"))
        result = await self.evses.request_start(req)
        if str(result.status) == "Accepted" and req.evse_id is not None:
            self.remote_start_profile(int(req.evse_id), wire, int(req.remote_start_id))
        return result

    def remote_start_profile(self, evse_id: int, wire: dict[str, Any], remote_id: int) -> None:
        """Keep the TxProfile for the transaction this remote start begins (K05)."""
        self.smart.install(evse_id, wire, pending=remote_id)

    # -- K12 / K13: an external limit (control surface) ----------------------------------------

    async def set_external_limit(self, limit: float, evse: int = 0, unit: str = "A") -> None:
        """An energy manager limits ``evse`` (0: the station): NotifyChargingLimit."""
        wire = self.smart.set_external_limit(float(limit), int(evse), unit)
        await self.send(self.notify_charging_limit_request(int(evse), wire))

    def notify_charging_limit_request(
        self, evse: int, wire: dict[str, Any]
    ) -> call.NotifyChargingLimit:
        """K12: source EMS; the schedule when NotifyChargingLimitWithSchedules is true."""
        request: dict[str, Any] = {
            "charging_limit": {"charging_limit_source": "EMS", "is_grid_critical": False},
        }
        if evse:
            request["evse_id"] = evse
        if self.var(CTRLR, "NotifyChargingLimitWithSchedules").lower() == "true":
            sched = dict(first_schedule(wire))
            sched["duration"] = int(timedelta(days=1).total_seconds())
            request["charging_schedule"] = [sched]
        return call.NotifyChargingLimit(**request)

    async def clear_external_limit(self, evse: int = 0) -> None:
        """The energy manager lifts its limit: ClearedChargingLimit."""
        if self.smart.clear_external_limit(int(evse)):
            await self.send(
                call.ClearedChargingLimit(
                    charging_limit_source="EMS", evse_id=int(evse) if int(evse) else None
                )
            )

    if TYPE_CHECKING:  # the station's own

        def var(self, component: str, variable: str, evse: int | None = None) -> str: ...

        async def send(self, request: Any) -> Any: ...

        def defer(self, work: Callable[[], Awaitable[None] | None]) -> None: ...
