"""``results.json``: the whole run in one file, written atomically, plus the run's verdicts.

:func:`summarize` and :func:`profile_verdict` (:func:`run_verdict` for a whole run dict)
compute the ``summary`` and ``profile_verdict`` fields of the run dict from its case results
(``docs/results-format.md``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pile_interop.reporting.common import (
    MEETS,
    NOT_RUN,
    VERDICTS,
    atomic_write_bytes,
    utf8,
)
from pile_interop.reporting.redact import Redactor, resolve

logger = logging.getLogger(__name__)

RESULTS_NAME = "results.json"


def write_results_json(
    out_dir: Path, run: Mapping[str, Any], *, redactor: Redactor | None = None
) -> Path:
    """Write ``<out_dir>/results.json`` (UTF-8, indent 2) atomically; return its path."""
    path = Path(out_dir) / RESULTS_NAME
    text = json.dumps(resolve(redactor).redact(run), indent=2, ensure_ascii=False, default=str)
    atomic_write_bytes(path, utf8(text + "\n"))
    logger.debug("wrote %s", path)
    return path


def summarize(cases: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Cases per verdict; all six verdicts are present, and ``not_run`` when some case did not
    run. An unknown verdict counts as ``error`` (nobody could decide it)."""
    counts = dict.fromkeys(VERDICTS, 0)
    for case in cases:
        verdict = case.get("verdict")
        if verdict == NOT_RUN:
            counts[NOT_RUN] = counts.get(NOT_RUN, 0) + 1
            continue
        if verdict not in counts:
            logger.warning(
                "case %s has unknown verdict %r: counted as error", case.get("id"), verdict
            )
            verdict = "error"
        counts[str(verdict)] += 1
    return counts


def attach_late(cases: list[dict[str, Any]]) -> None:
    """Attach every late answer a case recorded for an earlier case (``late_for_other_cases``:
    it came while the later case ran) to that earlier case's ``late_responses``, the last
    case with that id that ended before. Idempotent (an answer is attached once, by its
    ``seq``); judges nothing: a late answer never changes a verdict."""
    for index, case in enumerate(cases):
        for entry in case.get("late_for_other_cases") or []:
            if not isinstance(entry, dict):
                continue
            owner = next(
                (c for c in reversed(cases[:index]) if c.get("id") == entry.get("case")), None
            )
            if owner is None:
                continue
            answer = {k: v for k, v in entry.items() if k != "case"}
            answer["came_during"] = case.get("id")
            own = owner.setdefault("late_responses", [])
            if not any(a.get("seq") == answer.get("seq") for a in own):
                own.append(answer)


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


INTERRUPTED = "interrupted — no verdict"


def profile_verdict(
    run_cases: Iterable[Mapping[str, Any]],
    profile_title: str,
    *,
    interrupted: bool = False,
    selection: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Whether the run meets its profile: every mandatory case is pass, warn or na.

    Returns ``{"met": bool, "text": str}``, e.g. ``"meets OCPP 1.6 Core - charging station"``
    or ``"does not meet …: 3 mandatory cases failed, 1 error"``. A run where no case ran (none,
    or all skipped) does not meet its profile.

    An ``interrupted`` run has no verdict: ``"interrupted — no verdict on …: N of M cases not
    run"``, never met, with ``"state": "interrupted"``. A partial run (``selection``, the run
    dict's field of that name: a ``--case`` subset) is judged on the selected cases only and
    says so: ``"partial run: N of M cases selected; meets … for the selected cases"``, with
    ``"state": "partial"``. A complete run's verdict has no ``state``.
    """
    title = profile_title or "the profile"
    cases = list(run_cases)
    chosen = None
    if selection is not None:
        chosen = {str(case_id) for case_id in selection.get("cases") or []}
        cases = [case for case in cases if case.get("id") in chosen]
    partial = ""
    if selection is not None:
        picked = int(selection.get("selected") or len(chosen or ()))
        partial = f"partial run: {picked} of {int(selection.get('planned') or 0)} cases selected"
    if interrupted:
        not_run = sum(1 for case in cases if case.get("verdict") == NOT_RUN)
        ran = any(case.get("verdict") not in ("skipped", NOT_RUN) for case in cases)
        text = f"{INTERRUPTED} on {title}: " + (
            f"{not_run} of {len(cases)} cases not run" if ran else "no case ran"
        )
        if partial:
            text += f" ({partial})"
        return {"met": False, "text": text, "state": "interrupted"}
    verdict = _complete_verdict(cases, title)
    if not partial:
        return verdict
    if verdict["met"]:
        text = f"{partial}; {verdict['text']} for the selected cases"
    else:
        text = f"{partial}; {verdict['text']} (selected cases only)"
    return {"met": verdict["met"], "text": text, "state": "partial"}


def run_verdict(run: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`profile_verdict` of a run dict, honouring its ``interrupted`` and ``selection``
    fields."""
    cases = [case for case in run.get("cases") or [] if isinstance(case, Mapping)]
    selection = run.get("selection")
    verdict = profile_verdict(
        cases,
        str(run.get("profile_title") or run.get("profile") or ""),
        interrupted=bool(run.get("interrupted")),
        selection=selection if isinstance(selection, Mapping) else None,
    )
    stopped = run.get("stopped")
    if stopped and not run.get("interrupted"):  # the banner says why the rest did not run
        why = str(stopped).removeprefix("not run: ")
        verdict = {**verdict, "met": False, "text": f"{verdict['text']}; {why}"}
    broken = caseless_violations(run)
    if broken and not run.get("interrupted"):
        said = _plural(len(broken), "invariant violation", "invariant violations")
        verdict = {**verdict, "met": False, "text": f"{verdict['text']}; {said} outside any case"}
    return verdict


def caseless_violations(run: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The ``fail`` violations of run-wide invariants that no case holds: seen before the
    first case, or judged when the run ended (only the whole run shows them). They count
    against the run."""
    invariants = run.get("invariants")
    if not isinstance(invariants, Mapping):
        return []
    return [
        v
        for v in invariants.get("violations") or []
        if isinstance(v, Mapping) and not v.get("case") and v.get("severity") == "fail"
    ]


def _complete_verdict(cases: list[Mapping[str, Any]], title: str) -> dict[str, Any]:
    if not any(case.get("verdict") not in ("skipped", NOT_RUN) for case in cases):
        return {"met": False, "text": f"does not meet {title}: no case ran"}
    missed = dict.fromkeys(("fail", "error", "skipped", NOT_RUN), 0)
    for case in cases:
        if case.get("mandatory") is not True or case.get("verdict") in MEETS:
            continue
        verdict = case.get("verdict")
        missed[verdict if verdict in missed else "error"] += 1
    if not any(missed.values()):
        return {"met": True, "text": f"meets {title}"}
    parts = []
    if missed["fail"]:
        parts.append(_plural(missed["fail"], "mandatory case failed", "mandatory cases failed"))
    if missed["error"]:
        parts.append(_plural(missed["error"], "error", "errors"))
    if missed["skipped"]:
        parts.append(
            _plural(missed["skipped"], "mandatory case skipped", "mandatory cases skipped")
        )
    if missed[NOT_RUN]:
        parts.append(_plural(missed[NOT_RUN], "mandatory case not run", "mandatory cases not run"))
    return {"met": False, "text": f"does not meet {title}: {', '.join(parts)}"}
