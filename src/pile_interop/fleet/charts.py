"""Line charts over time for the fleet report: inline SVG built with ElementTree (every text
escaped by the serializer, deterministic, presentation attributes only), like the conformance
report's diagrams (:mod:`pile_interop.reporting.svg`, whose colours and fonts it uses)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

from pile_interop.reporting.svg import COLOURS, INK, MUTED, SANS, to_text

WIDTH, HEIGHT = 460, 200
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 26, 30
#: Series colours in order (the verdict colours first: pass green, fail red, …).
PALETTE = (
    "#0550ae",
    COLOURS["pass"],
    COLOURS["fail"],
    COLOURS["warn"],
    COLOURS["error"],
    "#1b7c83",
    "#bc4c00",
    COLOURS["na"],
)


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: object) -> ET.Element:
    """A child element; ``font_size`` becomes ``font-size`` (attribute names with dashes)."""
    element = ET.SubElement(parent, tag, {k.replace("_", "-"): str(v) for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _nice(top: float) -> float:
    """A round upper bound of the y axis at or above ``top``."""
    if top <= 0:
        return 1.0
    step = 10 ** len(str(int(top))) / 10
    for factor in (1, 2, 2.5, 5, 10):
        if step * factor >= top:
            return step * factor
    return step * 10


def line_chart(
    title: str, series: Mapping[str, Sequence[tuple[float, float]]], unit: str = ""
) -> str:
    """One chart: x = seconds since the start, one line per named series."""
    svg = ET.Element(
        "svg",
        {
            "width": str(WIDTH),
            "height": str(HEIGHT),
            "viewBox": f"0 0 {WIDTH} {HEIGHT}",
            "role": "img",
            "aria-label": title,
            "font-family": SANS,
            "font-size": "11",
        },
    )
    _el(svg, "title", title)
    _el(svg, "text", title, x=LEFT, y=14, fill=INK, font_weight=600)
    points = [p for values in series.values() for p in values]
    x_max = max((p[0] for p in points), default=1.0) or 1.0
    y_max = _nice(max((p[1] for p in points), default=0.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + plot_w * t / x_max

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / y_max)

    for i in range(5):
        value = y_max * i / 4
        level = f"{y(value):.1f}"
        _el(svg, "line", x1=LEFT, x2=WIDTH - RIGHT, y1=level, y2=level, stroke="#d0d7de")
        _el(
            svg,
            "text",
            f"{value:g}",
            x=LEFT - 4,
            y=f"{y(value) + 4:.1f}",
            fill=MUTED,
            text_anchor="end",
        )
    axis = f"{x_max:.0f} s" + (f" · {unit}" if unit else "")
    _el(svg, "text", axis, x=WIDTH - RIGHT, y=HEIGHT - 8, fill=MUTED, text_anchor="end")
    legend_x = float(LEFT)
    for index, (name, values) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)]
        if values:
            path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in values)
            line = _el(
                svg,
                "polyline",
                points=path,
                fill="none",
                stroke=colour,
                stroke_width=1.6,
                stroke_linejoin="round",
            )
            _el(line, "title", name)
            if len(values) == 1:  # one window: a dot, a polyline of one point shows nothing
                t, v = values[0]
                _el(svg, "circle", cx=f"{x(t):.1f}", cy=f"{y(v):.1f}", r=2.5, fill=colour)
        _el(svg, "text", name, x=f"{legend_x:.0f}", y=HEIGHT - 8, fill=colour)
        legend_x += 8 + 6.5 * len(name)
    if not points:
        _el(svg, "text", "no data", x=WIDTH // 2, y=HEIGHT // 2, fill=MUTED, text_anchor="middle")
    return to_text(svg)
