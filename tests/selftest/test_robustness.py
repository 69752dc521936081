"""A silent or disconnecting SUT gives a verdict with a reason; the run goes on."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import json
from functools import partial
from typing import Any

from ocpp.v16 import call_result
from websockets.asyncio.client import connect

from pile_interop.actuators.prompt import PromptActuator
from pile_interop.engine.base import Target
from pile_interop.engine.reference import reference_station
from pile_interop.engine.station_campaign import StationCampaign
from pile_interop.ocpp.v16.reference.station import ReferenceStation
from tests.mutants.catalogue import load

SILENCE_S = 30.0  # longer than the cases that run against the silent station

QUICK = {
    "connect": 2,
    "boot": 2,
    "boot_status": 1,
    "settle": 2,
    "manual": 2,
    "response": 1.5,
    "message": 1.5,
}


def quick_profile() -> Any:
    profile, scenarios, device = load()
    return dataclasses.replace(profile, timeouts={**profile.timeouts, **QUICK}), scenarios, device


async def run_cases(
    target: Target, ids: list[str], before: Any = None, actuator: Any = None
) -> dict[str, dict]:
    profile, scenarios, device = quick_profile()
    chosen = [s for s in scenarios if s.id in ids]
    results = {}
    async with StationCampaign(profile, device, target, actuator=actuator) as campaign:
        if before is not None:
            await before(campaign)
        for scenario in chosen:
            results[scenario.id] = await campaign.run_case(scenario)
    return results


def test_a_sut_that_goes_silent_fails_with_what_was_awaited_and_for_how_long():
    """A raw client boots, reports its connectors, then never answers a CALL."""

    async def silent_station(url: str) -> None:
        async with connect(f"{url}/REF-CS-001", subprotocols=["ocpp1.6"]) as ws:
            await ws.send(
                json.dumps(
                    [
                        2,
                        "b1",
                        "BootNotification",
                        {"chargePointVendor": "x", "chargePointModel": "silent"},
                    ]
                )
            )
            await asyncio.wait_for(ws.recv(), 5)
            for connector in (0, 1, 2):
                await ws.send(
                    json.dumps(
                        [
                            2,
                            f"s{connector}",
                            "StatusNotification",
                            {
                                "connectorId": connector,
                                "errorCode": "NoError",
                                "status": "Available",
                            },
                        ]
                    )
                )
                await asyncio.wait_for(ws.recv(), 5)
            # the silence under test: bounded, and cancelled as soon as the cases are done
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.Event().wait(), SILENCE_S)

    async def main() -> dict[str, dict]:
        task: asyncio.Task[None] | None = None

        async def start_station(campaign: StationCampaign) -> None:
            nonlocal task
            task = asyncio.create_task(silent_station(campaign.server.url))

        try:
            return await run_cases(
                Target("listen", port=0),
                ["TC_040_1_CS", "TC_019_2_CS"],
                before=start_station,
                actuator=PromptActuator(io.StringIO(""), io.StringIO()),  # nobody at the bench
            )
        finally:
            if task is not None:
                task.cancel()

    results = asyncio.run(asyncio.wait_for(main(), 60))
    for case_id in ("TC_040_1_CS", "TC_019_2_CS"):
        result = results[case_id]
        assert result["verdict"] == "fail", result["reason"]
        assert "No response to" in result["reason"]
        assert "within 1.5 s" in result["reason"]
        assert result["duration_s"] < 10


class DropsConnectionOnChangeConfiguration(ReferenceStation):
    """Loses its network when asked to change a configuration key, and comes back."""

    async def handle_change_configuration(self, key: str, value: str) -> Any:
        link = self.base.link
        await self.go_offline()
        if link is not None:  # the socket is gone before the answer could be written
            await link._connection.close()
        asyncio.get_running_loop().call_later(0.3, lambda: asyncio.ensure_future(self.go_online()))
        return call_result.ChangeConfiguration(status="Accepted")


def test_a_disconnect_in_the_middle_of_a_case_fails_it_and_the_next_case_reconnects():
    profile, _scenarios, _device = load()
    target = Target(
        "reference",
        time_scale=profile.reference_time_scale,
        floor=1.0,
        sut_factory=partial(reference_station, cls=DropsConnectionOnChangeConfiguration),
    )
    results = asyncio.run(
        asyncio.wait_for(run_cases(target, ["TC_040_1_CS", "TC_019_2_CS", "TC_003_CS"]), 60)
    )
    dropped = results["TC_040_1_CS"]
    assert dropped["verdict"] == "fail"
    assert (
        "connection closed while awaiting the response to ChangeConfiguration"
        in (dropped["reason"])
    )
    assert any(f["dir"] == "event" and "closed" in f["raw"] for f in dropped["frames"])
    assert results["TC_019_2_CS"]["verdict"] == "pass", results["TC_019_2_CS"]["reason"]
    assert results["TC_003_CS"]["verdict"] == "pass", results["TC_003_CS"]["reason"]
