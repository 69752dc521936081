"""Running a profile: every selected case in order, the report written whatever happens.

The CLI runs a whole profile through :func:`run_profile`; the pytest plugin runs one case per
item through the campaign and adds each result to the same :class:`~pile_interop.engine.report.
Report`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pile_interop.engine.base import CampaignBase
from pile_interop.engine.report import Report
from pile_interop.scenario.model import Scenario


async def run_profile(
    campaign: CampaignBase, scenarios: list[Scenario], report: Report
) -> dict[str, Any]:
    """Run ``scenarios`` in order, emitting the run's events through ``report``; the report is
    finished whatever happens (an interrupted case's partial result included)."""
    interrupted = False
    try:
        report.start(selected=[s.id for s in scenarios])
        for scenario in scenarios:
            report.case_started(scenario)
            try:
                result = await campaign.run_case(scenario)
            except asyncio.CancelledError:
                interrupted = True
                if campaign.last_partial is not None:
                    report.add(campaign.last_partial)
                raise
            report.add(result)
    except BaseException:
        interrupted = True
        raise
    finally:
        run = report.finish(interrupted=interrupted, selected={s.id for s in scenarios})
    return run
