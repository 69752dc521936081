"""What a recording held, gathered as it streams by: the memory it takes is bounded by the
number of message types, never by the length of the recording.

:class:`LogJudge` is a :class:`FrameDecoder` whose hooks keep, per message type, the count,
the interval statistics (mean, p95 from a 0.1 ms histogram, max), the bursts the period check
judges, and the findings on the SUT's messages (each kind once, with a count); per side the
cause-and-effect rules of :mod:`.logrules`; for the whole recording its time span and time
resolution, the transfers, the issues, and the frames that are not part of the conversation.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pile_interop.gbt27930 import codec
from pile_interop.gbt27930.capture import DecodedMessage, FrameDecoder, LogIssue, Transfer
from pile_interop.gbt27930.conformance import message_findings
from pile_interop.gbt27930.ids import BMS_ADDRESS, CHARGER_ADDRESS, PGN_TP_CM, PGN_TP_DT
from pile_interop.gbt27930.layout import MESSAGES
from pile_interop.gbt27930.logframe import LogFrame
from pile_interop.gbt27930.logperiod import burst_verdict
from pile_interop.gbt27930.logrules import RuleBook

#: A gap over this many periods ends a burst (the message stopped and started again).
BURST_GAP = 4.0
#: Bursts kept per message type until the end (the rest judged at once).
MAX_BURSTS = 1_000
#: Examples kept of each list the report shows.
EXAMPLES = 5
#: Distinct finding kinds kept per message type; distinct foreign identifiers kept.
MAX_KINDS = 64
#: J1939-21 T3: the longest a sender waits for the CTS after its RTS (seconds).
RTS_ANSWER = 1.25
#: Without time stamps: frames of the SUT after an RTS that show it ignored the RTS.
UNTIMED_ANSWER = 50

ADDRESS = {"charger": CHARGER_ADDRESS, "bms": BMS_ADDRESS}
_PAIRS = {(CHARGER_ADDRESS, BMS_ADDRESS), (BMS_ADDRESS, CHARGER_ADDRESS)}


@dataclass
class Burst:
    first: float
    last: float
    count: int


@dataclass
class MessageStats:
    """One message type of the recording (both sides' messages are counted)."""

    name: str
    period: float
    """Seconds (0 for a message without a period)."""
    count: int = 0
    short: int = 0
    first_t: float = math.nan
    last_t: float = math.nan
    intervals: Counter[int] = field(default_factory=Counter)
    """Intervals inside bursts, in 0.1 ms units."""
    interval_sum: float = 0.0
    interval_max: float = 0.0
    bursts: list[Burst] = field(default_factory=list)
    open_burst: Burst | None = None
    early: list[tuple[bool, str]] = field(default_factory=list)
    """Bursts judged before the end (beyond :data:`MAX_BURSTS`): (ok, text), a few of each."""
    early_more: Counter[bool] = field(default_factory=Counter)
    """How many more bursts were judged early, passed (True) and failed (False)."""
    findings: dict[str, list[Any]] = field(default_factory=dict)
    """Finding kind → [count, first example]."""

    def add_time(self, t: float) -> None:
        self.count += 1
        if math.isnan(t):
            return
        if math.isnan(self.first_t):
            self.first_t = t
        previous, self.last_t = self.last_t, t
        if not self.period:
            return
        burst = self.open_burst
        if burst is None or t - burst.last > BURST_GAP * self.period or t < burst.last:
            self._close()
            self.open_burst = Burst(t, t, 1)
            return
        if burst.count == 1 and t == burst.first:
            return  # an analyser's leading equal time stamps: left out
        gap = t - previous
        self.intervals[round(gap * 10_000)] += 1
        self.interval_sum += gap
        self.interval_max = max(self.interval_max, gap)
        burst.last = t
        burst.count += 1

    def _close(self) -> None:
        if self.open_burst is not None and self.open_burst.count >= 3:
            self.bursts.append(self.open_burst)
        self.open_burst = None

    def finish(self) -> None:
        self._close()

    def add_finding(self, text: str) -> None:
        kind = text.split(" = ")[0] if " = " in text else text
        entry = self.findings.get(kind)
        if entry is not None:
            entry[0] += 1
        elif len(self.findings) < MAX_KINDS:
            self.findings[kind] = [1, text]

    @property
    def interval_count(self) -> int:
        return sum(self.intervals.values())

    def mean(self) -> float | None:
        n = self.interval_count
        return self.interval_sum / n if n else None

    def p95(self) -> float | None:
        n = self.interval_count
        if not n:
            return None
        rank, seen = math.ceil(0.95 * n), 0
        for tenth_ms in sorted(self.intervals):
            seen += self.intervals[tenth_ms]
            if seen >= rank:
                return tenth_ms / 10_000
        return None  # pragma: no cover - the loop always reaches the rank

    def finding_texts(self) -> list[str]:
        return [
            example + (f" (× {count})" if count > 1 else "")
            for count, example in self.findings.values()
        ]


class LogJudge(FrameDecoder):
    """Streams a recording through the decoder and keeps what the checks judge."""

    def __init__(self, sut: str, variant: str = "2015") -> None:
        super().__init__(variant)
        self.sut = sut
        self.address = ADDRESS[sut]
        self.pgns = {info.pgn: info for info in codec.messages(self.variant)}
        self.pgns_by_name = {info.name: info for info in self.pgns.values()}
        self.order = {m.name: i for i, m in enumerate(MESSAGES[self.variant])}
        """The standard's order of the messages (the report's rows)."""
        self.stats: dict[str, MessageStats] = {}
        self.frames = 0
        self.understood = 0
        self.first_t = math.nan
        self.last_t = math.nan
        self.untimed = 0
        self.resolution = math.inf
        self._previous_t = math.nan
        self.issues: list[LogIssue] = []
        self.issue_count = 0
        self.foreign: Counter[str] = Counter()
        self.foreign_count = 0
        self.transfer_states: Counter[str] = Counter()
        self.sut_transfers = 0
        self.broken: list[str] = []
        self.broken_count = 0
        self.unanswered: list[str] = []
        self.unanswered_count = 0
        self.unacknowledged: list[str] = []
        self.unacknowledged_count = 0
        self._waiting: list[Transfer] = []
        """RTSs sent to the SUT and not answered yet: ignored if the SUT goes on sending
        past T3, not judged if it sent nothing more (it had left the bus)."""
        self.quiet: list[str] = []
        self.rules = RuleBook(sut, self.variant)
        self._findings: dict[tuple[Any, ...], list[str]] = {}
        """Findings of payloads judged lately (periodic messages repeat theirs)."""

    # -- frames ---------------------------------------------------------------------------

    def take(self, frame: LogFrame) -> None:
        """One frame of the recording, in order."""
        self.frames += 1
        self._time(frame.t)
        why = self._foreign(frame)
        if why:
            self.foreign_count += 1
            key = f"{frame.can_id:08X} ({why})" if frame.extended else f"{frame.can_id:03X} ({why})"
            if key in self.foreign or len(self.foreign) < MAX_KINDS:
                self.foreign[key] += 1
            return
        self.feed(frame)
        if frame.src == self.address and self._waiting:
            self._ignored(frame)

    def _time(self, t: float) -> None:
        if math.isnan(t):
            self.untimed += 1
            return
        if math.isnan(self.first_t):
            self.first_t = t
        if not math.isnan(self._previous_t) and t > self._previous_t:
            self.resolution = min(self.resolution, t - self._previous_t)
        self._previous_t = t
        self.last_t = t if math.isnan(self.last_t) else max(self.last_t, t)

    def _foreign(self, frame: LogFrame) -> str:
        """Why ``frame`` is not part of the charger ↔ BMS conversation ('' if it is)."""
        if not frame.extended:
            return "11-bit identifier"
        if (frame.src, frame.dst) not in _PAIRS:
            return f"from {frame.src:#04x} to {frame.dst:#04x}"
        if frame.pgn not in self.pgns and frame.pgn not in (PGN_TP_CM, PGN_TP_DT):
            return f"PGN {frame.pgn:#06x} is not a GB/T 27930 message"
        return ""

    # -- decoder hooks ----------------------------------------------------------------------

    def on_understood(self, frame: LogFrame) -> None:
        self.understood += 1

    def on_issue(self, issue: LogIssue) -> None:
        self.issue_count += 1
        if len(self.issues) < EXAMPLES:
            self.issues.append(issue)

    def on_message(self, message: DecodedMessage, frame: LogFrame) -> None:
        info = self.pgns[message.pgn]
        stats = self.stats.get(info.name)
        if stats is None:
            stats = self.stats[info.name] = MessageStats(info.name, info.period_ms / 1000)
        if message.src == self.address:
            key = (message.pgn, message.data, frame.can_id, message.multi_packet, message.dst)
            found = self._findings.get(key)
            if found is None:
                if len(self._findings) >= MAX_KINDS * 64:
                    self._findings.clear()
                found = self._findings[key] = message_findings(message, [frame], self.variant)
            for text in found:
                stats.add_finding(text)
        if message.short:
            stats.short += 1
        if message.src == info.src:
            stats.add_time(message.t)
            if len(stats.bursts) > MAX_BURSTS:
                self._judge_early(stats)
        self.rules.message(message, frame)

    def on_transfer(self, transfer: Transfer) -> None:
        if transfer.dst == self.address:
            self._waiting.append(transfer)
            if len(self._waiting) > MAX_KINDS:
                self._settle(self._waiting.pop(0), None)

    def on_transfer_closed(self, transfer: Transfer) -> None:
        state = transfer.state
        self.transfer_states[state] += 1
        text = f"{self._name(transfer.pgn)} at frame {transfer.rts}: {state}"
        if transfer.src == self.address:
            self.sut_transfers += 1
            by_sender = transfer.abort is None or transfer.abort_src == transfer.src
            if transfer.cts and not transfer.complete and by_sender:
                self.broken_count += 1
                if len(self.broken) < EXAMPLES:
                    self.broken.append(text)
        elif (
            transfer.dst == self.address
            and transfer.cts
            and transfer.complete
            and not transfer.acknowledged
            and transfer.abort is None
        ):
            self.unacknowledged_count += 1
            if len(self.unacknowledged) < EXAMPLES:
                self.unacknowledged.append(text)

    def _answered(self, transfer: Transfer) -> bool:
        return bool(transfer.cts) or transfer.abort_src == self.address

    def _ignored(self, frame: LogFrame) -> None:
        """The SUT speaks: an RTS to it that it has not answered within T3 was ignored."""
        still = []
        for transfer in self._waiting:
            if self._answered(transfer):
                continue
            late = (
                frame.t - transfer.t > RTS_ANSWER
                if not (math.isnan(frame.t) or math.isnan(transfer.t))
                else frame.index - transfer.rts > UNTIMED_ANSWER
            )
            if late:
                self._settle(transfer, frame)
            else:
                still.append(transfer)
        self._waiting = still

    def _settle(self, transfer: Transfer, frame: LogFrame | None) -> None:
        if self._answered(transfer):
            return
        if frame is None:
            self.quiet.append(
                f"{self._name(transfer.pgn)} RTS at frame {transfer.rts} not answered: the "
                "SUT sent nothing after it"
            )
            del self.quiet[EXAMPLES:]
            return
        self.unanswered_count += 1
        if len(self.unanswered) < EXAMPLES:
            self.unanswered.append(
                f"{self._name(transfer.pgn)} RTS at frame {transfer.rts} never answered, "
                f"though the SUT went on sending (frame {frame.index})"
            )

    def finish(self) -> None:
        super().finish()
        for transfer in self._waiting:
            self._settle(transfer, None)
        self._waiting = []
        for stats in self.stats.values():
            stats.finish()
        self.rules.finish(self.last_t)

    def _judge_early(self, stats: MessageStats) -> None:
        step = 0.0 if math.isinf(self.resolution) else self.resolution
        for burst in stats.bursts[:-1]:
            ok, text = burst_verdict(burst, stats.period, step)
            kept = sum(1 for good, _ in stats.early if good == ok)
            if kept < EXAMPLES:
                stats.early.append((ok, text))
            else:
                stats.early_more[ok] += 1
        stats.bursts = stats.bursts[-1:]

    def _name(self, pgn: int) -> str:
        info = self.pgns.get(pgn)
        return info.name if info else f"PGN {pgn:#06x}"

    # -- the recording's time -----------------------------------------------------------------

    @property
    def timed(self) -> bool:
        """Whether the time stamps can judge periods (present on every frame, not all equal)."""
        return (
            self.untimed == 0
            and not math.isnan(self.first_t)
            and self.last_t > self.first_t
            and not math.isinf(self.resolution)
        )

    def untimed_reason(self) -> str:
        if self.untimed:
            return f"{self.untimed} of {self.frames} frames have no time stamp"
        return "every frame has the same time stamp"

    def span(self) -> str:
        if not self.timed:
            return f"no usable time stamps ({self.untimed_reason()})"
        return (
            f"{self.last_t - self.first_t:.3f} s ({self.first_t:.3f} … {self.last_t:.3f}), "
            f"time resolution {self.resolution * 1000:g} ms"
        )
