"""``results.json``: the whole run in one file, written atomically, plus the run's verdicts.

:func:`summarize` and :func:`profile_verdict` compute the ``summary`` and ``profile_verdict``
fields of the run dict from its case results (``docs/results-format.md``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pile_interop.reporting.common import MEETS, VERDICTS, atomic_write_bytes, utf8
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
    """Cases per verdict; all six verdicts are present. An unknown verdict counts as ``error``
    (nobody could decide it)."""
    counts = dict.fromkeys(VERDICTS, 0)
    for case in cases:
        verdict = case.get("verdict")
        if verdict not in counts:
            logger.warning(
                "case %s has unknown verdict %r: counted as error", case.get("id"), verdict
            )
            verdict = "error"
        counts[str(verdict)] += 1
    return counts


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def profile_verdict(run_cases: Iterable[Mapping[str, Any]], profile_title: str) -> dict[str, Any]:
    """Whether the run meets its profile: every mandatory case is pass, warn or na.

    Returns ``{"met": bool, "text": str}``, e.g. ``"meets OCPP 1.6 Core - charging station"``
    or ``"does not meet …: 3 mandatory cases failed, 1 error"``. A run where no case ran (none,
    or all skipped) does not meet its profile.
    """
    title = profile_title or "the profile"
    cases = list(run_cases)
    if not any(case.get("verdict") != "skipped" for case in cases):
        return {"met": False, "text": f"does not meet {title}: no case ran"}
    missed = dict.fromkeys(("fail", "error", "skipped"), 0)
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
    return {"met": False, "text": f"does not meet {title}: {', '.join(parts)}"}
