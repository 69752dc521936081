"""Rebuilding a run from its report folder (``pile-interop report DIR``) without claiming more
than ran: results.json completed from results.jsonl, an unfinished run marked interrupted with
every planned case that did not end listed as ``not_run``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pile_interop import __version__
from pile_interop.core.errors import UsageError
from pile_interop.reporting.folder import HEADER_FIELDS
from pile_interop.reporting.results_json import attach_late, run_verdict, summarize
from pile_interop.reporting.stream import read_runs


def load_run(
    folder: Path, identities: Callable[[str], dict[str, dict[str, Any]]] = lambda _: {}
) -> dict[str, Any]:
    """A run dict from a report folder that never claims more than ran: results.json,
    completed from results.jsonl when a crash left newer cases only in the stream; or the
    stream alone.

    When the stream's last run has a header (the planned cases, the selection) and no end
    line, the run never finished: it is interrupted, and every planned, selected case that
    did not end is listed as ``not_run`` (its verdict: "interrupted — no verdict");
    ``identities(profile_id)`` names them (title, mandatory …) when results.json does not.
    """
    results, lines = folder / "results.json", folder / "results.jsonl"
    run: dict[str, Any] | None = None
    if results.is_file():
        try:
            run = json.loads(results.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise UsageError(f"{results}: not valid JSON ({exc})") from None
        if not isinstance(run, dict) or not isinstance(run.get("cases"), list):
            raise UsageError(f"{results}: not a pile-interop results.json (no 'cases' list)")
    runs = read_runs(lines) if lines.is_file() else []
    if run is None and not runs:
        raise UsageError(f"{folder}: no results.json or results.jsonl")
    last = runs[-1] if runs else None
    if last is not None and last.header is not None:
        if run is not None and run.get("started") != last.header.get("started"):
            run = None  # results.json is an earlier run's: the newest is in the stream only
        run = _from_stream(run, last.header, last.cases, last.end, identities)
    elif last is not None:  # a stream written before runs had headers
        if run is None:
            run = {
                "suite": "pile-interop",
                "version": __version__,
                "profile": "?",
                "cases": last.cases,
                "interrupted": True,
                "started": None,
                "finished": None,
                "sut": {},
            }
        else:
            ran = [c for c in run["cases"] if c.get("verdict") not in ("skipped", "not_run")]
            if len(last.cases) > len(ran):
                run["cases"] = last.cases
                run["interrupted"] = True
    assert run is not None
    if run.get("finished") is None:
        run["interrupted"] = True  # a results.json written while the run went on
    attach_late(run["cases"])
    run["summary"] = summarize(run["cases"])
    run["profile_verdict"] = run_verdict(run)
    return run


def _from_stream(
    run: dict[str, Any] | None,
    header: dict[str, Any],
    cases: list[dict[str, Any]],
    end: dict[str, Any] | None,
    identities: Callable[[str], dict[str, dict[str, Any]]],
) -> dict[str, Any]:
    """The run of a results.jsonl header, its streamed ``cases`` and its ``end`` line (``None``:
    the run never finished), completed with ``run`` (its results.json, if any)."""
    if run is not None and end is not None:
        return run  # finished: results.json was written at the end
    known = {c.get("id"): c for c in (run or {}).get("cases") or [] if isinstance(c, dict)}
    if any(case_id not in known for case_id in header.get("planned") or []):
        known = identities(str(header.get("profile") or "")) | known
    base: dict[str, Any] = (
        dict(run)
        if run is not None
        else {key: header.get(key) for key in HEADER_FIELDS} | {"duration_s": None}
    )
    if base.get("continues") is None:
        base.pop("continues", None)
    planned = [str(case_id) for case_id in header.get("planned") or []]
    selection = header.get("selection")
    chosen = None if selection is None else {str(case_id) for case_id in selection}
    interrupted = end is None or bool(end.get("interrupted"))
    ended = {c.get("id") for c in cases}
    rebuilt = list(cases)
    for case_id in planned:
        if case_id in ended:
            continue
        selected = chosen is None or case_id in chosen
        verdict = "not_run" if selected else "skipped"
        reason = (
            "not run: the run ended before this case did" if selected else "not selected (--case)"
        )
        identity = {
            k: v
            for k, v in known.get(case_id, {}).items()
            if k not in ("verdict", "reason", "started", "finished", "steps", "frames")
        }
        rebuilt.append(
            {
                "id": case_id,
                "title": "",
                "duration_s": 0.0,
                "required_wait_s": 0.0,
                "findings": [],
                **identity,
                "verdict": verdict,
                "reason": reason,
                "started": None,
                "finished": None,
                "steps": [],
                "frames": [],
            }
        )
    base["cases"] = rebuilt
    base["interrupted"] = interrupted
    base["finished"] = (end or {}).get("finished")
    base.pop("selection", None)
    if chosen is not None and planned and len(chosen & set(planned)) < len(planned):
        picked = [case_id for case_id in planned if case_id in chosen]
        base["selection"] = {"cases": picked, "selected": len(picked), "planned": len(planned)}
    return base
