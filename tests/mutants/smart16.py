"""Mutant OCPP 1.6 stations of the Smart Charging profile (``ocpp16/smart-charging-cs``): the
reference station with ONE Smart Charging defect each, of the kinds vendors ship, registered
in the same catalogue as :mod:`tests.mutants.stations16`.

The Smart Charging requests reach the station's ``smart_charging`` component, so each mutant
is a station whose component is a subclass of
:class:`~pile_interop.ocpp.v16.reference.smart_charging.SmartCharging` with the defect.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ocpp.v16 import call_result
from ocpp.v16.enums import ChargingProfileStatus, GetCompositeScheduleStatus

from pile_interop.ocpp.charging_schedule import Kind, Profile, Purpose, Situation
from pile_interop.ocpp.v16.reference.smart_charging import SmartCharging
from pile_interop.ocpp.v16.reference.station import ReferenceStation
from pile_interop.ocpp.v16.reference.station_model import Connector
from tests.mutants.stations16 import mutant

PROFILE = "ocpp16/smart-charging-cs"
#: the cases whose verdict rests on the profiles being kept and used
STORING = (
    "TC_056_CS",
    "TC_057_CS",
    "TC_059_CS",
    "TC_066_CS",
    "TC_067_CS",
    "TC_072_CS",
    "TC_056_91_CS",
    "TC_056_92_CS",
    "TC_057_91_CS",
    "TC_057_92_CS",
    "TC_066_91_CS",
)


class _SmartMutant(ReferenceStation):
    """A reference station whose Smart Charging component is ``component``."""

    component: type[SmartCharging] = SmartCharging

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.smart_charging = self.component(self)


# -- stacking, purposes, validity ---------------------------------------------------------------


class _LastInstalledWins(SmartCharging):
    def profiles(self) -> list[Profile]:
        return [replace(p, stack_level=i) for i, p in enumerate(self.store.profiles)]


@mutant("TC_072_CS", "OCPP1.6 §3.13.2", profile=PROFILE)
class StackingIgnoresStackLevel(_SmartMutant):
    """Of two profiles of a purpose, the one installed last wins, whatever its stackLevel."""

    component = _LastInstalledWins


class _NoStationMax(SmartCharging):
    def profiles(self) -> list[Profile]:
        return [p for p in self.store.profiles if p.purpose is not Purpose.STATION_MAX]


@mutant("TC_066_CS", "OCPP1.6 §3.13.3", "TC_066_91_CS", "TC_067_CS", profile=PROFILE)
class CompositeIgnoresStationMax(_SmartMutant):
    """Keeps the ChargePointMaxProfile but neither the composite schedule nor the charging
    is capped by it."""

    component = _NoStationMax


class _TxProfileWithoutTransaction(SmartCharging):
    def set_status(self, connector_id: int, profile: Profile) -> str:
        if profile.purpose is Purpose.TX and connector_id in self.station.connectors:
            return ChargingProfileStatus.accepted
        return super().set_status(connector_id, profile)


@mutant("TC_058_1_CS", "OCPP1.6 §3.13.1", profile=PROFILE)
class TxProfileAcceptedWithoutTransaction(_SmartMutant):
    """Accepts a TxProfile for a connector without a transaction (or for another one)."""

    component = _TxProfileWithoutTransaction


class _MaxOnAnyConnector(SmartCharging):
    def set_status(self, connector_id: int, profile: Profile) -> str:
        if profile.purpose is Purpose.STATION_MAX:
            return super().set_status(0, profile)
        return super().set_status(connector_id, profile)


@mutant("TC_058_91_CS", "OCPP1.6 §3.13.1", profile=PROFILE)
class ChargePointMaxOnAnyConnector(_SmartMutant):
    """Accepts a ChargePointMaxProfile on a connector other than 0."""

    component = _MaxOnAnyConnector


class _NoRecurrence(SmartCharging):
    def install(self, profile: Profile) -> None:
        if profile.kind is Kind.RECURRING:
            profile = replace(profile, kind=Kind.ABSOLUTE, recurrency=None)
        super().install(profile)


@mutant("TC_056_91_CS", "OCPP1.6 §7.9", profile=PROFILE)
class RecurrenceIgnored(_SmartMutant):
    """Runs a Recurring profile once from its startSchedule, as if it were Absolute."""

    component = _NoRecurrence


class _WattsAsAmperes(SmartCharging):
    def install(self, profile: Profile) -> None:
        schedule = replace(profile.schedule, unit="A")
        super().install(replace(profile, schedule=schedule))


@mutant("TC_057_92_CS", "OCPP1.6 §7.12", profile=PROFILE)
class WattsTakenAsAmperes(_SmartMutant):
    """Reads every limit as amperes, whatever the schedule's chargingRateUnit."""

    component = _WattsAsAmperes


# -- the store: kept, cleared ------------------------------------------------------------------


class _NotStored(SmartCharging):
    def install(self, profile: Profile) -> None:
        pass


@mutant("TC_056_CS", "OCPP1.6 §3.13.1", *STORING, profile=PROFILE)
class ProfileAcceptedButNotStored(_SmartMutant):
    """Answers SetChargingProfile Accepted and forgets the profile."""

    component = _NotStored


class _ClearsEverything(SmartCharging):
    def clear(
        self, id: int | None, connector: int | None, purpose: str | None, stack_level: int | None
    ) -> list[Profile]:
        if id is None:
            return super().clear(None, None, None, None)
        return super().clear(id, connector, purpose, stack_level)


@mutant("TC_067_CS", "OCPP1.6 §5.5", profile=PROFILE)
class ClearByCriteriaClearsEverything(_SmartMutant):
    """ClearChargingProfile by criteria removes every profile, matching or not."""

    component = _ClearsEverything


class _ClearsNothing(SmartCharging):
    def clear(
        self, id: int | None, connector: int | None, purpose: str | None, stack_level: int | None
    ) -> list[Profile]:
        if id is None and (connector, purpose, stack_level) != (None, None, None):
            return []
        return super().clear(id, connector, purpose, stack_level)


@mutant("TC_067_CS", "OCPP1.6 §5.5", profile=PROFILE)
class ClearByCriteriaClearsNothing(_SmartMutant):
    """ClearChargingProfile by criteria finds nothing (only by id, or all, works)."""

    component = _ClearsNothing


class _KeepsTxProfile(SmartCharging):
    def tx_profile_alive(self, profile: Profile) -> bool:
        return True

    def bind(self, profile: Profile) -> Profile:
        return replace(profile, transaction=None) if profile.purpose is Purpose.TX else profile

    def situation(self, connector_id: int) -> Situation:
        # the connector's TxProfile applies with or without a transaction
        return replace(super().situation(connector_id), transaction="any")


@mutant("TC_057_91_CS", "OCPP1.6 §3.13.1", profile=PROFILE)
class TxProfileKeptAfterTransaction(_SmartMutant):
    """Keeps a TxProfile on its connector after the transaction ended, still in force."""

    component = _KeepsTxProfile


# -- charging, remote start, composite --------------------------------------------------------


class _LimitNotApplied(SmartCharging):
    def apply_limit(self, conn: Connector, limit_w: float) -> None:
        pass


@mutant(
    "TC_056_CS",
    "OCPP1.6 §3.13",
    "TC_057_CS",
    "TC_059_CS",
    "TC_066_CS",
    "TC_057_92_CS",
    profile=PROFILE,
)
class LimitNotAppliedToCharging(_SmartMutant):
    """Reports the right composite schedule but charges at full power (meter values show
    it)."""

    component = _LimitNotApplied


class _RemoteProfileDropped(SmartCharging):
    async def handle_remote_start_transaction(
        self, id_tag: str, connector_id: int | None, charging_profile: dict[str, Any] | None
    ) -> Any:
        refused = self.remote_profile_status(charging_profile)
        if refused is not None:  # the purpose is still checked
            return call_result.RemoteStartTransaction(status=refused)  # type: ignore[arg-type]
        return await super().handle_remote_start_transaction(id_tag, connector_id, None)


@mutant("TC_059_CS", "OCPP1.6 §5.11", profile=PROFILE)
class RemoteStartDropsItsProfile(_SmartMutant):
    """Starts the transaction of a RemoteStartTransaction but drops its chargingProfile."""

    component = _RemoteProfileDropped


class _RemoteAnyPurpose(SmartCharging):
    def remote_profile_status(self, charging_profile: dict[str, Any] | None) -> str | None:
        return None


@mutant("TC_060_CS", "OCPP1.6 §6.33", profile=PROFILE)
class RemoteStartAcceptsAnyPurpose(_SmartMutant):
    """Accepts a RemoteStartTransaction whose chargingProfile is not a TxProfile."""

    component = _RemoteAnyPurpose


class _AnyConnector(SmartCharging):
    async def handle_get_composite_schedule(
        self, connector_id: int, duration: int, unit: str | None
    ) -> call_result.GetCompositeSchedule:
        if connector_id not in self.station.connectors:
            return call_result.GetCompositeSchedule(
                status=GetCompositeScheduleStatus.accepted,
                connector_id=connector_id,
                schedule_start=datetime.now().astimezone().isoformat(),
                charging_schedule={
                    "charging_rate_unit": unit or "A",
                    "charging_schedule_period": [{"start_period": 0, "limit": 32.0}],
                },
            )
        return await super().handle_get_composite_schedule(connector_id, duration, unit)


@mutant("TC_066_92_CS", "OCPP1.6 §5.7", profile=PROFILE)
class CompositeOfUnknownConnector(_SmartMutant):
    """Answers GetCompositeSchedule of an unknown connector Accepted (the station maximum)."""

    component = _AnyConnector


# -- configuration ------------------------------------------------------------------------------


class _AnyStackLevel(SmartCharging):
    def set_status(self, connector_id: int, profile: Profile) -> str:
        return super().set_status(connector_id, replace(profile, stack_level=0))


@mutant("TC_058_92_CS", "OCPP1.6 §9.4.1", profile=PROFILE)
class AcceptsStackLevelPastTheMaximum(_SmartMutant):
    """Accepts a profile whatever its stackLevel, past ChargeProfileMaxStackLevel too."""

    component = _AnyStackLevel


@mutant("TC_058_92_CS", "OCPP1.6 §9.4", profile=PROFILE)
class SmartChargingNotInFeatureProfiles(ReferenceStation):
    """Does Smart Charging but SupportedFeatureProfiles says only Core."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config._values["SupportedFeatureProfiles"] = "Core"


# -- the composite's rules ----------------------------------------------------------------------


class _DefaultAsCap(SmartCharging):
    def profiles(self) -> list[Profile]:
        # the TxDefaultProfile limits alongside the TxProfile instead of giving way to it
        return [
            replace(p, purpose=Purpose.EXTERNAL) if p.purpose is Purpose.TX_DEFAULT else p
            for p in self.store.profiles
        ]


@mutant("TC_066_CS", "OCPP1.6 §3.13.3", profile=PROFILE)
class TxProfileDoesNotOverrideDefault(_SmartMutant):
    """Applies the lower of the TxProfile and the TxDefaultProfile (the TxProfile does not
    override the default)."""

    component = _DefaultAsCap


class _NoValidity(SmartCharging):
    def profiles(self) -> list[Profile]:
        return [replace(p, valid_from=None, valid_to=None) for p in self.store.profiles]


@mutant("TC_056_92_CS", "OCPP1.6 §7.8", profile=PROFILE)
class ValidityIgnored(_SmartMutant):
    """Applies a profile outside its validFrom / validTo."""

    component = _NoValidity


class _NoDuration(SmartCharging):
    def profiles(self) -> list[Profile]:
        return [
            replace(p, schedule=replace(p.schedule, duration=None)) for p in self.store.profiles
        ]


@mutant("TC_072_CS", "OCPP1.6 §3.13.2", "TC_066_CS", profile=PROFILE)
class ScheduleDurationIgnored(_SmartMutant):
    """Keeps a schedule's last period in force after the schedule's duration."""

    component = _NoDuration


class _RelativeFromNow(SmartCharging):
    def situation(self, connector_id: int) -> Situation:
        return replace(super().situation(connector_id), transaction_start=None)


@mutant("TC_056_CS", "OCPP1.6 §3.13.1", profile=PROFILE)
class RelativeFromTheRequest(_SmartMutant):
    """Starts a Relative schedule at the moment it is evaluated, not at the transaction's
    start."""

    component = _RelativeFromNow


class _OwnConnectorOnly(SmartCharging):
    def profiles(self) -> list[Profile]:
        return [
            p
            for p in self.store.profiles
            if not (p.purpose is Purpose.TX_DEFAULT and p.connector == 0)
        ]


@mutant("TC_056_93_CS", "OCPP1.6 §3.13.1", profile=PROFILE)
class DefaultOfConnectorZeroIgnored(_SmartMutant):
    """Applies a TxDefaultProfile only on the connector it was set on, not from connector 0."""

    component = _OwnConnectorOnly
