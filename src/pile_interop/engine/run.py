"""Running a profile: every selected case in order, the report written whatever happens.

The CLI runs a whole profile through :func:`run_profile`; the pytest plugin runs one case per
item through the campaign and adds each result to the same :class:`~pile_interop.engine.report.
Report`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from pile_interop.engine.base import CampaignBase
from pile_interop.engine.report import Report
from pile_interop.scenario.model import Scenario

#: Cases in a row whose before-state could not be reached before the run stops (0: never).
DEFAULT_MAX_UNREACHED = 3


def stop_reason(count: int, last: str) -> str:
    """Why a run stopped after ``count`` cases in a row missed their before-state."""
    return (
        f"not run: the run stopped after {count} cases in a row could not reach their "
        f"before-state (the last: {last})"
    )


async def run_profile(
    campaign: CampaignBase,
    scenarios: list[Scenario],
    report: Report,
    *,
    max_unreached: int = DEFAULT_MAX_UNREACHED,
    carried: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """Run ``scenarios`` in order, emitting the run's events through ``report``; the report is
    finished whatever happens (an interrupted case's partial result included).

    After ``max_unreached`` cases in a row whose before-state could not be reached (``0``:
    never) the run stops: the cases left are ``not_run`` with that reason."""
    interrupted = False
    in_a_row = 0
    try:
        report.start(selected=[*(c["id"] for c in carried), *(s.id for s in scenarios)])
        for case in carried:
            report.add(case)
        for number, scenario in enumerate(scenarios, 1):
            report.case_started(scenario)
            try:
                result = await campaign.run_case(scenario)
            except asyncio.CancelledError:
                interrupted = True
                if campaign.last_partial is not None:
                    report.add(campaign.last_partial)
                raise
            report.add(result)
            if _cancel_pending():
                # a Ctrl-C that came as the case ended: asyncio.wait_for (Python < 3.12) may
                # return the case's result and drop the cancellation; the run stops here
                interrupted = True
                raise asyncio.CancelledError
            unreached = campaign.unreached
            in_a_row = in_a_row + 1 if unreached else 0
            left = number < len(scenarios)
            if unreached and max_unreached and in_a_row >= max_unreached and left:
                report.stop(stop_reason(in_a_row, unreached))
                break
    except BaseException:
        interrupted = True
        raise
    finally:
        chosen = {s.id for s in scenarios} | {str(c["id"]) for c in carried}
        run = report.finish(interrupted=interrupted, selected=chosen)
    return run


def _cancel_pending() -> bool:
    """Whether the running task was asked to cancel (``Task.cancelling``) and has not been."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
