"""The report of a run: the case results as they end, the run dict, and the events that make
the report folder and the console output.

:class:`Report` keeps the record and emits the run's events (:mod:`pile_interop.core.events`);
:class:`~pile_interop.reporting.folder.ReportFolder` writes the folder from them, so a crash or
Ctrl-C loses nothing, and :class:`~pile_interop.reporting.console.Progress` prints the progress
lines. The CLI subscribes both, the pytest plugin's ``--pile-out`` the folder alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pile_interop import __version__
from pile_interop.core.clock import utc_iso
from pile_interop.core.events import (
    CaseFinished,
    CaseStarted,
    EventStream,
    RunFinished,
    RunStarted,
    Subscriber,
)
from pile_interop.core.verdicts import Verdict
from pile_interop.engine.base import CampaignBase
from pile_interop.reporting.folder import ReportFolder
from pile_interop.reporting.results_json import profile_verdict, summarize
from pile_interop.scenario.model import Scenario
from pile_interop.scenario.runner import case_identity


class Report:
    """A run's record: the case results in the order they ended, and its event stream (the
    report folder in ``out_dir`` first, then ``subscribers``)."""

    def __init__(
        self,
        out_dir: Path,
        campaign: CampaignBase,
        planned: list[Scenario] | None = None,
        *,
        subscribers: Iterable[Subscriber] = (),
    ) -> None:
        self.out_dir = out_dir
        self.campaign = campaign
        #: every case of the profile, to list those that did not run as ``skipped``
        self.planned = planned or []
        self.events = EventStream([ReportFolder(out_dir), *subscribers])
        self.cases: list[dict[str, Any]] = []
        self.started = utc_iso()
        self.t0 = time.monotonic()

    def run_dict(self, *, finished: bool, interrupted: bool = False) -> dict[str, Any]:
        profile = self.campaign.profile
        return {
            "suite": "pile-interop",
            "version": __version__,
            "profile": profile.id,
            "profile_title": profile.title,
            "profile_verdict": profile_verdict(self.cases, profile.title),
            "sut": self.campaign.sut_info(),
            "against": self.campaign.target.describe(),
            "time_scale": self.campaign.target.time_scale,
            "started": self.started,
            "finished": utc_iso() if finished else None,
            "duration_s": round(time.monotonic() - self.t0, 3),
            "interrupted": interrupted,
            "summary": summarize(self.cases),
            "cases": self.cases,
        }

    def _skipped(self, scenario: Scenario, why: str) -> dict[str, Any]:
        return {
            **case_identity(scenario, self.campaign.profile),
            "verdict": Verdict.SKIPPED.value,
            "reason": why,
            "started": None,
            "finished": None,
            "duration_s": 0.0,
            "required_wait_s": 0.0,
            "steps": [],
            "frames": [],
            "findings": [],
        }

    def start(self) -> None:
        """The run begins (:class:`RunStarted`)."""
        self.events.emit(RunStarted(self.run_dict(finished=False)))

    def case_started(self, scenario: Scenario) -> None:
        """``scenario`` is about to run (:class:`CaseStarted`)."""
        self.events.emit(CaseStarted(scenario.id, scenario.title))

    def add(self, case: dict[str, Any]) -> None:
        """A case ended with the (redacted) result ``case`` (:class:`CaseFinished`)."""
        self.cases.append(case)
        run = self.campaign.redactor.redact(self.run_dict(finished=False))
        self.events.emit(CaseFinished(case, run))

    def finish(
        self, *, interrupted: bool = False, selected: set[str] | None = None
    ) -> dict[str, Any]:
        """The run ended (:class:`RunFinished`): the planned cases that did not run are added
        as skipped; returns the finished run dict."""
        ran = {c["id"] for c in self.cases}
        for scenario in self.planned:
            if scenario.id not in ran:
                why = "interrupted before it ran" if interrupted else "not selected"
                if selected is not None and scenario.id not in selected:
                    why = "not selected (--case)"
                self.cases.append(self._skipped(scenario, why))
        run = self.campaign.redactor.redact(self.run_dict(finished=True, interrupted=interrupted))
        self.events.emit(RunFinished(run, self.out_dir))
        return run
