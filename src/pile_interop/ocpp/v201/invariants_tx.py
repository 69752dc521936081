"""OCPP 2.0.1 run-wide invariants of transactions: the TransactionEvents a station under test
sends, judged across the whole run (see :mod:`pile_interop.ocpp.invariants`).

Every invariant here follows the TransactionEvents of each ``transactionId`` it sees. What a
real, conforming station may do is not judged: a retransmission (same seqNo, eventType,
triggerReason and timestamp: the CSMS did not answer, or the station queued it offline) is the
same event; an id whose Started the run never saw (a leftover of an earlier run, an offline
Started the suite missed) is followed from its first event on, but its lifecycle is not judged;
a reboot in between ends nothing the station has not ended itself; date-times may carry any
offset (compared as aware datetimes).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pile_interop.core.clock import parse_iso
from pile_interop.ocpp.frames import CALLRESULT, OUT
from pile_interop.ocpp.invariants import CS, WARN, Found, Invariant, Seen

#: Transactions followed at once (the oldest is forgotten first: memory stays bounded).
_TX_MEMORY = 256
#: Protocol seconds a transaction's timestamps may go back (rounding, a clock of 1 s steps).
TIMESTAMP_SLACK_S = 2.0
#: Wh a register reading may be below an earlier one (float rounding of kWh × 1000).
ENERGY_SLACK_WH = 0.001
ENERGY_REGISTER = "Energy.Active.Import.Register"


@dataclass(frozen=True)
class TxEvent:
    """One TransactionEventRequest as the invariants read it."""

    frame: int
    transaction_id: str
    seq_no: int | None
    event_type: str
    trigger: str
    timestamp: datetime | None
    raw_timestamp: str
    evse: int | None
    payload: dict[str, Any] = field(compare=False, hash=False, repr=False)

    @property
    def key(self) -> tuple[Any, ...]:
        """What makes two events the same event (a retransmission may differ elsewhere, e.g.
        in ``offline``)."""
        when = self.timestamp if self.timestamp is not None else self.raw_timestamp
        return (self.seq_no, self.event_type, self.trigger, when)

    def brief(self) -> str:
        return f"{self.event_type}/{self.trigger} seqNo {self.seq_no} at {self.raw_timestamp}"


def _time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return parse_iso(text)
    except ValueError:
        return None


def tx_event(seen: Seen) -> TxEvent | None:
    """The TransactionEventRequest the station under test sent in this frame, if any."""
    if not seen.from_sut or not seen.is_call("TransactionEvent"):
        return None
    payload = seen.payload
    tx_id = (payload.get("transactionInfo") or {}).get("transactionId")
    if not isinstance(tx_id, str):
        return None
    seq_no = payload.get("seqNo")
    evse = (payload.get("evse") or {}).get("id") if isinstance(payload.get("evse"), dict) else None
    raw = payload.get("timestamp")
    return TxEvent(
        seen.frame.seq,
        tx_id,
        seq_no if isinstance(seq_no, int) and not isinstance(seq_no, bool) else None,
        str(payload.get("eventType")),
        str(payload.get("triggerReason")),
        _time(raw),
        str(raw),
        evse if isinstance(evse, int) and not isinstance(evse, bool) else None,
        payload,
    )


class _PerTransaction(Invariant):
    """Base: the events of every transaction seen (bounded), handed to :meth:`judge`."""

    judges = (CS,)

    def __init__(self) -> None:
        self.events: OrderedDict[str, list[TxEvent]] = OrderedDict()

    def observe(self, seen: Seen) -> Iterable[Found]:
        self.other(seen)
        event = tx_event(seen)
        if event is None:
            return ()
        earlier = self.events.setdefault(event.transaction_id, [])
        self.events.move_to_end(event.transaction_id)
        while len(self.events) > _TX_MEMORY:
            self.events.popitem(last=False)
        same = next((e for e in earlier if e.key == event.key), None)
        found = list(self.judge(event, earlier, same))
        if same is None:
            earlier.append(event)
        return found

    def other(self, seen: Seen) -> None:
        """Any frame (before the TransactionEvent logic): state the invariant keeps."""

    def judge(
        self, event: TxEvent, earlier: list[TxEvent], same: TxEvent | None
    ) -> Iterable[Found]:
        """``earlier``: the transaction's distinct events before this one, in arrival order;
        ``same``: the earlier event this one retransmits (None: a new event)."""
        return ()


class SeqNoNeverRepeatedOrDown(_PerTransaction):
    """Each TransactionEvent of a transaction has its own seqNo, and seqNo never goes down."""

    id = "INV-201-SEQNO"
    title = "a transaction's seqNo is never carried by two different events and never goes down"
    requirement = (
        "OCPP 2.0.1 E01.FR.07 / TransactionEventRequest.seqNo: the Charging Station SHALL set "
        "seqNo as specified in Sequence Number Generation (an incremental number per "
        "TransactionEventRequest of the transaction)"
    )

    def judge(
        self, event: TxEvent, earlier: list[TxEvent], same: TxEvent | None
    ) -> Iterable[Found]:
        if same is not None or event.seq_no is None:
            return
        numbered = [e for e in earlier if e.seq_no is not None]
        twin = next((e for e in numbered if e.seq_no == event.seq_no), None)
        if twin is not None:
            yield Found(
                f"transaction {event.transaction_id}: seqNo {event.seq_no} is carried by two "
                f"different events ({twin.brief()} in frame #{twin.frame}, now {event.brief()})",
                (twin.frame,),
            )
            return
        last = max(numbered, key=lambda e: e.seq_no or 0, default=None)
        if last is not None and last.seq_no is not None and event.seq_no < last.seq_no:
            yield Found(
                f"transaction {event.transaction_id}: seqNo goes down from {last.seq_no} "
                f"(frame #{last.frame}) to {event.seq_no} ({event.event_type})",
                (last.frame,),
            )


class SeqNoWithoutGaps(_PerTransaction):
    """A seqNo more than one above the highest so far: a message of the transaction was lost."""

    id = "INV-201-SEQNO-GAP"
    title = "a transaction's seqNo goes up by one: no TransactionEvent is missing"
    requirement = (
        "OCPP 2.0.1 TransactionEventRequest.seqNo: incremental sequence number, which lets the "
        "CSMS determine whether all messages of a transaction have been received"
    )
    severity = WARN

    def judge(
        self, event: TxEvent, earlier: list[TxEvent], same: TxEvent | None
    ) -> Iterable[Found]:
        numbers = [e.seq_no for e in earlier if e.seq_no is not None]
        if same is not None or event.seq_no is None or not numbers:
            return
        top = max(numbers)
        if event.seq_no > top + 1:
            last = next(e for e in reversed(earlier) if e.seq_no == top)
            missing = event.seq_no - top - 1
            yield Found(
                f"transaction {event.transaction_id}: seqNo {event.seq_no} ({event.event_type}) "
                f"follows {top} (frame #{last.frame}): {missing} event(s) missing",
                (last.frame,),
            )


class TransactionLifecycle(_PerTransaction):
    """Started → Updated* → Ended, for every transaction whose Started the run saw."""

    id = "INV-201-TX-LIFECYCLE"
    title = "a transaction is Started once, then Updated, then Ended, and nothing follows its Ended"
    requirement = (
        "OCPP 2.0.1 E01/E06 and TransactionEventRequest.eventType: Started is the first "
        "event of a transaction, Ended the last; a transactionId is unique to one transaction"
    )

    def __init__(self) -> None:
        super().__init__()
        #: transactions whose first event seen was their Started (the only ones judged)
        self.started: set[str] = set()

    def judge(
        self, event: TxEvent, earlier: list[TxEvent], same: TxEvent | None
    ) -> Iterable[Found]:
        tx = event.transaction_id
        if not earlier:
            if event.event_type == "Started":
                self.started.add(tx)
            return
        if same is not None or tx not in self.started:
            return
        ended = next((e for e in earlier if e.event_type == "Ended"), None)
        if ended is not None:
            yield Found(
                f"transaction {tx}: {event.brief()} after its Ended (frame #{ended.frame})",
                (ended.frame,),
            )
        elif event.event_type == "Started":
            first = earlier[0]
            yield Found(
                f"transaction {tx} is Started again ({event.brief()}; Started in frame "
                f"#{first.frame})",
                (first.frame,),
            )


class OneTransactionPerEvse(_PerTransaction):
    """No transaction starts on an EVSE where another one, started since the station last
    booted, has not ended."""

    id = "INV-201-ONE-TX-PER-EVSE"
    title = "at most one transaction is open on an EVSE"
    requirement = (
        "OCPP 2.0.1 Part 2 §E (Transactions): at most one transaction can be active on an EVSE "
        "at any point in time"
    )

    def __init__(self) -> None:
        super().__init__()
        #: evseId → (transactionId, frame of its Started), since the last BootNotification
        self.open: dict[int, tuple[str, int]] = {}

    def other(self, seen: Seen) -> None:
        # a reboot: what was open may be ended by events queued before it; not judged
        if seen.from_sut and seen.is_call("BootNotification"):
            self.open.clear()

    def judge(
        self, event: TxEvent, earlier: list[TxEvent], same: TxEvent | None
    ) -> Iterable[Found]:
        tx = event.transaction_id
        if same is not None:
            return
        if event.event_type == "Ended":
            self.open = {e: v for e, v in self.open.items() if v[0] != tx}
            return
        evse = event.evse
        if evse is None or evse == 0 or any(v[0] == tx for v in self.open.values()):
            return
        if event.event_type == "Started" and not earlier:
            other = self.open.get(evse)
            if other is not None:
                yield Found(
                    f"transaction {tx} Started on EVSE {evse} while transaction {other[0]} "
                    f"(Started in frame #{other[1]}) is not Ended",
                    (other[1],),
                )
            self.open[evse] = (tx, event.frame)
        elif evse not in self.open and any(e.event_type == "Started" for e in earlier):
            self.open[evse] = (tx, earlier[0].frame)  # the EVSE is known only now


def register_reading_wh(sampled: dict[str, Any]) -> float | None:
    """A sampledValue's Energy.Active.Import.Register reading in Wh, or None when it is another
    quantity (measurand absent = that register; phase absent; location absent or Outlet; unit
    Wh or kWh with its multiplier, absent = Wh)."""
    if sampled.get("measurand", ENERGY_REGISTER) != ENERGY_REGISTER:
        return None
    if sampled.get("phase") is not None or sampled.get("location", "Outlet") != "Outlet":
        return None
    unit = sampled.get("unitOfMeasure") or {}
    if not isinstance(unit, dict):
        return None
    name = unit.get("unit", "Wh")
    multiplier = unit.get("multiplier", 0)
    value = sampled.get("value")
    if name not in ("Wh", "kWh") or not isinstance(multiplier, int):
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    return float(value) * (1000.0 if name == "kWh" else 1.0) * 10.0**multiplier


def highest_register_wh(payload: dict[str, Any]) -> float | None:
    """The highest Energy.Active.Import.Register reading of a TransactionEvent."""
    readings = [
        reading
        for meter_value in payload.get("meterValue") or []
        if isinstance(meter_value, dict)
        for sampled in meter_value.get("sampledValue") or []
        if isinstance(sampled, dict)
        for reading in [register_reading_wh(sampled)]
        if reading is not None
    ]
    return max(readings, default=None)


class MeterRegisterNeverDecreases(_PerTransaction):
    """The energy register a transaction's events report never goes down.

    Each event is read by its highest register reading: an Ended event may carry older samples
    (TxEndedInterval) next to its final reading, and those are not compared; a station whose
    register goes back (a reset meter, session energy sent as the register) is caught."""

    id = "INV-201-METER-MONOTONIC"
    title = "the Energy.Active.Import.Register readings of a transaction never decrease"
    requirement = (
        "OCPP 2.0.1 MeasurandEnumType Energy.Active.Import.Register: the value read from the "
        "meter's active energy import register, which counts up (a transaction's readings "
        "of it never decrease)"
    )

    def __init__(self) -> None:
        super().__init__()
        #: transactionId → (highest reading so far in Wh, its frame)
        self.high: dict[str, tuple[float, int]] = {}

    def judge(
        self, event: TxEvent, earlier: list[TxEvent], same: TxEvent | None
    ) -> Iterable[Found]:
        if same is not None:
            return
        reading = highest_register_wh(event.payload)
        if reading is None:
            return
        tx = event.transaction_id
        high = self.high.get(tx)
        if high is not None and reading < high[0] - ENERGY_SLACK_WH:
            yield Found(
                f"transaction {tx}: {event.event_type} reports the register at {reading:g} Wh, "
                f"below the {high[0]:g} Wh of frame #{high[1]}",
                (high[1],),
            )
            return
        if high is None or reading > high[0]:
            self.high[tx] = (reading, event.frame)
        while len(self.high) > _TX_MEMORY:
            self.high.pop(next(iter(self.high)))


class TimestampsDoNotGoBack(_PerTransaction):
    """A transaction's events, in seqNo order, do not go back in time by more than a slack.

    A clock set by the CSMS (a currentTime in a BootNotification or Heartbeat answer, a
    SetVariables of ClockCtrlr) may move the station's clock back: events after it are not
    compared with events before it."""

    id = "INV-201-TX-TIMESTAMPS"
    title = "a transaction's event timestamps do not go backwards (in seqNo order)"
    requirement = (
        "OCPP 2.0.1 TransactionEventRequest.timestamp: the date and time at which this "
        "transaction event occurred"
    )
    severity = WARN

    def __init__(self) -> None:
        super().__init__()
        #: transactionId → (seqNo, timestamp, frame) of its latest event since the last clock set
        self.last: dict[str, tuple[int, datetime, int]] = {}

    def other(self, seen: Seen) -> None:
        frame = seen.frame
        if frame.direction != OUT:
            return
        answer_with_time = frame.type == CALLRESULT and "currentTime" in seen.payload
        sets_clock = seen.is_call("SetVariables") and "ClockCtrlr" in frame.raw
        if answer_with_time or sets_clock:
            self.last.clear()

    def judge(
        self, event: TxEvent, earlier: list[TxEvent], same: TxEvent | None
    ) -> Iterable[Found]:
        if same is not None or event.seq_no is None or event.timestamp is None:
            return
        tx = event.transaction_id
        last = self.last.get(tx)
        if last is not None and event.seq_no <= last[0]:
            return  # out of order: INV-201-SEQNO's to judge
        if last is not None:
            back = (last[1] - event.timestamp).total_seconds()
            if back > TIMESTAMP_SLACK_S:
                yield Found(
                    f"transaction {tx}: {event.brief()} is {back:g} s earlier than seqNo "
                    f"{last[0]} (frame #{last[2]})",
                    (last[2],),
                )
        self.last[tx] = (event.seq_no, event.timestamp, event.frame)
        while len(self.last) > _TX_MEMORY:
            self.last.pop(next(iter(self.last)))


#: The transaction invariants, in the order the report lists them.
TX_INVARIANTS: list[type[Invariant]] = [
    SeqNoNeverRepeatedOrDown,
    SeqNoWithoutGaps,
    TransactionLifecycle,
    OneTransactionPerEvse,
    MeterRegisterNeverDecreases,
    TimestampsDoNotGoBack,
]
