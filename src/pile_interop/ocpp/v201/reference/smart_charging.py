"""Smart Charging of the reference OCPP 2.0.1 station (Part 2 block K): the charging-profile
store, the SmartChargingCtrlr variables, the composite schedule, external limits, and the
simulated charging following the limit in force.

:class:`SmartCharging` keeps the profiles the CSMS installed (SetChargingProfile, K01; a
TxProfile of a RequestStartTransaction, K05) and the external constraints an energy manager
sets (:meth:`SmartCharging.set_external_limit`, K12 / K13 NotifyChargingLimit and
ClearedChargingLimit). It reaches the station only through :class:`SmartPort`; every decision
a mutant may change is a hook of the station (see
:mod:`~pile_interop.ocpp.v201.reference.handlers_smart_charging`), called through the station.

Rules kept here:

* a TxProfile belongs to the transaction it names (or, from a RequestStartTransaction, to the
  transaction that request starts) and is dropped when that transaction is over (K01: "a
  TxProfile SHALL only be valid for the transaction");
* the follower re-reads the limit in force every :data:`FOLLOW_S` protocol seconds and sets the
  EV's charging power to it (at most the simulated EV's 11 kW), so meter values show it;
* a reboot keeps the profiles (they are persistent, K01).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from pile_interop.core.clock import Clock
from pile_interop.ocpp.charging_schedule import (
    Converter,
    Period,
    Profile,
    Purpose,
    Situation,
    limit_at,
)
from pile_interop.ocpp.reference.meter import CHARGING_POWER_W, NOMINAL_VOLTAGE_V, PHASES
from pile_interop.ocpp.v201.charging_profiles import (
    EXTERNAL,
    TX,
    composite_201,
    keys,
    snake,
    to_profile,
)
from pile_interop.ocpp.v201.reference.station_model import READ_ONLY, READ_WRITE, Variable

logger = logging.getLogger(__name__)

#: Protocol seconds between two looks of the follower at the limit in force.
FOLLOW_S = 1.0
#: The station's own maximum current per phase where no profile limits (A).
STATION_MAX_A = 32.0
#: A TxProfile from a RequestStartTransaction before its transaction has started.
PENDING = "pending"
#: The ids of the external constraints the energy manager sets.
EXTERNAL_IDS = itertools.count(900_001)

CTRLR = "SmartChargingCtrlr"
#: SmartChargingCtrlr.ProfileStackLevel, PeriodsPerSchedule, Entries maxLimit
MAX_STACK_LEVEL = 8
PERIODS_PER_SCHEDULE = 24
PROFILE_ENTRIES = 20


def smart_charging_variables(features: dict[str, Any]) -> list[Variable]:
    """SmartChargingCtrlr (Part 2 Appendix): present only when the station supports smart
    charging (feature ``smart_charging``); its limits come from the device features."""
    if not features.get("smart_charging"):
        return []
    units = ",".join(u for u in ("A", "W") if features.get(f"charging_rate_unit_{u.lower()}", True))
    stack, periods, entries = MAX_STACK_LEVEL, PERIODS_PER_SCHEDULE, PROFILE_ENTRIES

    def ro(name: str, value: str, kind: str, **kw: Any) -> Variable:
        return Variable(CTRLR, name, value, kind, READ_ONLY, **kw)

    def rw(name: str, value: str, kind: str, **kw: Any) -> Variable:
        return Variable(CTRLR, name, value, kind, READ_WRITE, **kw)

    return [
        rw("Enabled", "true", "boolean"),
        ro("Available", "true", "boolean"),
        ro("Entries", "0", "integer", instance="ChargingProfiles", max_limit=entries),
        rw("LimitChangeSignificance", "10", "decimal"),
        ro("PeriodsPerSchedule", str(periods), "integer"),
        ro("ProfileStackLevel", str(stack), "integer"),
        ro("RateUnit", units, "MemberList", values_list=("A", "W")),
        ro(
            "ExternalControlSignalsEnabled",
            "true" if features.get("external_charging_limit", True) else "false",
            "boolean",
        ),
        rw("NotifyChargingLimitWithSchedules", "false", "boolean"),
        rw("PhaseSwitchingSupported", "false", "boolean"),
    ]


class SmartPort(Protocol):
    """What Smart Charging needs of the station."""

    clock: Clock
    features: dict[str, Any]
    evses: Any
    base: Any

    def var(self, component: str, variable: str, evse: int | None = None) -> str: ...

    async def send(self, request: Any) -> Any: ...


class SmartCharging:
    """The profiles of one station and what follows from them."""

    def __init__(self, station: Any) -> None:
        self.st = station
        #: (evse id, the wire profile as the CSMS sent it (snake_case), the engine's profile)
        self.installed: list[tuple[int, dict[str, Any], Profile]] = []
        #: external constraints: (evse id, wire profile, engine profile)
        self.external: list[tuple[int, dict[str, Any], Profile]] = []
        #: TxProfiles of a RequestStartTransaction waiting for their transaction:
        #: profile id → (evse id, remoteStartId)
        self.pending: dict[int, tuple[int, int]] = {}
        self.converter = Converter(NOMINAL_VOLTAGE_V)
        self._follower: asyncio.Task[Any] | None = None
        #: the limit (W) each running transaction was last told about: (evse, tx id) → W
        self.known_limit: dict[tuple[int, str], float] = {}

    # -- the store ---------------------------------------------------------------------------

    def supported(self) -> bool:
        return bool(self.st.features.get("smart_charging")) and self._bool("Enabled")

    def _bool(self, name: str) -> bool:
        try:
            return self.st.var(CTRLR, name).lower() == "true"
        except Exception:
            return False

    def int_var(self, name: str, default: int) -> int:
        try:
            return int(self.st.var(CTRLR, name))
        except Exception:
            return default

    def transaction_of(self, evse_id: int) -> Any:
        e = self.st.evses.evses.get(evse_id)
        return None if e is None else e.transaction

    def prune(self) -> None:
        """Bind the TxProfiles of a remote start to the transaction it started; drop the
        TxProfiles whose transaction is over."""
        kept = []
        for evse_id, wire, prof in self.installed:
            if prof.purpose is Purpose.TX:
                tx = self.transaction_of(evse_id)
                if prof.transaction == PENDING:
                    _evse, remote_id = self.pending.get(prof.id, (evse_id, None))
                    if tx is not None and tx.remote_start_id == remote_id:
                        prof = self._bind(prof, tx.id)
                        wire = {**wire, "transaction_id": tx.id}
                        self.pending.pop(prof.id, None)
                    elif tx is not None:
                        self.pending.pop(prof.id, None)
                        continue
                elif self.st.keep_tx_profile(prof, tx) is False:
                    continue
            kept.append((evse_id, wire, prof))
        self.installed = kept

    @staticmethod
    def _bind(prof: Profile, tx_id: str) -> Profile:
        from dataclasses import replace

        return replace(prof, transaction=tx_id)

    def install(self, evse_id: int, wire: dict[str, Any], *, pending: int | None = None) -> None:
        """K01: a profile with the same id replaces the one installed."""
        self.prune()
        self.baseline()
        prof = to_profile(
            evse_id,
            wire,
            installed_at=self.st.clock.now(),
            transaction=PENDING if pending is not None else None,
        )
        self.installed = [i for i in self.installed if i[2].id != prof.id]
        self.installed.append((evse_id, wire, prof))
        if pending is not None:
            self.pending[prof.id] = (evse_id, pending)
        self._count()
        self.ensure_follower()

    def clear(self, keep: Callable[[int, dict[str, Any]], bool]) -> int:
        """Remove every CSMS profile ``keep`` refuses; how many went."""
        self.prune()
        self.baseline()
        before = len(self.installed)
        self.installed = [i for i in self.installed if keep(i[0], i[1])]
        self._count()
        return before - len(self.installed)

    def _count(self) -> None:
        with contextlib.suppress(Exception):
            self.st.model.set(
                CTRLR, "Entries", str(len(self.installed)), instance="ChargingProfiles"
            )

    def profiles(self) -> list[Profile]:
        self.prune()
        return [p for _e, _w, p in self.installed]

    # -- the composite schedule -----------------------------------------------------------

    def no_limit(self, unit: str) -> float:
        amps = STATION_MAX_A
        return amps if unit == "A" else amps * NOMINAL_VOLTAGE_V * PHASES

    def composite(self, evse_id: int, start: datetime, duration: int, unit: str) -> list[Period]:
        tx = self.transaction_of(evse_id) if evse_id else None
        return composite_201(
            self.st.composite_profiles(self.profiles(), evse_id),
            self.st.external_constraints(),
            evse_id,
            start,
            duration,
            unit,
            transaction=tx.id if tx is not None else None,
            transaction_start=tx.started_at if tx is not None else None,
            converter=self.converter,
            no_limit=self.no_limit(unit),
        )

    def limit_w(self, evse_id: int, at: datetime) -> float:
        """The limit in force on the EVSE now, in W (the station's own maximum where no
        profile limits), the external constraints included."""
        tx = self.transaction_of(evse_id)
        situation = Situation(
            evse_id,
            tx.id if tx is not None else None,
            tx.started_at if tx is not None else None,
            self.converter,
            self.no_limit("W"),
        )
        profiles = self.st.composite_profiles(self.profiles(), evse_id)
        limit, _ = limit_at(profiles, situation, at, "W", relative_start=at)
        ext = Situation(0, None, None, self.converter, self.no_limit("W"))
        caps = self.st.external_constraints()
        if caps:
            cap, _ = limit_at(caps, ext, at, "W", relative_start=at)
            limit = min(limit, cap)
        return limit

    # -- following the limit ----------------------------------------------------------------

    def ensure_follower(self) -> None:
        if self._follower is None or self._follower.done():
            self._follower = self.st.base.spawn(self._follow(), "smart-charging")

    async def _follow(self) -> None:
        while True:
            try:
                self.follow_once()
            except Exception:
                logger.exception("smart charging: following the limit failed")
            await self.st.clock.sleep(FOLLOW_S)

    def baseline(self) -> None:
        """Note the limit every running transaction has now (before the profiles change)."""
        now = self.st.clock.now()
        for evse_id, e in self.st.evses.evses.items():
            tx = e.transaction
            if tx is not None:
                self.known_limit.setdefault((evse_id, tx.id), self.limit_w(evse_id, now))

    def significant(self, old: float, new: float) -> bool:
        """A change above SmartChargingCtrlr.LimitChangeSignificance (percent of the old)."""
        try:
            percent = float(self.st.var(CTRLR, "LimitChangeSignificance") or 0)
        except ValueError:
            percent = 0.0
        if math.isinf(old) or math.isinf(new):
            return old != new
        return abs(new - old) > abs(old) * percent / 100.0

    def follow_once(self) -> None:
        now = self.st.clock.now()
        self.prune()
        running = set()
        for evse_id, e in self.st.evses.evses.items():
            limit = self.limit_w(evse_id, now)
            tx = e.transaction
            if tx is not None:
                key = (evse_id, tx.id)
                running.add(key)
                old = self.known_limit.setdefault(key, limit)
                if self.significant(old, limit):
                    self.known_limit[key] = limit
                    self.st.charging_rate_changed(e, tx)
            power = self.st.charging_power(evse_id, min(CHARGING_POWER_W, limit))
            meter = e.meter
            if abs(meter.power_w - power) < 0.5:
                continue
            flowing = meter.flowing
            meter.set_flowing(False)
            meter.power_w = max(0.0, power)
            if flowing:
                meter.set_flowing(True)
        self.known_limit = {k: v for k, v in self.known_limit.items() if k in running}

    # -- external limits (K12, K13) ----------------------------------------------------------

    def set_external_limit(self, limit: float, evse: int = 0, unit: str = "A") -> dict[str, Any]:
        self.baseline()
        self.external = [x for x in self.external if x[0] != evse]
        wire = {
            "id": next(EXTERNAL_IDS),
            "stack_level": 0,
            "charging_profile_purpose": EXTERNAL,
            "charging_profile_kind": "Absolute",
            "charging_schedule": [
                {
                    "id": 1,
                    "start_schedule": self.st.clock.now().isoformat().replace("+00:00", "Z"),
                    "charging_rate_unit": unit,
                    "charging_schedule_period": [{"start_period": 0, "limit": float(limit)}],
                }
            ],
        }
        prof = to_profile(evse, wire, installed_at=self.st.clock.now())
        self.external.append((evse, wire, prof))
        self.ensure_follower()
        return wire

    def clear_external_limit(self, evse: int = 0) -> bool:
        before = len(self.external)
        self.external = [x for x in self.external if x[0] != evse]
        return len(self.external) != before

    def report_entries(self) -> list[tuple[int, str, dict[str, Any]]]:
        """Every profile as (evse id, chargingLimitSource, wire profile): the CSMS's (CSO)
        and the external ones (EMS)."""
        self.prune()
        out = [(e, "CSO", w) for e, w, _p in self.installed]
        out += [(e, "EMS", w) for e, w, _p in self.external]
        return out


def wire_profile(profile: Any) -> dict[str, Any]:
    """A ChargingProfileType as the ``ocpp`` package delivers it, with snake_case keys (a
    camelCase dict, from a case's template, is converted)."""
    if not isinstance(profile, dict):
        profile = dict(profile.__dict__)
    return keys(profile, snake)


def is_tx(wire: dict[str, Any]) -> bool:
    return str(wire.get("charging_profile_purpose")) == TX
