"""Mutant OCPP 2.0.1 SUTs written per run-wide invariant (:mod:`pile_interop.ocpp.v201.invariants`):
each has ONE defect that no case's own steps see, and the case it is declared for fails (or
warns) only because the invariant names it.

Station mutants run the case they name (profile ``ocpp201/core-cs``); CSMS mutants run the whole
``ocpp201/core-csms`` profile.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta
from typing import Any

from ocpp.v201 import call

from pile_interop.core.clock import parse_iso, utc_iso
from pile_interop.ocpp.v201.reference.connection import PENDING, REJECTED
from pile_interop.ocpp.v201.reference.csms import ReferenceCsms
from pile_interop.ocpp.v201.reference.csms_link import CsmsLink
from pile_interop.ocpp.v201.reference.evse_state import AUTH, ENERGY_REGISTER, Transaction
from pile_interop.ocpp.v201.reference.station import ReferenceStation
from pile_interop.ocpp.v201.reference.station_auth import Token
from pile_interop.ocpp.v201.reference.station_tx import Evses
from tests.mutants.stations16 import mutant
from tests.mutants.stations201_tx import evses_mutant

CSMS_CORE = "ocpp201/core-csms"
#: The register of a used meter (Wh).
USED_METER_WH = 1_000_000.0
INVARIANT = "invariant"


def _ended_by_reset(request: call.TransactionEvent) -> bool:
    info = request.transaction_info
    return request.event_type == "Ended" and info.stopped_reason == "ImmediateReset"


# -- seqNo --------------------------------------------------------------------------------------


@evses_mutant("TC_B_22_CS", "INV-201-SEQNO", defect_class=INVARIANT)
class ResetEndedRepeatsSeqNo(Evses):
    """The Ended of a transaction stopped by an Immediate reset carries the seqNo of the event
    before it (the reset path numbers it from the counter it saved at the last event)."""

    def transaction_event_payload(self, *args: Any, **kwargs: Any) -> call.TransactionEvent:
        request = super().transaction_event_payload(*args, **kwargs)
        if _ended_by_reset(request) and request.seq_no > 0:
            request.seq_no -= 1
        return request


@evses_mutant("TC_B_22_CS", "INV-201-SEQNO-GAP", defect_class=INVARIANT)
class ResetEndedSkipsSeqNo(Evses):
    """The Ended of a transaction stopped by an Immediate reset skips a seqNo (the number of a
    meter sample the reset discarded before sending it)."""

    def transaction_event_payload(self, *args: Any, **kwargs: Any) -> call.TransactionEvent:
        request = super().transaction_event_payload(*args, **kwargs)
        if _ended_by_reset(request):
            request.seq_no += 1
        return request


# -- lifecycle ----------------------------------------------------------------------------------


@evses_mutant("TC_B_22_CS", "INV-201-TX-LIFECYCLE", defect_class=INVARIANT)
class EndsResetTransactionTwice(Evses):
    """Ends a transaction stopped by an Immediate reset twice: ImmediateReset, then once more
    PowerLoss (the reboot finds it in the persisted state it forgot to clear)."""

    def _end_transaction(
        self, e: Any, trigger: str, reason: str, *, token: Token | None = None
    ) -> None:
        tx = e.transaction
        super()._end_transaction(e, trigger, reason, token=token)
        if tx is not None and reason == "ImmediateReset":
            self._emit(e, tx, "Ended", "AbnormalCondition", stopped_reason="PowerLoss")


# -- one transaction per EVSE -------------------------------------------------------------------


@evses_mutant("TC_C_08_CS", "INV-201-ONE-TX-PER-EVSE", defect_class=INVARIANT)
class StartsPreAuthorizedTwice(Evses):
    """With LocalPreAuthorize, a transaction started from the Authorization Cache is started
    once more (a new transactionId on the same EVSE) when the CSMS confirms the idToken in the
    TransactionEventResponse; the second one is never ended."""

    def _emit(self, e: Any, tx: Transaction, event_type: str, trigger: str, **kw: Any) -> None:
        if event_type == "Started" and self._bool(AUTH, "LocalPreAuthorize"):
            tx._pre_authorized = True  # type: ignore[attr-defined]
        super()._emit(e, tx, event_type, trigger, **kw)

    def on_transaction_event_result(
        self, tx: Transaction, token: Token | None, result: Any
    ) -> None:
        super().on_transaction_event_result(tx, token, result)
        e = self.evses.get(tx.evse_id)
        confirmed = token is not None and getattr(result, "id_token_info", None) is not None
        if e is None or e.transaction is not tx or not confirmed:
            return
        if getattr(tx, "_pre_authorized", False):
            tx._pre_authorized = False  # type: ignore[attr-defined]
            twin = Transaction(id=str(uuid.uuid4()), evse_id=e.id, started_at=self.clock.now())
            self._emit(e, twin, "Started", "Authorized", token=token)


# -- meter register -----------------------------------------------------------------------------


@evses_mutant("TC_E_53_CS", "INV-201-METER-MONOTONIC", defect_class=INVARIANT)
class EndedRegisterIsSessionEnergy(Evses):
    """The Transaction.End reading of Energy.Active.Import.Register is the energy of the
    session (register minus its value at the start), not the register. (Its meters are used
    ones, at 1 MWh: on a new meter at 0 Wh the two are the same.)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for e in self.evses.values():
            e.meter._wh = USED_METER_WH

    def transaction_event_payload(self, e: Any, tx: Transaction, *args: Any, **kwargs: Any) -> Any:
        request = super().transaction_event_payload(e, tx, *args, **kwargs)
        start = getattr(tx, "_start_register", None)
        for meter_value in request.meter_value or []:
            for sampled in meter_value.sampled_value:
                if sampled.measurand != ENERGY_REGISTER:
                    continue
                if sampled.context == "Transaction.Begin":
                    tx._start_register = sampled.value  # type: ignore[attr-defined]
                elif sampled.context == "Transaction.End" and start is not None:
                    sampled.value = round(sampled.value - start, 2)
        return request


# -- timestamps ---------------------------------------------------------------------------------


@evses_mutant("TC_E_32_CS", "INV-201-TX-TIMESTAMPS", defect_class=INVARIANT)
class EndedInLocalTime(Evses):
    """Stamps the Ended event with its local time (UTC−05:00) but writes it as UTC (``Z``)."""

    def transaction_event_payload(self, *args: Any, **kwargs: Any) -> call.TransactionEvent:
        request = super().transaction_event_payload(*args, **kwargs)
        if request.event_type == "Ended":
            request.timestamp = utc_iso(parse_iso(request.timestamp) - timedelta(hours=5))
        return request


# -- registration -------------------------------------------------------------------------------


@mutant("TC_B_02_CS", "INV-201-REGISTRATION", profile="ocpp201/core-cs", defect_class=INVARIANT)
class InventoryWhilePending(ReferenceStation):
    """Sends its inventory (a NotifyReport nobody asked for) as soon as its BootNotification is
    answered Pending."""

    def boot_retry_interval(self, interval: int) -> int:
        if self.registration == PENDING:
            report = call.NotifyReport(
                request_id=0, generated_at=utc_iso(self.clock.now()), seq_no=0, tbc=False
            )
            self.base.spawn(self.send(report), "inventory", self.base.conn_tasks)
        return super().boot_retry_interval(interval)


# -- heartbeat ----------------------------------------------------------------------------------


@mutant("TC_J_09_CS", "INV-201-HEARTBEAT", profile="ocpp201/core-cs", defect_class=INVARIANT)
class HeartbeatsOftenWhileCharging(ReferenceStation):
    """When a transaction starts, restarts its heartbeat at a tenth of the interval while the
    transaction runs (a keep-alive of its own while charging)."""

    async def send_tx(self, request: Any) -> Any:
        if isinstance(request, call.TransactionEvent) and request.event_type == "Started":
            self.base.restart_heartbeat()
        return await super().send_tx(request)

    def heartbeat_interval(self) -> int:
        interval = super().heartbeat_interval()
        if interval > 0 and self.evses.has_transaction():
            return max(1, interval // 10)
        return interval


# -- the CSMS's side of Pending / Rejected --------------------------------------------------------


async def _quietly(link: CsmsLink, request: Any) -> None:
    with contextlib.suppress(Exception):
        await link.call(request, suppress=False)


@mutant("TC_B_02_CSMS", "INV-201-CSMS-PENDING", profile=CSMS_CORE, defect_class=INVARIANT)
class FreeVendOnEveryBoot(ReferenceCsms):
    """Starts a free-vend session (RequestStartTransaction on EVSE 1) on every station that
    boots, also one it has just answered Pending."""

    async def after_boot(self, link: CsmsLink, payload: dict[str, Any]) -> None:
        await super().after_boot(link, payload)
        if self.registration_terms(link.id)[0] == PENDING:
            token = {"id_token": "FREEVEND", "type": "Central"}
            await _quietly(link, self.request_start_request(token, 1, 1))


@mutant("TC_B_03_CSMS", "INV-201-CSMS-REJECTED", profile=CSMS_CORE, defect_class=INVARIANT)
class AsksRejectedStationsForStatus(ReferenceCsms):
    """Asks every station that boots for its connectors' status (TriggerMessage
    StatusNotification), also one it has just answered Rejected."""

    async def after_boot(self, link: CsmsLink, payload: dict[str, Any]) -> None:
        await super().after_boot(link, payload)
        if self.registration_terms(link.id)[0] == REJECTED:
            await _quietly(link, self.trigger_message_request("StatusNotification", None))
