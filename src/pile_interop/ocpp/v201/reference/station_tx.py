"""The transaction half of the reference OCPP 2.0.1 station: EVSEs, authorization,
transactions and meter values (Part 2 blocks C, E, F, G, J).

:class:`Evses` is owned by :mod:`station201` and reaches the station only through a
:class:`~pile_interop.ocpp.v201.reference.station_port.StationPort`. Every timer runs on
``port.clock`` (a scaled :class:`~pile_interop.core.clock.Clock`).

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
* ``raise_fault``: the connector is Faulted, the power path opens; the transaction goes on
  (``chargingState`` SuspendedEVSE) unless ``PowerPathClosed`` / ``EnergyTransfer`` is a stop
  point (then Ended: triggerReason AbnormalCondition, stoppedReason Other).
* ``set_lock_failure``: an UnlockConnector answers UnlockFailed, and locking the cable when the
  power path would close fails: the connector goes Faulted (lock fault, reported with a
  NotifyEvent ConnectorPlugRetentionLock.Problem true, G05.FR.02) and no power flows until
  ``clear_fault`` or ``set_lock_failure(failing=False)``. A fixed cable has no lock
  (UnlockConnector: UnlockFailed, nothing to open).
* ``unplug`` with ``TxCtrlr.StopTxOnEVSideDisconnect`` true deauthorizes the transaction (E_25,
  stop points EVConnected / Authorized end it: triggerReason EVCommunicationLost, stoppedReason
  EVDisconnected); false keeps the cable locked in the socket and the transaction going
  (Updated EVCommunicationLost, chargingState SuspendedEV, E10) until the EV is plugged again or
  the driver stops it.
* Power loss: transactions end with stoppedReason PowerLoss (triggerReason AbnormalCondition);
  ``end_all("ImmediateReset")`` uses triggerReason ResetCommand; ``reset_evse`` resets one EVSE
  (Reset with an evseId).

Outgoing messages (TransactionEvent through ``port.send_tx``; StatusNotification and MeterValues
through ``port.send``) go out one at a time, in the order they were made, from one sender task
that a power loss does not cancel (the Ended events it makes must still reach the station's
offline queue).

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
:meth:`Evses.remote_stop_status`, :meth:`Evses.unlock_status`,
:meth:`Evses.availability_status`, :meth:`Evses.apply_availability`,
:meth:`Evses.availability_changed`,
:meth:`Evses.transaction_status`, :meth:`Evses.clear_cache_status`,
:meth:`Evses.trigger_status`, :meth:`Evses.lock_problem_event`, :meth:`Evses.reset_evse`,
:meth:`Evses.stops_by_group`, :meth:`Evses.stop_on_ev_side_disconnect`,
:meth:`Evses.authorize_remote_start`, :meth:`Evses.aligned_boundary`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ocpp.v201 import call, call_result
from ocpp.v201.datatypes import (
    ComponentType,
    EventDataType,
    EVSEType,
    MeterValueType,
    TransactionType,
    VariableType,
)

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.v201.reference.station_auth import (
    ACCEPTED,
    AuthCache,
    Token,
    TokenInfo,
    as_dict,
)
from pile_interop.ocpp.v201.reference.station_meter import (
    EnergyMeter,
    measurand_list,
    meter_value,
    next_aligned_boundary,
    read_meter,
    sampled_values,
)
from pile_interop.ocpp.v201.reference.station_port import StationPort

logger = logging.getLogger(__name__)

#: Longest protocol-time sleep of the meter loop: it re-reads the device model (intervals
#: changed by SetVariables) and notices a restored connection at least this often.
TICK_S = 1.0
#: Real seconds a CSMS request's follow-up waits so that the CALLRESULT goes out first.
AFTER_REPLY_REAL_S = 0.05
#: Protocol seconds ``end_all`` waits for its Ended events to be handed to the station.
END_ALL_DRAIN_S = 30.0
#: At most this many readings are kept for a transaction's Ended event.
ENDED_VALUES_MAX = 200

# TxStartPoint / TxStopPoint values (2.0.1 Part 2 §2.6.6)
PARKING = "ParkingBayOccupancy"
EV_CONNECTED = "EVConnected"
AUTHORIZED = "Authorized"
DATA_SIGNED = "DataSigned"
POWER_PATH = "PowerPathClosed"
ENERGY = "EnergyTransfer"
POINTS = (PARKING, EV_CONNECTED, AUTHORIZED, DATA_SIGNED, POWER_PATH, ENERGY)

ENERGY_REGISTER = "Energy.Active.Import.Register"
CONNECTOR_ID = 1

# device-model components
TX = "TxCtrlr"
AUTH = "AuthCtrlr"
CACHE = "AuthCacheCtrlr"
SAMPLED = "SampledDataCtrlr"
ALIGNED = "AlignedDataCtrlr"

#: The variables of this half: (component, evse, variable, default, read-only).
VARIABLES: list[tuple[str, int | None, str, str, bool]] = [
    (TX, None, "TxStartPoint", POWER_PATH, False),
    (TX, None, "TxStopPoint", f"{EV_CONNECTED},{AUTHORIZED}", False),
    (TX, None, "EVConnectionTimeOut", "60", False),
    (TX, None, "StopTxOnEVSideDisconnect", "true", False),
    (TX, None, "StopTxOnInvalidId", "true", False),
    (AUTH, None, "AuthorizeRemoteStart", "true", False),
    (AUTH, None, "LocalAuthorizeOffline", "true", False),
    (AUTH, None, "LocalPreAuthorize", "false", False),
    (AUTH, None, "OfflineTxForUnknownIdEnabled", "false", False),
    (AUTH, None, "MasterPassGroupId", "", False),
    (CACHE, None, "Enabled", "true", False),
    (CACHE, None, "LifeTime", "86400", False),
    (SAMPLED, None, "Enabled", "true", False),
    (SAMPLED, None, "TxStartedMeasurands", ENERGY_REGISTER, False),
    (SAMPLED, None, "TxUpdatedMeasurands", ENERGY_REGISTER, False),
    (SAMPLED, None, "TxUpdatedInterval", "0", False),
    (SAMPLED, None, "TxEndedMeasurands", ENERGY_REGISTER, False),
    (SAMPLED, None, "TxEndedInterval", "0", False),
    (ALIGNED, None, "Enabled", "true", False),
    (ALIGNED, None, "Measurands", ENERGY_REGISTER, False),
    (ALIGNED, None, "Interval", "0", False),
    (ALIGNED, None, "TxEndedMeasurands", ENERGY_REGISTER, False),
    (ALIGNED, None, "TxEndedInterval", "0", False),
    (ALIGNED, None, "SendDuringIdle", "false", False),
]


# ==========================================================================================
# state
# ==========================================================================================


@dataclass
class Authorization:
    """An accepted token for an EVSE (with or without a transaction yet)."""

    token: Token
    info: TokenInfo
    trigger: str  # Authorized | RemoteStart
    remote_start_id: int | None = None
    #: The idToken went out in a TransactionEvent (it is sent once per authorization).
    sent: bool = False
    timer: asyncio.Task[None] | None = None


@dataclass
class Transaction:
    id: str
    evse_id: int
    started_at: datetime
    seq_no: int = 0  # the next one
    remote_start_id: int | None = None
    #: Start/stop conditions that held at some time during the transaction (E06: a stop point
    #: ends the transaction when it *stops* holding).
    seen: set[str] = field(default_factory=set)
    #: chargingState of the last event sent.
    charging_state: str | None = None
    #: The CSMS did not accept the idToken and StopTxOnInvalidId is false: no energy (E05).
    suspended_evse: bool = False
    #: The token whose authorization this is (also after it ended), for snapshots.
    id_token: str | None = None
    ended_values: list[MeterValueType] = field(default_factory=list)
    sample_interval: int = 0
    next_sample_at: float | None = None  # clock.monotonic()
    ended_interval: int = 0
    next_ended_sample_at: float | None = None
    stopped_reason: str | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "transactionId": self.id,
            "evseId": self.evse_id,
            "seqNo": self.seq_no,
            "idToken": self.id_token,
            "remoteStartId": self.remote_start_id,
            "chargingState": self.charging_state,
            "suspendedEVSE": self.suspended_evse,
        }


@dataclass
class Evse:
    id: int
    meter: EnergyMeter
    # -- physical world (survives a power loss) --
    ev_connected: bool = False
    #: The EV side was unplugged during a transaction that goes on: the cable stays locked in
    #: the socket (E10) until the transaction ends.
    cable_held: bool = False
    fault: bool = False
    lock_failing: bool = False
    #: Locking the cable failed (connector Faulted until cleared).
    lock_fault: bool = False
    locked: bool = False
    ev_suspended: bool = False
    # -- persistent OCPP state --
    operative: bool = True
    scheduled_operative: bool | None = None
    # -- volatile --
    authorization: Authorization | None = None
    transaction: Transaction | None = None
    session_ended: bool = False
    #: Connector status last reported (None: not since the last registration).
    reported: str | None = None

    @property
    def cable(self) -> bool:
        return self.ev_connected or self.cable_held

    def summary(self) -> dict[str, Any]:
        auth = self.authorization
        return {
            "evseId": self.id,
            "reported": self.reported,
            "evConnected": self.ev_connected,
            "cableHeld": self.cable_held,
            "fault": self.fault,
            "lockFailing": self.lock_failing,
            "lockFault": self.lock_fault,
            "evSuspended": self.ev_suspended,
            "operative": self.operative,
            "scheduledOperative": self.scheduled_operative,
            "authorizedIdToken": auth.token.id_token if auth else None,
            "sessionEnded": self.session_ended,
            "transaction": self.transaction.summary() if self.transaction else None,
            "energyWh": self.meter.register_wh(),
        }


@dataclass
class _Out:
    """One outgoing message of this half."""

    request: Any
    transactional: bool
    on_result: Callable[[Any], None] | None = None


# ==========================================================================================
# the EVSEs
# ==========================================================================================


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
        self._outbox: deque[_Out] = deque()
        self._drained = asyncio.Event()
        self._drained.set()
        self._sender: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        #: follow-ups of CSMS requests still to run (remote start, stop, availability …) and
        #: cards being presented: ``settle`` lets them finish first
        self._follow_ups: set[asyncio.Task[Any]] = set()
        self._was_online = False
        self._aligned_interval = 0
        self._next_aligned: datetime | None = None
        self._ended_aligned_interval = 0
        self._next_ended_aligned: datetime | None = None
        #: eventId of the last NotifyEvent this half sent (unique per station and boot).
        self._event_id = 0

    # ======================================================================================
    # device model access
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

    # ======================================================================================
    # tasks and the sender
    # ======================================================================================

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=f"evses:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("task %s failed", task.get_name(), exc_info=task.exception())

    def _after_reply(self, work: Callable[[], Any], name: str) -> None:
        """Run ``work`` once the CALLRESULT being returned has gone out."""

        async def run() -> None:
            await asyncio.sleep(AFTER_REPLY_REAL_S)
            outcome = work()
            if asyncio.iscoroutine(outcome):
                await outcome

        task = self._spawn(run(), name)
        self._follow_ups.add(task)
        task.add_done_callback(self._follow_ups.discard)

    def _enqueue(
        self,
        request: Any,
        *,
        transactional: bool,
        on_result: Callable[[Any], None] | None = None,
    ) -> None:
        self._outbox.append(_Out(request, transactional, on_result))
        self._drained.clear()
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(
                self._send_loop(), name="evses:sender"
            )

    async def _send_loop(self) -> None:
        while self._outbox:
            item = self._outbox[0]
            try:
                if item.transactional:
                    result = await self.port.send_tx(item.request)
                else:
                    result = await self.port.send(item.request)
            except Exception:  # the station's business; keep the order going
                logger.exception("sending %s failed", type(item.request).__name__)
                result = None
            self._outbox.popleft()
            if result is not None and item.on_result is not None:
                try:
                    item.on_result(result)
                except Exception:
                    logger.exception("handling the answer to %s failed", type(item.request))
        self._drained.set()

    async def _drain(self, real_timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._drained.wait(), real_timeout)

    def _ensure_ticker(self) -> None:
        if self._ticker is None or self._ticker.done():
            self._ticker = self._spawn(self._tick_loop(), "meter")

    # ======================================================================================
    # control surface
    # ======================================================================================

    def _evse(self, evse: int) -> Evse:
        if evse not in self.evses:
            raise ValueError(f"no EVSE {evse} (1..{len(self.evses)})")
        return self.evses[evse]

    async def plug_in(self, evse: int = 1) -> None:
        """The driver plugs the cable in (both ends)."""
        self._ensure_ticker()
        e = self._evse(evse)
        if e.ev_connected:
            return
        e.ev_connected = True
        e.cable_held = False
        e.session_ended = False
        if e.authorization is not None and e.authorization.timer is not None:
            e.authorization.timer.cancel()
            e.authorization.timer = None
        self.report_status(e)
        self._evaluate(e, "CablePluggedIn")

    async def unplug(self, evse: int = 1) -> None:
        """The driver unplugs the cable at the EV (and takes it out of the socket when the
        station lets it go)."""
        self._ensure_ticker()
        e = self._evse(evse)
        if not e.ev_connected:
            return
        e.ev_connected = False
        e.session_ended = False
        e.ev_suspended = False
        tx = e.transaction
        if tx is None:
            e.locked = False
            self._evaluate(e, "EVCommunicationLost")
            return
        if self.stop_on_ev_side_disconnect(e):
            # E10 / E_25: the transaction is deauthorized.
            self._drop_authorization(e)
        else:
            e.cable_held = True  # E10.FR.01: stays locked until the driver comes back
        self._evaluate(e, "EVCommunicationLost", reason="EVDisconnected")

    async def present_id_tag(self, id_tag: str, evse: int | None = None) -> None:
        """A card (ISO14443) is presented at the reader (``settle`` waits for a presentation
        still waiting for its AuthorizeResponse)."""
        task = asyncio.current_task()
        if task is not None:
            self._follow_ups.add(task)
        try:
            await self._present(id_tag, evse)
        finally:
            if task is not None:
                self._follow_ups.discard(task)

    async def _present(self, id_tag: str, evse: int | None) -> None:
        self._ensure_ticker()
        token = Token(id_tag)
        if evse is not None:
            self._evse(evse)
        # E_15 / C01: the token that authorized a transaction stops it, without Authorize.
        for e in self.evses.values():
            auth = e.authorization
            if auth is not None and auth.token.same(token):
                if e.transaction is not None:
                    self._stop_authorization(e, "StopAuthorized", "Local", token=token)
                else:
                    self._drop_authorization(e)  # presented again before plugging: cancel
                    self.report_status(e)
                return
        info = await self.authorize_token(token)
        if not self.authorize_outcome(info):
            logger.info("idToken %s not accepted (%s)", id_tag, info.status)
            return
        if self.is_master_pass(info):
            # C16: a master pass stops transactions, never starts one.
            for e in self.evses.values():
                if e.transaction is not None and (evse is None or e.id == evse):
                    self._stop_authorization(e, "StopAuthorized", "MasterPass", token=token)
            return
        for e in self.evses.values():
            auth = e.authorization
            if e.transaction is not None and auth is not None and self.stops_by_group(auth, info):
                # C09 / C_39: a token of the same group stops it.
                self._stop_authorization(e, "StopAuthorized", "Local", token=token)
                return
        target = self.choose_evse(evse)
        if target is None:
            logger.info(
                "no EVSE free for idToken %s: %s",
                id_tag,
                [e.summary() for e in self.evses.values()],
            )
            return
        self._authorize_evse(target, Authorization(token, info, "Authorized"))

    def stop_on_ev_side_disconnect(self, e: Evse) -> bool:
        """E10: TxCtrlr.StopTxOnEVSideDisconnect: unplugging at the EV deauthorizes the
        transaction (true) or suspends it with the cable held locked (false)."""
        return self._bool(TX, "StopTxOnEVSideDisconnect")

    async def raise_fault(self, evse: int = 1) -> None:
        self._ensure_ticker()
        e = self._evse(evse)
        e.fault = True
        self.report_status(e)
        self._evaluate(e, "ChargingStateChanged", end_trigger="AbnormalCondition", quiet=True)

    async def clear_fault(self, evse: int = 1) -> None:
        self._ensure_ticker()
        e = self._evse(evse)
        e.fault = False
        if e.lock_fault:
            self._clear_lock_fault(e)
        self._evaluate(e, "ChargingStateChanged", quiet=True)

    async def set_lock_failure(self, evse: int = 1, failing: bool = True) -> None:
        """From now on locking the cable fails (``failing`` False: the lock is repaired, and a
        lock fault it caused clears)."""
        e = self._evse(evse)
        e.lock_failing = failing
        if not failing and e.lock_fault:
            self._clear_lock_fault(e)
            self._evaluate(e, "ChargingStateChanged", quiet=True)

    async def ev_suspend(self, evse: int = 1) -> None:
        """The EV stops drawing energy (chargingState SuspendedEV)."""
        e = self._evse(evse)
        e.ev_suspended = True
        self._evaluate(e, "ChargingStateChanged", reason="StoppedByEV", quiet=True)

    async def ev_resume(self, evse: int = 1) -> None:
        e = self._evse(evse)
        e.ev_suspended = False
        self._evaluate(e, "ChargingStateChanged", quiet=True)

    async def settle(self, timeout: float) -> None:
        """Back to idle: transactions ended, authorizations dropped, nothing plugged, no
        fault, nothing left to hand to the station. TimeoutError after ``timeout`` real s."""

        async def _settle() -> None:
            # what an answered CSMS request started finishes first (a remote start still
            # waiting for its AuthorizeResponse must not authorize an EVSE after the settle)
            current = asyncio.current_task()
            pending = [t for t in self._follow_ups if not t.done() and t is not current]
            if pending:
                await asyncio.wait(pending)
            for e in self.evses.values():
                e.lock_failing = False
                e.ev_suspended = False
                if e.transaction is not None:
                    self._end_transaction(e, "StopAuthorized", "Local")
                self._drop_authorization(e)
                await self.unplug(e.id)
                e.cable_held = False
                if e.fault or e.lock_fault:
                    await self.clear_fault(e.id)
                self.report_status(e)
            await self._drained.wait()

        await asyncio.wait_for(_settle(), timeout)

    # ======================================================================================
    # authorization (C01, C10, C12, C15, C16)
    # ======================================================================================

    def _cache_enabled(self) -> bool:
        return self._bool(CACHE, "Enabled")

    def remember(self, token: Token, info: TokenInfo) -> None:
        """C10.FR.04/05: keep every IdTokenInfo received (when the cache is enabled)."""
        if self._cache_enabled():
            self.cache.put(token, info, self.clock.now())

    def _cached(self, token: Token) -> TokenInfo | None:
        if not self._cache_enabled():
            return None
        return self.cache.get(token, self.clock.now(), self._int(CACHE, "LifeTime"))

    async def authorize_token(self, token: Token) -> TokenInfo:
        """The IdTokenInfo for a token: the cache (LocalPreAuthorize, Accepted entries only),
        else Authorize, else (offline / no answer) LocalAuthorizeOffline and
        OfflineTxForUnknownIdEnabled."""
        cached = self._cached(token)
        cached_ok = cached is not None and cached.status == ACCEPTED
        if self.port.online:
            if cached_ok and self._bool(AUTH, "LocalPreAuthorize"):
                assert cached is not None
                return cached
            result = await self.port.send(call.Authorize(id_token=token.to_type()))
            if result is not None:
                info = TokenInfo.from_payload(result.id_token_info)
                self.remember(token, info)
                return info
        if cached is not None:
            if not cached_ok or self._bool(AUTH, "LocalAuthorizeOffline"):
                return cached
            return TokenInfo("Invalid", cached.group_id_token)  # C12: cache not used offline
        if self._bool(AUTH, "OfflineTxForUnknownIdEnabled"):
            return TokenInfo(ACCEPTED)
        return TokenInfo("Invalid")

    def authorize_outcome(self, info: TokenInfo) -> bool:
        """Only Accepted allows charging."""
        return info.status == ACCEPTED

    def stops_by_group(self, auth: Authorization, info: TokenInfo) -> bool:
        """C09: a token with the same groupIdToken as the one that authorized a transaction
        stops it."""
        return auth.info.same_group(info.group_id_token)

    def is_master_pass(self, info: TokenInfo) -> bool:
        """C16: the token's groupIdToken is AuthCtrlr.MasterPassGroupId."""
        master = self._text(AUTH, "MasterPassGroupId")
        return bool(master) and info.same_group(master)

    def _free(self, e: Evse) -> bool:
        """A new session may start on the EVSE."""
        return (
            e.transaction is None
            and e.authorization is None
            and not e.fault
            and not e.lock_fault
            and self._available(e)
            and not e.session_ended
            and not e.cable_held
        )

    def _awaiting_authorization(self, e: Evse) -> bool:
        """A transaction started (e.g. at EVConnected) that nobody authorized yet."""
        return e.transaction is not None and e.authorization is None and e.ev_connected

    def choose_evse(self, evse: int | None) -> Evse | None:
        """The EVSE a token is for: the given one if it can take it; else one whose
        transaction waits for authorization, else a free plugged-in one, else a free one."""
        candidates = [self.evses[evse]] if evse is not None else list(self.evses.values())
        waiting = [e for e in candidates if self._awaiting_authorization(e)]
        free = [e for e in candidates if self._free(e)]
        plugged = [e for e in free if e.ev_connected]
        for group in (waiting, plugged, free):
            if group:
                return group[0]
        return None

    def _authorize_evse(self, e: Evse, auth: Authorization) -> None:
        e.authorization = auth
        if e.transaction is not None:
            e.transaction.id_token = auth.token.id_token
            if auth.remote_start_id is not None:
                e.transaction.remote_start_id = auth.remote_start_id
        if not e.ev_connected:
            auth.timer = self._spawn(self._ev_connection_timeout(e, auth), "ev-timeout")
        self._evaluate(e, auth.trigger)

    async def _ev_connection_timeout(self, e: Evse, auth: Authorization) -> None:
        """E03 / F_04: authorized but no cable within TxCtrlr.EVConnectionTimeOut."""
        timeout = self._int(TX, "EVConnectionTimeOut")
        if timeout <= 0:
            return
        await self.clock.sleep(timeout)
        if e.authorization is auth and not e.ev_connected:
            auth.timer = None
            logger.info("EVSE %d: EVConnectionTimeOut", e.id)
            self._stop_authorization(e, "EVConnectTimeout", "Timeout", force=True)

    def _drop_authorization(self, e: Evse) -> None:
        auth, e.authorization = e.authorization, None
        if auth is not None and auth.timer is not None:
            if auth.timer is not asyncio.current_task():
                auth.timer.cancel()
            auth.timer = None

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
        self._drop_authorization(e)
        if e.transaction is None:
            self.report_status(e)
            return
        self._evaluate(e, trigger, reason=reason, token=token)
        if force and e.transaction is not None:
            self._end_transaction(e, trigger, reason)

    # ======================================================================================
    # transactions (E01-E07, E10)
    # ======================================================================================

    def _available(self, e: Evse) -> bool:
        return e.operative and self.station_operative

    def conditions(self, e: Evse) -> dict[str, bool]:
        """Which TxStartPoint / TxStopPoint conditions hold now."""
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
        """E01: a transaction starts when any TxStartPoint condition holds."""
        points = self._points("TxStartPoint") or [POWER_PATH]
        return not e.session_ended and self._available(e) and any(conditions[p] for p in points)

    def should_end(self, e: Evse, tx: Transaction, conditions: dict[str, bool]) -> bool:
        """E06: it ends when a TxStopPoint condition that held during it holds no more."""
        points = self._points("TxStopPoint") or [EV_CONNECTED, AUTHORIZED]
        return any(p in tx.seen and not conditions[p] for p in points)

    def start_trigger(self, e: Evse, trigger: str, conditions: dict[str, bool]) -> str:
        """The Started event's triggerReason: the event that reached the start point
        (ChargingStateChanged when only EnergyTransfer was reached)."""
        points = self._points("TxStartPoint") or [POWER_PATH]
        reached = {p for p in points if conditions[p]}
        return "ChargingStateChanged" if reached == {ENERGY} else trigger

    def charging_state(self, e: Evse, tx: Transaction | None) -> str:
        conds = self.conditions(e)
        if conds[ENERGY]:
            return "Charging"
        if conds[POWER_PATH] or (e.cable_held and not e.ev_connected):
            return "SuspendedEV"
        if e.ev_connected and e.authorization is not None:
            return "SuspendedEVSE"
        if e.ev_connected:
            return "EVConnected"
        return "Idle"

    def _update_power(self, e: Evse) -> None:
        """Lock the cable when the power path is about to close; let energy flow or not."""
        if (
            e.ev_connected
            and e.authorization is not None
            and not e.locked
            and not e.lock_fault
            and not self.fixed_cable
        ):
            if e.lock_failing:
                logger.info("EVSE %d: connector lock failure", e.id)
                e.lock_fault = True
                self.report_status(e)
                self._notify_lock_problem(e, True)
            else:
                e.locked = True
        e.meter.set_flowing(self.conditions(e)[ENERGY])

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
        self._update_power(e)
        tx = e.transaction
        conds = self.conditions(e)
        if tx is None:
            if self.start_point_reached(e, conds):
                self._start_transaction(e, self.start_trigger(e, trigger, conds), conds)
            self.report_status(e)
            return
        if self.should_end(e, tx, conds):
            self._end_transaction(e, end_trigger or trigger, reason, token=token)
            return
        tx.seen |= {p for p, ok in conds.items() if ok}
        send_token = self._token_to_send(e) or token
        if not quiet or send_token is not None or self.charging_state(e, tx) != tx.charging_state:
            self._emit(e, tx, "Updated", trigger, token=send_token)
        self.report_status(e)

    def _token_to_send(self, e: Evse) -> Token | None:
        """The idToken goes out once per authorization (E03.FR.?: in the event that carries
        the authorization)."""
        auth = e.authorization
        if auth is None or auth.sent:
            return None
        auth.sent = True
        return auth.token

    def _start_transaction(self, e: Evse, trigger: str, conds: dict[str, bool]) -> None:
        auth = e.authorization
        now = self.clock.now()
        tx = Transaction(
            id=str(uuid.uuid4()),
            evse_id=e.id,
            started_at=now,
            remote_start_id=auth.remote_start_id if auth else None,
            id_token=auth.token.id_token if auth else None,
        )
        tx.seen = {p for p, ok in conds.items() if ok}
        e.transaction = tx
        e.meter.start_session()
        values: list[MeterValueType] = []
        if self._bool(SAMPLED, "Enabled"):
            readings = self.read(e, measurand_list(self._text(SAMPLED, "TxStartedMeasurands")))
            if readings:
                values.append(meter_value(now, sampled_values(readings, "Transaction.Begin")))
        self._emit(e, tx, "Started", trigger, token=self._token_to_send(e), values=values)
        self._schedule_samples(tx)

    def _end_transaction(
        self, e: Evse, trigger: str, reason: str, *, token: Token | None = None
    ) -> None:
        tx = e.transaction
        if tx is None:
            return
        now = self.clock.now()
        values = list(tx.ended_values)
        if self._bool(SAMPLED, "Enabled"):
            readings = self.read(e, measurand_list(self._text(SAMPLED, "TxEndedMeasurands")))
            if readings:
                values.append(meter_value(now, sampled_values(readings, "Transaction.End")))
        tx.stopped_reason = reason
        self._emit(e, tx, "Ended", trigger, token=token, values=values, stopped_reason=reason)
        e.transaction = None
        self._drop_authorization(e)
        e.locked = False  # the lock opens at the end of the transaction
        if e.cable_held:
            e.cable_held = False  # ... and the driver takes the cable away
        if e.ev_connected:
            e.session_ended = True
        e.meter.set_flowing(False)
        self._apply_scheduled()
        self.report_status(e)

    def next_seq_no(self, tx: Transaction) -> int:
        """E_53: one counter per transaction, 0 for Started, +1 per event, no gaps."""
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
        info = TransactionType(
            transaction_id=tx.id,
            charging_state=self.charging_state(e, tx),  # type: ignore[arg-type]
            stopped_reason=stopped_reason,  # type: ignore[arg-type]
            remote_start_id=tx.remote_start_id,
        )
        return call.TransactionEvent(
            event_type=event_type,  # type: ignore[arg-type]
            timestamp=utc_iso(timestamp or self.clock.now()),
            trigger_reason=trigger,  # type: ignore[arg-type]
            seq_no=self.next_seq_no(tx),
            transaction_info=info,
            meter_value=values or None,
            evse=EVSEType(id=e.id, connector_id=CONNECTOR_ID),
            id_token=token.to_type() if token is not None else None,
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
        request = self.transaction_event_payload(
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
            self.on_transaction_event_result(tx, token, result)

        self._enqueue(request, transactional=True, on_result=on_result)

    def on_transaction_event_result(
        self, tx: Transaction, token: Token | None, result: Any
    ) -> None:
        """C10: cache the idTokenInfo; E05: a token the CSMS does not accept deauthorizes the
        transaction (StopTxOnInvalidId true: triggerReason Deauthorized, stoppedReason
        DeAuthorized; false: no energy, chargingState SuspendedEVSE)."""
        if token is None or getattr(result, "id_token_info", None) is None:
            return
        info = TokenInfo.from_payload(result.id_token_info)
        self.remember(token, info)
        e = self.evses.get(tx.evse_id)
        if e is None or e.transaction is not tx:
            return
        auth = e.authorization
        if auth is None or not auth.token.same(token):
            return
        auth.info = info
        if self.authorize_outcome(info):
            return
        if self._bool(TX, "StopTxOnInvalidId"):
            self._drop_authorization(e)
            self._evaluate(e, "Deauthorized", reason="DeAuthorized")
        else:
            tx.suspended_evse = True
            self._evaluate(e, "ChargingStateChanged", quiet=True)

    def _apply_scheduled(self) -> None:
        """G03/G04: a Scheduled availability change happens once the transaction ended."""
        for e in self.evses.values():
            if e.scheduled_operative is not None and e.transaction is None:
                e.operative, e.scheduled_operative = e.scheduled_operative, None
        if self.station_scheduled is not None and not self.has_transaction():
            self.station_operative, self.station_scheduled = self.station_scheduled, None
        for e in self.evses.values():
            self.report_status(e)

    def has_transaction(self, evse: int | None = None) -> bool:
        if evse is not None:
            e = self.evses.get(evse)
            return e is not None and e.transaction is not None
        return any(e.transaction is not None for e in self.evses.values())

    def busy(self) -> bool:
        """A transaction runs or a token waits for its EV (Reset OnIdle waits)."""
        return any(
            e.transaction is not None or e.authorization is not None for e in self.evses.values()
        )

    def _tx_by_id(self, transaction_id: str | None) -> Evse | None:
        for e in self.evses.values():
            if e.transaction is not None and e.transaction.id == transaction_id:
                return e
        return None

    # ======================================================================================
    # lock failure (G05)
    # ======================================================================================

    def _clear_lock_fault(self, e: Evse) -> None:
        e.lock_fault = False
        self._notify_lock_problem(e, False)

    def _notify_lock_problem(self, e: Evse, problem: bool) -> None:
        """G05.FR.02: a failed connector lock is reported with a NotifyEvent (and its clearing
        too, ``cleared`` true). Not queued while offline (a NotifyEvent is no transaction
        message)."""
        if not self.port.online:
            return
        request = self.lock_problem_event(e, problem)
        if request is not None:
            self._enqueue(request, transactional=False)

    def lock_problem_event(self, e: Evse, problem: bool) -> call.NotifyEvent | None:
        """The NotifyEvent for component ConnectorPlugRetentionLock (of the EVSE's connector),
        variable Problem, actualValue ``true`` / ``false`` (trigger Delta, a hard-wired
        notification: no monitor is involved)."""
        self._event_id += 1
        now = utc_iso(self.clock.now())
        return call.NotifyEvent(
            generated_at=now,
            seq_no=0,
            tbc=False,
            event_data=[
                EventDataType(
                    event_id=self._event_id,
                    timestamp=now,
                    trigger="Delta",  # type: ignore[arg-type]
                    actual_value="true" if problem else "false",
                    event_notification_type="HardWiredNotification",  # type: ignore[arg-type]
                    component=ComponentType(
                        name="ConnectorPlugRetentionLock",
                        evse=EVSEType(id=e.id, connector_id=CONNECTOR_ID),
                    ),
                    variable=VariableType(name="Problem"),
                    cleared=None if problem else True,
                    transaction_id=e.transaction.id if e.transaction is not None else None,
                )
            ],
        )

    # ======================================================================================
    # status (G01)
    # ======================================================================================

    def connector_status(self, e: Evse) -> str:
        """Faulted > Occupied (a cable in the socket) > Available while a transaction waits
        for its EV > Unavailable > Available."""
        if e.fault or e.lock_fault:
            return "Faulted"
        if e.cable:
            return "Occupied"
        if e.transaction is not None:
            return "Available"
        if not self._available(e):
            return "Unavailable"
        return "Available"

    def status_notification_payload(self, e: Evse, status: str) -> call.StatusNotification:
        return call.StatusNotification(
            timestamp=utc_iso(self.clock.now()),
            connector_status=status,  # type: ignore[arg-type]
            evse_id=e.id,
            connector_id=CONNECTOR_ID,
        )

    def report_status(self, e: Evse, *, force: bool = False, status: str | None = None) -> None:
        """StatusNotification when the status (``status``, else the current one) changed since
        the last one reported (or ``force``), while online; what changes offline is reported
        after the reconnect."""
        if status is None:
            status = self.connector_status(e)
        if not force and status == e.reported:
            return
        if not self.port.online:
            return
        e.reported = status
        self._enqueue(self.status_notification_payload(e, status), transactional=False)

    # ======================================================================================
    # meter values (J01, J02)
    # ======================================================================================

    def read(self, e: Evse, items: list[str]) -> list[tuple[str, float]]:
        return read_meter(e.meter, items)

    def meter_values_payload(self, e: Evse, values: list[MeterValueType]) -> call.MeterValues:
        return call.MeterValues(evse_id=e.id, meter_value=values)

    def _schedule_samples(self, tx: Transaction) -> None:
        now = self.clock.monotonic()
        tx.sample_interval = self._int(SAMPLED, "TxUpdatedInterval")
        tx.next_sample_at = now + tx.sample_interval if tx.sample_interval > 0 else None
        tx.ended_interval = self._int(SAMPLED, "TxEndedInterval")
        tx.next_ended_sample_at = now + tx.ended_interval if tx.ended_interval > 0 else None

    def _keep_ended(self, tx: Transaction, value: MeterValueType) -> None:
        if len(tx.ended_values) < ENDED_VALUES_MAX:
            tx.ended_values.append(value)

    async def _tick_loop(self) -> None:
        """Clock-aligned and sampled readings, and statuses to report after a reconnect."""
        while True:
            wake = self._tick()
            await self.clock.sleep(max(0.0, min(TICK_S, wake)))

    def _tick(self) -> float:
        """Do what is due; return the protocol seconds until the next thing is due."""
        online = self.port.online
        if online and not self._was_online:
            for e in self.evses.values():
                self.report_status(e)
        self._was_online = online
        waits = [TICK_S]
        now = self.clock.now()
        # -- clock-aligned (J01 / J02): timestamps exactly on the boundary --
        interval = self._int(ALIGNED, "Interval") if self._bool(ALIGNED, "Enabled") else 0
        if interval != self._aligned_interval:
            self._aligned_interval = interval
            self._next_aligned = self.aligned_boundary(now, interval) if interval > 0 else None
        if self._next_aligned is not None and interval > 0:
            if now >= self._next_aligned:
                self._send_aligned(self._next_aligned)
                self._next_aligned = self.aligned_boundary(max(now, self._next_aligned), interval)
            waits.append((self._next_aligned - now).total_seconds())
        ended = self._int(ALIGNED, "TxEndedInterval") if self._bool(ALIGNED, "Enabled") else 0
        if ended != self._ended_aligned_interval:
            self._ended_aligned_interval = ended
            self._next_ended_aligned = self.aligned_boundary(now, ended) if ended > 0 else None
        if self._next_ended_aligned is not None and ended > 0:
            if now >= self._next_ended_aligned:
                self._keep_aligned_ended(self._next_ended_aligned)
                self._next_ended_aligned = self.aligned_boundary(
                    max(now, self._next_ended_aligned), ended
                )
            waits.append((self._next_ended_aligned - now).total_seconds())
        # -- sampled (J_07 .. J_10) --
        mono = self.clock.monotonic()
        for e in self.evses.values():
            tx = e.transaction
            if tx is None:
                continue
            waits.extend(self._sample(e, tx, mono))
        return min(waits)

    def _sample(self, e: Evse, tx: Transaction, mono: float) -> list[float]:
        waits = []
        enabled = self._bool(SAMPLED, "Enabled")
        interval = self._int(SAMPLED, "TxUpdatedInterval") if enabled else 0
        if interval != tx.sample_interval:
            tx.sample_interval = interval
            tx.next_sample_at = mono + interval if interval > 0 else None
        if tx.next_sample_at is not None:
            if mono >= tx.next_sample_at:
                # Stamped with the sampling instant, not the moment the loop got to run.
                late = mono - tx.next_sample_at
                when = self.clock.now() - timedelta(seconds=late)
                items = measurand_list(self._text(SAMPLED, "TxUpdatedMeasurands"))
                values = sampled_values(self.read(e, items), "Sample.Periodic")
                mv = [meter_value(when, values)] if values else []
                self._emit(e, tx, "Updated", "MeterValuePeriodic", values=mv, timestamp=when)
                tx.next_sample_at += interval
                if tx.next_sample_at <= mono:
                    tx.next_sample_at = mono + interval
            waits.append(tx.next_sample_at - mono)
        ended = self._int(SAMPLED, "TxEndedInterval") if enabled else 0
        if ended != tx.ended_interval:
            tx.ended_interval = ended
            tx.next_ended_sample_at = mono + ended if ended > 0 else None
        if tx.next_ended_sample_at is not None:
            if mono >= tx.next_ended_sample_at:
                late = mono - tx.next_ended_sample_at
                when = self.clock.now() - timedelta(seconds=late)
                items = measurand_list(self._text(SAMPLED, "TxEndedMeasurands"))
                values = sampled_values(self.read(e, items), "Sample.Periodic")
                if values:
                    self._keep_ended(tx, meter_value(when, values))
                tx.next_ended_sample_at += ended
                if tx.next_ended_sample_at <= mono:
                    tx.next_ended_sample_at = mono + ended
            waits.append(tx.next_ended_sample_at - mono)
        return waits

    def aligned_boundary(self, now: datetime, interval: int) -> datetime:
        """J01: the next clock-aligned instant after ``now`` (a multiple of ``interval``
        seconds since midnight UTC)."""
        return next_aligned_boundary(now, interval)

    def _send_aligned(self, boundary: datetime) -> None:
        """J01: MeterValues per EVSE; J02: in a transaction, a TransactionEvent Updated with
        triggerReason MeterValueClock. AlignedDataCtrlr.SendDuringIdle: only while no
        transaction runs."""
        if self._bool(ALIGNED, "SendDuringIdle") and self.has_transaction():
            return
        items = measurand_list(self._text(ALIGNED, "Measurands"))
        for e in self.evses.values():
            values = sampled_values(self.read(e, items), "Sample.Clock")
            if not values:
                continue
            mv = meter_value(boundary, values)
            tx = e.transaction
            if tx is not None:
                self._emit(e, tx, "Updated", "MeterValueClock", values=[mv], timestamp=boundary)
            elif self.port.online:
                self._enqueue(self.meter_values_payload(e, [mv]), transactional=False)

    def _keep_aligned_ended(self, boundary: datetime) -> None:
        items = measurand_list(self._text(ALIGNED, "TxEndedMeasurands"))
        for e in self.evses.values():
            tx = e.transaction
            if tx is None:
                continue
            values = sampled_values(self.read(e, items), "Sample.Clock")
            if values:
                self._keep_ended(tx, meter_value(boundary, values))

    # ======================================================================================
    # CSMS requests
    # ======================================================================================

    # -- RequestStartTransaction (F01, F02) -------------------------------------------------

    def remote_start_decision(self, req: call.RequestStartTransaction) -> tuple[str, Evse | None]:
        """Accepted with the EVSE to use: the given one if free (or its transaction waits for
        authorization); Rejected for an unknown, busy, faulted or unavailable EVSE."""
        if req.evse_id is not None and req.evse_id not in self.evses:
            return "Rejected", None
        target = self.choose_evse(req.evse_id)
        if target is None:
            return "Rejected", None
        return "Accepted", target

    async def request_start(self, req: call.RequestStartTransaction) -> Any:
        self._ensure_ticker()
        status, target = self.remote_start_decision(req)
        if status != "Accepted" or target is None:
            return call_result.RequestStartTransaction(status=status)  # type: ignore[arg-type]
        tx = target.transaction
        token = Token.from_payload(req.id_token)
        remote_id = int(req.remote_start_id)
        self._after_reply(lambda: self.remote_start(target, token, remote_id), "remote-start")
        return call_result.RequestStartTransaction(
            status=status,  # type: ignore[arg-type]
            transaction_id=tx.id if tx is not None else None,
        )

    def authorize_remote_start(self) -> bool:
        """F02: AuthCtrlr.AuthorizeRemoteStart: Authorize the idToken of a
        RequestStartTransaction first."""
        return self._bool(AUTH, "AuthorizeRemoteStart")

    async def remote_start(self, e: Evse, token: Token, remote_start_id: int) -> None:
        """F02.FR.?: AuthCtrlr.AuthorizeRemoteStart true → Authorize first; false → the
        token counts as authorized."""
        if self.authorize_remote_start():
            info = await self.authorize_token(token)
            if not self.authorize_outcome(info):
                logger.info("remote start: idToken %s not accepted", token.id_token)
                return
        else:
            info = TokenInfo(ACCEPTED)
        if not (self._free(e) or self._awaiting_authorization(e)):
            logger.info("remote start: EVSE %d no longer free", e.id)
            return
        self._authorize_evse(e, Authorization(token, info, "RemoteStart", remote_start_id))

    # -- RequestStopTransaction (F03) -------------------------------------------------------

    def remote_stop_status(self, req: call.RequestStopTransaction) -> str:
        return "Accepted" if self._tx_by_id(req.transaction_id) is not None else "Rejected"

    async def request_stop(self, req: call.RequestStopTransaction) -> Any:
        status = self.remote_stop_status(req)
        if status == "Accepted":
            tx_id = req.transaction_id

            def stop() -> None:
                e = self._tx_by_id(tx_id)
                if e is not None:
                    self._stop_authorization(e, "RemoteStop", "Remote", force=True)

            self._after_reply(stop, "remote-stop")
        return call_result.RequestStopTransaction(status=status)  # type: ignore[arg-type]

    # -- UnlockConnector (F05) --------------------------------------------------------------

    def unlock_status(self, req: call.UnlockConnector) -> str:
        """UnknownConnector; OngoingAuthorizedTransaction (F05.FR.02); UnlockFailed when the
        lock fails or there is no lock (fixed cable); else Unlocked."""
        e = self.evses.get(req.evse_id)
        if e is None or req.connector_id != CONNECTOR_ID:
            return "UnknownConnector"
        if e.transaction is not None and e.authorization is not None:
            return "OngoingAuthorizedTransaction"
        if e.lock_failing or self.fixed_cable:
            return "UnlockFailed"
        return "Unlocked"

    async def unlock_connector(self, req: call.UnlockConnector) -> Any:
        status = self.unlock_status(req)
        if status == "Unlocked":
            e = self.evses[req.evse_id]

            def unlock() -> None:
                if e.transaction is not None:  # not authorized (F05.FR.03): end it first
                    self._end_transaction(e, "UnlockCommand", "Other")
                e.locked = False
                if e.cable_held:
                    e.cable_held = False
                    self.report_status(e)

            self._after_reply(unlock, "unlock")
        return call_result.UnlockConnector(status=status)  # type: ignore[arg-type]

    # -- ChangeAvailability (G03, G04) --------------------------------------------------------

    def availability_status(self, req: call.ChangeAvailability) -> str:
        """Rejected for an unknown EVSE / connector; Scheduled when going Inoperative while a
        transaction runs there (station-wide: anywhere); else Accepted."""
        evse = as_dict(req.evse) if req.evse is not None else {}
        evse_id = evse.get("id")
        connector = evse.get("connector_id", evse.get("connectorId"))
        if evse_id is not None and evse_id != 0:
            if evse_id not in self.evses:
                return "Rejected"
            if connector is not None and connector != CONNECTOR_ID:
                return "Rejected"
        elif connector is not None:
            return "Rejected"
        if str(req.operational_status) == "Inoperative" and self.has_transaction(
            evse_id if evse_id else None
        ):
            return "Scheduled"
        return "Accepted"

    def apply_availability(self, evse_id: int | None, operative: bool) -> None:
        """Change (or schedule) the availability at once (persistent across reboots); the
        StatusNotifications follow the answer (:meth:`availability_changed`)."""
        logger.debug("availability of %s: %s", evse_id or "the station", operative)
        if evse_id:
            e = self.evses[evse_id]
            if operative or e.transaction is None:
                e.operative, e.scheduled_operative = operative, None
            else:
                e.scheduled_operative = False
        elif operative or not self.has_transaction():
            self.station_operative, self.station_scheduled = operative, None
        else:
            self.station_scheduled = False

    def availability_changed(
        self, evse_id: int | None, operative: bool, statuses: dict[int, str]
    ) -> None:
        """G03 / G04: after the ChangeAvailability answer, the connectors report the status the
        change left them in (``statuses``, taken when it happened: a second change right after
        the first is reported as a second StatusNotification) when it differs from the last
        one reported."""
        for e in self.evses.values():
            self.report_status(e, status=statuses[e.id])

    async def change_availability(self, req: call.ChangeAvailability) -> Any:
        status = self.availability_status(req)
        if status != "Rejected":
            evse = as_dict(req.evse) if req.evse is not None else {}
            evse_id = evse.get("id") or None
            operative = str(req.operational_status) == "Operative"
            # the state changes now (a request or manual action right after the answer sees
            # it); only the StatusNotifications wait for the answer to go out
            self.apply_availability(evse_id, operative)
            statuses = {e.id: self.connector_status(e) for e in self.evses.values()}
            self._after_reply(
                lambda: self.availability_changed(evse_id, operative, statuses), "availability"
            )
        return call_result.ChangeAvailability(status=status)  # type: ignore[arg-type]

    # -- GetTransactionStatus (E14) -----------------------------------------------------------

    def _queued(self, transaction_id: str | None) -> bool:
        """Transaction messages not yet delivered: this half's own queue, plus the station's
        offline queue when the port offers ``queued_tx()`` (a list of queued requests)."""
        pending = [o.request for o in self._outbox if o.transactional]
        station_queue = getattr(self.port, "queued_tx", None)
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
        """messagesInQueue; ongoingIndicator only when a transactionId was given."""
        ongoing = None
        if req.transaction_id is not None:
            ongoing = self._tx_by_id(req.transaction_id) is not None
        return call_result.GetTransactionStatus(
            messages_in_queue=self._queued(req.transaction_id), ongoing_indicator=ongoing
        )

    async def get_transaction_status(self, req: call.GetTransactionStatus) -> Any:
        return self.transaction_status(req)

    # -- ClearCache (C11) ----------------------------------------------------------------------

    def clear_cache_status(self) -> str:
        """C_38: Rejected when the cache is disabled."""
        return "Accepted" if self._cache_enabled() else "Rejected"

    async def clear_cache(self, req: call.ClearCache) -> Any:
        status = self.clear_cache_status()
        if status == "Accepted":
            self.cache.clear()
        return call_result.ClearCache(status=status)  # type: ignore[arg-type]

    # -- TriggerMessage (F06) --------------------------------------------------------------------

    def trigger_status(self, message: str, evse_id: int | None, connector: int | None) -> str:
        """Rejected for an unknown EVSE / connector, and for TransactionEvent without a
        transaction there."""
        if evse_id is not None and evse_id not in self.evses:
            return "Rejected"
        if connector is not None and (evse_id is None or connector != CONNECTOR_ID):
            return "Rejected"
        if message == "TransactionEvent" and not self.has_transaction(evse_id):
            return "Rejected"
        return "Accepted"

    async def trigger(self, req: call.TriggerMessage) -> Any | None:
        message = str(req.requested_message)
        if message not in ("MeterValues", "TransactionEvent", "StatusNotification"):
            return None
        evse = as_dict(req.evse) if req.evse is not None else {}
        evse_id = evse.get("id") or None
        connector = evse.get("connector_id", evse.get("connectorId"))
        status = self.trigger_status(message, evse_id, connector)
        if status == "Accepted":
            targets = [self.evses[evse_id]] if evse_id else list(self.evses.values())
            self._after_reply(lambda: self._triggered(message, targets), f"trigger-{message}")
        return call_result.TriggerMessage(status=status)  # type: ignore[arg-type]

    def _triggered(self, message: str, targets: list[Evse]) -> None:
        now = self.clock.now()
        for e in targets:
            if message == "StatusNotification":
                self.report_status(e, force=True)
            elif message == "MeterValues":
                items = measurand_list(self._text(ALIGNED, "Measurands")) or [ENERGY_REGISTER]
                values = sampled_values(self.read(e, items), "Trigger")
                self._enqueue(
                    self.meter_values_payload(e, [meter_value(now, values)]),
                    transactional=False,
                )
            elif message == "TransactionEvent" and e.transaction is not None:
                items = measurand_list(self._text(SAMPLED, "TxUpdatedMeasurands"))
                values = sampled_values(self.read(e, items), "Trigger")
                mv = [meter_value(now, values)] if values else []
                self._emit(e, e.transaction, "Updated", "Trigger", values=mv)

    # ======================================================================================
    # lifecycle
    # ======================================================================================

    async def on_registered(self) -> None:
        """BootNotification Accepted: every connector's status, then the meter loop."""
        self._was_online = self.port.online
        for e in self.evses.values():
            self.report_status(e, force=True)
        self._ensure_ticker()

    def on_connection_lost(self) -> None:
        """Nothing to do at once: statuses that change offline are reported on reconnect,
        transaction events queue in the station."""
        self._was_online = False

    def _cancel_volatile_tasks(self) -> None:
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        self._ticker = None

    async def end_all(self, reason: str) -> None:
        """End every transaction (before a reboot), then wait (bounded) until the Ended
        events were handed to the station."""
        trigger = "ResetCommand" if reason in ("ImmediateReset", "Reboot") else "AbnormalCondition"
        for e in self.evses.values():
            if e.transaction is not None:
                self._end_transaction(e, trigger, reason)
        await self._drain(self.clock.real(END_ALL_DRAIN_S))

    async def reset_evse(self, evse: int, kind: str) -> None:
        """B11 / B12 for one EVSE (the station calls it after answering the Reset).

        Immediate ends the EVSE's transaction (triggerReason ResetCommand, stoppedReason
        ImmediateReset, B12.FR.04), then the EVSE restarts: its authorization and lock are
        released, a cable still plugged in needs a new plug-in for a new session. OnIdle comes
        once the transaction ended (the station polls for that): the EVSE restarted the moment
        it became idle, so nothing that happened since (a new plug-in, a card) is undone, and a
        transaction still running is left alone. Either way the EVSE reports its connector
        again (StatusNotification)."""
        e = self._evse(evse)
        if str(kind) == "Immediate":
            if e.transaction is not None:
                self._end_transaction(e, "ResetCommand", "ImmediateReset")
            self._drop_authorization(e)
            e.locked = False
            e.session_ended = e.ev_connected
            e.meter.set_flowing(False)
        elif e.transaction is not None:
            logger.warning("EVSE %d: OnIdle reset while a transaction runs: skipped", e.id)
            return
        logger.info("EVSE %d reset (%s)", e.id, kind)
        self.report_status(e, force=True)
        await self._drain(self.clock.real(END_ALL_DRAIN_S))

    async def on_power_loss(self) -> None:
        """Power cycle / reset: transactions end (PowerLoss), volatile state is lost; the
        physical world, availability and cache stay."""
        for e in self.evses.values():
            if e.transaction is not None:
                self._end_transaction(e, "AbnormalCondition", "PowerLoss")
        self._cancel_volatile_tasks()
        for e in self.evses.values():
            self._drop_authorization(e)
            e.reported = None
            e.locked = False
            e.session_ended = e.ev_connected  # a new session needs a new plug-in
            e.meter.set_flowing(False)
        self._was_online = False
        self._aligned_interval = self._ended_aligned_interval = 0
        self._next_aligned = self._next_ended_aligned = None

    def snapshot(self) -> dict[str, Any]:
        return {
            "stationOperative": self.station_operative,
            "stationScheduled": self.station_scheduled,
            "evses": [e.summary() for e in self.evses.values()],
            "transactions": [e.transaction.summary() for e in self.evses.values() if e.transaction],
            "authCache": self.cache.as_dict(),
            "outbox": len(self._outbox),
        }
