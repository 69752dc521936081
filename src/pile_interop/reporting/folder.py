"""The report folder, written from a run's events (:mod:`pile_interop.core.events`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pile_interop.core.events import CaseFinished, Event, RunFinished, RunStarted
from pile_interop.reporting.results_json import write_results_json
from pile_interop.reporting.stream import ResultsStream
from pile_interop.reporting.writer import write_all

#: The run dict's fields a ``results.jsonl`` header line repeats (with ``planned`` and
#: ``selection``), enough to rebuild the report from the stream alone.
HEADER_FIELDS = (
    "suite",
    "version",
    "profile",
    "profile_title",
    "sut",
    "against",
    "time_scale",
    "started",
    "continues",
)


def run_header(run: Mapping[str, Any]) -> dict[str, Any]:
    """The header line of a run in ``results.jsonl``, from the run dict of
    :class:`~pile_interop.core.events.RunStarted`: the identity fields, ``planned`` (every
    case id of the profile, in profile order) and ``selection`` (the ``--case`` ids, or
    ``None`` when every planned case is selected)."""
    header = {key: run.get(key) for key in HEADER_FIELDS}
    if header.get("continues") is None:  # only a resumed run or a re-run of failed cases
        header.pop("continues")
    header["planned"] = list(run.get("planned") or [])
    selected = run.get("selected")
    header["selection"] = None if selected is None else list(selected)
    return header


class ReportFolder:
    """The report folder, written from the events: the run's header line starts
    ``results.jsonl``; each case is appended to it and ``results.json`` rewritten as it ends;
    at the end the run's end line and every file."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        self.stream = ResultsStream(out_dir)

    def handle(self, event: Event) -> None:
        match event:
            case RunStarted(run=run):
                self.stream.write_header(run_header(run))
            case CaseFinished(result=result, run=run):
                self.stream.write_case(result)
                write_results_json(self.out_dir, run)
            case RunFinished(run=run):
                self.stream.write_end(
                    {
                        "started": run.get("started"),
                        "finished": run.get("finished"),
                        "interrupted": bool(run.get("interrupted")),
                    }
                )
                write_all(self.out_dir, run)
