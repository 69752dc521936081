"""Remote control of the reference 2.0.1 station's EVSEs (block F): RequestStartTransaction
(F01, F02: AuthCtrlr.AuthorizeRemoteStart), RequestStopTransaction (F03), UnlockConnector
(F05) and the TriggerMessages the transaction half answers (F06: StatusNotification,
MeterValues, TransactionEvent).

What a request starts runs once its answer went out (``Evses._after_reply``).

:class:`RemoteControl` holds the default behaviour; every decision goes through the
:class:`~pile_interop.ocpp.v201.reference.evse_hooks.EvsesHooks` facade (``Evses``), so that a
mutant overriding a hook there changes it.
"""

from __future__ import annotations

from typing import Any

from ocpp.v201 import call, call_result

from pile_interop.ocpp.v201.reference.evse_hooks import EvsesHooks
from pile_interop.ocpp.v201.reference.evse_state import (
    ALIGNED,
    CONNECTOR_ID,
    ENERGY_REGISTER,
    SAMPLED,
    Authorization,
    Evse,
    logger,
)
from pile_interop.ocpp.v201.reference.station_auth import ACCEPTED, Token, TokenInfo, as_dict
from pile_interop.ocpp.v201.reference.station_meter import (
    measurand_list,
    meter_value,
    sampled_values,
)

#: The TriggerMessage requests the transaction half answers.
TRIGGERED_HERE = ("MeterValues", "TransactionEvent", "StatusNotification")


class RemoteControl:
    """The EVSE-level requests of block F."""

    def __init__(self, ev: EvsesHooks) -> None:
        self.ev = ev

    # -- RequestStartTransaction (F01, F02) -------------------------------------------------

    def remote_start_decision(self, req: call.RequestStartTransaction) -> tuple[str, Evse | None]:
        if req.evse_id is not None and req.evse_id not in self.ev.evses:
            return "Rejected", None
        reservations = getattr(self.ev.port, "reservations", None)  # block H: reservations.py
        if reservations is not None:
            token = Token.from_payload(req.id_token)
            info = TokenInfo(ACCEPTED)  # its groupIdToken is not known before Authorize
            target, _ = reservations.choose_evse(req.evse_id, token, info, use=False)
        else:
            target = self.ev.choose_evse(req.evse_id)
        if target is None:
            return "Rejected", None
        return "Accepted", target

    async def request_start(self, req: call.RequestStartTransaction) -> Any:
        ev = self.ev
        ev._ensure_ticker()
        status, target = ev.remote_start_decision(req)
        if status != "Accepted" or target is None:
            return call_result.RequestStartTransaction(status=status)  # type: ignore[arg-type]
        tx = target.transaction
        token = Token.from_payload(req.id_token)
        remote_id = int(req.remote_start_id)
        ev._after_reply(lambda: ev.remote_start(target, token, remote_id), "remote-start")
        return call_result.RequestStartTransaction(
            status=status,  # type: ignore[arg-type]
            transaction_id=tx.id if tx is not None else None,
        )

    async def remote_start(self, e: Evse, token: Token, remote_start_id: int) -> None:
        ev = self.ev
        if ev.authorize_remote_start():
            info = await ev.authorize_token(token)
            if not ev.authorize_outcome(info):
                logger.info("remote start: idToken %s not accepted", token.id_token)
                return
        else:
            info = TokenInfo(ACCEPTED)
        if not (ev._free(e) or ev._awaiting_authorization(e)):
            logger.info("remote start: EVSE %d no longer free", e.id)
            return
        reservations = getattr(ev.port, "reservations", None)  # H03: its reservation is used
        reservation_id = reservations.take(e.id, token, info) if reservations else None
        auth = Authorization(token, info, "RemoteStart", remote_start_id, reservation_id)
        ev._authorize_evse(e, auth)

    # -- RequestStopTransaction (F03) -------------------------------------------------------

    def remote_stop_status(self, req: call.RequestStopTransaction) -> str:
        return "Accepted" if self.ev._tx_by_id(req.transaction_id) is not None else "Rejected"

    async def request_stop(self, req: call.RequestStopTransaction) -> Any:
        ev = self.ev
        status = ev.remote_stop_status(req)
        if status == "Accepted":
            tx_id = req.transaction_id

            def stop() -> None:
                e = ev._tx_by_id(tx_id)
                if e is not None:
                    ev._stop_authorization(e, "RemoteStop", "Remote", force=True)

            ev._after_reply(stop, "remote-stop")
        return call_result.RequestStopTransaction(status=status)  # type: ignore[arg-type]

    # -- UnlockConnector (F05) --------------------------------------------------------------

    def unlock_status(self, req: call.UnlockConnector) -> str:
        e = self.ev.evses.get(req.evse_id)
        if e is None or req.connector_id != CONNECTOR_ID:
            return "UnknownConnector"
        if e.transaction is not None and e.authorization is not None:
            return "OngoingAuthorizedTransaction"
        if e.lock_failing or self.ev.fixed_cable:
            return "UnlockFailed"
        return "Unlocked"

    async def unlock_connector(self, req: call.UnlockConnector) -> Any:
        ev = self.ev
        status = ev.unlock_status(req)
        if status == "Unlocked":
            e = ev.evses[req.evse_id]

            def unlock() -> None:
                if e.transaction is not None:  # not authorized (F05.FR.03): end it first
                    ev._end_transaction(e, "UnlockCommand", "Other")
                e.locked = False
                if e.cable_held:
                    e.cable_held = False
                    ev.report_status(e)

            ev._after_reply(unlock, "unlock")
        return call_result.UnlockConnector(status=status)  # type: ignore[arg-type]

    # -- TriggerMessage (F06) --------------------------------------------------------------------

    def trigger_status(self, message: str, evse_id: int | None, connector: int | None) -> str:
        if evse_id is not None and evse_id not in self.ev.evses:
            return "Rejected"
        if connector is not None and (evse_id is None or connector != CONNECTOR_ID):
            return "Rejected"
        if message == "TransactionEvent" and not self.ev.has_transaction(evse_id):
            return "Rejected"
        return "Accepted"

    async def trigger(self, req: call.TriggerMessage) -> Any | None:
        ev = self.ev
        message = str(req.requested_message)
        if message not in TRIGGERED_HERE:
            return None
        evse = as_dict(req.evse) if req.evse is not None else {}
        evse_id = evse.get("id") or None
        connector = evse.get("connector_id", evse.get("connectorId"))
        status = ev.trigger_status(message, evse_id, connector)
        if status == "Accepted":
            targets = [ev.evses[evse_id]] if evse_id else list(ev.evses.values())
            ev._after_reply(lambda: ev._triggered(message, targets), f"trigger-{message}")
        return call_result.TriggerMessage(status=status)  # type: ignore[arg-type]

    def triggered(self, message: str, targets: list[Evse]) -> None:
        ev = self.ev
        now = ev.clock.now()
        for e in targets:
            if message == "StatusNotification":
                ev.report_status(e, force=True)
            elif message == "MeterValues":
                items = measurand_list(ev._text(ALIGNED, "Measurands")) or [ENERGY_REGISTER]
                values = sampled_values(ev.read(e, items), "Trigger")
                ev._enqueue(
                    ev.meter_values_payload(e, [meter_value(now, values)]),
                    transactional=False,
                )
            elif message == "TransactionEvent" and e.transaction is not None:
                items = measurand_list(ev._text(SAMPLED, "TxUpdatedMeasurands"))
                values = sampled_values(ev.read(e, items), "Trigger")
                mv = [meter_value(now, values)] if values else []
                ev._emit(e, e.transaction, "Updated", "Trigger", values=mv)
