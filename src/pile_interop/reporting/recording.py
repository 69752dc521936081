"""A recording judged offline (``check-log``) in a report: what was read, and per message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pile_interop.reporting.page import mapping, text

_COLUMNS = ("period_ms", "mean_ms", "p95_ms", "max_ms")


def recording_view(run: Mapping[str, Any]) -> dict[str, Any] | None:
    """The HTML view of the run's ``recording`` (None: a live run)."""
    recording = mapping(run.get("recording"))
    if not recording:
        return None
    rows = []
    for row in recording.get("messages") or []:
        row = mapping(row)
        cells = {k: "" if row.get(k) is None else text(f"{row[k]:g}") for k in _COLUMNS}
        rows.append(
            {
                "message": text(row.get("message") or ""),
                "direction": text(row.get("direction") or ""),
                "sut": bool(row.get("sut")),
                "count": int(row.get("count") or 0),
                "short": int(row.get("short") or 0),
                "findings": int(row.get("findings") or 0) if row.get("sut") else "",
                **cells,
            }
        )
    info = [
        (label, text(str(recording[key])))
        for label, key in (
            ("File", "file"),
            ("Format", "format"),
            ("Channel", "channel"),
            ("Judged as", "standard"),
            ("Frames", "frames"),
            ("Time span", "span"),
            ("Frames not part of the conversation", "not_in_conversation"),
        )
        if recording.get(key) not in (None, "")
    ]
    return {"info": info, "rows": rows}
