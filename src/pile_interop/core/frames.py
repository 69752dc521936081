"""Frames as the wire saw them, and the frame log every case reads its evidence from.

Protocol-neutral: an OCPP-J frame, a CAN frame or a reassembled GB/T 27930 message, or a
connection event, each with its direction, time, exact text and the findings against it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from pile_interop.core.clock import utc_iso

IN = "in"  # from the SUT to the suite
OUT = "out"  # from the suite to the SUT
EVENT = "event"  # connection opened / closed, written as a sentence

#: ``Frame.type`` of a request from one side (OCPP CALL) and of an application message of a
#: protocol without requests (a GB/T 27930 message): what a case's ``expect`` waits for
CALL, MSG = "CALL", "MSG"
MESSAGE_TYPES = frozenset({CALL, MSG})
MALFORMED = "MALFORMED"


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
        if self.type == "CALLERROR":
            return f"CALLERROR {self.error_code} ({self.error_description!r}) to {self.action}"
        if self.type == MALFORMED:
            return f"malformed frame {shorten(self.raw)}"
        label = self.action or "?"
        if self.type == "CALLRESULT":
            label = f"{label} result"
        return f"{label} {shorten(compact(self.payload))}"


def compact(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "), ensure_ascii=False, default=str)


def shorten(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_message(frame: Frame) -> bool:
    """A request or application message (what ``expect`` steps wait for)."""
    return frame.type in MESSAGE_TYPES


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
