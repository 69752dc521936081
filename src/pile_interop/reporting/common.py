"""Small helpers shared by the report writers (no writer logic here).

Everything in this package reads the plain dicts described in ``docs/results-format.md``; these
helpers only format values from those dicts and write files safely.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: Every verdict of the contract, in the order reports list them.
VERDICTS: tuple[str, ...] = ("pass", "fail", "warn", "na", "error", "skipped")

#: The verdict of a planned, selected case that never ended (the run was interrupted or
#: killed first). Reports list it only when a run has such cases, after :data:`VERDICTS`.
NOT_RUN = "not_run"


#: Every verdict a case may have.
ALL_VERDICTS: tuple[str, ...] = (*VERDICTS, NOT_RUN)


def shown_verdicts(counts: Mapping[str, Any]) -> tuple[str, ...]:
    """The verdicts a report lists for ``counts``: :data:`VERDICTS`, plus ``not_run`` when
    some case did not run."""
    return (*VERDICTS, NOT_RUN) if counts.get(NOT_RUN) else VERDICTS


#: Verdicts under which a mandatory case still counts as met.
MEETS: frozenset[str] = frozenset({"pass", "warn", "na"})

#: Direction arrows for the wire log, seen from the suite: ``out`` goes to the SUT.
ARROWS: Mapping[str, str] = {"out": "→", "in": "←", "event": "•"}

# Characters that XML 1.0 does not allow (C0 controls except TAB/LF/CR, surrogates, U+FFFE/F).
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: Any) -> str:
    """``value`` as text safe for XML 1.0 and HTML: invalid characters become ``\\xNN``."""
    text = "" if value is None else str(value)
    return _NOT_XML_CHAR.sub(_escape_char, text)


def utf8(text: str) -> bytes:
    """``text`` as UTF-8; lone surrogates (from a malformed frame) become ``\\udXXX`` escapes,
    which inside a JSON string decode back to the same character."""
    return text.encode("utf-8", errors="backslashreplace")


def scrub(obj: Any) -> Any:
    """A copy of a JSON-like ``obj`` whose strings can all be encoded as UTF-8."""
    if isinstance(obj, str):
        return utf8(obj).decode("utf-8")
    if isinstance(obj, Mapping):
        return {scrub(k): scrub(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [scrub(item) for item in obj]
    return obj


def one_line(text: Any, limit: int | None = None) -> str:
    """Whitespace collapsed to single spaces, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(printable(text).split())
    if limit is not None and len(flat) > limit:
        flat = flat[: max(0, limit - 1)].rstrip() + "…"
    return flat


def arrow(direction: Any) -> str:
    """The arrow for a frame's ``dir`` (``out`` → to the SUT, ``in`` ← from the SUT)."""
    return ARROWS.get(str(direction), "?")


def requirement_ids(case: Mapping[str, Any]) -> list[str]:
    """Requirement ids of a case; accepts ``{"id": …, "text": …}`` dicts or bare strings."""
    return [req["id"] for req in requirement_list(case)]


def requirement_list(case: Mapping[str, Any]) -> list[dict[str, str]]:
    """Requirements of a case normalised to ``{"id": …, "text": …}``."""
    result: list[dict[str, str]] = []
    for req in case.get("requirements") or []:
        if isinstance(req, Mapping):
            rid = str(req.get("id") or "").strip()
            text = str(req.get("text") or "").strip()
            if rid or text:
                result.append({"id": rid or text, "text": text})
        elif req not in (None, ""):
            result.append({"id": str(req), "text": ""})
    return result


def as_float(value: Any, default: float = 0.0) -> float:
    """``value`` as a finite float, or ``default``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    if number != number or number in (float("inf"), float("-inf")):
        return default
    return number


def parse_time(text: Any) -> datetime | None:
    """Parse an ISO 8601 timestamp (``Z`` or an offset; naive means UTC); ``None`` if unusable."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        logger.debug("unparseable timestamp %r", text)
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def epoch_ms(text: Any) -> int | None:
    """Milliseconds since the epoch for an ISO 8601 timestamp, ``None`` if unusable."""
    value = parse_time(text)
    return None if value is None else round(value.timestamp() * 1000)


def step_details(
    steps: Iterable[Mapping[str, Any]],
    verdicts: Iterable[str],
    requirements: Mapping[str, str] | None = None,
) -> str:
    """Readable text for the steps whose verdict is in ``verdicts``: expected vs observed.

    ``requirements`` (id → text): the requirement line then quotes the requirement's text,
    as h2spec does."""
    wanted = set(verdicts)
    texts = requirements or {}
    blocks: list[str] = []
    for step in steps:
        if step.get("verdict") not in wanted:
            continue
        head = f"step {step.get('index', '?')}"
        if step.get("phase") and step.get("phase") != "main":
            head += f" ({step['phase']})"
        head += f": {step.get('title') or step.get('kind') or ''} [{step.get('verdict')}]"
        lines = [head]
        for key in ("requirement", "expected", "observed"):
            if step.get(key):
                value = str(step[key])
                if key == "requirement" and texts.get(value):
                    value = f"{value} — {one_line(texts[value])}"
                lines.append(f"  {key}: {value}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def frame_line(frame: Mapping[str, Any]) -> str:
    """One wire-log line: ``t  time  arrow  type action  raw`` plus findings on indented lines
    (``t``: seconds since the case started; ``time``: UTC time of day, when known)."""
    t = as_float(frame.get("t"))
    kind = str(frame.get("type") or "")
    action = str(frame.get("action") or "")
    when = parse_time(frame.get("time"))
    clock = f"{when:%H:%M:%S}.{when.microsecond // 1000:03d} " if when is not None else ""
    head = f"{t:9.3f} {clock}{arrow(frame.get('dir'))} {kind} {action}".rstrip()
    lines = [f"{head}  {frame.get('raw') or ''}".rstrip()]
    lines.extend(f"          ! {finding}" for finding in frame.get("findings") or [])
    lines.extend(f"          ~ {warning}" for warning in frame.get("warnings") or [])
    lines.extend(f"          i {note}" for note in frame.get("notes") or [])
    return "\n".join(lines)


def late_lines(case: Mapping[str, Any]) -> list[str]:
    """The case's late answers (``late_responses``: answers to its CALLs that came after the
    suite stopped waiting), one sentence each; they judge nothing."""
    lines = []
    for late in case.get("late_responses") or []:
        if not isinstance(late, Mapping):
            continue
        during = late.get("came_during")
        lines.append(
            f"late {late.get('type') or 'answer'} to {late.get('action') or '?'} "
            f"({late.get('unique_id') or '?'}): {as_float(late.get('delay_s')):.3g} s after "
            f"the CALL (frame #{late.get('call_seq')}), the suite had waited "
            f"{as_float(late.get('waited_s')):.3g} s"
            + (f"; it came during case {during}" if during else "")
        )
    return lines


#: The first line of a text wire log, saying how to read it.
WIRE_LOG_LEGEND = (
    "wire log: seconds since the case started, UTC time, → suite to SUT, ← SUT to suite, "
    "• event; ! a protocol finding"
)


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temp file in the same folder and ``os.replace``.

    Readers see the old file or the new one, never half of one; a crash leaves no temp file
    behind (best effort) and never a truncated ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            if hasattr(os, "fchmod"):  # mkstemp makes 0600; a report is meant to be shared
                os.fchmod(handle.fileno(), 0o644)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    return path
