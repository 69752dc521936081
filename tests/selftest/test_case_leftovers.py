"""Case-file leftovers of issue 13 item 6.

* OCPP 1.6: StatusNotification for connector 0 after a boot is what the OCA test cases expect,
  not a quoted requirement: a station that does not report connector 0 conforms and fails
  compatibility (the ``quirk:`` steps of the boot and reset cases).
* OCPP 2.0.1 TC_B_08_CS sizes its request from the station's own
  DeviceDataCtrlr.ItemsPerMessage[GetVariables]: a station with another limit conforms too.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from ocpp.v16 import call

from pile_interop.ocpp.v16.reference.station import ReferenceStation
from pile_interop.ocpp.v201.reference.station import ReferenceStation as ReferenceStation201
from tests.mutants.catalogue import run_sut

#: The 1.6 cases that check connector 0's StatusNotification after a boot.
CONNECTOR_ZERO_CASES = [
    "TC_001_CS",
    "TC_002_CS",
    "TC_013_CS",
    "TC_014_CS",
    "TC_015_CS",
    "TC_016_CS",
    "TC_032_1_CS",
]
#: Bound on one run of these cases against a reference station.
RUN_BOUND_S = 600


class OmitsConnectorZeroStatus(ReferenceStation):
    """Reports every connector after a boot, but not connector 0 (the station as a whole)."""

    def boot_status_notifications(self) -> list[call.StatusNotification]:
        return [
            payload for payload in super().boot_status_notifications() if payload.connector_id != 0
        ]


def results(cls: type | None, cases: list[str], profile_id: str) -> dict[str, dict[str, Any]]:
    return asyncio.run(asyncio.wait_for(run_sut(cls, cases, profile_id=profile_id), RUN_BOUND_S))


@pytest.mark.slow
def test_a_station_without_connector_zero_conforms_and_fails_compatibility() -> None:
    got = results(OmitsConnectorZeroStatus, CONNECTOR_ZERO_CASES, "ocpp16/core-cs")
    assert sorted(got) == sorted(CONNECTOR_ZERO_CASES)
    for case_id, case in got.items():
        assert case["verdict"] == "pass", (case_id, case["reason"])
        assert case["compatibility"]["verdict"] == "fail", case_id
        (quirk,) = case["compatibility"]["quirks"]
        assert "connector 0" in quirk["quirk"] and "StatusNotification" in quirk["reason"]


def with_items_per_message(limit: int) -> type:
    """The 2.0.1 reference station with DeviceDataCtrlr.ItemsPerMessage[GetVariables] =
    ``limit`` (the reference's own is 4)."""

    class Station(ReferenceStation201):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            limits = ("DeviceDataCtrlr", "ItemsPerMessage", str(limit))
            self.model.set(*limits, instance="GetVariables")

    Station.__name__ = f"ItemsPerMessage{limit}"
    return Station


@pytest.mark.parametrize("limit", [10, 30])
def test_tc_b_08_sends_one_item_more_than_the_stations_own_limit(limit: int) -> None:
    got = results(with_items_per_message(limit), ["TC_B_08_CS"], "ocpp201/core-cs")["TC_B_08_CS"]
    assert got["verdict"] == "pass", got["reason"]
    sent = [f for f in got["frames"] if f["dir"] == "out" and f["action"] == "GetVariables"]
    items = [len(json.loads(f["raw"])[3]["getVariableData"]) for f in sent]
    assert items == [1, limit + 1]
    refused = [f for f in got["frames"] if f["type"] == "CALLERROR"]
    assert f"ItemsPerMessage[GetVariables] is {limit}" in refused[-1]["raw"]
