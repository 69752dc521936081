"""The run-wide protocol invariants in a report: which were checked, what broke them, where."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pile_interop.reporting.page import mapping, text


def invariants_view(run: Mapping[str, Any]) -> dict[str, Any] | None:
    """The HTML view of the run's ``invariants`` (None: the run has none, e.g. GB/T 27930)."""
    invariants = mapping(run.get("invariants"))
    checked = [mapping(i) for i in invariants.get("checked") or []]
    if not checked:
        return None
    rows = []
    for v in invariants.get("violations") or []:
        v = mapping(v)
        frames = ", ".join(f"#{s}" for s in v.get("frames") or [])
        rows.append(
            {
                "invariant": text(v.get("invariant") or ""),
                "severity": text(v.get("severity") or ""),
                "case": text("(end of run)" if v.get("at_end") else v.get("case") or "(no case)"),
                "text": text(v.get("text") or ""),
                "requirement": text(v.get("requirement") or ""),
                "frames": text(frames),
            }
        )
    return {
        "checked": [
            {k: text(i.get(k) or "") for k in ("id", "title", "requirement", "severity")}
            for i in checked
        ],
        "violations": rows,
    }
