"""Frames as the wire saw them, and the frame log every case reads its evidence from."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from pile_interop.core.clock import utc_iso

IN = "in"  # from the SUT to the suite
OUT = "out"  # from the suite to the SUT
EVENT = "event"  # connection opened / closed, written as a sentence

CALL, CALLRESULT, CALLERROR, MALFORMED = "CALL", "CALLRESULT", "CALLERROR", "MALFORMED"
_TYPES = {2: CALL, 3: CALLRESULT, 4: CALLERROR}


@dataclass
class Frame:
    """One frame (or connection event) with its direction, time and exact text."""

    seq: int
    direction: str
    raw: str
    mono: float = field(default_factory=time.monotonic)
    wall: str = field(default_factory=utc_iso)
    type: str = MALFORMED
    unique_id: str | None = None
    action: str | None = None
    payload: Any = None
    error_code: str | None = None
    error_description: str | None = None
    findings: list[str] = field(default_factory=list)

    def to_dict(self, t0: float) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "t": round(self.mono - t0, 6),
            "time": self.wall,
            "dir": self.direction,
            "type": self.type,
            "action": self.action,
            "unique_id": self.unique_id,
            "raw": self.raw,
            "findings": list(self.findings),
        }

    def brief(self) -> str:
        """A short human form: ``StatusNotification {"status": "Faulted", …}``."""
        if self.type == EVENT:
            return self.raw
        if self.type == CALLERROR:
            return f"CALLERROR {self.error_code} ({self.error_description!r}) to {self.action}"
        if self.type == MALFORMED:
            return f"malformed frame {shorten(self.raw)}"
        label = self.action or "?"
        if self.type == CALLRESULT:
            label = f"{label} result"
        return f"{label} {shorten(compact(self.payload))}"


def compact(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "), ensure_ascii=False, default=str)


def shorten(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse(raw: str | bytes) -> tuple[str, str | None, str | None, Any, str | None, str | None, str]:
    """Split an OCPP-J frame: (type, unique_id, action, payload, error_code, description, problem).

    Never raises: a frame that is not OCPP-J comes back as ``MALFORMED`` with the problem.
    """
    if isinstance(raw, bytes):
        return MALFORMED, None, None, None, None, None, "binary WebSocket frame (OCPP-J is text)"
    try:
        msg = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return MALFORMED, None, None, None, None, None, f"not JSON: {exc}"
    if not isinstance(msg, list) or not msg:
        return MALFORMED, None, None, None, None, None, "not a JSON array"
    kind = _TYPES.get(msg[0]) if isinstance(msg[0], int) and not isinstance(msg[0], bool) else None
    if kind is None:
        return MALFORMED, None, None, None, None, None, f"unknown MessageTypeId {msg[0]!r}"
    unique_id = msg[1] if len(msg) > 1 and isinstance(msg[1], str) else None
    expected_len = {CALL: 4, CALLRESULT: 3, CALLERROR: 5}[kind]
    if len(msg) != expected_len:
        return (
            kind,
            unique_id,
            None,
            None,
            None,
            None,
            f"{kind} has {len(msg)} elements, OCPP-J requires {expected_len}",
        )
    if unique_id is None:
        return kind, None, None, None, None, None, "UniqueId is not a string"
    if len(unique_id) > 36:
        return kind, unique_id, None, None, None, None, "UniqueId longer than 36 characters"
    if kind == CALL:
        action, payload = msg[2], msg[3]
        if not isinstance(action, str):
            return kind, unique_id, None, None, None, None, "Action is not a string"
        if not isinstance(payload, dict):
            return kind, unique_id, action, None, None, None, "CALL payload is not a JSON object"
        return kind, unique_id, action, payload, None, None, ""
    if kind == CALLRESULT:
        if not isinstance(msg[2], dict):
            return kind, unique_id, None, None, None, None, "CALLRESULT payload is not an object"
        return kind, unique_id, None, msg[2], None, None, ""
    code, description, details = msg[2], msg[3], msg[4]
    if not isinstance(code, str) or not isinstance(description, str):
        return kind, unique_id, None, None, None, None, "CALLERROR code/description not strings"
    if not isinstance(details, dict):
        return kind, unique_id, None, None, code, description, "CALLERROR details not an object"
    return kind, unique_id, None, details, code, description, ""


class FrameLog:
    """Every frame and connection event of a link, in order. Cases read windows of it."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self._offset = 0  # seq of the last discarded frame

    def add(self, direction: str, raw: str, **fields: Any) -> Frame:
        frame = Frame(seq=self.last_seq + 1, direction=direction, raw=raw, **fields)
        self.frames.append(frame)
        return frame

    def event(self, text: str) -> Frame:
        return self.add(EVENT, text, type=EVENT)

    def since(self, seq: int) -> list[Frame]:
        """Frames with ``frame.seq > seq`` (that are still kept)."""
        return self.frames[max(0, seq - self._offset) :]

    def discard_through(self, seq: int) -> None:
        """Forget frames up to ``seq`` (no case window needs them any more): bounded memory."""
        drop = max(0, min(seq - self._offset, len(self.frames)))
        del self.frames[:drop]
        self._offset += drop

    @property
    def last_seq(self) -> int:
        return self._offset + len(self.frames)
