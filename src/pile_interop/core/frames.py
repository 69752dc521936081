"""Frames as the wire saw them, and the frame log every case reads its evidence from.

Protocol-neutral: an OCPP-J frame, a CAN frame or a reassembled GB/T 27930 message, or a
connection event, each with its direction, time, exact text and the findings against it.
"""

from __future__ import annotations

import bisect
import json
import time
from collections.abc import Callable
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
#: ``Frame.type`` of the answers to a request (OCPP CALLRESULT and CALLERROR)
CALLRESULT, CALLERROR = "CALLRESULT", "CALLERROR"
MALFORMED = "MALFORMED"
#: How a finding (or warning) from a run-wide invariant begins: "invariant <id>: …"
INVARIANT_PREFIX = "invariant "


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
    #: recommendations (SHOULD) the frame does not follow: a passing case becomes ``warn``
    warnings: list[str] = field(default_factory=list)
    #: information about the frame that judges nothing (e.g. "late answer to a CALL of
    #: another case"): shown with the frame, never a finding
    notes: list[str] = field(default_factory=list)

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
            **({"warnings": list(self.warnings)} if self.warnings else {}),
            **({"notes": list(self.notes)} if self.notes else {}),
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


def is_message(frame: Frame) -> bool:
    """A request or application message (what ``expect`` steps wait for)."""
    return frame.type in MESSAGE_TYPES


class FrameLog:
    """Every frame and connection event of a link, in order. Cases read windows of it.

    With ``max_frames`` the log keeps at most that many frames between two
    :meth:`discard_through` calls (a campaign empties the log when a case starts and when it
    ends: the bound is per case, and a case that hit it leaves the next one a whole log). Past
    the bound a flooding SUT's frames are still handled (returned to the caller, checked,
    answered) but not stored, and a single EVENT ("N frames dropped") says how many were
    dropped (``dropped``). Connection events get ``EVENT_HEADROOM`` more room, so the close
    that ends a flood is kept. Sequence numbers go on counting the dropped frames.
    """

    #: Room for connection events beyond ``max_frames``.
    EVENT_HEADROOM = 100

    def __init__(self, max_frames: int | None = None) -> None:
        self.frames: list[Frame] = []
        self.max_frames = max_frames
        #: frames not stored since the last discard (the log was full)
        self.dropped = 0
        self._seq = 0  # seq of the last frame, stored or not
        self._marker: Frame | None = None
        #: when the last frame of each direction came or went, stored or not (monotonic)
        self.last_mono: dict[str, float] = {}
        #: called with every frame as it is added, stored or not (run-wide checks)
        self.observers: list[Callable[[Frame], None]] = []

    def add(self, direction: str, raw: str, **fields: Any) -> Frame:
        self._seq += 1
        frame = Frame(seq=self._seq, direction=direction, raw=raw, **fields)
        self.last_mono[direction] = frame.mono
        if self._full(direction):
            self._drop()
        else:
            self.frames.append(frame)
        for observer in self.observers:
            observer(frame)
        return frame

    def _full(self, direction: str) -> bool:
        if self.max_frames is None:
            return False
        room = self.max_frames + (self.EVENT_HEADROOM if direction == EVENT else 0)
        return len(self.frames) >= room

    def _drop(self) -> None:
        self.dropped += 1
        if self._marker is None:
            self._seq += 1
            self._marker = Frame(seq=self._seq, direction=EVENT, raw="", type=EVENT)
            self.frames.append(self._marker)
        self._marker.raw = (
            f"{self.dropped} frames dropped: the frame log keeps at most {self.max_frames} "
            "frames a case (the SUT floods the suite)"
        )

    def event(self, text: str) -> Frame:
        return self.add(EVENT, text, type=EVENT)

    def since(self, seq: int) -> list[Frame]:
        """Frames with ``frame.seq > seq`` (that are still kept)."""
        return self.frames[bisect.bisect_right(self.frames, seq, key=_seq) :]

    def discard_through(self, seq: int) -> None:
        """Forget frames up to ``seq`` (no case window needs them any more): bounded memory.
        Once the "frames dropped" event goes, the count starts again (a new case's bound)."""
        del self.frames[: bisect.bisect_right(self.frames, seq, key=_seq)]
        if self._marker is not None and self._marker.seq <= seq:
            self._marker = None
            self.dropped = 0

    def clear(self) -> None:
        """Forget every frame so far (a case starts or ended): :meth:`discard_through` the
        last sequence number."""
        self.discard_through(self._seq)

    @property
    def last_seq(self) -> int:
        return self._seq


def _seq(frame: Frame) -> int:
    return frame.seq
