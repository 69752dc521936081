"""The before-phase's recovery step against OCPP 2.0.1 stations left in a bad state: one stuck
Pending until power-cycled (TriggerMessage ignored), one left with a transaction open by a
failing case."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from ocpp.v201 import call

from pile_interop.ocpp.v201.reference.station import ReferenceStation
from pile_interop.ocpp.v201.reference.station_tx import Evses
from tests.mutants.catalogue import run_sut

pytestmark = [pytest.mark.slow]

PROFILE = "ocpp201/core-cs"
PENDING_CASE = "TC_B_02_CS"
#: TC_B_02_CS and the cases after it in the profile (a slice: the whole 2.0.1 profile takes
#: minutes): boot, variables, reports, reset
SLICE = [PENDING_CASE, "TC_B_03_CS", "TC_B_06_CS", "TC_B_07_CS", "TC_B_09_CS", "TC_B_11_CS"]


class StaysPendingUntilPowerCycled(ReferenceStation):
    """Once answered Pending it stays Pending: no BootNotification again (a TriggerMessage for
    one is answered Accepted and ignored) until it is power-cycled."""

    def boot_retry_interval(self, interval: int) -> int:
        if self.registration == "Pending":
            return 10**6  # never, unless the power comes back (power_on resets the wait)
        return super().boot_retry_interval(interval)

    def trigger_boot(self) -> None:
        if self.registration != "Pending":
            super().trigger_boot()


class _QueueNeverEmpty(Evses):
    def transaction_status(self, req: call.GetTransactionStatus) -> Any:
        result = super().transaction_status(req)
        result.messages_in_queue = True
        return result


class ReportsMessagesInQueue(ReferenceStation):
    """Says messagesInQueue true in every GetTransactionStatus answer (a failing TC_E_30_CS
    leaves its transaction open)."""

    evses_class = _QueueNeverEmpty


def _before(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in result["steps"] if s["phase"] == "before"]


def test_a_station_stuck_pending_until_power_cycled_is_recovered_for_every_later_case():
    async def both() -> tuple[dict[str, Any], dict[str, Any]]:
        return await asyncio.gather(  # type: ignore[return-value]
            run_sut(None, SLICE, PROFILE), run_sut(StaysPendingUntilPowerCycled, SLICE, PROFILE)
        )

    reference, mutant = asyncio.run(asyncio.wait_for(both(), 600))
    assert list(mutant) == SLICE
    assert mutant[PENDING_CASE]["verdict"] == "fail", mutant[PENDING_CASE]["reason"]
    later = SLICE[1:]
    differ = {
        cid: (reference[cid]["verdict"], mutant[cid]["verdict"], mutant[cid]["reason"])
        for cid in later
        if reference[cid]["verdict"] != mutant[cid]["verdict"]
    }
    assert differ == {}
    assert all(reference[cid]["verdict"] == "pass" for cid in later)
    titles = [s["title"] for s in _before(mutant[later[0]])]
    assert any("TriggerMessage BootNotification (the station is Pending)" in t for t in titles)
    assert any(t.startswith("recover: power_cycle") for t in titles), titles


def test_a_transaction_left_open_by_a_failing_case_is_stopped_before_the_next_case():
    # TC_G_03_CS: ChangeAvailability Inoperative is Scheduled, not Accepted, during a session
    cases = ["TC_E_30_CS", "TC_G_03_CS"]
    results = asyncio.run(asyncio.wait_for(run_sut(ReportsMessagesInQueue, cases, PROFILE), 120))
    assert results["TC_E_30_CS"]["verdict"] == "fail", results["TC_E_30_CS"]["reason"]
    after = results["TC_G_03_CS"]
    assert after["verdict"] == "pass", after["reason"]
    stops = [s for s in _before(after) if "RequestStopTransaction" in s["title"]]
    assert stops and stops[0]["verdict"] == "pass", _before(after)
    assert "Accepted" in stops[0]["observed"]
