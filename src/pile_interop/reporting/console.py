"""Live progress on the console: one line per case, a summary and the profile verdict.

Given the run's ``plan`` (the case ids that will run, each with its bound: the most real
seconds it may take), each line starts ``[n/N]`` and ends with an ETA: the bounds of the cases
left, scaled by how much of their bounds the finished cases took (never more than the bounds).
The per-case lines go to ``stream`` (stderr on the CLI), the summary, the verdict and the
report folder to ``summary`` (stdout on the CLI), so a script can read the outcome alone.
Cases carried from an earlier run (their result has an ``origin``) print no line.

Colour is used only when the stream is a terminal and ``NO_COLOR`` is not set (checked when
a :class:`Progress` is made, never at import), unless ``color`` says otherwise.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from pile_interop.core.events import CaseFinished, CaseStarted, Event, RunFinished, RunStarted
from pile_interop.reporting.common import as_float, one_line, shown_verdicts
from pile_interop.reporting.redact import Redactor, resolve
from pile_interop.reporting.results_json import run_verdict, summarize

logger = logging.getLogger(__name__)

#: Column where the verdict starts (the id, title and dots fill the space before it).
WIDTH = 72
REASON_LIMIT = 200

_COLORS = {
    "pass": "32",
    "fail": "1;31",
    "warn": "33",
    "na": "2",
    "error": "1;35",
    "skipped": "2",
    "not_run": "1;33",
    "met": "1;32",
    "not-met": "1;31",
    "dim": "2",
}


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    """Prints a run's progress to ``stream`` (default: ``sys.stderr`` at construction)."""

    def __init__(
        self,
        stream: TextIO | None = None,
        color: bool | None = None,
        *,
        redactor: Redactor | None = None,
        plan: Sequence[tuple[str, float]] | None = None,
        summary: TextIO | None = None,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.summary = summary if summary is not None else self.stream
        #: the bound (real seconds) of each case that will run, in order; ``None``: unknown
        self._plan = dict(plan) if plan is not None else None
        self._done: dict[str, float] = {}  # case id -> real seconds it took
        self._tty = _isatty(self.stream)
        self.color = (self._tty and "NO_COLOR" not in os.environ) if color is None else color
        self._redactor = resolve(redactor)
        self._pending = False  # a "running …" line waits to be overwritten (terminals only)

    # -- output helpers ------------------------------------------------------------------

    def _paint(self, text: str, key: str) -> str:
        code = _COLORS.get(key)
        return f"\x1b[{code}m{text}\x1b[0m" if self.color and code else text

    def _clean(self, text: Any, limit: int | None = None) -> str:
        # Redact before cutting, so a secret cut in half is still caught whole.
        return one_line(self._redactor.redact_text("" if text is None else str(text)), limit)

    def _write(self, text: str, stream: TextIO | None = None) -> None:
        if self._pending:
            text = "\r\x1b[2K" + text
            self._pending = False
        target = stream if stream is not None else self.stream
        try:
            target.write(text)
            target.flush()
        except (OSError, ValueError) as exc:  # a closed pipe must not stop the run
            logger.debug("progress output failed: %s", exc)

    # -- events --------------------------------------------------------------------------

    def handle(self, event: Event) -> None:
        """The console lines of a run, from its events."""
        match event:
            case RunStarted(run=run):
                self.run_started(run)
            case CaseStarted(case_id=case_id, title=title):
                self.case_started(case_id, title)
            case CaseFinished(result=result):
                self.case_finished(result)
            case RunFinished(run=run, out_dir=out_dir):
                self.run_finished(run, out_dir)

    def run_started(self, run: Mapping[str, Any]) -> None:
        """Name the suite, the profile and the SUT."""
        suite = f"{run.get('suite') or 'pile-interop'} {run.get('version') or ''}".strip()
        profile = str(run.get("profile") or "")
        title = run.get("profile_title")
        head = f"{suite}: profile {profile}" + (f" ({title})" if title else "")
        sut = run.get("sut") or {}
        identity = " ".join(
            str(sut[k]) for k in ("vendor", "model", "firmware") if sut.get(k) not in (None, "")
        )
        details = [identity or "unknown SUT"]
        if sut.get("station_id"):
            details.append(f"station {sut['station_id']}")
        if sut.get("role") == "csms" and sut.get("url"):
            details.append(f"at {sut['url']}")  # the URL the suite connected to, redacted
        if run.get("against"):
            details.append(f"against {run['against']}")
        if run.get("time_scale") not in (None, 1, 1.0):
            details.append(f"time scale {run['time_scale']}")
        self._write(
            self._clean(head)
            + "\n"
            + self._paint("SUT: " + self._clean(", ".join(details)), "dim")
            + "\n"
        )

    def case_started(self, case_id: str, title: str) -> None:
        """On a terminal, show which case runs (the finished line replaces it)."""
        if not self._tty:
            return
        text = self._clean(f"{self._counter(len(self._done) + 1)}{case_id}  {title}", WIDTH)
        self._write(self._paint(f"{text} …", "dim"))
        self._pending = True

    def _counter(self, number: int) -> str:
        """``[n/N] `` when the plan is known, else nothing."""
        return "" if self._plan is None else f"[{number}/{len(self._plan)}] "

    def eta(self) -> float | None:
        """Real seconds the cases left may still take: their bounds, scaled by the share of
        their bounds the finished cases took (at most 1); ``None`` without a plan."""
        if self._plan is None:
            return None
        left = sum(b for case_id, b in self._plan.items() if case_id not in self._done)
        spent_bound = sum(self._plan.get(case_id, 0.0) for case_id in self._done)
        took = sum(self._done.values())
        share = min(1.0, took / spent_bound) if spent_bound > 0 else 1.0
        return left * share

    def _columns(self, case: Mapping[str, Any], prefix: str = "") -> tuple[str, str, str]:
        case_id = self._clean(case.get("id") or "?")
        title = self._clean(case.get("title") or "")
        left = f"{prefix}{case_id}  {title}".rstrip()
        room = WIDTH - 3  # at least " .." before the verdict
        if len(left) > room:
            left = left[: room - 1].rstrip() + "…"
        dots = "." * max(2, WIDTH - len(left) - 1)
        verdict = f"{case.get('verdict') or '?':<7}"
        return f"{left} {dots} ", verdict, f"{as_float(case.get('duration_s')):7.2f} s"

    def case_line(self, case: Mapping[str, Any]) -> str:
        """The one line for a finished case, without colour or newline."""
        return "".join(self._columns(case))

    def case_finished(self, case: Mapping[str, Any]) -> None:
        """One line per case; for fail and error a second, indented line with the reason."""
        if case.get("origin"):
            return  # carried from an earlier run: it did not run now
        prefix = ""
        if self._plan is not None:
            self._done[str(case.get("id"))] = as_float(case.get("duration_s"))
            prefix = self._counter(len(self._done))
        left, verdict_col, duration = self._columns(case, prefix)
        verdict = str(case.get("verdict") or "?")
        pad = verdict_col[len(verdict) :]
        eta = self.eta()
        tail = f"  ETA {clock_text(eta)}" if eta else ""
        text = f"{left}{self._paint(verdict, verdict)}{pad}{duration}{tail}\n"
        if verdict in ("fail", "error") and case.get("reason"):
            reason = self._clean(case["reason"], REASON_LIMIT)
            text += "    " + self._paint(reason, verdict) + "\n"
        self._write(text)

    def run_finished(self, run: Mapping[str, Any], out_dir: Path | str | None = None) -> None:
        """The counts per verdict, the profile verdict and where the report is."""
        cases = list(run.get("cases") or [])
        summary = run.get("summary") or summarize(cases)
        counts = ", ".join(
            self._paint(f"{summary.get(v, 0)} {v}", v) if summary.get(v) else f"0 {v}"
            for v in shown_verdicts(summary)
        )
        duration = run.get("duration_s")
        line = f"{len(cases)} cases: {counts}"
        if duration is not None:
            line += f" in {as_float(duration):.1f} s"
        carried = sum(1 for case in cases if isinstance(case, Mapping) and case.get("origin"))
        if carried:
            line += f" ({carried} verdicts carried from an earlier run)"
        if run.get("interrupted"):
            line += " " + self._paint("(interrupted)", "fail")
        verdict = run.get("profile_verdict") or run_verdict(run)
        met = bool(verdict.get("met"))
        text = (
            line
            + "\n"
            + self._paint(self._clean(verdict.get("text") or ""), "met" if met else "not-met")
            + "\n"
        )
        folder = out_dir if out_dir is not None else run.get("report_dir")
        if folder:
            text += f"report: {folder}\n"
        self._write(text, self.summary)


def clock_text(seconds: float) -> str:
    """``45s``, ``2m05s``, ``1h02m``: a duration for a person."""
    whole = max(0, round(seconds))
    if whole < 1:
        return "<1s"
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
