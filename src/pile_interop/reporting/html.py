"""``index.html``: a plain, self-contained report (inline CSS, no script, no network).

:func:`build_view` turns the run dict into a view model (only display-ready strings, lists and
dicts); the Jinja2 template ``templates/index.html.j2`` only lays it out, with autoescape on.
A richer partner report can reuse the view model with another template.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from pile_interop.reporting.common import (
    VERDICTS,
    arrow,
    as_float,
    atomic_write_bytes,
    printable,
    requirement_list,
)
from pile_interop.reporting.redact import Redactor, resolve
from pile_interop.reporting.results_json import profile_verdict, summarize

logger = logging.getLogger(__name__)

HTML_NAME = "index.html"
TEMPLATE = "index.html.j2"

_NOT_ID_CHAR = re.compile(r"[^A-Za-z0-9_.:-]")


def _text(value: Any) -> str:
    return printable(value)


def _duration(seconds: Any) -> str:
    value = as_float(seconds)
    if value >= 60:
        minutes, rest = divmod(value, 60)
        return f"{int(minutes)} min {rest:04.1f} s"
    return f"{value:.2f} s"


def anchor(case_id: Any, index: int) -> str:
    """An HTML id for a case: readable, unique even if two ids clean up the same way."""
    return f"case-{index}-{_NOT_ID_CHAR.sub('_', str(case_id or ''))}"


def _step_view(step: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "index": _text(step.get("index", "")),
        "phase": _text(step.get("phase") or ""),
        "kind": _text(step.get("kind") or ""),
        "title": _text(step.get("title") or ""),
        "verdict": _text(step.get("verdict") or ""),
        "requirement": _text(step.get("requirement") or ""),
        "expected": _text(step.get("expected") or ""),
        "observed": _text(step.get("observed") or ""),
        "t_start": f"{as_float(step.get('t_start')):.3f}",
        "duration": _duration(step.get("duration_s")),
        "frames": ", ".join(_text(s) for s in step.get("frames") or []),
    }


def _frame_view(frame: Mapping[str, Any]) -> dict[str, Any]:
    direction = str(frame.get("dir") or "")
    return {
        "seq": _text(frame.get("seq", "")),
        "t": f"{as_float(frame.get('t')):.3f}",
        "dir": _text(direction),
        "arrow": arrow(direction),
        "dir_class": _NOT_ID_CHAR.sub("_", direction),
        "type": _text(frame.get("type") or ""),
        "type_class": _NOT_ID_CHAR.sub("_", str(frame.get("type") or "")),
        "action": _text(frame.get("action") or ""),
        "unique_id": _text(frame.get("unique_id") or ""),
        "raw": _text(frame.get("raw") or ""),
        "findings": [_text(f) for f in frame.get("findings") or []],
    }


def _case_view(case: Mapping[str, Any], index: int) -> dict[str, Any]:
    verdict = str(case.get("verdict") or "")
    return {
        "anchor": anchor(case.get("id"), index),
        "id": _text(case.get("id") or "?"),
        "title": _text(case.get("title") or ""),
        "verdict": _text(verdict),
        "verdict_class": verdict if verdict in VERDICTS else "error",
        "mandatory": bool(case.get("mandatory")),
        "block": _text(case.get("block") or ""),
        "ocpp": _text(case.get("ocpp") or ""),
        "sut": _text(case.get("sut") or ""),
        "description": _text(case.get("description") or ""),
        "duration": _duration(case.get("duration_s")),
        "started": _text(case.get("started") or ""),
        "reason": _text(case.get("reason") or ""),
        "requirements": [
            {"id": _text(r["id"]), "text": _text(r["text"])} for r in requirement_list(case)
        ],
        "steps": [_step_view(step) for step in case.get("steps") or []],
        "frames": [_frame_view(frame) for frame in case.get("frames") or []],
        "findings": [_text(f) for f in case.get("findings") or []],
    }


def build_view(run: Mapping[str, Any]) -> dict[str, Any]:
    """The view model of ``run`` for the HTML templates (display-ready, already redacted).

    Missing ``summary`` or ``profile_verdict`` fields are computed from the cases.
    """
    cases = list(run.get("cases") or [])
    summary = run.get("summary") or summarize(cases)
    title = str(run.get("profile_title") or run.get("profile") or "")
    verdict = run.get("profile_verdict") or profile_verdict(cases, title)
    sut = run.get("sut") or {}
    sut_rows = [
        (label, _text(sut.get(key)))
        for label, key in (
            ("Vendor", "vendor"),
            ("Model", "model"),
            ("Serial", "serial"),
            ("Firmware", "firmware"),
            ("Station id", "station_id"),
            ("Role", "role"),
            ("OCPP", "ocpp"),
            ("Device descriptor", "device"),
        )
        if sut.get(key) not in (None, "")
    ]
    run_rows = [
        (label, _text(value))
        for label, value in (
            ("Suite", f"{run.get('suite') or 'pile-interop'} {run.get('version') or ''}".strip()),
            ("Against", run.get("against")),
            ("Started", run.get("started")),
            ("Finished", run.get("finished") or ("interrupted" if run.get("interrupted") else "")),
            (
                "Duration",
                _duration(run.get("duration_s")) if run.get("duration_s") is not None else "",
            ),
            ("Time scale", run.get("time_scale")),
        )
        if value not in (None, "")
    ]
    return {
        "generator": _text(
            f"{run.get('suite') or 'pile-interop'} {run.get('version') or ''}".strip()
        ),
        "title": _text(f"pile-interop report - {run.get('profile') or ''}".rstrip(" -")),
        "profile": _text(run.get("profile") or ""),
        "profile_title": _text(title),
        "profile_verdict": {
            "met": bool(verdict.get("met")),
            "text": _text(verdict.get("text") or ""),
        },
        "interrupted": bool(run.get("interrupted")),
        "sut_rows": sut_rows,
        "run_rows": run_rows,
        "summary": [{"verdict": v, "count": int(summary.get(v, 0) or 0)} for v in VERDICTS],
        "total": len(cases),
        "cases": [_case_view(case, i) for i, case in enumerate(cases, start=1)],
    }


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pile_interop.reporting", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(run: Mapping[str, Any], *, redactor: Redactor | None = None) -> str:
    """The HTML report for ``run`` as a string."""
    view = build_view(resolve(redactor).redact(run))
    return _environment().get_template(TEMPLATE).render(view=view)


def write_html(path: Path, run: Mapping[str, Any], *, redactor: Redactor | None = None) -> Path:
    """Write the self-contained HTML report of ``run`` to ``path`` (atomically); return it."""
    html = render_html(run, redactor=redactor)
    path = atomic_write_bytes(Path(path), html.encode("utf-8"))
    logger.debug("wrote %s", path)
    return path
