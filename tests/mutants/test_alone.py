"""A mutant missed among the crowd of campaigns is re-run alone, and both runs are told."""

from __future__ import annotations

import asyncio

from tests.mutants import catalogue
from tests.mutants.catalogue import Outcome
from tests.mutants.stations16 import CATALOGUE


def _outcome(verdict: str, reason: str) -> Outcome:
    mutant = next(m for m in CATALOGUE if m.name == "ClearCacheDoesNothing")
    return Outcome(mutant, {mutant.catches: {"verdict": verdict, "reason": reason}})


def test_a_miss_in_the_crowd_is_judged_by_a_run_alone_that_keeps_what_the_crowd_said(
    monkeypatch,
):
    calls: list[tuple[list[str], int]] = []
    calm = _outcome("fail", "[OCPP1.6 §3.5.1] No Authorize")

    async def alone(chosen, width, full):
        calls.append(([m.name for m in chosen], width))
        return [Outcome(calm.mutant, calm.results)]

    monkeypatch.setattr(catalogue, "_run_batch", alone)
    crowded = _outcome("fail", "[OCPP1.6 §9.1.6] StatusNotification came too early")
    again = asyncio.run(catalogue._alone_if_missed(crowded, full=False))
    assert calls == [(["ClearCacheDoesNothing"], 1)]
    assert again.caught
    assert again.crowded and "does not name OCPP1.6 §3.5.1" in again.crowded[0]
    assert "1 re-run alone: ClearCacheDoesNothing" in catalogue.summary([again])


def test_a_mutant_caught_in_the_crowd_is_not_run_again(monkeypatch):
    async def never(*_args):
        raise AssertionError("re-run of a caught mutant")

    monkeypatch.setattr(catalogue, "_run_batch", never)
    caught = _outcome("fail", "[OCPP1.6 §3.5.1] No Authorize")
    assert asyncio.run(catalogue._alone_if_missed(caught, full=False)) is caught


def test_a_mutant_missed_alone_too_stays_missed(monkeypatch):
    async def alone(chosen, width, full):
        return [_outcome("pass", "")]

    monkeypatch.setattr(catalogue, "_run_batch", alone)
    again = asyncio.run(catalogue._alone_if_missed(_outcome("pass", ""), full=False))
    assert not again.caught and again.crowded
