"""Smart Charging at the reference OCPP 1.6J station (§3.13; §5.5 ClearChargingProfile, §5.7
GetCompositeSchedule, §5.16 SetChargingProfile, §5.11 RemoteStartTransaction with a
chargingProfile; the keys of §9.4).

The profiles live in the version-neutral
:class:`~pile_interop.ocpp.charging_schedule.ProfileStore` and the composite schedule is
:func:`~pile_interop.ocpp.charging_schedule.composite`; this module holds the 1.6 rules of
accepting a profile and the wire forms. The simulated charging follows the limit in force: each
connector's meter draws at most the composite limit (in W) of that second, so the MeterValues
(Power.Active.Import, Current.Import) show it.

A TxProfile belongs to the transaction it was set for; it is dropped once that transaction has
ended (looked at before every request and every second while profiles are installed). A
profile given with RemoteStartTransaction becomes the TxProfile of the transaction the remote
start begins.

The link routes the Smart Charging actions to :attr:`ReferenceStation.smart_charging`, an
instance of :class:`SmartCharging`; a mutant replaces it with a subclass that has one defect.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from ocpp.v16 import call_result
from ocpp.v16.enums import (
    ChargingProfileStatus,
    ClearChargingProfileStatus,
    GetCompositeScheduleStatus,
    RemoteStartStopStatus,
)

from pile_interop.core.clock import parse_iso, utc_iso
from pile_interop.ocpp.charging_schedule import (
    DEFAULT_VOLTAGE_V,
    Converter,
    Kind,
    Period,
    Profile,
    ProfileStore,
    Purpose,
    Recurrency,
    Schedule,
    Situation,
    composite,
)
from pile_interop.ocpp.reference.meter import CHARGING_POWER_W
from pile_interop.ocpp.v16.reference.station_hooks import StationState
from pile_interop.ocpp.v16.reference.station_model import Connector

#: The most current the station's hardware gives per phase (A): the limit where no profile
#: gives one, also in the composite schedule.
HARDWARE_MAX_A = 32.0
#: How often (protocol seconds) the limits are applied to the charging while profiles exist.
TICK_S = 1.0
#: §9.4 ChargingScheduleAllowedChargingRateUnit items → the rate unit.
RATE_UNITS = {"Current": "A", "Power": "W"}


class SmartChargingPort(StationState, Protocol):
    """What Smart Charging needs from the station."""

    def choose_connector(self, connector: int | None) -> Connector | None: ...
    async def handle_remote_start_transaction(
        self, id_tag: str, connector_id: int | None, charging_profile: dict[str, Any] | None
    ) -> Any: ...


def _get(data: dict[str, Any], camel: str, snake: str) -> Any:
    return data.get(camel, data.get(snake))


def profile_from_wire(connector: int, wire: dict[str, Any], *, now: datetime) -> Profile:
    """A 1.6 ``csChargingProfiles`` (wire camelCase or the ``ocpp`` package's snake_case) as a
    :class:`Profile`; ValueError when it cannot be one."""
    sched = _get(wire, "chargingSchedule", "charging_schedule") or {}
    periods = tuple(
        Period(
            int(_get(p, "startPeriod", "start_period")),
            float(p["limit"]),
            _get(p, "numberPhases", "number_phases"),
        )
        for p in _get(sched, "chargingSchedulePeriod", "charging_schedule_period") or []
    )
    start = _get(sched, "startSchedule", "start_schedule")
    valid_from = _get(wire, "validFrom", "valid_from")
    valid_to = _get(wire, "validTo", "valid_to")
    recurrency = _get(wire, "recurrencyKind", "recurrency_kind")
    return Profile(
        id=int(_get(wire, "chargingProfileId", "charging_profile_id")),
        connector=connector,
        stack_level=int(_get(wire, "stackLevel", "stack_level")),
        purpose=Purpose(_get(wire, "chargingProfilePurpose", "charging_profile_purpose")),
        kind=Kind(_get(wire, "chargingProfileKind", "charging_profile_kind")),
        schedule=Schedule(
            unit=str(_get(sched, "chargingRateUnit", "charging_rate_unit")),
            periods=tuple(sorted(periods, key=lambda p: p.start)),
            duration=sched.get("duration"),
            start=parse_iso(start) if start else None,
            min_rate=_get(sched, "minChargingRate", "min_charging_rate"),
        ),
        recurrency=Recurrency(recurrency) if recurrency else None,
        valid_from=parse_iso(valid_from) if valid_from else None,
        valid_to=parse_iso(valid_to) if valid_to else None,
        transaction=_get(wire, "transactionId", "transaction_id"),
        installed_at=now,
    )


class SmartCharging:
    """The station's charging profiles, their composite schedule and the limit applied."""

    def __init__(self, station: SmartChargingPort) -> None:
        self.station = station
        self.store = ProfileStore()
        self.converter = Converter(DEFAULT_VOLTAGE_V)
        #: a profile of RemoteStartTransaction per connector, until its transaction starts
        self.pending: dict[int, tuple[dict[str, Any], datetime]] = {}
        self._task: asyncio.Task[None] | None = None

    # -- the rules (hooks a mutant overrides) ----------------------------------------------

    def allowed_units(self) -> list[str]:
        items = self.station.config.get_list("ChargingScheduleAllowedChargingRateUnit")
        return [RATE_UNITS[i] for i in items if i in RATE_UNITS]

    def set_status(self, connector_id: int, profile: Profile) -> str:
        """§5.16 / §3.13: Accepted, or Rejected when the profile cannot be installed."""
        st = self.station
        if connector_id not in st.connectors:
            return ChargingProfileStatus.rejected
        if profile.purpose is Purpose.STATION_MAX and connector_id != 0:
            return ChargingProfileStatus.rejected
        if profile.purpose is Purpose.TX:
            conn = st.connectors[connector_id]
            tx = conn.transaction
            if connector_id == 0 or tx is None:
                return ChargingProfileStatus.rejected  # §3.13.3: only with a transaction
            if profile.transaction is not None and profile.transaction != tx.transaction_id:
                return ChargingProfileStatus.rejected
        elif profile.transaction is not None:
            return ChargingProfileStatus.rejected  # §7.8 transactionId: TxProfile only
        if profile.stack_level > st.config.get_int("ChargeProfileMaxStackLevel"):
            return ChargingProfileStatus.rejected
        if profile.schedule.unit not in self.allowed_units():
            return ChargingProfileStatus.rejected
        if len(profile.schedule.periods) > st.config.get_int("ChargingScheduleMaxPeriods"):
            return ChargingProfileStatus.rejected
        if profile.kind is Kind.RECURRING and (
            profile.recurrency is None or profile.schedule.start is None
        ):
            return ChargingProfileStatus.rejected
        after = ProfileStore(list(self.store.profiles))
        after.install(profile)
        if len(after) > st.config.get_int("MaxChargingProfilesInstalled"):
            return ChargingProfileStatus.rejected
        return ChargingProfileStatus.accepted

    def bind(self, profile: Profile) -> Profile:
        """A TxProfile belongs to the connector's running transaction (its local ref)."""
        if profile.purpose is not Purpose.TX:
            return profile
        tx = self.station.connectors[profile.connector].transaction
        return replace(profile, transaction=tx.ref if tx is not None else None)

    def install(self, profile: Profile) -> None:
        self.store.install(self.bind(profile))

    def clear(
        self, id: int | None, connector: int | None, purpose: str | None, stack_level: int | None
    ) -> list[Profile]:
        return self.store.clear(
            id=id,
            connector=connector,
            purpose=Purpose(purpose) if purpose else None,
            stack_level=stack_level,
        )

    def tx_profile_alive(self, profile: Profile) -> bool:
        """Whether a TxProfile's transaction still runs (§3.13.3: it ends with it)."""
        if profile.purpose is not Purpose.TX:
            return True
        tx = self.station.connectors[profile.connector].transaction
        return tx is not None and tx.ref == profile.transaction

    def situation(self, connector_id: int) -> Situation:
        conn = self.station.connectors[connector_id]
        tx = conn.transaction if connector_id else None
        return Situation(
            connector_id,
            tx.ref if tx is not None else None,
            tx.started_at if tx is not None else None,
            self.converter,
        )

    def hardware_max(self, unit: str) -> float:
        return self.converter.convert(HARDWARE_MAX_A, "A", None, unit)

    def profiles(self) -> list[Profile]:
        """The profiles the composite schedule is made of."""
        return self.store.profiles

    def composite(
        self, connector_id: int, start: datetime, duration: int, unit: str
    ) -> list[Period]:
        situation = self.situation(connector_id)
        periods = composite(self.profiles(), situation, start, duration, unit)
        cap = self.hardware_max(unit)
        out: list[Period] = []
        for p in periods:
            limit = round(min(p.limit, cap), 1)
            if not (out and out[-1].limit == limit and out[-1].phases == p.phases):
                out.append(Period(p.start, limit, p.phases))
        return out

    def limit_w(self, conn: Connector) -> float:
        """The power limit in force on the connector now (W)."""
        periods = self.composite(conn.id, self.station.clock.now(), 1, "W")
        return periods[0].limit if periods else math.inf

    # -- upkeep ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Drop the TxProfiles of ended transactions, turn a remote start's profile into the
        TxProfile of its transaction, and make the charging follow the limits."""
        st = self.station
        self.store.remove(self.tx_profile_alive)
        now = st.clock.now()
        for connector_id, (wire, since) in list(self.pending.items()):
            tx = st.connectors[connector_id].transaction
            timeout = st.config.get_int("ConnectionTimeOut") * 2
            if tx is not None and tx.started_at >= since:
                del self.pending[connector_id]
                self.install(profile_from_wire(connector_id, wire, now=now))
            elif (now - since).total_seconds() > timeout:
                del self.pending[connector_id]
        for conn in st._outlets():
            self.apply_limit(conn, self.limit_w(conn))

    def apply_limit(self, conn: Connector, limit_w: float) -> None:
        """The EV draws what it wants, at most ``limit_w``; the register keeps its energy."""
        power = min(CHARGING_POWER_W, limit_w)
        meter = conn.meter
        if meter.power_w == power:
            return
        flowing = meter.flowing
        meter.set_flowing(False)
        meter.power_w = power
        meter.set_flowing(flowing)

    def ensure_running(self) -> None:
        st = self.station
        if self._task is None or self._task.done():
            self._task = st.base.spawn(self._loop(), "smart-charging")

    async def _loop(self) -> None:
        st = self.station
        while True:
            self.refresh()
            if not self.store.profiles and not self.pending:
                self._task = None
                return
            await st.clock.sleep(TICK_S)

    # -- the requests -------------------------------------------------------------------------

    async def handle_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any]
    ) -> call_result.SetChargingProfile:
        self.refresh()
        profile = profile_from_wire(
            connector_id, cs_charging_profiles, now=self.station.clock.now()
        )
        status = self.set_status(connector_id, profile)
        if status == ChargingProfileStatus.accepted:
            self.install(profile)
            self.refresh()
            self.ensure_running()
        return call_result.SetChargingProfile(status=status)  # type: ignore[arg-type]

    async def handle_clear_charging_profile(
        self,
        id: int | None,
        connector_id: int | None,
        purpose: str | None,
        stack_level: int | None,
    ) -> call_result.ClearChargingProfile:
        self.refresh()
        gone = self.clear(id, connector_id, purpose, stack_level)
        self.refresh()
        status = ClearChargingProfileStatus.accepted if gone else ClearChargingProfileStatus.unknown
        return call_result.ClearChargingProfile(status=status)

    async def handle_get_composite_schedule(
        self, connector_id: int, duration: int, unit: str | None
    ) -> call_result.GetCompositeSchedule:
        """§5.7: the schedule of the connector from now for ``duration`` seconds; Rejected
        for an unknown connector (or a unit the station does not support)."""
        self.refresh()
        st = self.station
        units = self.allowed_units()
        unit = unit or (units[0] if units else "A")
        if connector_id not in st.connectors or unit not in ("A", "W"):
            return call_result.GetCompositeSchedule(status=GetCompositeScheduleStatus.rejected)
        start = st.clock.now()
        periods = self.composite(connector_id, start, duration, unit)
        schedule: dict[str, Any] = {
            "duration": duration,
            "start_schedule": utc_iso(start),
            "charging_rate_unit": unit,
            "charging_schedule_period": [
                {"start_period": p.start, "limit": p.limit}
                | ({"number_phases": p.phases} if p.phases else {})
                for p in periods
            ],
        }
        return call_result.GetCompositeSchedule(
            status=GetCompositeScheduleStatus.accepted,
            connector_id=connector_id,
            schedule_start=utc_iso(start),
            charging_schedule=schedule,
        )

    def remote_profile_status(self, charging_profile: dict[str, Any] | None) -> str | None:
        """§5.11 / §6.33: a chargingProfile with RemoteStartTransaction must be a TxProfile
        without a transactionId; Rejected otherwise (None: nothing against it)."""
        if charging_profile is None:
            return None
        purpose = _get(charging_profile, "chargingProfilePurpose", "charging_profile_purpose")
        if purpose != Purpose.TX or _get(charging_profile, "transactionId", "transaction_id"):
            return RemoteStartStopStatus.rejected
        return None

    async def handle_remote_start_transaction(
        self, id_tag: str, connector_id: int | None, charging_profile: dict[str, Any] | None
    ) -> Any:
        st = self.station
        refused = self.remote_profile_status(charging_profile)
        if refused is not None:
            return call_result.RemoteStartTransaction(status=refused)  # type: ignore[arg-type]
        conn = st.choose_connector(connector_id)
        conf = await st.handle_remote_start_transaction(id_tag, connector_id, charging_profile)
        if charging_profile and conn is not None and conf.status == RemoteStartStopStatus.accepted:
            self.pending[conn.id] = (charging_profile, st.clock.now() - timedelta(seconds=1))
            self.ensure_running()
        return conf
