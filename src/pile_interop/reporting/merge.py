"""The comparison page of several runs (``pile-interop report --merge``), Autobahn style: one
column per run (a device, a firmware, a date), one row per case ID, grouped by functional
block, each cell the verdict, linking to that case in the run's own ``index.html``.

:func:`build_merge_view` is the view model; ``templates/merge.html.j2`` lays it out with the
same style as the run report. ``write_merge_html`` lives in :mod:`.html`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from pile_interop.reporting.common import ALL_VERDICTS, one_line
from pile_interop.reporting.page import VERDICT_MEANING, case_anchors, mapping, slug, text, when
from pile_interop.reporting.results_json import run_verdict, summarize

logger = logging.getLogger(__name__)

MERGE_TEMPLATE = "merge.html.j2"


def _identity(run: Mapping[str, Any]) -> str:
    sut = mapping(run.get("sut"))
    return " ".join(str(sut[k]) for k in ("vendor", "model", "firmware") if sut.get(k))


def _column(run: Mapping[str, Any], label: str, link: str | None) -> dict[str, Any]:
    cases = [c for c in run.get("cases") or [] if isinstance(c, Mapping)]
    title = str(run.get("profile_title") or run.get("profile") or "")
    verdict = mapping(run.get("profile_verdict")) or run_verdict(run)
    counts = mapping(run.get("summary")) or summarize(cases)
    return {
        "label": text(label),
        "identity": text(_identity(run)),
        "date": when(run.get("started")) if run.get("started") else "",
        "profile": text(run.get("profile") or ""),
        "profile_title": text(title),
        "met": bool(verdict.get("met")),
        "verdict_text": text(verdict.get("text") or ""),
        "counts": ", ".join(f"{counts.get(v)} {v}" for v in ALL_VERDICTS if counts.get(v)),
        "interrupted": bool(run.get("interrupted")),
        "link": text(link) if link else "",
    }


def build_merge_view(
    runs: Sequence[Mapping[str, Any]],
    labels: Sequence[str],
    links: Sequence[str | None] | None = None,
) -> dict[str, Any]:
    """The view model of the comparison page (runs already redacted).

    ``labels``: one column title per run. ``links``: for each run, the relative path of its
    ``index.html`` from the comparison page (cells then link to the case there), or ``None``.
    """
    if len(labels) != len(runs):
        raise ValueError(f"{len(runs)} runs but {len(labels)} labels")
    if links is not None and len(links) != len(runs):
        raise ValueError(f"{len(runs)} runs but {len(links)} links")
    link_list: list[str | None] = list(links) if links is not None else [None] * len(runs)
    columns = [
        _column(run, label, link) for run, label, link in zip(runs, labels, link_list, strict=True)
    ]
    # case id -> (block, title, mandatory anywhere), in order of first appearance
    order: dict[str, dict[str, Any]] = {}
    per_run: list[dict[str, dict[str, Any]]] = []
    for run, link in zip(runs, link_list, strict=True):
        cases = [c for c in run.get("cases") or [] if isinstance(c, Mapping)]
        cells: dict[str, dict[str, Any]] = {}
        for case, anchor in zip(cases, case_anchors(cases), strict=True):
            case_id = str(case.get("id") or "?")
            info = order.setdefault(
                case_id,
                {"block": str(case.get("block") or "other"), "title": "", "mandatory": False},
            )
            info["title"] = info["title"] or str(case.get("title") or "")
            info["mandatory"] = info["mandatory"] or case.get("mandatory") is True
            verdict = str(case.get("verdict") or "")
            reason = one_line(case.get("reason") or "", 200)
            cells.setdefault(
                case_id,
                {
                    "verdict": text(verdict),
                    "verdict_class": verdict if verdict in ALL_VERDICTS else "error",
                    "href": f"{link}#{anchor}" if link else "",
                    "hint": text(f"{case_id}: {verdict}" + (f" — {reason}" if reason else "")),
                },
            )
        per_run.append(cells)
    absent = {"verdict": "—", "verdict_class": "absent", "href": "", "hint": "not in this run"}
    blocks: dict[str, list[dict[str, Any]]] = {}
    for case_id, info in order.items():
        row_cells = [run_cells.get(case_id, absent) for run_cells in per_run]
        present = {c["verdict_class"] for c in row_cells if c is not absent}
        blocks.setdefault(info["block"], []).append(
            {
                "id": text(case_id),
                "title": text(info["title"]),
                "mandatory": info["mandatory"],
                "cells": row_cells,
                "differs": len(present) > 1 or (bool(present) and absent in row_cells),
            }
        )
    return {
        "title": text(f"pile-interop comparison of {len(runs)} runs"),
        "columns": columns,
        "blocks": [
            {"name": text(name), "slug": slug(name), "rows": rows} for name, rows in blocks.items()
        ],
        "total": len(order),
        "differing": sum(row["differs"] for rows in blocks.values() for row in rows),
        "profiles": sorted({c["profile"] for c in columns if c["profile"]}),
        "legend": list(VERDICT_MEANING.items()),
    }
