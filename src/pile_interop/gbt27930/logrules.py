"""Cause and effect across the two sides of a recorded session, as GB/T 27930's flow sets it.

Three checks, each streamed (a few flags and first times per session, whatever the length):

* **cause and effect** — a message of the SUT that answers one of the other side's comes only
  after it, in every session of the recording: CRM 0xAA only after a complete BRM, CML only
  after BCP, CRO 0xAA only after BRO 0xAA, CCS only in the charging phase (after CRO 0xAA);
  for a BMS: BRM after CRM 0x00, BCP after CRM 0xAA, BRO 0xAA after CML, BCL / BCS after
  CRO 0xAA. A session starts at CHM (or at CRM 0x00 after a CRM 0xAA: a new identification);
  a session the recording joins midway is not judged.
* **mandatory messages** — once the other side sent what the SUT must answer (BCP → CML,
  BRO → CRO, BCL → CCS, BST → CST …), the SUT's answer appears; not judged when the recording
  ends before the answer's time-out.
* **phases in order** — the SUT's messages first appear phase by phase; messages of one phase
  are free among themselves (CTS before or after CML, BCL / BCS / BSM in any order).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from pile_interop.gbt27930.capture import DecodedMessage
from pile_interop.gbt27930.ids import BMS_ADDRESS, CHARGER_ADDRESS
from pile_interop.gbt27930.logframe import LogFrame

#: The SUT's messages by phase; order is judged between phases, never inside one.
PHASES = {
    "charger": [["CHM"], ["CRM"], ["CTS", "CML"], ["CRO"], ["CCS"], ["CST"], ["CSD"]],
    "bms": [["BHM"], ["BRM"], ["BCP"], ["BRO"], ["BCL", "BCS", "BSM"], ["BST"], ["BSD"]],
}

#: (effect of the SUT, cause from the other side, the words for the cause)
CAUSES = {
    "charger": [
        ("CRM 0xAA", "BRM", "a complete BRM"),
        ("CML", "BCP", "BCP"),
        ("CRO 0xAA", "BRO 0xAA", "BRO 0xAA"),
        ("CCS", "CRO 0xAA", "the charging phase (its own CRO 0xAA)"),
    ],
    "bms": [
        ("BRM", "CRM 0x00", "CRM 0x00"),
        ("BCP", "CRM 0xAA", "CRM 0xAA"),
        ("BRO 0xAA", "CML", "CML"),
        ("BCL", "CRO 0xAA", "CRO 0xAA"),
        ("BCS", "CRO 0xAA", "CRO 0xAA"),
    ],
}

#: (message the SUT must send, what of the other side makes it due, time-out in seconds)
MANDATORY = {
    "charger": [
        ("CHM", "BHM", 0.0),
        ("CML", "BCP", 5.0),
        ("CRO", "BRO", 5.0),
        ("CCS", "BCL", 1.0),
        ("CST", "BST", 5.0),
    ],
    "bms": [
        ("BHM", "CHM", 5.0),
        ("BRM", "CRM 0x00", 5.0),
        ("BCP", "CRM 0xAA", 5.0),
        ("BRO", "CML", 5.0),
        ("BCL", "CRO 0xAA", 1.0),
        ("BCS", "CRO 0xAA", 5.0),
        ("BSM", "CRO 0xAA", 5.0),
        ("BST", "CST", 5.0),
        ("BSD", "CST", 10.0),
    ],
}

_STARTS = ("CHM", "CRM 0x00", "BHM")
_EXAMPLES = 5
_BYTE_VALUES = {
    "CRM": "RecognitionResult",
    "BRO": "BMSReady",
    "CRO": "ChargerReady",
}


def tokens(message: DecodedMessage) -> list[str]:
    """What a message says for the flow: its name, and ``CRM 0xAA`` … for the ready bytes."""
    out = [message.name]
    signal = _BYTE_VALUES.get(message.name)
    if signal is not None and signal in message.values:
        value = message.values[signal]
        if value in (0x00, 0xAA):
            out.append(f"{message.name} {value:#04x}".replace("0xaa", "0xAA"))
    if message.name == "BRM" and message.short:
        return []  # not a complete BRM
    return out


@dataclass
class RuleBook:
    sut: str
    variant: str
    seen: set[str] = field(default_factory=set)
    """Tokens of the current session (the other side's and the SUT's)."""
    started: bool = False
    reported: set[str] = field(default_factory=set)
    violations: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    sessions: int = 0
    unjudged: int = 0
    """SUT messages of a session the recording joined midway."""
    firsts: dict[str, float] = field(default_factory=dict)
    """First time of every token (the whole recording)."""
    first_frames: dict[str, int] = field(default_factory=dict)
    last_t: float = math.nan

    @property
    def address(self) -> int:
        return CHARGER_ADDRESS if self.sut == "charger" else BMS_ADDRESS

    def message(self, message: DecodedMessage, frame: LogFrame) -> None:
        found = tokens(message)
        if message.src == CHARGER_ADDRESS and (
            ("CHM" in found and self.seen - {"CHM", "BHM"})
            or ("CRM 0x00" in found and "CRM 0xAA" in self.seen)
        ):
            self.seen.clear()
            self.reported.clear()
        if any(t in _STARTS for t in found) and not self.seen:
            self.started = True
            self.sessions += 1
        if message.src == self.address:
            for effect, cause, words in CAUSES[self.sut]:
                if effect not in found or cause in self.seen:
                    continue
                if not self.started:
                    self.unjudged += 1
                    continue
                key = f"{effect} ← {cause}"
                if key in self.reported:
                    continue
                self.reported.add(key)
                self.counts[key] = self.counts.get(key, 0) + 1
                examples = self.violations.setdefault(key, [])
                if len(examples) < _EXAMPLES:
                    examples.append(
                        f"{effect} at {message.t:.3f} s (frame {frame.index}) before {words}"
                    )
        for token in found:
            self.seen.add(token)
            if token not in self.firsts:
                self.firsts[token] = message.t
                self.first_frames[token] = frame.index

    def finish(self, last_t: float) -> None:
        self.last_t = last_t

    # -- verdicts -----------------------------------------------------------------------------

    def cause_problems(self) -> list[str]:
        return [
            f"{example}" + (f" (in {self.counts[key]} sessions)" if self.counts[key] > 1 else "")
            for key, examples in self.violations.items()
            for example in examples[:1]
        ]

    def mandatory(self) -> tuple[list[str], list[str], list[str]]:
        """(missing, judged, not judged) — one line each."""
        missing, judged, unjudged = [], [], []
        for name, trigger, timeout in MANDATORY[self.sut]:
            if self.variant == "2011" and "HM" in name + trigger:
                continue
            if trigger not in self.firsts:
                continue
            t = self.firsts[trigger]
            if name in self.firsts:
                judged.append(f"{name} (after {trigger})")
                continue
            frame = self.first_frames[trigger]
            left = self.last_t - t
            if math.isnan(left) or left >= timeout:
                missing.append(
                    f"{name} never sent, though {trigger} came at {t:.3f} s (frame {frame})"
                )
            else:
                unjudged.append(
                    f"{name}: the recording ends {left:.3f} s after {trigger}, before its "
                    f"{timeout:g} s time-out"
                )
        return missing, judged, unjudged

    def order_problems(self) -> tuple[list[str], list[str]]:
        """(problems, the phases seen in order)."""
        present = []
        for group in PHASES[self.sut]:
            names = [n for n in group if n in self.firsts]
            if names:
                present.append((min(self.firsts[n] for n in names), "/".join(names)))
        wrong = [
            f"{a} first at {ta:.3f} s after {b} at {tb:.3f} s"
            for (ta, a), (tb, b) in itertools.pairwise(present)
            if ta > tb
        ]
        return wrong, [n for _, n in present]
