"""``results.jsonl``: one line per case, appended as each case ends, so a crash loses nothing.

Each run starts with a header line (``{"record": "run", …}``: profile, started, the planned
case ids in profile order, the ``--case`` selection) and, when it finishes, ends with an end
line (``{"record": "end", …}``); the case lines between carry no ``record`` key. Runs appended
to one file are told apart by their headers, and a run whose end line is missing never
finished (killed, power cut).

Each line is written, flushed and ``fsync``-ed before :meth:`ResultsStream.write_case` returns:
a SIGKILL (or a power cut) right after keeps the line. :func:`read_jsonl` reads the case lines
back and tolerates the line a crash cut short; :func:`read_runs` reads them run by run.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pile_interop.reporting.common import utf8
from pile_interop.reporting.redact import Redactor, resolve

logger = logging.getLogger(__name__)

JSONL_NAME = "results.jsonl"

#: The ``record`` value of a run's header line and of its end line.
RUN_HEADER = "run"
RUN_END = "end"


def _fsync_dir(folder: Path) -> None:
    """Make a new directory entry durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class ResultsStream:
    """Appends case results to ``<out_dir>/results.jsonl``.

    Opening an existing file appends to it (a resumed run); if the last line was cut short by
    a crash, a newline is written first so the next case starts on a line of its own.
    """

    def __init__(self, out_dir: Path, *, redactor: Redactor | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / JSONL_NAME
        self._redactor = resolve(redactor)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._needs_newline = self._ends_mid_line()
        if not self.path.exists():
            self.path.touch()
            _fsync_dir(self.out_dir)

    def _ends_mid_line(self) -> bool:
        try:
            with self.path.open("rb") as handle:
                if handle.seek(0, os.SEEK_END) == 0:
                    return False
                handle.seek(-1, os.SEEK_END)
                return handle.read(1) != b"\n"
        except FileNotFoundError:
            return False

    def write_header(self, header: dict[str, Any]) -> None:
        """Start a run: append its header line (``record`` is set to ``"run"``)."""
        self._append({"record": RUN_HEADER, **header})

    def write_end(self, end: dict[str, Any]) -> None:
        """The run finished: append its end line (``record`` is set to ``"end"``)."""
        self._append({"record": RUN_END, **end})

    def write_case(self, case: dict[str, Any]) -> None:
        """Append ``case`` as one JSON line and make it durable before returning."""
        self._append(case)

    def _append(self, record: dict[str, Any]) -> None:
        line = json.dumps(
            self._redactor.redact(record), ensure_ascii=False, separators=(",", ":"), default=str
        )
        data = utf8(line + "\n")
        if self._needs_newline:
            logger.warning("%s ended with a cut-short line; starting a new line", self.path)
            data = b"\n" + data
        with self.path.open("ab") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        self._needs_newline = False


@dataclass
class StreamedRun:
    """One run of a ``results.jsonl``: its header (``None`` for the lines of a file written
    before headers existed), its case results in order, and its end line (``None`` when the
    run never finished)."""

    header: dict[str, Any] | None
    cases: list[dict[str, Any]] = field(default_factory=list)
    end: dict[str, Any] | None = None


def read_runs(path: Path) -> list[StreamedRun]:
    """The runs in ``path``, in order: a header line starts a run; case lines before any
    header form a run without one."""
    runs: list[StreamedRun] = []
    for record in _read_records(path):
        kind = record.get("record")
        if kind == RUN_HEADER:
            runs.append(StreamedRun(header=record))
            continue
        if not runs:
            runs.append(StreamedRun(header=None))
        if kind == RUN_END:
            runs[-1].end = record
        elif kind is None:
            runs[-1].cases.append(record)
        else:
            logger.warning("%s: unknown record %r, skipped", path, kind)
    return runs


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The case results in ``path``, in order (every run's; header and end lines left out).

    A line that does not parse (the last one when a crash cut it short, or one in the middle
    after a resumed run) is skipped with a warning; blank lines are ignored.
    """
    return [record for record in _read_records(path) if "record" not in record]


def _read_records(path: Path) -> list[dict[str, Any]]:
    path = Path(path)
    text = path.read_bytes().decode("utf-8", errors="replace")
    lines = text.split("\n")
    cases: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            last = number == len(lines) or all(not rest.strip() for rest in lines[number:])
            where = "last line cut short" if last else "unreadable line"
            logger.warning("%s:%d: %s, skipped (%s)", path, number, where, exc.msg)
            continue
        if not isinstance(value, dict):
            logger.warning("%s:%d: not a JSON object, skipped", path, number)
            continue
        cases.append(value)
    return cases
