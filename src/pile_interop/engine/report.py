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
from pile_interop.reporting.results_json import (
    attach_late,
    profile_verdict,
    run_verdict,
    summarize,
)
from pile_interop.scenario.case_info import case_identity
from pile_interop.scenario.model import Scenario


class Report:
    """A run's record: the case results in the order they ended, and its event stream (the
    report folder in ``out_dir`` first, then ``subscribers``).

    The run dict never claims more than ran: until the run finishes it reads as interrupted
    (the planned, selected cases that have not ended listed as ``not_run``), so a
    ``results.json`` left by a killed run has no verdict; a ``--case`` subset of the profile
    is a partial run (``selection``) judged on the selected cases only.
    """

    def __init__(
        self,
        out_dir: Path,
        campaign: CampaignBase,
        planned: list[Scenario] | None = None,
        *,
        subscribers: Iterable[Subscriber] = (),
        continues: dict[str, Any] | None = None,
    ) -> None:
        self.out_dir = out_dir
        #: the earlier run this one continues (``--resume``, ``--rerun-failed``): the run
        #: dict's ``continues`` field (mode, report folder, that run's start)
        self.continues = continues
        self.campaign = campaign
        #: every case of the profile, to list those that did not run (``skipped`` when not
        #: selected, ``not_run`` when selected)
        self.planned = planned or []
        #: the ids of the selected cases (``None``: every planned case)
        self.selected: set[str] | None = None
        self.events = EventStream([ReportFolder(out_dir), *subscribers])
        self.cases: list[dict[str, Any]] = []
        self.started = utc_iso()
        self.t0 = time.monotonic()
        self._begun = False
        #: why the run stopped before its last case (too many before-states not reached)
        self.stopped: str | None = None

    def _selection(self) -> dict[str, Any] | None:
        """The ``selection`` field: the selected case ids when they are not every planned
        case (a partial run), else ``None``."""
        if self.selected is None or not self.planned:
            return None
        chosen = [s.id for s in self.planned if s.id in self.selected]
        if len(chosen) == len(self.planned):
            return None
        return {"cases": chosen, "selected": len(chosen), "planned": len(self.planned)}

    def run_dict(self, *, finished: bool, interrupted: bool = False) -> dict[str, Any]:
        """The run so far; an unfinished run reads as interrupted, its unended cases
        ``not_run``."""
        profile = self.campaign.profile
        stopped = interrupted or not finished
        cases = self.cases if finished else [*self.cases, *self._unended(stopped=True)]
        if self.continues is not None:  # carried and re-run cases: in profile order
            order = {s.id: n for n, s in enumerate(self.planned)}
            cases = sorted(cases, key=lambda c: order.get(c["id"], len(order)))
        selection = self._selection()
        run = {
            "suite": "pile-interop",
            "version": __version__,
            "profile": profile.id,
            "profile_title": profile.title,
            "profile_verdict": profile_verdict(
                cases, profile.title, interrupted=stopped, selection=selection
            ),
            "sut": self.campaign.sut_info(),
            "against": self.campaign.target.describe(),
            "time_scale": self.campaign.target.time_scale,
            "started": self.started,
            "finished": utc_iso() if finished else None,
            "duration_s": round(time.monotonic() - self.t0, 3),
            "interrupted": stopped,
            "summary": summarize(cases),
            "cases": cases,
        }
        if selection is not None:
            run["selection"] = selection
        if self.continues is not None:
            run["continues"] = dict(self.continues)
        if self.campaign.variation is not None:
            run["variation"] = self.campaign.variation.describe()
        # what only the whole run shows is judged on a run that ran to its end, not on one
        # interrupted or stopped early
        invariants = self.campaign.invariants_summary(finished=not stopped and self.stopped is None)
        if invariants is not None:
            run["invariants"] = invariants
        if self.stopped is not None:
            run["stopped"] = self.stopped
        if self.stopped is not None or invariants is not None:
            run["profile_verdict"] = run_verdict(run)
        return run

    def _not_ended(self, scenario: Scenario, verdict: Verdict, why: str) -> dict[str, Any]:
        return {
            **case_identity(scenario, self.campaign.profile),
            "verdict": verdict.value,
            "reason": why,
            "started": None,
            "finished": None,
            "duration_s": 0.0,
            "required_wait_s": 0.0,
            "steps": [],
            "frames": [],
            "findings": [],
        }

    def _unended(self, *, stopped: bool) -> list[dict[str, Any]]:
        """The planned cases that have not ended: ``skipped`` when not selected, ``not_run``
        when selected (or, with no selection, when the run ``stopped``)."""
        ended = {c["id"] for c in self.cases}
        unended = []
        for scenario in self.planned:
            if scenario.id in ended:
                continue
            if self.selected is not None and scenario.id not in self.selected:
                unended.append(self._not_ended(scenario, Verdict.SKIPPED, "not selected (--case)"))
            elif stopped or self.selected is not None:
                why = self.stopped or NOT_RUN_REASON
                unended.append(self._not_ended(scenario, Verdict.NOT_RUN, why))
            else:
                unended.append(self._not_ended(scenario, Verdict.SKIPPED, "not selected"))
        return unended

    def start(self, selected: Iterable[str] | None = None) -> None:
        """The run begins (:class:`RunStarted`, whose run dict also carries the ``planned``
        case ids in profile order and the ``selected`` ids); ``selected``: the cases that will
        run (default: every planned case)."""
        if selected is not None:
            self.selected = set(selected)
        self._begun = True
        run = self.run_dict(finished=False)
        run["planned"] = [s.id for s in self.planned]
        selection = self._selection()
        run["selected"] = None if selection is None else selection["cases"]
        self.events.emit(RunStarted(self.campaign.redactor.redact(run)))

    def _begin(self) -> None:
        if not self._begun:
            self.start()

    def case_started(self, scenario: Scenario) -> None:
        """``scenario`` is about to run (:class:`CaseStarted`)."""
        self._begin()
        self.events.emit(CaseStarted(scenario.id, scenario.title))

    def add(self, case: dict[str, Any]) -> None:
        """A case ended with the (redacted) result ``case`` (:class:`CaseFinished`)."""
        self._begin()
        self.cases.append(case)
        # a late answer that came during this case belongs to the earlier case that sent the
        # CALL: results.json / HTML / JUnit show it there (results.jsonl keeps it in this
        # case's line, where it came)
        attach_late(self.cases)
        run = self.campaign.redactor.redact(self.run_dict(finished=False))
        self.events.emit(CaseFinished(case, run))

    def stop(self, reason: str) -> None:
        """The run stops before its last case: the selected cases that did not run are
        ``not_run`` with ``reason`` (the run dict's ``stopped``)."""
        self.stopped = reason

    def finish(
        self, *, interrupted: bool = False, selected: set[str] | None = None
    ) -> dict[str, Any]:
        """The run ended (:class:`RunFinished`): the planned cases that did not run are added
        (not selected: ``skipped``; selected: ``not_run``); returns the finished run dict."""
        if selected is not None and self.selected is None:
            self.selected = set(selected)
        self._begin()
        self.cases.extend(self._unended(stopped=interrupted))
        run = self.campaign.redactor.redact(self.run_dict(finished=True, interrupted=interrupted))
        self.events.emit(RunFinished(run, self.out_dir))
        return run


#: Why a planned, selected case has the verdict ``not_run``.
NOT_RUN_REASON = "not run: the run ended before this case did"
