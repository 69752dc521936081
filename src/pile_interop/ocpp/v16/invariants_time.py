"""OCPP 1.6 run-wide invariant on a transaction's timestamps (see
:mod:`pile_interop.ocpp.invariants`)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from pile_interop.core.clock import parse_iso
from pile_interop.ocpp.frames import CALLRESULT, OUT
from pile_interop.ocpp.invariants import WARN, Found, Invariant, Seen

#: Seconds a transaction's timestamps may go back (rounding, a clock of 1 s steps).
TIMESTAMP_SLACK_S = 2.0
#: Transactions remembered (a long run stays bounded).
_TX_MEMORY = 256


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None  # not a date-time: the schema check's finding, not this invariant's


class TransactionTimestampsInOrder(Invariant):
    """A transaction's timestamps — StartTransaction, the MeterValues that name it, its
    StopTransaction and transactionData — do not go back, in the order the station sent them,
    until the stop.
    Offsets are honoured (the same instant written +08:00 or Z is the same). A clock the
    Central System sets (a currentTime in a BootNotification or Heartbeat answer) may pull the
    station's stamps back, but not before the time it was given; a transaction whose start was
    stamped ahead of that clock (started offline, its StartTransaction queued) is not judged.
    A small slack covers rounding."""

    id = "INV-16-TX-TIMESTAMPS"
    title = "a transaction's timestamps do not go back (start, meter values, stop, as sent)"
    requirement = (
        "OCPP1.6 §6.45 / §6.31 / §6.49: StartTransaction.timestamp is when the transaction "
        "started, MeterValue.timestamp when the value was sampled, StopTransaction.timestamp "
        "when it stopped"
    )
    severity = WARN

    def __init__(self) -> None:
        #: transactionId → (the latest timestamp of the transaction, the frame that carried it)
        self.last: OrderedDict[int, tuple[datetime, int]] = OrderedDict()
        #: transactionId → its StartTransaction's timestamp and frame
        self.start: OrderedDict[int, tuple[datetime, int]] = OrderedDict()
        #: the currentTime of the last BootNotification answer, and when (monotonic real s)
        self.clock_set: tuple[datetime, float] | None = None

    def observe(self, seen: Seen) -> Iterable[Found]:
        frame = seen.frame
        if frame.direction == OUT and frame.type == CALLRESULT and "currentTime" in seen.payload:
            when = _when(seen.payload.get("currentTime"))
            if when is None:
                return
            # the Central System set the station's clock: what the station stamps from now on
            # may lie before what it stamped so far, but not before the time it was given
            for book in (self.last, self.start):
                for tx, (stamp, seq) in list(book.items()):
                    if stamp > when:
                        book[tx] = (when, seq)
            if seen.action == "BootNotification":  # a Heartbeat's time it need not adopt
                self.clock_set = (when, frame.mono)
            return
        if seen.is_result("StartTransaction") and seen.call is not None:
            tx = seen.payload.get("transactionId")
            start = seen.call.payload if isinstance(seen.call.payload, dict) else {}
            when = _when(start.get("timestamp"))
            if isinstance(tx, int) and when is not None and not self._ahead(when, seen):
                self.last[tx] = self.start[tx] = (when, seen.call.seq)
                for book in (self.last, self.start):
                    while len(book) > _TX_MEMORY:
                        book.popitem(last=False)
            return
        if not seen.from_sut:
            return
        if seen.is_call("MeterValues"):
            yield from self._values(seen.payload.get("transactionId"), seen)
        elif seen.is_call("StopTransaction"):
            tx = seen.payload.get("transactionId")
            yield from self._step(tx, _when(seen.payload.get("timestamp")), seen, "the stop")
            if isinstance(tx, int) and tx in self.start:
                # transactionData is the whole history again: judged from the start on
                self.last[tx] = self.start[tx]
                yield from self._values(tx, seen, key="transactionData")
                # what still names it comes late (queued): its timestamps are not judged
                self.last.pop(tx, None)

    def _ahead(self, when: datetime, seen: Seen) -> bool:
        """Whether ``when`` lies ahead of the clock the last BootNotification answer set (as it
        ran on since): stamped by the station's clock before it was set (a transaction started
        offline, its StartTransaction queued), whose later stamps may well be earlier."""
        if self.clock_set is None:
            return False
        base, mono = self.clock_set
        now = base + timedelta(seconds=(seen.frame.mono - mono) / self.time_scale)
        return (when - now).total_seconds() > TIMESTAMP_SLACK_S

    def _values(self, tx: Any, seen: Seen, key: str = "meterValue") -> Iterator[Found]:
        values = seen.payload.get(key)
        for value in values if isinstance(values, list) else []:
            if isinstance(value, dict):
                yield from self._step(tx, _when(value.get("timestamp")), seen, "a meter value")

    def _step(self, tx: Any, when: datetime | None, seen: Seen, what: str) -> Iterator[Found]:
        last = self.last.get(tx) if isinstance(tx, int) else None
        if last is None or when is None:
            return
        back = (last[0] - when).total_seconds()
        if back > TIMESTAMP_SLACK_S:
            yield Found(
                f"transaction {tx}: {what} is stamped {when.isoformat()}, {back:g} s before "
                f"the transaction's time so far (frame #{last[1]})",
                (last[1],),
            )
        else:
            self.last[tx] = (max(last[0], when), seen.frame.seq)
