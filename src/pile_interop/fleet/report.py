"""The fleet report folder: ``fleet.json`` (every figure) and ``index.html`` (one
self-contained page: the verdict banner of the conformance report, the thresholds, the figures
per action and per connection, charts over time).

The page inlines the conformance report's stylesheet (``reporting/templates/report.css``) so
both look alike, and needs no script, font or network.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from pile_interop.fleet.charts import line_chart

#: The page template (Jinja, autoescaped).
TEMPLATE = "templates/fleet.html.j2"


def _charts(result: Mapping[str, Any]) -> list[str]:
    timeline = result.get("timeline", [])
    window = float(result.get("window_s", 1.0)) or 1.0

    def series(key: str, scale: float = 1.0) -> list[tuple[float, float]]:
        return [(p["t"], p[key] * scale) for p in timeline]

    charts = [
        line_chart("Stations connected", {"connected": series("connected")}),
        line_chart(
            "Messages per second",
            {"sent": series("sent", 1 / window), "received": series("received", 1 / window)},
            "msg/s",
        ),
        line_chart(
            "Errors per second (CALLERRORs, timeouts, violations)",
            {"errors": series("errors", 1 / window)},
        ),
    ]
    for action in result.get("actions", {}):
        lines = {
            name: [
                (p["t"], p["latency_ms"][action][name])
                for p in timeline
                if action in p["latency_ms"]
            ]
            for name in ("p50", "p95", "p99")
        }
        charts.append(line_chart(f"{action} latency", lines, "ms"))
    return charts


def write_report(result: Mapping[str, Any], folder: str | Path) -> Path:
    """Write ``fleet.json`` and ``index.html`` into ``folder``; the page's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fleet.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    css = (
        resources.files("pile_interop.reporting")
        .joinpath("templates/report.css")
        .read_text(encoding="utf-8")
    )
    totals, connections = result["totals"], result["connections"]
    counts = [
        ("answers", totals["count"], False),
        ("CALLERRORs", totals["callerrors"], True),
        ("timeouts", totals["timeouts"], True),
        ("violations", totals["violations"], True),
        ("refused", connections["refused"], True),
        ("dropped", connections["dropped"], True),
    ]
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = resources.files("pile_interop.fleet").joinpath(TEMPLATE).read_text(encoding="utf-8")
    page = env.from_string(template).render(
        r=result, css=css, counts=counts, charts=_charts(result)
    )
    path = folder / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
