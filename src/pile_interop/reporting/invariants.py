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


def invariant_lines(run: Mapping[str, Any]) -> list[str]:
    """The violations as console / text lines, one each."""
    lines = []
    for v in mapping(run.get("invariants")).get("violations") or []:
        v = mapping(v)
        where = "the end of the run" if v.get("at_end") else v.get("case") or "no case"
        frames = ", ".join(f"#{s}" for s in v.get("frames") or [])
        lines.append(
            f"{v.get('severity')}: invariant {v.get('invariant')} in {where}: {v.get('text')} "
            f"({v.get('requirement')}) [frames {frames}]"
        )
    return lines
