"""The report folder, written from a run's events (:mod:`pile_interop.core.events`)."""

from __future__ import annotations

from pathlib import Path

from pile_interop.core.events import CaseFinished, Event, RunFinished
from pile_interop.reporting.results_json import write_results_json
from pile_interop.reporting.stream import ResultsStream
from pile_interop.reporting.writer import write_all


class ReportFolder:
    """The report folder, written from the events: each case is appended to
    ``results.jsonl`` and ``results.json`` rewritten as it ends; at the end every file."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        self.stream = ResultsStream(out_dir)

    def handle(self, event: Event) -> None:
        match event:
            case CaseFinished(result=result, run=run):
                self.stream.write_case(result)
                write_results_json(self.out_dir, run)
            case RunFinished(run=run):
                write_all(self.out_dir, run)
