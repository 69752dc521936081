"""Inline SVG for the HTML report: the verdict bar and a case's sequence diagram.

Both are built as :mod:`xml.etree.ElementTree` elements, so every text and attribute is
escaped by the serializer, and the output is deterministic (no random ids, no clock). The
SVG carries presentation attributes only (no CSS, no fonts, no links), so it renders the same
from disk, in print and with scripts off. It has no ``xmlns``: it is meant to sit inline in
an HTML page, where the parser puts it in the SVG namespace.

The sequence diagram has two lifelines: the suite (left) and the SUT (right). Each frame is
an arrow (``out`` = suite → SUT, ``in`` = SUT → suite): a CALL is a solid line labelled with
its action, a CALLRESULT a dashed line labelled ``<action>.conf``, a CALLERROR a dashed line
labelled ``CALLERROR <code>``. Connection events are notes across both lifelines. Frames with
findings are red, frames of the failing step sit on a pale red band, the failure itself is a
red note at the moment it was decided. Each element has a ``<title>`` with the raw frame.
"""

from __future__ import annotations

import json
import logging
import xml.etree.ElementTree as ET
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pile_interop.reporting.common import as_float, one_line, printable, shown_verdicts

logger = logging.getLogger(__name__)

#: Verdict colours, shared with the page's CSS (``templates/report.css``).
COLOURS: Mapping[str, str] = {
    "pass": "#1a7f37",
    "fail": "#cf222e",
    "warn": "#9a6700",
    "na": "#6e7781",
    "error": "#8250df",
    "skipped": "#afb8c1",
    "not_run": "#d4a72c",
}
RED = COLOURS["fail"]
INK = "#1f2328"
MUTED = "#57606a"
OUT_COLOUR = "#0550ae"  # suite → SUT
IN_COLOUR = "#1f2328"  # SUT → suite
CALLERROR_COLOUR = "#bc4c00"
BAND = "#ffebe9"

#: At most this many frames are drawn; the wire log below the diagram has them all.
MAX_FRAMES = 80
#: Longest raw frame text in a hover title.
TITLE_LIMIT = 2000

# Geometry (SVG user units ~ CSS px at 100 %).
WIDTH = 960
SUITE_X = 215
SUT_X = 805
HEAD_H = 46
ROW_H = 30
NOTE_H = 24
FINDING_H = 14
LINE_H = 15
NOTE_CHARS = 118
LABEL_CHARS = 92
SANS = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace"


def to_text(element: ET.Element) -> str:
    """Serialize ``element`` (escaped, deterministic)."""
    return ET.tostring(element, encoding="unicode")


def _n(value: float) -> str:
    """A coordinate: at most one decimal, no trailing zeros."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _el(parent: ET.Element | None, tag: str, text: str | None = None, **attrs: Any) -> ET.Element:
    clean = {k.rstrip("_").replace("_", "-"): _attr(v) for k, v in attrs.items() if v is not None}
    element = ET.Element(tag, clean) if parent is None else ET.SubElement(parent, tag, clean)
    if text:
        element.text = printable(text)
    return element


def _attr(value: Any) -> str:
    if isinstance(value, float):
        return _n(value)
    return printable(value)


def _title(parent: ET.Element, text: str) -> None:
    _el(parent, "title", text)


# -- verdict bar -----------------------------------------------------------------------------


def summary_bar(counts: Mapping[str, Any], *, width: int = 640, height: int = 16) -> str:
    """A horizontal bar, one segment per verdict, proportional to its count."""
    values = [(v, max(0, int(counts.get(v, 0) or 0))) for v in shown_verdicts(counts)]
    total = sum(count for _, count in values)
    label = ", ".join(f"{count} {verdict}" for verdict, count in values if count) or "no cases"
    svg = _el(
        None,
        "svg",
        width=width,
        height=height,
        viewBox=f"0 0 {width} {height}",
        role="img",
        class_="bar",
        aria_label=f"verdicts: {label}",
    )
    _title(svg, f"verdicts: {label}")
    if not total:
        _el(svg, "rect", x=0, y=0, width=width, height=height, fill="#eaeef2")
        return to_text(svg)
    x = 0.0
    for verdict, count in values:
        if not count:
            continue
        w = width * count / total
        rect = _el(
            svg,
            "rect",
            x=x,
            y=0,
            width=w,
            height=height,
            fill=COLOURS[verdict],
            class_=f"seg {verdict}",
        )
        _title(rect, f"{verdict}: {count}")
        x += w
    return to_text(svg)


# -- sequence diagram ------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """The red note of a failing step: when it was decided (seconds since case start)."""

    t: float
    text: str
    detail: str = ""
    #: a second line (e.g. what was observed instead)
    second: str = ""


@dataclass(frozen=True)
class _Row:
    kind: str  # frame | gap | failure
    frame: Mapping[str, Any] | None = None
    text: str = ""
    detail: str = ""
    second: str = ""


def lifeline_names(sut: Mapping[str, Any], ocpp: str = "") -> tuple[str, str]:
    """(suite, SUT) lifeline names from the run's ``sut`` dict: the suite plays the other side
    of ``sut["role"]`` (``cs``: the SUT is the charging station; ``csms``: the SUT is the CSMS).
    OCPP 1.6 says Central System / Charge Point, later versions CSMS / Charging Station."""
    version = str(ocpp or sut.get("ocpp") or "")
    old = version.startswith("1.")
    csms, station = ("Central System", "Charge Point") if old else ("CSMS", "Charging Station")
    ident = str(sut.get("station_id") or sut.get("model") or "").strip()
    if str(sut.get("role") or "cs") == "csms":
        suite_name, sut_name = f"{station} (pile-interop)", csms
        ident = str(sut.get("model") or sut.get("vendor") or "").strip()
    else:
        suite_name, sut_name = f"{csms} (pile-interop)", station
    return suite_name, f"{sut_name} {ident}".strip()


def _payload(frame: Mapping[str, Any]) -> tuple[str, str]:
    """(label, payload excerpt) of a frame as the arrow shows it."""
    kind = str(frame.get("type") or "")
    action = str(frame.get("action") or "")
    raw = str(frame.get("raw") or "")
    try:
        message = json.loads(raw)
    except (ValueError, TypeError):
        message = None
    body: Any = None
    if kind == "CALL":
        label = action or "CALL"
        if isinstance(message, list) and len(message) > 3:
            body = message[3]
    elif kind == "CALLRESULT":
        label = f"{action}.conf" if action else "CALLRESULT"
        if isinstance(message, list) and len(message) > 2:
            body = message[2]
    elif kind == "CALLERROR":
        code = ""
        if isinstance(message, list) and len(message) > 2:
            code = str(message[2])
            body = message[3] if len(message) > 3 else None
        label = f"CALLERROR {code}".strip()
    else:
        label = kind or "frame"
        return label, one_line(raw)
    if body is None:
        return label, "" if message is not None else one_line(raw)
    if isinstance(body, str):
        return label, one_line(json.dumps(body, ensure_ascii=False))
    return label, one_line(json.dumps(body, ensure_ascii=False, separators=(",", ":")))


def _frame_title(frame: Mapping[str, Any], suite: str, sut: str) -> str:
    direction = str(frame.get("dir") or "")
    who = {"out": f"{suite} → {sut}", "in": f"{sut} → {suite}"}.get(direction, "event")
    head = f"#{frame.get('seq', '?')}  +{as_float(frame.get('t')):.3f} s"
    if frame.get("time"):
        head += f"  {frame['time']}"
    raw = printable(frame.get("raw") or "")
    if len(raw) > TITLE_LIMIT:
        raw = raw[:TITLE_LIMIT] + f"… ({len(raw)} characters)"
    lines = [f"{head}  {who}", raw]
    lines.extend(f"finding: {f}" for f in frame.get("findings") or [])
    return "\n".join(lines)


def _pick(frames: Sequence[Mapping[str, Any]], focus: int | None, limit: int) -> list[_Row]:
    """At most ``limit`` frames: all of them if they fit; else the first quarter and the part
    around ``focus`` (the failing step's first frame, or the end), with a gap note between."""
    if len(frames) <= limit:
        return [_Row("frame", f) for f in frames]
    head = max(1, limit // 4)
    rest = limit - head
    centre = len(frames) if focus is None else focus
    start = max(head, min(centre - rest // 2, len(frames) - rest))
    stop = start + rest
    rows = [_Row("frame", f) for f in frames[:head]]
    if start > head:
        rows.append(_Row("gap", text=f"… {start - head} frames not drawn (see the wire log) …"))
    rows.extend(_Row("frame", f) for f in frames[start:stop])
    if stop < len(frames):
        rows.append(
            _Row("gap", text=f"… {len(frames) - stop} more frames not drawn (see the wire log) …")
        )
    return rows


def _place_failure(rows: list[_Row], failure: Failure) -> list[_Row]:
    """Insert the failure note after the last drawn frame at or before ``failure.t``."""
    at = 0
    for index, row in enumerate(rows):
        if row.kind == "frame" and row.frame is not None:
            if as_float(row.frame.get("t")) <= failure.t:
                at = index + 1
        elif row.kind == "gap" and at == index:
            at = index + 1
    note = _Row("failure", text=failure.text, detail=failure.detail, second=failure.second)
    return [*rows[:at], note, *rows[at:]]


def _row_height(row: _Row) -> float:
    if row.kind == "frame" and row.frame is not None:
        if row.frame.get("dir") == "event" or row.frame.get("type") == "event":
            return NOTE_H + 8
        return ROW_H + FINDING_H * min(3, len(row.frame.get("findings") or []))
    if row.second:
        return NOTE_H + LINE_H + 8
    return NOTE_H + 8


def _note(
    parent: ET.Element,
    y: float,
    lines: Sequence[str],
    *,
    stroke: str,
    fill: str,
    colour: str,
    dashed: bool = False,
    bold: bool = False,
) -> None:
    """A box across both lifelines with one or more centred lines of text."""
    left, right = SUITE_X - 100, SUT_X + 100
    shown = [line for line in lines if line] or [""]
    _el(
        parent,
        "rect",
        x=left,
        y=y,
        width=right - left,
        height=NOTE_H + LINE_H * (len(shown) - 1),
        rx=3,
        fill=fill,
        stroke=stroke,
        stroke_dasharray="4 3" if dashed else None,
    )
    for number, line in enumerate(shown):
        _el(
            parent,
            "text",
            one_line(line, NOTE_CHARS),
            x=(left + right) / 2,
            y=y + NOTE_H / 2 + 4 + number * LINE_H,
            text_anchor="middle",
            font_size=11.5,
            font_style=None if bold else "italic",
            font_weight="600" if bold and number == 0 else None,
            fill=colour,
        )


def _arrow(
    parent: ET.Element,
    frame: Mapping[str, Any],
    y: float,
    *,
    colour: str,
    reply_suffix: str,
) -> None:
    outgoing = frame.get("dir") == "out"
    x1, x2 = (SUITE_X, SUT_X) if outgoing else (SUT_X, SUITE_X)
    kind = str(frame.get("type") or "")
    line_y = y + ROW_H - 8
    _el(
        parent,
        "line",
        x1=x1,
        y1=line_y,
        x2=x2 + (-9 if outgoing else 9),
        y2=line_y,
        stroke=colour,
        stroke_width=1.6 if kind == "CALL" else 1.3,
        stroke_dasharray=None if kind == "CALL" else "6 4",
    )
    tip = -9 if outgoing else 9
    points = (
        f"{_n(x2)},{_n(line_y)} {_n(x2 + tip)},{_n(line_y - 4.5)} {_n(x2 + tip)},{_n(line_y + 4.5)}"
    )
    _el(parent, "polygon", points=points, fill=colour)
    label, excerpt = _payload(frame)
    if reply_suffix != ".conf" and label.endswith(".conf"):
        label = label[: -len(".conf")] + reply_suffix
    room = max(0, LABEL_CHARS - len(label) - 1)
    text = _el(
        parent,
        "text",
        x=(SUITE_X + SUT_X) / 2,
        y=line_y - 6,
        text_anchor="middle",
        font_size=12,
        fill=colour,
    )
    _el(text, "tspan", label, font_weight="600")
    if excerpt and room > 3:
        _el(text, "tspan", " " + one_line(excerpt, room), font_family=MONO, font_size=10.5)
    for number, finding in enumerate((frame.get("findings") or [])[:3]):
        _el(
            parent,
            "text",
            "⚠ " + one_line(finding, 80),
            x=(SUITE_X + SUT_X) / 2,
            y=line_y + 13 + number * FINDING_H,
            text_anchor="middle",
            font_size=10.5,
            fill=RED,
        )


def sequence_diagram(
    frames: Sequence[Mapping[str, Any]],
    *,
    suite: str,
    sut: str,
    highlight: Collection[int] = (),
    failure: Failure | None = None,
    limit: int = MAX_FRAMES,
    reply_suffix: str = ".conf",
) -> str:
    """The sequence diagram of ``frames`` (a case's wire log) as an inline ``<svg>`` string;
    ``""`` when there is nothing to draw.

    ``highlight``: seq numbers of the failing step's frames (drawn on a pale red band).
    ``failure``: a red note placed at the moment the failing step was decided.
    ``limit``: the most frames drawn; longer logs keep their start and the part around the
    first highlighted frame, with a note saying how many frames were left out.
    """
    if not frames and failure is None:
        return ""
    marked = {int(s) for s in highlight if isinstance(s, int) or str(s).isdigit()}
    focus = next(
        (i for i, f in enumerate(frames) if isinstance(f.get("seq"), int) and f["seq"] in marked),
        None,
    )
    if focus is None and failure is not None:
        later = [i for i, f in enumerate(frames) if as_float(f.get("t")) > failure.t]
        focus = later[0] if later else len(frames)
    rows = _pick(frames, focus, max(1, limit))
    if failure is not None:
        rows = _place_failure(rows, failure)
    body_h = sum(_row_height(row) for row in rows)
    height = HEAD_H + 12 + body_h + 14
    drawn = sum(1 for row in rows if row.kind == "frame")
    svg = _el(
        None,
        "svg",
        width=WIDTH,
        height=height,
        viewBox=f"0 0 {WIDTH} {_n(height)}",
        role="img",
        class_="seq",
        font_family=SANS,
        font_size=12,
        aria_label=f"sequence diagram: {drawn} of {len(frames)} frames between {suite} and {sut}",
    )
    _title(svg, f"sequence diagram: {suite} and {sut}, {drawn} of {len(frames)} frames")
    # lifelines and their heads
    for x, name in ((SUITE_X, suite), (SUT_X, sut)):
        _el(
            svg,
            "line",
            x1=x,
            y1=HEAD_H,
            x2=x,
            y2=height - 6,
            stroke="#8c959f",
            stroke_width=1,
            stroke_dasharray="3 3",
        )
        head = _el(svg, "g", class_="head")
        _el(head, "rect", x=x - 135, y=6, width=270, height=HEAD_H - 14, rx=4, fill="#f6f8fa")
        _el(
            head,
            "rect",
            x=x - 135,
            y=6,
            width=270,
            height=HEAD_H - 14,
            rx=4,
            fill="none",
            stroke="#57606a",
        )
        _el(
            head,
            "text",
            one_line(name, 40),
            x=x,
            y=6 + (HEAD_H - 14) / 2 + 4.5,
            text_anchor="middle",
            font_size=12.5,
            font_weight="600",
            fill=INK,
        )
        _title(head, name)
    y = HEAD_H + 12.0
    for row in rows:
        h = _row_height(row)
        if row.kind == "gap":
            group = _el(svg, "g", class_="gap")
            _note(
                group,
                y + 4,
                [row.text],
                stroke="#8c959f",
                fill="#ffffff",
                colour=MUTED,
                dashed=True,
            )
        elif row.kind == "failure":
            group = _el(svg, "g", class_="failure")
            _title(group, row.detail or row.text)
            _note(
                group,
                y + 4,
                [row.text, row.second],
                stroke=RED,
                fill=BAND,
                colour=RED,
                bold=True,
            )
        elif row.frame is not None:
            frame = row.frame
            seq = frame.get("seq")
            findings = bool(frame.get("findings"))
            is_event = frame.get("dir") == "event" or frame.get("type") == "event"
            classes = ["event" if is_event else "msg"]
            hl = isinstance(seq, int) and seq in marked
            if findings or frame.get("type") == "MALFORMED":
                classes.append("finding")
            if hl:
                classes.append("highlight")
            group = _el(svg, "g", class_=" ".join(classes), data_seq=seq)
            _title(group, _frame_title(frame, suite, sut))
            if hl:
                _el(group, "rect", x=0, y=y + 1, width=WIDTH, height=h - 2, fill=BAND)
            red = "finding" in classes
            _el(
                group,
                "text",
                f"+{as_float(frame.get('t')):.3f} s",
                x=8,
                y=y + (NOTE_H / 2 + 8 if is_event else ROW_H - 4),
                font_size=10.5,
                font_family=MONO,
                fill=RED if red else MUTED,
            )
            _el(
                group,
                "text",
                f"#{seq}",
                x=WIDTH - 8,
                y=y + (NOTE_H / 2 + 8 if is_event else ROW_H - 4),
                text_anchor="end",
                font_size=10,
                font_family=MONO,
                fill=MUTED,
            )
            if is_event:
                text = str(frame.get("raw") or frame.get("action") or "event")
                _note(group, y + 4, [text], stroke="#d4a72c", fill="#fff8c5", colour=INK)
            else:
                if red:
                    colour = RED
                elif frame.get("type") == "CALLERROR":
                    colour = CALLERROR_COLOUR
                else:
                    colour = OUT_COLOUR if frame.get("dir") == "out" else IN_COLOUR
                _arrow(group, frame, y, colour=colour, reply_suffix=reply_suffix)
        y += h
    return to_text(svg)
