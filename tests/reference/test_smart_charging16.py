"""Smart Charging at the reference OCPP 1.6J station, alone (a small CSMS drives it)."""

from __future__ import annotations

from typing import Any

from ocpp.v16 import call

from tests.reference.test_station16 import SCALE, charging, run, station_and_csms
from tests.waits import eventually

#: Bound on the charging taking up a new limit (its meter follows every few scaled seconds).
FOLLOW_BOUND_S = SCALE * 30


def _profile(pid: int, purpose: str, limit: float, **extra: Any) -> dict[str, Any]:
    return {
        "chargingProfileId": pid,
        "stackLevel": extra.pop("stackLevel", 0),
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": extra.pop("unit", "A"),
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        },
        **extra,
    }


def test_profiles_shape_the_composite_schedule_and_the_charging() -> None:
    async def scenario() -> None:
        async with station_and_csms() as (station, csms):
            # no transaction: a TxProfile is refused
            conf = await csms.call(
                call.SetChargingProfile(
                    connector_id=1, cs_charging_profiles=_profile(1, "TxProfile", 8)
                )
            )
            assert conf.status == "Rejected"
            conf = await csms.call(
                call.SetChargingProfile(
                    connector_id=1, cs_charging_profiles=_profile(2, "TxDefaultProfile", 10)
                )
            )
            assert conf.status == "Accepted"
            await charging(station, csms)
            conf = await csms.call(
                call.SetChargingProfile(
                    connector_id=1, cs_charging_profiles=_profile(3, "TxProfile", 8)
                )
            )
            assert conf.status == "Accepted"
            cap = _profile(4, "ChargePointMaxProfile", 6)
            assert (
                await csms.call(call.SetChargingProfile(connector_id=1, cs_charging_profiles=cap))
            ).status == "Rejected"
            assert (
                await csms.call(call.SetChargingProfile(connector_id=0, cs_charging_profiles=cap))
            ).status == "Accepted"
            got = await csms.call(
                call.GetCompositeSchedule(connector_id=1, duration=60, charging_rate_unit="W")
            )
            assert got.status == "Accepted"
            periods = got.charging_schedule["charging_schedule_period"]
            assert periods == [{"start_period": 0, "limit": 4140.0}]
            power = ["Power.Active.Import"]
            await eventually(
                lambda: station.read_meter(1, power) == [("Power.Active.Import", 4140.0)],
                FOLLOW_BOUND_S,
                "the charging at the station maximum of 4140 W",
                lambda: station.read_meter(1, power),
            )
            assert (await csms.call(call.ClearChargingProfile(id=4))).status == "Accepted"
            assert (await csms.call(call.ClearChargingProfile(id=4))).status == "Unknown"
            current = ["Current.Import"]
            await eventually(
                lambda: station.read_meter(1, current) == [("Current.Import", 8.0)],
                FOLLOW_BOUND_S,
                "the charging back at the TxDefaultProfile's 8 A once the maximum is cleared",
                lambda: station.read_meter(1, current),
            )
            rejected = await csms.call(call.GetCompositeSchedule(connector_id=7, duration=60))
            assert rejected.status == "Rejected"
            # the TxProfile ends with the transaction: the default applies again
            await station.present_id_tag("VALID")
            await csms.expect("StopTransaction")
            got = await csms.call(call.GetCompositeSchedule(connector_id=1, duration=60))
            assert got.charging_schedule["charging_schedule_period"][0]["limit"] == 10.0

    run(scenario)
