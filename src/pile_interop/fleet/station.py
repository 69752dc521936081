"""One lean fleet station: a connection, a few numbers, and one coroutine.

A station holds its identity, its kind, its connection and its timers in ``__slots__`` (no
frame log, no per-station mock, no random generator: those are the fleet's). Its coroutine
connects (bounded, back-off with jitter between attempts), boots (again after the interval a
Pending / Rejected answer gives), reports its connectors, then waits for whatever is due next
(heartbeat, transaction start, meter value, transaction end) while answering the CSMS's CALLs.
One CALL is outstanding at a time (OCPP-J); each answer is timed and judged
(:class:`~pile_interop.fleet.judge.Judge`); an answer that does not come within the call bound
is a timeout and the station goes on.

Events come from outside (:meth:`Station.interrupt`): a reboot (the connection cut, reconnect
after a delay and boot again: a transaction that was running is stopped with reason Reboot /
PowerLoss) or a network blip (cut, reconnect after the outage without a new boot).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from pile_interop.fleet.behaviour import Kind
from pile_interop.fleet.context import FleetContext
from pile_interop.fleet.messages import SPEECH, Speech
from pile_interop.ocpp.client import ConnectFailed, open_station_connection
from pile_interop.ocpp.frames import CALL, CALLERROR, CALLRESULT, parse

#: Unique ids of the fleet's CALLs: one counter for every station (unique fleet-wide).
_UIDS = itertools.count(1)
#: Bound on closing one connection when the fleet stops or an event cuts it.
CLOSE_TIMEOUT_S = 5.0
#: Starting meter register (Wh) and the energy one meter interval adds.
METER_START_WH = 1000
METER_STEP_WH = 250
REBOOT, BLIP, RESET = "reboot", "blip", "reset"


class Station:
    __slots__ = (
        "attempts",
        "connected_before",
        "ctx",
        "event",
        "event_delay",
        "id",
        "interval",
        "kind",
        "late",
        "meter",
        "next_beat",
        "next_meter",
        "next_tx",
        "registered",
        "speech",
        "tx",
        "tx_end",
        "tx_seq",
        "ws",
    )

    def __init__(self, ctx: FleetContext, station_id: str, kind: Kind) -> None:
        self.ctx = ctx
        self.id = station_id
        self.kind = kind
        self.speech: Speech = SPEECH[kind.ocpp]
        self.ws: ClientConnection | None = None
        self.registered = False
        self.connected_before = False
        self.attempts = 0
        self.event: str | None = None
        self.event_delay = 0.0
        self.interval = 0.0
        self.next_beat = 0.0
        self.next_tx = 0.0
        self.next_meter = 0.0
        self.tx_end = 0.0
        self.tx: Any = None
        self.tx_seq = 0
        self.meter = METER_START_WH
        #: the unique id of the last CALL that timed out: its answer is late, not wrong
        self.late: str | None = None

    # -- events from the fleet ----------------------------------------------------------------

    def interrupt(self, event: str, delay_s: float) -> None:
        """Cut the connection now: ``reboot`` (boot again after ``delay_s``) or ``blip``
        (reconnect after ``delay_s``, registration kept)."""
        self.event, self.event_delay = event, delay_s
        if self.ws is not None:
            self.ws.transport.abort()

    # -- the life of the station ----------------------------------------------------------

    async def run(self) -> None:
        ctx = self.ctx
        while not ctx.stopping:
            ws = await self._connect()
            if ws is None:
                return
            if self.event is not None:  # an event that came while the station was offline
                self.registered = self.registered and self.event == BLIP
                self.event = None
            self.ws = ws
            ctx.stats.opened(reconnect=self.connected_before)
            self.connected_before = True
            try:
                await self._session(ws)
            except (ConnectionClosed, OSError):
                pass
            finally:
                self.ws = None
                ctx.stats.closed(dropped=self.event is None and not ctx.stopping)
            if ctx.stopping:
                return
            event, self.event = self.event, None
            if event in (REBOOT, RESET):
                self.registered = False
            if event is not None:
                await asyncio.sleep(self.event_delay)
            else:  # dropped by the CSMS: back off (a CSMS that drops at once gets no storm)
                await self._back_off()

    async def _connect(self) -> ClientConnection | None:
        ctx = self.ctx
        behaviour = ctx.behaviour
        profile = self.kind.security_profile
        while not ctx.stopping:
            try:
                ws = await open_station_connection(
                    ctx.urls[(self.kind.ocpp, profile)],
                    self.id,
                    self.speech.subprotocol,
                    timeout=behaviour.connect_timeout_s,
                    password=behaviour.password if profile >= 1 else None,
                    ssl=ctx.ssl if profile >= 2 else None,
                    compression=None,
                    max_size=1 << 16,
                )
            except ConnectFailed as exc:
                ctx.stats.refused(exc.kind, exc.reason.replace(self.id, "<station>"))
                await self._back_off()
                continue
            return ws
        return None

    async def _back_off(self) -> None:
        """Wait before the next connection: exponential in the attempts since the CSMS last
        answered, with jitter (stations never retry in step), bounded by reconnect.max_s."""
        behaviour = self.ctx.behaviour
        self.attempts += 1
        ceiling = min(
            behaviour.reconnect_max_s,
            behaviour.reconnect_initial_s * 2 ** min(self.attempts - 1, 16),
        )
        await asyncio.sleep(self.ctx.rng.uniform(ceiling / 2, ceiling))

    async def _session(self, ws: ClientConnection) -> None:
        behaviour = self.ctx.behaviour
        loop = asyncio.get_running_loop()
        if not self.registered:
            await self._boot(ws)
            for connector in range(1, self.kind.connectors + 1):
                await self._call(ws, "StatusNotification", self.speech.status(connector, False))
            if self.tx is not None:  # the transaction the reboot interrupted
                await self._stop_tx(ws, "Reboot" if self.kind.ocpp == "1.6" else "PowerLoss")
        now = loop.time()
        self.next_beat = now + self.interval
        if self.tx is None and self.next_tx <= 0:
            self.next_tx = now + self.ctx.rng.uniform(0, behaviour.tx_every_s)
        while True:
            now = loop.time()
            if now >= self.next_beat:
                await self._call(ws, "Heartbeat", {})
                self.next_beat = loop.time() + self.interval
            elif self.tx is None and now >= self.next_tx:
                await self._start_tx(ws)
            elif self.tx is not None and now >= self.tx_end:
                await self._stop_tx(ws, "Local")
            elif self.tx is not None and now >= self.next_meter:
                self.meter += METER_STEP_WH
                self.tx_seq += 1
                await self._call(
                    ws,
                    self.speech.meter_action,
                    self.speech.meter(1, self.tx, self.meter, self.tx_seq),
                )
                self.next_meter = loop.time() + behaviour.meter_interval_s
            else:
                due = min(
                    self.next_beat,
                    self.next_tx if self.tx is None else min(self.tx_end, self.next_meter),
                )
                raw = await self._receive(ws, due)
                if raw is not None:
                    await self._incoming(ws, raw, None)

    async def _boot(self, ws: ClientConnection) -> None:
        behaviour = self.ctx.behaviour
        while True:
            answer = await self._call(ws, "BootNotification", self.speech.boot(self.id))
            status = answer.get("status") if answer else None
            interval = answer.get("interval") if answer else None
            seconds = float(interval) if isinstance(interval, int) and interval > 0 else 0.0
            if status == "Accepted":
                self.registered = True
                self.interval = behaviour.heartbeat_s or seconds or 300.0
                return
            # Pending / Rejected / no answer: the next BootNotification after the interval
            wait = seconds or behaviour.boot_retry_s
            deadline = asyncio.get_running_loop().time() + wait
            while (raw := await self._receive(ws, deadline)) is not None:
                await self._incoming(ws, raw, None)

    async def _start_tx(self, ws: ClientConnection) -> None:
        behaviour, speech = self.ctx.behaviour, self.speech
        loop = asyncio.get_running_loop()
        await self._call(ws, "StatusNotification", speech.status(1, True))
        if behaviour.authorize:
            await self._call(ws, "Authorize", speech.authorize(behaviour.id_tag))
        self.tx_seq = 0
        if self.kind.ocpp == "1.6":
            answer = await self._call(
                ws, "StartTransaction", speech.start(1, behaviour.id_tag, self.meter, "", 0)
            )
            tx = answer.get("transactionId") if answer else None
            if not isinstance(tx, int):  # no transaction: the cable goes back
                await self._call(ws, "StatusNotification", speech.status(1, False))
                self.next_tx = loop.time() + behaviour.tx_every_s
                return
            self.tx = tx
            await self._call(ws, "StatusNotification", speech.status(1, True, charging=True))
        else:
            self.tx = f"{self.id}-{next(_UIDS)}"
            await self._call(
                ws, "TransactionEvent", speech.start(1, behaviour.id_tag, self.meter, self.tx, 0)
            )
        now = loop.time()
        jitter = self.ctx.rng.uniform(0.9, 1.1)
        self.tx_end = now + behaviour.tx_duration_s * jitter
        self.next_meter = now + behaviour.meter_interval_s

    async def _stop_tx(self, ws: ClientConnection, reason: str) -> None:
        behaviour, speech = self.ctx.behaviour, self.speech
        self.tx_seq += 1
        self.meter += METER_STEP_WH
        tx, self.tx = self.tx, None
        await self._call(
            ws,
            speech.stop_action,
            speech.stop(1, tx, behaviour.id_tag, self.meter, self.tx_seq, reason),
        )
        await self._call(ws, "StatusNotification", speech.status(1, False))
        gap = self.ctx.rng.expovariate(1.0 / behaviour.tx_every_s)
        self.next_tx = asyncio.get_running_loop().time() + gap

    # -- one CALL, one answer ---------------------------------------------------------------

    async def _receive(self, ws: ClientConnection, deadline: float) -> Any:
        """The next frame, or None at ``deadline`` (loop time). One timer handle that cancels
        the wait (``recv`` is cancellation-safe: a frame that came meanwhile stays queued);
        ``asyncio.timeout_at`` does the same with more bookkeeping, on every frame."""
        task = asyncio.current_task()
        assert task is not None
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            task.cancel()

        handle = asyncio.get_running_loop().call_at(deadline, expire)
        try:
            return await ws.recv()
        except asyncio.CancelledError:
            if not expired or task.uncancel() > 0:
                raise  # cancelled from outside (the fleet stopping), not by our deadline
            return None
        finally:
            handle.cancel()

    async def _call(
        self, ws: ClientConnection, action: str, payload: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Send a CALL and wait (answering the CSMS meanwhile) for its answer: the
        CALLRESULT payload, or None (CALLERROR, timeout)."""
        ctx = self.ctx
        unique_id = str(next(_UIDS))
        start = time.monotonic()
        await ws.send(json.dumps([2, unique_id, action, payload], separators=(",", ":")))
        ctx.stats.message_sent()
        deadline = asyncio.get_running_loop().time() + ctx.behaviour.call_timeout_s
        while True:
            raw = await self._receive(ws, deadline)
            if raw is None:
                ctx.stats.timed_out(action, time.monotonic() - start)
                self.late = unique_id
                return None
            answer = await self._incoming(ws, raw, (unique_id, action, start))
            if answer is not _NOT_YET:
                return answer

    async def _incoming(
        self, ws: ClientConnection, raw: Any, waiting: tuple[str, str, float] | None
    ) -> Any:
        """Handle one frame from the CSMS: answer a CALL, judge an answer. Returns the answer's
        payload for the CALL ``waiting`` on it (None for a CALLERROR), else ``_NOT_YET``."""
        ctx = self.ctx
        ctx.stats.message_received()
        kind, unique_id, action, payload, code, _description, problem = parse(raw)
        if kind == CALL and not problem:
            await self._answer(ws, str(unique_id), str(action), payload)
            return _NOT_YET
        label = waiting[1] if waiting is not None else "(none)"
        if unique_id is not None and unique_id == self.late and kind != CALL:
            self.late = None  # the answer to a CALL that timed out: late, no finding
            ctx.stats.example("late answers", f"{self.id}: {kind} {unique_id} after the bound")
            ctx.stats.connections["late_answers"] += 1
            return _NOT_YET
        if problem:
            ctx.stats.violation(label, f"malformed frame: {problem}", self.id)
            return _NOT_YET
        if waiting is None:
            ctx.stats.violation(
                label, f"{kind} with unique id {unique_id!r} while no CALL was outstanding", self.id
            )
            return _NOT_YET
        expected, action, start = waiting
        latency = time.monotonic() - start
        found = ctx.judge.shape(self.kind.ocpp, expected, unique_id, code)
        if unique_id != expected:  # not our answer: judged, and still waiting for ours
            for text in found:
                ctx.stats.violation(action, text, self.id)
            return _NOT_YET
        ctx.stats.answered(action, latency, code if kind == CALLERROR else None)
        self.attempts = 0  # the CSMS answers: the next reconnect starts from the first delay
        sampled = False
        if kind == CALLRESULT:
            more, sampled = ctx.judge.result(
                self.kind.ocpp,
                action,
                payload,
                ctx.urls[(self.kind.ocpp, self.kind.security_profile)],
            )
            found += more
        if sampled:
            ctx.stats.judged(action)
        for text in found:
            ctx.stats.violation(action, text, self.id)
        return payload if kind == CALLRESULT else None

    async def _answer(
        self, ws: ClientConnection, unique_id: str, action: str, payload: dict[str, Any]
    ) -> None:
        """Answer the CSMS: the shared mock's default, or the station's own for the calls
        about its transaction and reset."""
        ctx, speech = self.ctx, self.speech
        ctx.stats.incoming[action] += 1
        after = None
        result: dict[str, Any] | None
        error: tuple[str, str] | None = None
        if action == speech.remote_stop:
            mine = self.tx is not None and payload.get("transactionId") == self.tx
            result = {"status": "Accepted" if mine else "Rejected"}
            if mine:
                self.tx_end = 0.0  # stop now
        elif action == speech.remote_start and self.tx is not None:
            result = {"status": "Rejected"}
        elif action == "Reset":
            result = {"status": "Accepted"}
            after = RESET
        else:
            result, error = ctx.answers.answer(
                self.kind.ocpp,
                self.kind.security_profile,
                self.kind.connectors,
                unique_id,
                action,
                payload,
            )
            if action == speech.remote_start and result and result.get("status") == "Accepted":
                self.next_tx = 0.0  # start now
        frame: list[Any] = [3, unique_id, result] if error is None else [4, unique_id, *error, {}]
        await ws.send(json.dumps(frame, separators=(",", ":")))
        ctx.stats.message_sent()
        if after is not None:
            self.event, self.event_delay = after, 1.0
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), CLOSE_TIMEOUT_S)


class _NotYet:
    """Marks a frame that was not the answer awaited."""


_NOT_YET: Any = _NotYet()
