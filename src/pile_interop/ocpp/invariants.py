"""Run-wide protocol invariants: checks on every frame of every case, not only where a case asks.

An :class:`Invariant` watches the whole conversation of a run (both directions, across
reconnects and cases) and judges the frames of one side, the SUT's. Each one cites its
requirement and has a severity: ``fail`` (a MUST / SHALL: the frame gets a *finding*, so the
case it was seen in fails naming the invariant and the frames) or ``warn`` (a SHOULD a real
device may break harmlessly: the frame gets a *warning*, a passing case becomes ``warn``).

The :class:`InvariantMonitor` of a campaign observes the session's frame log
(:attr:`pile_interop.core.frames.FrameLog.observers`), pairs each answer with the CALL it
answers, hands every frame to the invariants that judge the SUT's side, and keeps every
violation of the run with the case it was seen in (the report lists them). Invariants that need
the whole run (a transaction that spans a reboot) are judged by :meth:`InvariantMonitor.finish`.

The version-neutral invariants are here (:data:`SHARED`); each version package lists its own in
its ``invariants`` module, which its dialect names.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pile_interop.core.frames import INVARIANT_PREFIX
from pile_interop.ocpp.frames import CALL, CALLERROR, CALLRESULT, EVENT, IN, OUT, Frame

FAIL, WARN = "fail", "warn"
#: The SUT roles: a charging station, a CSMS.
CS, CSMS = "cs", "csms"
#: CALLs remembered to pair answers with (a flood of unanswered CALLs stays bounded).
_CALL_MEMORY = 1024


@dataclass(frozen=True)
class Found:
    """What an invariant found on a frame: a sentence and the other frames it concerns."""

    text: str
    frames: tuple[int, ...] = ()


@dataclass
class Seen:
    """A frame as the invariants see it: who sent it, and for an answer the CALL it answers."""

    frame: Frame
    #: the SUT sent it (the frame came in)
    from_sut: bool
    #: for a CALLRESULT / CALLERROR: the CALL it answers (None: unknown)
    call: Frame | None = None
    #: a connection opened ("connected: …") / closed
    opened: bool = False
    closed: bool = False

    @property
    def action(self) -> str | None:
        """The CALL's action, for a CALL and for an answer whose CALL is known."""
        if self.frame.type == CALL:
            return self.frame.action
        return self.call.action if self.call is not None else self.frame.action

    @property
    def payload(self) -> Any:
        return self.frame.payload if isinstance(self.frame.payload, dict) else {}

    def is_call(self, action: str) -> bool:
        return self.frame.type == CALL and self.frame.action == action

    def is_result(self, action: str) -> bool:
        return self.frame.type == CALLRESULT and self.action == action


class Invariant:
    """One run-wide check. Subclasses set the class attributes and override :meth:`observe`
    (and :meth:`finish` when they judge at the end of the run). A fresh instance per run."""

    #: short stable id, named in every finding (``INV-16-METER-MONOTONIC``)
    id: ClassVar[str]
    #: what holds, in one line
    title: ClassVar[str]
    #: the requirement cited
    requirement: ClassVar[str]
    severity: ClassVar[str] = FAIL
    #: the SUT roles whose frames it judges (``cs`` / ``csms``)
    judges: ClassVar[tuple[str, ...]] = (CS,)
    #: the run's time scale (real seconds per protocol second, ``Target.time_scale``): a
    #: protocol interval of N s lasts N × time_scale real seconds (set by the monitor)
    time_scale: float = 1.0

    def observe(self, seen: Seen) -> Iterable[Found]:
        return ()

    def finish(self) -> Iterable[Found]:
        """Violations only the whole run shows (judged once, when the run ends)."""
        return ()

    @classmethod
    def describe(cls) -> dict[str, str]:
        return {
            "id": cls.id,
            "title": cls.title,
            "requirement": cls.requirement,
            "severity": cls.severity,
        }


@dataclass
class Violation:
    invariant: str
    requirement: str
    severity: str
    text: str
    #: the frame it was seen on and the frames it concerns (sequence numbers)
    frames: tuple[int, ...]
    #: the case it was seen in ("" before the first case or at the end of the run)
    case: str = ""
    time: str = ""
    #: judged when the run ended (only the whole run shows it: it counts against the run)
    at_end: bool = False

    def sentence(self) -> str:
        return f"{INVARIANT_PREFIX}{self.invariant}: {self.text} ({self.requirement})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "invariant": self.invariant,
            "requirement": self.requirement,
            "severity": self.severity,
            "text": self.text,
            "frames": list(self.frames),
            "case": self.case,
            "time": self.time,
            **({"at_end": True} if self.at_end else {}),
        }


@dataclass
class InvariantMonitor:
    """The invariants of one run, fed every frame of the campaign's session."""

    invariants: list[Invariant]
    #: the role of the SUT (``cs``: the frames that come in are a station's)
    sut: str
    #: the case running now ("" between cases)
    case_of: Callable[[], str] = lambda: ""
    violations: list[Violation] = field(default_factory=list)
    _calls: OrderedDict[tuple[str, str], Frame] = field(default_factory=OrderedDict)
    _finished: bool = False

    @classmethod
    def for_run(
        cls,
        factories: Iterable[Callable[[], Invariant]],
        sut: str,
        case_of: Callable[[], str] = lambda: "",
        time_scale: float = 1.0,
    ) -> InvariantMonitor:
        """The monitor of a run whose SUT is ``sut``: one fresh instance of each invariant
        that judges that role."""
        chosen = [make() for make in factories]
        for invariant in chosen:
            invariant.time_scale = time_scale
        return cls([i for i in chosen if sut in i.judges], sut, case_of)

    def observe(self, frame: Frame) -> None:
        seen = self._seen(frame)
        for invariant in self.invariants:
            for found in invariant.observe(seen):
                self._record(invariant, found, frame)

    def _seen(self, frame: Frame) -> Seen:
        if frame.type == EVENT:
            text = frame.raw
            return Seen(
                frame,
                from_sut=False,
                opened=text.startswith("connected:"),
                closed=text.startswith("connection closed"),
            )
        seen = Seen(frame, from_sut=frame.direction == IN)
        if frame.unique_id is None:
            return seen
        if frame.type == CALL:
            self._calls[(frame.direction, frame.unique_id)] = frame
            while len(self._calls) > _CALL_MEMORY:
                self._calls.popitem(last=False)
        elif frame.type in (CALLRESULT, CALLERROR):
            other = OUT if frame.direction == IN else IN
            seen.call = self._calls.pop((other, frame.unique_id), None)
        return seen

    def _record(self, invariant: Invariant, found: Found, frame: Frame | None) -> None:
        seqs = tuple(dict.fromkeys(([frame.seq] if frame is not None else []) + list(found.frames)))
        violation = Violation(
            invariant.id,
            invariant.requirement,
            invariant.severity,
            found.text,
            seqs,
            self.case_of(),
            frame.wall if frame is not None else "",
        )
        self.violations.append(violation)
        if frame is None:
            return
        others = [s for s in seqs if s != frame.seq]
        text = violation.sentence() + (
            f" [frames {', '.join(f'#{s}' for s in others)}]" if others else ""
        )
        (frame.findings if invariant.severity == FAIL else frame.warnings).append(text)

    def finish(self) -> list[Violation]:
        """Judge what needs the whole run (once); returns the violations found now."""
        if self._finished:
            return []
        self._finished = True
        before = len(self.violations)
        for invariant in self.invariants:
            for found in invariant.finish():
                self._record(invariant, found, None)
        for violation in self.violations[before:]:
            violation.case, violation.at_end = "", True
        return self.violations[before:]

    def summary(self) -> dict[str, Any]:
        """What the report lists: the invariants checked and every violation of the run."""
        return {
            "checked": [i.describe() for i in self.invariants],
            "violations": [v.to_dict() for v in self.violations],
        }


class CallIdsNotReused(Invariant):
    """A CALL's message id is new: reusing the id of an earlier, different CALL makes every
    answer ambiguous. A retransmission (same action and payload) is no violation, and ids are
    compared within one connection (2.0.1 asks more: any connection of the identity)."""

    id = "INV-J-CALL-ID-UNIQUE"
    title = "the SUT never reuses the message id of an earlier, different CALL"
    requirement = (
        "OCPP-J §4.1.3: a message ID for a CALL MUST be different from all message IDs "
        "previously used by the same sender for CALL messages"
    )
    judges = (CS, CSMS)

    def __init__(self) -> None:
        self._ids: OrderedDict[str, Frame] = OrderedDict()

    def observe(self, seen: Seen) -> Iterable[Found]:
        if seen.opened:
            self._ids.clear()
        frame = seen.frame
        if not seen.from_sut or frame.type != CALL or frame.unique_id is None:
            return
        earlier = self._ids.get(frame.unique_id)
        self._ids[frame.unique_id] = frame
        while len(self._ids) > _CALL_MEMORY:
            self._ids.popitem(last=False)
        if earlier is None or (earlier.action, earlier.payload) == (frame.action, frame.payload):
            return
        yield Found(
            f"{frame.action} reuses message id {frame.unique_id!r} of the {earlier.action} "
            f"of frame #{earlier.seq} on this connection",
            (earlier.seq,),
        )


#: The version-neutral invariants (each version's ``invariants`` module adds its own).
SHARED: list[type[Invariant]] = [CallIdsNotReused]
