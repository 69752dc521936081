"""Smart Charging operator actions of the reference OCPP 2.0.1 CSMS (Part 2 block K): a base
class of :class:`~pile_interop.ocpp.v201.reference.csms.ReferenceCsms` (one action per
method, each returning the station's answer).

:meth:`set_charging_profile` (K01: a ChargingStationMaxProfile on evseId 0, a TxDefaultProfile
on an EVSE or 0, a TxProfile for the EVSE's running transaction), :meth:`get_charging_profiles`
(K09), :meth:`clear_charging_profile` (K10, by id or by criteria),
:meth:`get_composite_schedule` (K08); ``request_start`` with ``charging_limit`` adds
:meth:`start_profile` (K05). Hooks a mutant overrides: :meth:`charging_profile_request`,
:meth:`start_profile`, :meth:`clear_request`.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ocpp.v201 import call

from pile_interop.core.clock import utc_iso

STATION_MAX = "ChargingStationMaxProfile"
TX = "TxProfile"


def _schedule(limit: float, unit: str, *, start: bool) -> list[dict[str, Any]]:
    schedule: dict[str, Any] = {
        "id": 1,
        "charging_rate_unit": unit,
        "charging_schedule_period": [{"start_period": 0, "limit": float(limit)}],
    }
    if start:
        schedule["start_schedule"] = utc_iso(datetime.now(UTC))
    return [schedule]


class SmartChargingOperator:
    """The CSMS's Smart Charging actions (a base class of the reference CSMS)."""

    _profile_ids = itertools.count(1)
    _request_ids = itertools.count(1)

    if TYPE_CHECKING:  # the CSMS's (CsmsBase and ReferenceCsms), after this class in the MRO

        async def _send(self, request: Any, station: str | None) -> Any: ...

        def _link(self, station: str | None) -> Any: ...

        def open_transaction(self, station_id: str, evse: int | None) -> Any: ...

    # -- K01 SetChargingProfile ------------------------------------------------------------

    def charging_profile_request(
        self,
        purpose: str,
        limit: float,
        evse: int,
        unit: str,
        stack_level: int,
        transaction_id: str | None,
        profile_id: int,
    ) -> call.SetChargingProfile:
        """A ChargingStationMaxProfile goes to evseId 0 (Absolute, from now); the others are
        Relative; a TxProfile names its transaction."""
        station_max = purpose == STATION_MAX
        profile: dict[str, Any] = {
            "id": profile_id,
            "stack_level": stack_level,
            "charging_profile_purpose": purpose,
            "charging_profile_kind": "Absolute" if station_max else "Relative",
            "charging_schedule": _schedule(limit, unit, start=station_max),
        }
        if purpose == TX and transaction_id is not None:
            profile["transaction_id"] = transaction_id
        return call.SetChargingProfile(evse_id=0 if station_max else evse, charging_profile=profile)

    async def set_charging_profile(
        self,
        purpose: str,
        limit: Any,
        evse: Any = None,
        unit: str = "A",
        stack_level: Any = 0,
        transaction_id: str | None = None,
        profile_id: Any = None,
        station: str | None = None,
    ) -> Any:
        """SetChargingProfile; a TxProfile without ``transaction_id`` is for the EVSE's open
        transaction."""
        evse_id = int(evse) if evse is not None else (0 if purpose == STATION_MAX else 1)
        if purpose == TX and transaction_id is None:
            link = self._link(station)
            tx = self.open_transaction(link.id, evse_id)
            if tx is None:
                raise ValueError(f"no open transaction on EVSE {evse_id} for a TxProfile")
            transaction_id = tx.transaction_id
        pid = int(profile_id) if profile_id is not None else next(self._profile_ids)
        request = self.charging_profile_request(
            purpose, float(limit), evse_id, unit, int(stack_level), transaction_id, pid
        )
        return await self._send(request, station)

    # -- K09 / K10 / K08 ---------------------------------------------------------------------

    async def get_charging_profiles(
        self, evse: Any = None, purpose: str | None = None, station: str | None = None
    ) -> Any:
        criteria: dict[str, Any] = {}
        if purpose:
            criteria["charging_profile_purpose"] = purpose
        request = call.GetChargingProfiles(
            request_id=next(self._request_ids),
            charging_profile=criteria,
            evse_id=int(evse) if evse is not None else None,
        )
        return await self._send(request, station)

    def clear_request(
        self, profile_id: int | None, criteria: dict[str, Any]
    ) -> call.ClearChargingProfile:
        return call.ClearChargingProfile(
            charging_profile_id=profile_id, charging_profile_criteria=criteria or None
        )

    async def clear_charging_profile(
        self,
        profile_id: Any = None,
        evse: Any = None,
        purpose: str | None = None,
        stack_level: Any = None,
        station: str | None = None,
    ) -> Any:
        criteria: dict[str, Any] = {}
        if profile_id is None:
            for key, value in (
                ("evse_id", evse),
                ("charging_profile_purpose", purpose),
                ("stack_level", stack_level),
            ):
                if value is not None:
                    criteria[key] = value if key == "charging_profile_purpose" else int(value)
        pid = int(profile_id) if profile_id is not None else None
        return await self._send(self.clear_request(pid, criteria), station)

    async def get_composite_schedule(
        self,
        evse: Any = 0,
        duration: Any = 300,
        charging_rate_unit: str | None = None,
        station: str | None = None,
    ) -> Any:
        request = call.GetCompositeSchedule(
            duration=int(duration), evse_id=int(evse or 0), charging_rate_unit=charging_rate_unit
        )
        return await self._send(request, station)

    # -- K05: the TxProfile of a RequestStartTransaction ----------------------------------------

    def start_profile(self, limit: float, unit: str) -> dict[str, Any]:
        """A TxProfile without transactionId (the station's transaction does not exist yet)."""
        return {
            "id": next(self._profile_ids),
            "stack_level": 0,
            "charging_profile_purpose": TX,
            "charging_profile_kind": "Relative",
            "charging_schedule": _schedule(limit, unit, start=False),
        }
