"""OCPP 1.6 run-wide invariants of transactions: the ids a station uses, its meter readings,
the ids a CSMS assigns, and the transactions a reboot leaves open (see
:mod:`pile_interop.ocpp.invariants`).

Every invariant here keeps its own :class:`TxBook`: the transactions of this run, each from the
StartTransaction CALL (connectorId, meterStart) and the CALLRESULT that answers it
(transactionId), whichever side sent them. A transactionId the book does not know was never
assigned in this run (a leftover of an earlier run, or a mistake some case checks itself): it
is not judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pile_interop.ocpp.frames import CALL
from pile_interop.ocpp.invariants import CS, CSMS, WARN, Found, Invariant, Seen

#: The register the meter invariants follow (1.6 §7.31: the default measurand).
ENERGY_REGISTER = "Energy.Active.Import.Register"


@dataclass
class Tx:
    """A transaction of this run, as the wire showed it."""

    id: int
    connector: int | None
    meter_start: int | None
    #: the StartTransaction CALLRESULT that assigned the id
    start_seq: int
    #: the first StopTransaction CALL naming it (None: still open)
    stop_seq: int | None = None
    stop_payload: dict[str, Any] | None = None
    #: the StartTransaction request it answered (a retransmission carries the same)
    request: dict[str, Any] = field(default_factory=dict)
    #: that StopTransaction was answered with a CALLRESULT
    stop_answered: bool = False

    @property
    def open(self) -> bool:
        return self.stop_seq is None


@dataclass
class TxBook:
    """The transactions of the run: assigned ids, the connector each runs on, which ended."""

    txs: dict[int, Tx] = field(default_factory=dict)
    #: connectorId → the id last assigned on it
    current: dict[int, int] = field(default_factory=dict)

    def observe(self, seen: Seen) -> Tx | None:
        """Learn from a frame; for a StartTransaction CALLRESULT, the transaction it
        assigned."""
        frame = seen.frame
        if seen.is_result("StartTransaction") and seen.call is not None:
            tx_id = seen.payload.get("transactionId")
            if not _is_int(tx_id):
                return None
            request = seen.call.payload if isinstance(seen.call.payload, dict) else {}
            connector = request.get("connectorId")
            meter = request.get("meterStart")
            tx = Tx(
                tx_id,
                connector if _is_int(connector) else None,
                meter if _is_int(meter) else None,
                frame.seq,
                request=dict(request),
            )
            self.txs[tx_id] = tx
            if tx.connector is not None:
                self.current[tx.connector] = tx_id
            return tx
        if seen.is_call("StopTransaction"):
            stopped = self.get(seen.payload.get("transactionId"))
            if stopped is not None and stopped.open:
                stopped.stop_seq, stopped.stop_payload = frame.seq, dict(seen.payload)
        elif seen.is_result("StopTransaction") and seen.call is not None:
            request = seen.call.payload if isinstance(seen.call.payload, dict) else {}
            answered = self.get(request.get("transactionId"))
            if answered is not None and answered.stop_seq == seen.call.seq:
                answered.stop_answered = True
        return None

    def get(self, tx_id: Any) -> Tx | None:
        return self.txs.get(tx_id) if _is_int(tx_id) else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _BookKeeping(Invariant):
    """An invariant that keeps a :class:`TxBook` (updated after its own judgement)."""

    def __init__(self) -> None:
        self.book = TxBook()

    def observe(self, seen: Seen) -> Iterable[Found]:
        found = list(self.judge(seen))
        self.book.observe(seen)
        return found

    def judge(self, seen: Seen) -> Iterable[Found]:
        return ()


class TransactionIdsKnown(_BookKeeping):
    """MeterValues and StopTransaction name a transaction that is (or just was) open on that
    connector. Ids never assigned in this run are not judged; a StopTransaction sent again
    with the same content (a retransmission) is no violation."""

    id = "INV-16-TX-ID"
    title = "MeterValues / StopTransaction name the connector's open (or just ended) transaction"
    requirement = (
        "OCPP1.6 §4.7 / §4.10: MeterValues.req transactionId and StopTransaction.req "
        "transactionId are the transactionId of that transaction's StartTransaction.conf"
    )

    def judge(self, seen: Seen) -> Iterable[Found]:
        if not seen.from_sut:
            return
        if seen.is_call("MeterValues"):
            yield from self._meter_values(seen)
        elif seen.is_call("StopTransaction"):
            yield from self._stop(seen)

    def _meter_values(self, seen: Seen) -> Iterator[Found]:
        tx = self.book.get(seen.payload.get("transactionId"))
        connector = seen.payload.get("connectorId")
        if tx is None or not _is_int(connector) or connector == 0 or tx.connector is None:
            return
        if tx.connector != connector:
            yield Found(
                f"MeterValues for connector {connector} carry transactionId {tx.id}, the "
                f"transaction started on connector {tx.connector}",
                (tx.start_seq,),
            )
            return
        current = self.book.get(self.book.current.get(connector))
        if current is not None and current.id != tx.id and current.open:
            yield Found(
                f"MeterValues for connector {connector} carry transactionId {tx.id} while "
                f"transaction {current.id} is open there",
                (tx.start_seq, current.start_seq),
            )

    def _stop(self, seen: Seen) -> Iterator[Found]:
        tx = self.book.get(seen.payload.get("transactionId"))
        if tx is None or tx.open or not tx.stop_answered:
            return
        if tx.stop_payload == seen.payload:
            return  # a retransmission (its answer may have been lost)
        assert tx.stop_seq is not None
        yield Found(
            f"StopTransaction for transaction {tx.id}, which was already stopped and answered",
            (tx.stop_seq,),
        )


class MeterStopNotBelowStart(_BookKeeping):
    """StopTransaction.meterStop is not below the transaction's meterStart."""

    id = "INV-16-METER-STOP"
    title = "StopTransaction.meterStop >= the transaction's meterStart"
    requirement = (
        "OCPP1.6 §6.45 / §6.49: meterStart and meterStop are the connector's energy meter "
        "(Wh) at the start and at the end of the transaction"
    )

    def judge(self, seen: Seen) -> Iterable[Found]:
        if not (seen.from_sut and seen.is_call("StopTransaction")):
            return
        tx = self.book.get(seen.payload.get("transactionId"))
        stop = seen.payload.get("meterStop")
        if tx is None or not tx.open or tx.meter_start is None or not _is_int(stop):
            return
        if stop < tx.meter_start:
            yield Found(
                f"StopTransaction for transaction {tx.id}: meterStop {stop} Wh < its "
                f"meterStart {tx.meter_start} Wh",
                (tx.start_seq,),
            )


@dataclass(frozen=True)
class Reading:
    """One reading of the energy register, in Wh, with its resolution (the last digit)."""

    wh: Decimal
    resolution: Decimal


def energy_readings(meter_values: Any) -> Iterator[Reading]:
    """The Energy.Active.Import.Register readings (whole register: no phase; at the outlet)
    of a list of MeterValue, in list order. Defaults (1.6 §7.31 SampledValue): measurand
    that register, unit Wh, location Outlet; values are strings."""
    if not isinstance(meter_values, list):
        return
    for entry in meter_values:
        sampled = entry.get("sampledValue") if isinstance(entry, dict) else None
        for value in sampled if isinstance(sampled, list) else []:
            if not isinstance(value, dict):
                continue
            if value.get("measurand", ENERGY_REGISTER) != ENERGY_REGISTER:
                continue
            if "phase" in value or value.get("location", "Outlet") != "Outlet":
                continue
            factor = {"Wh": Decimal(1), "kWh": Decimal(1000)}.get(value.get("unit", "Wh"))
            if factor is None or not isinstance(value.get("value"), str):
                continue
            try:
                number = Decimal(value["value"].strip())
            except InvalidOperation:
                continue
            if not number.is_finite():
                continue
            exponent = number.as_tuple().exponent
            step = Decimal(1).scaleb(exponent) if isinstance(exponent, int) else Decimal(1)
            yield Reading(number * factor, step * factor)


class MeterRegisterMonotonic(_BookKeeping):
    """Within a transaction the energy register never goes down and never reads below
    meterStart: the MeterValues carrying its transactionId in the order they were sent, and
    StopTransaction.transactionData in its own order. A reading rounded to fewer digits (kWh
    with two decimals against a meterStart in Wh) is compared within its resolution."""

    id = "INV-16-METER-MONOTONIC"
    title = "the energy register never decreases within a transaction and is >= meterStart"
    requirement = (
        "OCPP1.6 §7.31 / §9.1.17: Energy.Active.Import.Register is a register: within a "
        "transaction its readings (MeterValues.req, StopTransaction.req transactionData) "
        "never go below the transaction's meterStart or an earlier reading"
    )

    def __init__(self) -> None:
        super().__init__()
        #: transactionId → the last MeterValues reading and the frame it came in
        self._last: dict[int, tuple[Reading, int]] = {}

    def judge(self, seen: Seen) -> Iterable[Found]:
        if not seen.from_sut:
            return
        if seen.is_call("MeterValues"):
            tx = self.book.get(seen.payload.get("transactionId"))
            if tx is not None:
                yield from self._check(tx, seen, seen.payload.get("meterValue"), keep=True)
        elif seen.is_call("StopTransaction"):
            tx = self.book.get(seen.payload.get("transactionId"))
            if tx is not None and tx.open:
                yield from self._check(tx, seen, seen.payload.get("transactionData"), keep=False)

    def _check(self, tx: Tx, seen: Seen, values: Any, *, keep: bool) -> Iterator[Found]:
        where = "MeterValues" if keep else "StopTransaction transactionData"
        previous = self._last.get(tx.id) if keep else None
        for reading in energy_readings(values):
            if tx.meter_start is not None and reading.wh + reading.resolution <= tx.meter_start:
                yield Found(
                    f"{where} of transaction {tx.id}: the energy register reads "
                    f"{_wh(reading.wh)} Wh, below its meterStart {tx.meter_start} Wh",
                    (tx.start_seq,),
                )
                return
            if previous is not None:
                before, seq = previous
                if reading.wh + max(reading.resolution, before.resolution) <= before.wh:
                    yield Found(
                        f"{where} of transaction {tx.id}: the energy register went down "
                        f"from {_wh(before.wh)} Wh to {_wh(reading.wh)} Wh",
                        (seq,) if seq != seen.frame.seq else (),
                    )
                    return
            previous = (reading, seen.frame.seq)
        if keep and previous is not None:
            self._last[tx.id] = previous


def _wh(value: Decimal) -> str:
    return format(value.normalize(), "f")


class CsmsTransactionIdsUnique(_BookKeeping):
    """The CSMS never assigns the id of a transaction that is still open; reusing the id of
    an ended one is legal but makes the two hard to tell apart (a warning, see
    :class:`CsmsTransactionIdsNotReused`)."""

    id = "INV-16-CSMS-TX-ID-UNIQUE"
    title = "StartTransaction.conf never gives the id of a transaction still open"
    requirement = (
        "OCPP1.6 §4.8 / §6.46: StartTransaction.conf transactionId is the transaction's "
        "identifier: two open transactions cannot share it"
    )
    judges = (CSMS,)

    def judge(self, seen: Seen) -> Iterable[Found]:
        if not (seen.from_sut and seen.is_result("StartTransaction")):
            return
        earlier = self.book.get(seen.payload.get("transactionId"))
        request = seen.call.payload if seen.call is not None else None
        if earlier is not None and earlier.open and request != earlier.request:
            # (the same StartTransaction again, answered alike: a retransmission, not a new
            # transaction)
            yield Found(
                f"StartTransaction.conf gives transactionId {earlier.id}, the id of a "
                f"transaction still open (assigned in frame #{earlier.start_seq})",
                (earlier.start_seq,),
            )


class CsmsTransactionIdsNotReused(_BookKeeping):
    """A warning when the CSMS gives a new transaction the id of one that has ended."""

    id = "INV-16-CSMS-TX-ID-REUSED"
    title = "StartTransaction.conf does not reuse the id of an ended transaction"
    requirement = (
        "OCPP1.6 §6.46: transactionId identifies the transaction (a reused id makes its "
        "records ambiguous: a SHOULD, not a MUST)"
    )
    severity = WARN
    judges = (CSMS,)

    def judge(self, seen: Seen) -> Iterable[Found]:
        if not (seen.from_sut and seen.is_result("StartTransaction")):
            return
        earlier = self.book.get(seen.payload.get("transactionId"))
        if earlier is not None and not earlier.open:
            yield Found(
                f"StartTransaction.conf reuses transactionId {earlier.id} of the transaction "
                f"that ended in frame #{earlier.stop_seq}",
                (earlier.start_seq,),
            )


class TransactionsStoppedAfterReboot(_BookKeeping):
    """A transaction open when the station booted again is stopped (StopTransaction with its
    id) by the end of the run, whatever the reason it gives (PowerLoss, HardReset, Reboot…).
    A BootNotification that a TriggerMessage asked for is no reboot; only each connector's
    latest transaction is followed."""

    id = "INV-16-TX-AFTER-REBOOT"
    title = "a transaction open across a reboot is stopped by the end of the run"
    requirement = (
        "OCPP1.6 §4.10 / §5.14: a transaction that a reboot (Reset, power loss) ended is "
        "closed with a StopTransaction.req (reason HardReset, SoftReset, PowerLoss, Reboot), "
        "sent before the reboot or after the next BootNotification was accepted"
    )
    judges = (CS,)

    def __init__(self) -> None:
        super().__init__()
        #: transactionId → the BootNotification frame that found it open
        self._across: dict[int, int] = {}
        self._triggered_boot = False

    def judge(self, seen: Seen) -> Iterable[Found]:
        frame = seen.frame
        if not seen.from_sut and frame.type == CALL and frame.action == "TriggerMessage":
            self._triggered_boot = seen.payload.get("requestedMessage") == "BootNotification"
        elif seen.from_sut and seen.is_call("BootNotification"):
            if not self._triggered_boot:
                # the connector's latest transaction only: an earlier id left open on it was
                # superseded (a StartTransaction retried after a lost answer)
                for tx_id in self.book.current.values():
                    if self.book.txs[tx_id].open:
                        self._across.setdefault(tx_id, frame.seq)
            self._triggered_boot = False
        return ()

    def finish(self) -> Iterable[Found]:
        for tx_id, boot in sorted(self._across.items()):
            tx = self.book.txs[tx_id]
            if tx.open:
                yield Found(
                    f"transaction {tx_id} (connector {tx.connector}) was open when the station "
                    f"booted again (frame #{boot}) and was never stopped",
                    (tx.start_seq, boot),
                )
