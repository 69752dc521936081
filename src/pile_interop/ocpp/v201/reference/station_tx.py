"""The transaction half of the reference OCPP 2.0.1 station: EVSEs, authorization,
transactions and meter values (Part 2 blocks C, E, F, G, J).

:class:`Evses` is owned by the station (:mod:`~pile_interop.ocpp.v201.reference.station`) and
reaches it only through a :class:`~pile_interop.ocpp.v201.reference.station_port.StationPort`.
Every timer runs on ``port.clock`` (a scaled :class:`~pile_interop.core.clock.Clock`).

The half is a facade over components: :class:`Evses` is the one class the station owns and
mutants subclass; it holds the shared state (the EVSEs, the cache, the station's availability)
and every hook, and composes (modules of this package) :mod:`evse_tasks` (background tasks, the
ordered sender), :mod:`authorization` (cards, the cache, ClearCache: C), :mod:`transactions`
(start / stop points, TransactionEvents with seqNo, GetTransactionStatus: E), :mod:`remote`
(remote start / stop, unlock, the TriggerMessages the half answers: F), :mod:`availability`
(connector status, ChangeAvailability, lock failure: G), :mod:`metering` (sampled and
clock-aligned meter values: J), :mod:`ev_side` (the driver's and the EV's actions) and
:mod:`lifecycle` (registration, power loss, resets, ``settle``); the data classes are in
:mod:`evse_state`. The components reach each other and the hooks only through the facade
(:class:`~pile_interop.ocpp.v201.reference.evse_hooks.EvsesHooks`), so that a hook a mutant
overrides takes effect everywhere.

The model, in short:

* ``N`` EVSEs with one connector (id 1) each. The physical world (cable plugged at the EV side,
  cable held locked in the socket, faults, a failing lock, the energy register) survives a power
  loss; so do the availability and the authorization cache. Authorizations, transactions and
  timers do not.
* A transaction starts when any condition of ``TxCtrlr.TxStartPoint`` holds and ends when a
  condition of ``TxCtrlr.TxStopPoint`` that held during the transaction stops holding (E01,
  E06). The conditions: ``EVConnected`` / ``ParkingBayOccupancy`` (a cable in the socket: there
  is no separate bay detector), ``Authorized`` (an accepted token for the EVSE),
  ``PowerPathClosed`` (EV connected, authorized, no fault, the lock closed), ``EnergyTransfer``
  (the power path closed and the EV not suspended); ``DataSigned`` never holds (no signed
  meter), so as a start point it never starts and as a stop point it never ends anything.
* After a transaction ended with the EV still plugged in, no new one starts before the cable was
  unplugged (``session_ended``).
* A remote stop, a master pass, an EV connection time-out and an unlock of an unauthorized
  transaction end the transaction whatever the stop points say; a local stop (the same token
  again, or a token of the same group) ends the authorization and the stop points decide (E_09:
  with ``TxStopPoint = EVConnected`` the transaction ends when the cable is unplugged).
* The driver's and the EV's actions: see :mod:`ev_side`; power loss, resets: :mod:`lifecycle`.

What a CSMS request starts (a remote start or stop, an unlock, triggered messages, the
StatusNotifications of a ChangeAvailability) runs once its answer went out; the availability
itself changes with the answer, so that what the CSMS or the driver does next sees it.
``settle`` lets those follow-ups, and cards still waiting for their AuthorizeResponse, finish
before it clears the EVSEs.

Mutant hooks (one decision each): :meth:`Evses.conditions`, :meth:`Evses.start_point_reached`,
:meth:`Evses.should_end`, :meth:`Evses.start_trigger`, :meth:`Evses.charging_state`,
:meth:`Evses.next_seq_no`, :meth:`Evses.transaction_event_payload`,
:meth:`Evses.on_transaction_event_result`, :meth:`Evses.authorize_token`,
:meth:`Evses.authorize_outcome`, :meth:`Evses.is_master_pass`, :meth:`Evses.choose_evse`,
:meth:`Evses.connector_status`, :meth:`Evses.status_notification_payload`,
:meth:`Evses.meter_values_payload`, :meth:`Evses.read`, :meth:`Evses.remote_start_decision`,
:meth:`Evses.remote_stop_status`, :meth:`Evses.unlock_status`, :meth:`Evses.availability_status`,
:meth:`Evses.apply_availability`, :meth:`Evses.availability_changed`,
:meth:`Evses.transaction_status`, :meth:`Evses.clear_cache_status`,
:meth:`Evses.trigger_status`, :meth:`Evses.lock_problem_event`, :meth:`Evses.reset_evse`,
:meth:`Evses.stops_by_group`, :meth:`Evses.stop_on_ev_side_disconnect`,
:meth:`Evses.authorize_remote_start`, :meth:`Evses.aligned_boundary`; and the device-model
readers (:meth:`Evses._bool`, :meth:`Evses._int`, :meth:`Evses._points`) and the other
``Evses`` methods the components call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from ocpp.v201 import call, call_result
from ocpp.v201.datatypes import MeterValueType

from pile_interop.ocpp.v201.reference.authorization import Authorizer
from pile_interop.ocpp.v201.reference.availability import Availability
from pile_interop.ocpp.v201.reference.ev_side import EvSide
from pile_interop.ocpp.v201.reference.evse_state import (
    AUTHORIZED,
    CONNECTOR_ID,
    DATA_SIGNED,
    ENERGY,
    EV_CONNECTED,
    PARKING,
    POINTS,
    POWER_PATH,
    TX,
    VARIABLES,
    Authorization,
    Evse,
    Transaction,
)
from pile_interop.ocpp.v201.reference.evse_tasks import Outbox, Tasks
from pile_interop.ocpp.v201.reference.lifecycle import Lifecycle
from pile_interop.ocpp.v201.reference.metering import Metering
from pile_interop.ocpp.v201.reference.remote import RemoteControl
from pile_interop.ocpp.v201.reference.station_auth import AuthCache, Token, TokenInfo
from pile_interop.ocpp.v201.reference.station_meter import EnergyMeter, measurand_list
from pile_interop.ocpp.v201.reference.station_port import StationPort
from pile_interop.ocpp.v201.reference.transactions import Transactions

__all__ = [
    "AUTHORIZED",
    "CONNECTOR_ID",
    "DATA_SIGNED",
    "ENERGY",
    "EV_CONNECTED",
    "PARKING",
    "POINTS",
    "POWER_PATH",
    "VARIABLES",
    "Authorization",
    "Evse",
    "Evses",
    "Transaction",
]


class Evses:
    """All EVSEs of the station, their sessions and the EVSE-level CSMS requests."""

    def __init__(self, port: StationPort, evses: int, *, fixed_cable: bool = False) -> None:
        if evses < 1:
            raise ValueError("a station needs at least one EVSE")
        self.port = port
        self.clock = port.clock
        self.fixed_cable = fixed_cable
        self.evses: dict[int, Evse] = {
            n: Evse(n, EnergyMeter(port.clock)) for n in range(1, evses + 1)
        }
        self.cache = AuthCache()
        self.station_operative = True
        self.station_scheduled: bool | None = None
        self._was_online = False
        # -- the components --
        self.tasks = Tasks()
        self.outbox = Outbox(port)
        self.authorizer = Authorizer(self)
        self.transactions = Transactions(self, self.outbox)
        self.availability = Availability(self)
        self.metering = Metering(self)
        self.remote = RemoteControl(self)
        self.ev_side = EvSide(self)
        self.lifecycle = Lifecycle(self, self.tasks, self.outbox, self.metering)

    # ======================================================================================
    # device model access, tasks, sending
    # ======================================================================================

    def _text(self, component: str, variable: str) -> str:
        return self.port.var(component, variable).strip()

    def _bool(self, component: str, variable: str) -> bool:
        return self._text(component, variable).lower() == "true"

    def _int(self, component: str, variable: str) -> int:
        try:
            return int(float(self._text(component, variable) or "0"))
        except ValueError:
            return 0

    def _points(self, variable: str) -> list[str]:
        return [p for p in measurand_list(self._text(TX, variable)) if p in POINTS]

    def variables(self) -> list[tuple[str, int | None, str, str, bool]]:
        """The device-model variables of this half (the station stores them)."""
        return list(VARIABLES)

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        return self.tasks.spawn(coro, name)

    def _after_reply(self, work: Callable[[], Any], name: str) -> None:
        """Run ``work`` once the CALLRESULT being returned has gone out."""
        self.tasks.after_reply(work, name)

    def _enqueue(
        self,
        request: Any,
        *,
        transactional: bool,
        on_result: Callable[[Any], None] | None = None,
    ) -> None:
        self.outbox.enqueue(request, transactional=transactional, on_result=on_result)

    def _ensure_ticker(self) -> None:
        self.metering.ensure_ticker()

    def _evse(self, evse: int) -> Evse:
        if evse not in self.evses:
            raise ValueError(f"no EVSE {evse} (1..{len(self.evses)})")
        return self.evses[evse]

    # ======================================================================================
    # control surface (ev_side)
    # ======================================================================================

    async def plug_in(self, evse: int = 1) -> None:
        """The driver plugs the cable in (both ends)."""
        await self.ev_side.plug_in(evse)

    async def unplug(self, evse: int = 1) -> None:
        """The driver unplugs the cable at the EV (and takes it out of the socket when the
        station lets it go)."""
        await self.ev_side.unplug(evse)

    async def present_id_tag(self, id_tag: str, evse: int | None = None) -> None:
        """A card (ISO14443) is presented at the reader (``settle`` waits for a presentation
        still waiting for its AuthorizeResponse)."""
        await self.tasks.run_as_follow_up(self.authorizer.present(id_tag, evse))

    def stop_on_ev_side_disconnect(self, e: Evse) -> bool:
        """E10: TxCtrlr.StopTxOnEVSideDisconnect: unplugging at the EV deauthorizes the
        transaction (true) or suspends it with the cable held locked (false)."""
        return self.ev_side.stop_on_ev_side_disconnect()

    async def raise_fault(self, evse: int = 1) -> None:
        await self.ev_side.raise_fault(evse)

    async def clear_fault(self, evse: int = 1) -> None:
        await self.ev_side.clear_fault(evse)

    async def set_lock_failure(self, evse: int = 1, failing: bool = True) -> None:
        """From now on locking the cable fails (``failing`` False: the lock is repaired, and a
        lock fault it caused clears)."""
        await self.ev_side.set_lock_failure(evse, failing)

    async def ev_suspend(self, evse: int = 1) -> None:
        """The EV stops drawing energy (chargingState SuspendedEV)."""
        await self.ev_side.ev_suspend(evse)

    async def ev_resume(self, evse: int = 1) -> None:
        await self.ev_side.ev_resume(evse)

    # ======================================================================================
    # authorization (C01, C10, C12, C15, C16; authorization.py)
    # ======================================================================================

    def _cache_enabled(self) -> bool:
        return self.authorizer.cache_enabled()

    def remember(self, token: Token, info: TokenInfo) -> None:
        """C10.FR.04/05: keep every IdTokenInfo received (when the cache is enabled)."""
        self.authorizer.remember(token, info)

    async def authorize_token(self, token: Token) -> TokenInfo:
        """The IdTokenInfo for a token: the cache (LocalPreAuthorize, Accepted entries only),
        else Authorize, else (offline / no answer) LocalAuthorizeOffline and
        OfflineTxForUnknownIdEnabled."""
        return await self.authorizer.authorize_token(token)

    def authorize_outcome(self, info: TokenInfo) -> bool:
        """Only Accepted allows charging."""
        return self.authorizer.authorize_outcome(info)

    def stops_by_group(self, auth: Authorization, info: TokenInfo) -> bool:
        """C09: a token with the same groupIdToken as the one that authorized a transaction
        stops it."""
        return self.authorizer.stops_by_group(auth, info)

    def is_master_pass(self, info: TokenInfo) -> bool:
        """C16: the token's groupIdToken is AuthCtrlr.MasterPassGroupId."""
        return self.authorizer.is_master_pass(info)

    def authorize_remote_start(self) -> bool:
        """F02: AuthCtrlr.AuthorizeRemoteStart: Authorize the idToken of a
        RequestStartTransaction first."""
        return self.authorizer.authorize_remote_start()

    def _free(self, e: Evse) -> bool:
        """A new session may start on the EVSE."""
        return self.authorizer.free(e)

    def _awaiting_authorization(self, e: Evse) -> bool:
        """A transaction started (e.g. at EVConnected) that nobody authorized yet."""
        return self.authorizer.awaiting_authorization(e)

    def choose_evse(self, evse: int | None) -> Evse | None:
        """The EVSE a token is for: the given one if it can take it; else one whose
        transaction waits for authorization, else a free plugged-in one, else a free one."""
        return self.authorizer.choose_evse(evse)

    def _authorize_evse(self, e: Evse, auth: Authorization) -> None:
        self.authorizer.authorize_evse(e, auth)

    def _drop_authorization(self, e: Evse) -> None:
        self.authorizer.drop_authorization(e)

    def _stop_authorization(
        self,
        e: Evse,
        trigger: str,
        reason: str,
        *,
        token: Token | None = None,
        force: bool = False,
    ) -> None:
        """The authorization ends; the stop points decide about the transaction (``force``:
        it ends anyway)."""
        self.authorizer.stop_authorization(e, trigger, reason, token=token, force=force)

    def clear_cache_status(self) -> str:
        """C_38: Rejected when the cache is disabled."""
        return self.authorizer.clear_cache_status()

    async def clear_cache(self, req: call.ClearCache) -> Any:
        return await self.authorizer.clear_cache(req)

    # ======================================================================================
    # transactions (E01-E07, E10, E14; transactions.py)
    # ======================================================================================

    def conditions(self, e: Evse) -> dict[str, bool]:
        """Which TxStartPoint / TxStopPoint conditions hold now."""
        return self.transactions.conditions(e)

    def start_point_reached(self, e: Evse, conditions: dict[str, bool]) -> bool:
        """E01: a transaction starts when any TxStartPoint condition holds."""
        return self.transactions.start_point_reached(e, conditions)

    def should_end(self, e: Evse, tx: Transaction, conditions: dict[str, bool]) -> bool:
        """E06: it ends when a TxStopPoint condition that held during it holds no more."""
        return self.transactions.should_end(tx, conditions)

    def start_trigger(self, e: Evse, trigger: str, conditions: dict[str, bool]) -> str:
        """The Started event's triggerReason: the event that reached the start point
        (ChargingStateChanged when only EnergyTransfer was reached)."""
        return self.transactions.start_trigger(trigger, conditions)

    def charging_state(self, e: Evse, tx: Transaction | None) -> str:
        return self.transactions.charging_state(e)

    def _evaluate(
        self,
        e: Evse,
        trigger: str,
        *,
        end_trigger: str | None = None,
        reason: str = "Other",
        token: Token | None = None,
        quiet: bool = False,
    ) -> None:
        """Something changed at ``e``: start, update or end its transaction."""
        self.transactions.evaluate(
            e, trigger, end_trigger=end_trigger, reason=reason, token=token, quiet=quiet
        )

    def _end_transaction(
        self, e: Evse, trigger: str, reason: str, *, token: Token | None = None
    ) -> None:
        self.transactions.end_transaction(e, trigger, reason, token=token)

    def next_seq_no(self, tx: Transaction) -> int:
        """E_53: one counter per transaction, 0 for Started, +1 per event, no gaps."""
        return self.transactions.next_seq_no(tx)

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
        return self.transactions.transaction_event_payload(
            e,
            tx,
            event_type,
            trigger,
            token=token,
            values=values,
            stopped_reason=stopped_reason,
            timestamp=timestamp,
        )

    def _emit(
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
        self.transactions.emit(
            e,
            tx,
            event_type,
            trigger,
            token=token,
            values=values,
            stopped_reason=stopped_reason,
            timestamp=timestamp,
        )

    def on_transaction_event_result(
        self, tx: Transaction, token: Token | None, result: Any
    ) -> None:
        """C10: cache the idTokenInfo; E05: a token the CSMS does not accept deauthorizes the
        transaction (StopTxOnInvalidId true: triggerReason Deauthorized, stoppedReason
        DeAuthorized; false: no energy, chargingState SuspendedEVSE)."""
        self.transactions.on_transaction_event_result(tx, token, result)

    def has_transaction(self, evse: int | None = None) -> bool:
        return self.transactions.has_transaction(evse)

    def busy(self) -> bool:
        """A transaction runs or a token waits for its EV (Reset OnIdle waits)."""
        return self.transactions.busy()

    def _tx_by_id(self, transaction_id: str | None) -> Evse | None:
        return self.transactions.tx_by_id(transaction_id)

    def transaction_status(
        self, req: call.GetTransactionStatus
    ) -> call_result.GetTransactionStatus:
        """messagesInQueue; ongoingIndicator only when a transactionId was given."""
        return self.transactions.transaction_status(req)

    async def get_transaction_status(self, req: call.GetTransactionStatus) -> Any:
        return await self.transactions.get_transaction_status(req)

    # ======================================================================================
    # status, availability, lock failure (G01, G03 - G05; availability.py)
    # ======================================================================================

    def _available(self, e: Evse) -> bool:
        return self.availability.available(e)

    def connector_status(self, e: Evse) -> str:
        """Faulted > Occupied (a cable in the socket) > Available while a transaction waits
        for its EV > Unavailable > Available."""
        return self.availability.connector_status(e)

    def status_notification_payload(self, e: Evse, status: str) -> call.StatusNotification:
        return self.availability.status_notification_payload(e, status)

    def report_status(self, e: Evse, *, force: bool = False, status: str | None = None) -> None:
        """StatusNotification when the status (``status``, else the current one) changed since
        the last one reported (or ``force``), while online; what changes offline is reported
        after the reconnect."""
        self.availability.report_status(e, force=force, status=status)

    def availability_status(self, req: call.ChangeAvailability) -> str:
        """Rejected for an unknown EVSE / connector; Scheduled when going Inoperative while a
        transaction runs there (station-wide: anywhere); else Accepted."""
        return self.availability.availability_status(req)

    def apply_availability(self, evse_id: int | None, operative: bool) -> None:
        """Change (or schedule) the availability at once (persistent across reboots); the
        StatusNotifications follow the answer (:meth:`availability_changed`)."""
        self.availability.apply_availability(evse_id, operative)

    def availability_changed(
        self, evse_id: int | None, operative: bool, statuses: dict[int, str]
    ) -> None:
        """G03 / G04: after the ChangeAvailability answer, the connectors report the status the
        change left them in (``statuses``, taken when it happened: a second change right after
        the first is reported as a second StatusNotification) when it differs from the last
        one reported."""
        self.availability.availability_changed(statuses)

    async def change_availability(self, req: call.ChangeAvailability) -> Any:
        return await self.availability.change_availability(req)

    def _apply_scheduled(self) -> None:
        """G03/G04: a Scheduled availability change happens once the transaction ended."""
        self.availability.apply_scheduled()

    def _clear_lock_fault(self, e: Evse) -> None:
        self.availability.clear_lock_fault(e)

    def _notify_lock_problem(self, e: Evse, problem: bool) -> None:
        self.availability.notify_lock_problem(e, problem)

    def lock_problem_event(self, e: Evse, problem: bool) -> call.NotifyEvent | None:
        """The NotifyEvent for component ConnectorPlugRetentionLock (of the EVSE's connector),
        variable Problem, actualValue ``true`` / ``false`` (trigger Delta, a hard-wired
        notification: no monitor is involved)."""
        return self.availability.lock_problem_event(e, problem)

    # ======================================================================================
    # meter values (J01, J02; metering.py)
    # ======================================================================================

    def read(self, e: Evse, items: list[str]) -> list[tuple[str, float]]:
        return self.metering.read(e, items)

    def meter_values_payload(self, e: Evse, values: list[MeterValueType]) -> call.MeterValues:
        return self.metering.meter_values_payload(e, values)

    def _schedule_samples(self, tx: Transaction) -> None:
        self.metering.schedule_samples(tx)

    def aligned_boundary(self, now: datetime, interval: int) -> datetime:
        """J01: the next clock-aligned instant after ``now`` (a multiple of ``interval``
        seconds since midnight UTC)."""
        return self.metering.aligned_boundary(now, interval)

    def _keep_aligned_ended(self, boundary: datetime) -> None:
        self.metering.keep_aligned_ended(boundary)

    # ======================================================================================
    # remote control (F01 - F06; remote.py)
    # ======================================================================================

    def remote_start_decision(self, req: call.RequestStartTransaction) -> tuple[str, Evse | None]:
        """Accepted with the EVSE to use: the given one if free (or its transaction waits for
        authorization); Rejected for an unknown, busy, faulted or unavailable EVSE."""
        return self.remote.remote_start_decision(req)

    async def request_start(self, req: call.RequestStartTransaction) -> Any:
        return await self.remote.request_start(req)

    async def remote_start(self, e: Evse, token: Token, remote_start_id: int) -> None:
        """F02.FR.?: AuthCtrlr.AuthorizeRemoteStart true → Authorize first; false → the
        token counts as authorized."""
        await self.remote.remote_start(e, token, remote_start_id)

    def remote_stop_status(self, req: call.RequestStopTransaction) -> str:
        return self.remote.remote_stop_status(req)

    async def request_stop(self, req: call.RequestStopTransaction) -> Any:
        return await self.remote.request_stop(req)

    def unlock_status(self, req: call.UnlockConnector) -> str:
        """UnknownConnector; OngoingAuthorizedTransaction (F05.FR.02); UnlockFailed when the
        lock fails or there is no lock (fixed cable); else Unlocked."""
        return self.remote.unlock_status(req)

    async def unlock_connector(self, req: call.UnlockConnector) -> Any:
        return await self.remote.unlock_connector(req)

    def trigger_status(self, message: str, evse_id: int | None, connector: int | None) -> str:
        """Rejected for an unknown EVSE / connector, and for TransactionEvent without a
        transaction there."""
        return self.remote.trigger_status(message, evse_id, connector)

    async def trigger(self, req: call.TriggerMessage) -> Any | None:
        return await self.remote.trigger(req)

    def _triggered(self, message: str, targets: list[Evse]) -> None:
        self.remote.triggered(message, targets)

    # ======================================================================================
    # lifecycle
    # ======================================================================================

    async def on_registered(self) -> None:
        """BootNotification Accepted: every connector's status, then the meter loop."""
        await self.lifecycle.on_registered()

    def on_connection_lost(self) -> None:
        """Nothing to do at once: statuses that change offline are reported on reconnect,
        transaction events queue in the station."""
        self._was_online = False

    async def end_all(self, reason: str) -> None:
        """End every transaction (before a reboot), then wait (bounded) until the Ended
        events were handed to the station."""
        await self.lifecycle.end_all(reason)

    async def reset_evse(self, evse: int, kind: str) -> None:
        """B11 / B12 for one EVSE (the station calls it after answering the Reset).

        Immediate ends the EVSE's transaction (triggerReason ResetCommand, stoppedReason
        ImmediateReset, B12.FR.04), then the EVSE restarts: its authorization and lock are
        released, a cable still plugged in needs a new plug-in for a new session. OnIdle comes
        once the transaction ended (the station polls for that): the EVSE restarted the moment
        it became idle, so nothing that happened since (a new plug-in, a card) is undone, and a
        transaction still running is left alone. Either way the EVSE reports its connector
        again (StatusNotification)."""
        await self.lifecycle.reset_evse(evse, kind)

    async def on_power_loss(self) -> None:
        """Power cycle / reset: transactions end (PowerLoss), volatile state is lost; the
        physical world, availability and cache stay."""
        await self.lifecycle.on_power_loss()

    async def settle(self, timeout: float) -> None:
        """Back to idle: transactions ended, authorizations dropped, nothing plugged, no
        fault, nothing left to hand to the station. TimeoutError after ``timeout`` real s."""
        await self.lifecycle.settle(timeout)

    def snapshot(self) -> dict[str, Any]:
        return {
            "stationOperative": self.station_operative,
            "stationScheduled": self.station_scheduled,
            "evses": [e.summary() for e in self.evses.values()],
            "transactions": [e.transaction.summary() for e in self.evses.values() if e.transaction],
            "authCache": self.cache.as_dict(),
            "outbox": len(self.outbox),
        }
