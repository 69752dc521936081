"""Transactions in the reference 2.0.1 station's transaction half (blocks E01 – E07, E10, E14):
the TxStartPoint / TxStopPoint conditions, starting, updating and ending a transaction, the
TransactionEvents (seqNo, idToken once per authorization, the CSMS's idTokenInfo) and
GetTransactionStatus.

A transaction starts when any condition of ``TxCtrlr.TxStartPoint`` holds and ends when a
condition of ``TxCtrlr.TxStopPoint`` that held during the transaction stops holding (E01, E06).

:class:`Transactions` holds the default behaviour; every decision goes through the
:class:`~pile_interop.ocpp.v201.reference.evse_hooks.EvsesHooks` facade (``Evses``), so that a
mutant overriding a hook there changes it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from ocpp.v201 import call, call_result
from ocpp.v201.datatypes import EVSEType, MeterValueType, TransactionType

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.v201.reference.evse_hooks import EvsesHooks
from pile_interop.ocpp.v201.reference.evse_state import (
    AUTHORIZED,
    CONNECTOR_ID,
    DATA_SIGNED,
    ENERGY,
    EV_CONNECTED,
    PARKING,
    POWER_PATH,
    SAMPLED,
    TX,
    Evse,
    Transaction,
    logger,
)
from pile_interop.ocpp.v201.reference.evse_tasks import Outbox
from pile_interop.ocpp.v201.reference.station_auth import Token, TokenInfo, as_dict
from pile_interop.ocpp.v201.reference.station_meter import (
    measurand_list,
    meter_value,
    sampled_values,
)


class Transactions:
    """Start points, stop points and the TransactionEvents of every EVSE."""

    def __init__(self, ev: EvsesHooks, outbox: Outbox) -> None:
        self.ev = ev
        self.outbox = outbox

    # -- conditions (E01, E06) ----------------------------------------------------------------

    @staticmethod
    def conditions(e: Evse) -> dict[str, bool]:
        authorized = e.authorization is not None
        tx = e.transaction
        power = (
            e.ev_connected
            and authorized
            and not e.fault
            and not e.lock_fault
            and not (tx is not None and tx.suspended_evse)
        )
        return {
            PARKING: e.cable,
            EV_CONNECTED: e.cable,
            AUTHORIZED: authorized,
            DATA_SIGNED: False,
            POWER_PATH: power,
            ENERGY: power and not e.ev_suspended,
        }

    def start_point_reached(self, e: Evse, conditions: dict[str, bool]) -> bool:
        ev = self.ev
        points = ev._points("TxStartPoint") or [POWER_PATH]
        return not e.session_ended and ev._available(e) and any(conditions[p] for p in points)

    def should_end(self, tx: Transaction, conditions: dict[str, bool]) -> bool:
        points = self.ev._points("TxStopPoint") or [EV_CONNECTED, AUTHORIZED]
        return any(p in tx.seen and not conditions[p] for p in points)

    def start_trigger(self, trigger: str, conditions: dict[str, bool]) -> str:
        points = self.ev._points("TxStartPoint") or [POWER_PATH]
        reached = {p for p in points if conditions[p]}
        return "ChargingStateChanged" if reached == {ENERGY} else trigger

    def charging_state(self, e: Evse) -> str:
        conds = self.ev.conditions(e)
        if conds[ENERGY]:
            return "Charging"
        if conds[POWER_PATH] or (e.cable_held and not e.ev_connected):
            return "SuspendedEV"
        if e.ev_connected and e.authorization is not None:
            return "SuspendedEVSE"
        if e.ev_connected:
            return "EVConnected"
        return "Idle"

    # -- something changed at an EVSE -----------------------------------------------------

    def _update_power(self, e: Evse) -> None:
        """Lock the cable when the power path is about to close; let energy flow or not."""
        ev = self.ev
        if (
            e.ev_connected
            and e.authorization is not None
            and not e.locked
            and not e.lock_fault
            and not ev.fixed_cable
        ):
            if e.lock_failing:
                logger.info("EVSE %d: connector lock failure", e.id)
                e.lock_fault = True
                ev.report_status(e)
                ev._notify_lock_problem(e, True)
            else:
                e.locked = True
        e.meter.set_flowing(ev.conditions(e)[ENERGY])

    def evaluate(
        self,
        e: Evse,
        trigger: str,
        *,
        end_trigger: str | None = None,
        reason: str = "Other",
        token: Token | None = None,
        quiet: bool = False,
    ) -> None:
        ev = self.ev
        self._update_power(e)
        tx = e.transaction
        conds = ev.conditions(e)
        if tx is None:
            if ev.start_point_reached(e, conds):
                self._start_transaction(e, ev.start_trigger(e, trigger, conds), conds)
            ev.report_status(e)
            return
        if ev.should_end(e, tx, conds):
            ev._end_transaction(e, end_trigger or trigger, reason, token=token)
            return
        tx.seen |= {p for p, ok in conds.items() if ok}
        send_token = self._token_to_send(e) or token
        if not quiet or send_token is not None or ev.charging_state(e, tx) != tx.charging_state:
            ev._emit(e, tx, "Updated", trigger, token=send_token)
        ev.report_status(e)

    @staticmethod
    def _token_to_send(e: Evse) -> Token | None:
        """The idToken goes out once per authorization (E03.FR.?: in the event that carries
        the authorization)."""
        auth = e.authorization
        if auth is None or auth.sent:
            return None
        auth.sent = True
        return auth.token

    def _start_transaction(self, e: Evse, trigger: str, conds: dict[str, bool]) -> None:
        ev = self.ev
        auth = e.authorization
        now = ev.clock.now()
        tx = Transaction(
            id=str(uuid.uuid4()),
            evse_id=e.id,
            started_at=now,
            remote_start_id=auth.remote_start_id if auth else None,
            id_token=auth.token.id_token if auth else None,
            reservation_id=auth.reservation_id if auth else None,
        )
        tx.seen = {p for p, ok in conds.items() if ok}
        e.transaction = tx
        e.meter.start_session()
        values: list[MeterValueType] = []
        if ev._bool(SAMPLED, "Enabled"):
            readings = ev.read(e, measurand_list(ev._text(SAMPLED, "TxStartedMeasurands")))
            if readings:
                values.append(meter_value(now, sampled_values(readings, "Transaction.Begin")))
        ev._emit(e, tx, "Started", trigger, token=self._token_to_send(e), values=values)
        ev._schedule_samples(tx)

    def end_transaction(
        self, e: Evse, trigger: str, reason: str, *, token: Token | None = None
    ) -> None:
        ev = self.ev
        tx = e.transaction
        if tx is None:
            return
        now = ev.clock.now()
        values = list(tx.ended_values)
        if ev._bool(SAMPLED, "Enabled"):
            readings = ev.read(e, measurand_list(ev._text(SAMPLED, "TxEndedMeasurands")))
            if readings:
                values.append(meter_value(now, sampled_values(readings, "Transaction.End")))
        tx.stopped_reason = reason
        ev._emit(e, tx, "Ended", trigger, token=token, values=values, stopped_reason=reason)
        e.transaction = None
        ev._drop_authorization(e)
        e.locked = False  # the lock opens at the end of the transaction
        if e.cable_held:
            e.cable_held = False  # ... and the driver takes the cable away
        if e.ev_connected:
            e.session_ended = True
        e.meter.set_flowing(False)
        ev._apply_scheduled()
        ev.report_status(e)

    # -- TransactionEvent ---------------------------------------------------------------------

    @staticmethod
    def next_seq_no(tx: Transaction) -> int:
        seq = tx.seq_no
        tx.seq_no += 1
        return seq

    def transaction_event_payload(
        self,
        e: Evse,
        tx: Transaction,
        event_type: str,
        trigger: str,
        *,
        token: Token | None,
        values: list[MeterValueType],
        stopped_reason: str | None,
        timestamp: datetime | None = None,
    ) -> call.TransactionEvent:
        ev = self.ev
        info = TransactionType(
            transaction_id=tx.id,
            charging_state=ev.charging_state(e, tx),  # type: ignore[arg-type]
            stopped_reason=stopped_reason,  # type: ignore[arg-type]
            remote_start_id=tx.remote_start_id,
        )
        return call.TransactionEvent(
            event_type=event_type,  # type: ignore[arg-type]
            timestamp=utc_iso(timestamp or ev.clock.now()),
            trigger_reason=trigger,  # type: ignore[arg-type]
            seq_no=ev.next_seq_no(tx),
            transaction_info=info,
            meter_value=values or None,
            evse=EVSEType(id=e.id, connector_id=CONNECTOR_ID),
            id_token=token.to_type() if token is not None else None,
            # H03: the reservation goes out with the idToken that used it
            reservation_id=tx.reservation_id if token is not None else None,
        )

    def emit(
        self,
        e: Evse,
        tx: Transaction,
        event_type: str,
        trigger: str,
        *,
        token: Token | None = None,
        values: list[MeterValueType] | None = None,
        stopped_reason: str | None = None,
        timestamp: datetime | None = None,
    ) -> None:
        ev = self.ev
        request = ev.transaction_event_payload(
            e,
            tx,
            event_type,
            trigger,
            token=token,
            values=values or [],
            stopped_reason=stopped_reason,
            timestamp=timestamp,
        )
        tx.charging_state = str(request.transaction_info.charging_state)

        def on_result(result: Any) -> None:
            ev.on_transaction_event_result(tx, token, result)

        ev._enqueue(request, transactional=True, on_result=on_result)

    def on_transaction_event_result(
        self, tx: Transaction, token: Token | None, result: Any
    ) -> None:
        ev = self.ev
        if token is None or getattr(result, "id_token_info", None) is None:
            return
        info = TokenInfo.from_payload(result.id_token_info)
        ev.remember(token, info)
        e = ev.evses.get(tx.evse_id)
        if e is None or e.transaction is not tx:
            return
        auth = e.authorization
        if auth is None or not auth.token.same(token):
            return
        auth.info = info
        if ev.authorize_outcome(info):
            return
        if ev._bool(TX, "StopTxOnInvalidId"):
            ev._drop_authorization(e)
            ev._evaluate(e, "Deauthorized", reason="DeAuthorized")
        else:
            tx.suspended_evse = True
            ev._evaluate(e, "ChargingStateChanged", quiet=True)

    # -- queries ----------------------------------------------------------------------------

    def has_transaction(self, evse: int | None = None) -> bool:
        evses = self.ev.evses
        if evse is not None:
            e = evses.get(evse)
            return e is not None and e.transaction is not None
        return any(e.transaction is not None for e in evses.values())

    def busy(self) -> bool:
        return any(
            e.transaction is not None or e.authorization is not None for e in self.ev.evses.values()
        )

    def tx_by_id(self, transaction_id: str | None) -> Evse | None:
        for e in self.ev.evses.values():
            if e.transaction is not None and e.transaction.id == transaction_id:
                return e
        return None

    # -- GetTransactionStatus (E14) -----------------------------------------------------------

    def _queued(self, transaction_id: str | None) -> bool:
        """Transaction messages not yet delivered: this half's own queue, plus the station's
        offline queue when the port offers ``queued_tx()`` (a list of queued requests)."""
        ev = self.ev
        pending = self.outbox.pending_tx()
        station_queue = getattr(ev.port, "queued_tx", None)
        if callable(station_queue):
            pending.extend(station_queue())
        if transaction_id is None:
            return bool(pending)
        for request in pending:
            info = as_dict(getattr(request, "transaction_info", None) or {})
            if info.get("transaction_id", info.get("transactionId")) == transaction_id:
                return True
        return False

    def transaction_status(
        self, req: call.GetTransactionStatus
    ) -> call_result.GetTransactionStatus:
        ongoing = None
        if req.transaction_id is not None:
            ongoing = self.ev._tx_by_id(req.transaction_id) is not None
        return call_result.GetTransactionStatus(
            messages_in_queue=self._queued(req.transaction_id), ongoing_indicator=ongoing
        )

    async def get_transaction_status(self, req: call.GetTransactionStatus) -> Any:
        return self.ev.transaction_status(req)
