"""What the GB/T 27930 charger and BMS state machines share: the peer.

:class:`Peer27930` is one side of the conversation on a python-can bus, put together from a
:class:`~pile_interop.gbt27930.transport.J1939Node`, a :class:`~.peer_tx.Transmitter` (its
periodic messages), :class:`~.peer_waits.Waits` (where the session waits) and a
:class:`~.records.Journal` (its messages and events). The peer handles what it receives and
runs the session, whose phases :class:`~pile_interop.gbt27930.charger.Charger27930` and
:class:`~pile_interop.gbt27930.bms.Bms27930` write (:mod:`.states`). On a timeout it sends
BEM / CEM with the bit of the awaited message and, unless the session was already stopping,
reconnects at identification up to :data:`~.states.MAX_RECONNECTS` times.

Fault injection (the control surface): :meth:`~Peer27930.suppress` stops a message,
:meth:`~Peer27930.override` sends other field values. While either is active this side's
own receive timeouts are held (:meth:`~Peer27930.timeouts_suspended`): a suppressed BRM must
provoke the *charger's* BRM timeout, not race it with our own CRM 0xAA timeout.

Hooks for mutants (small methods a subclass overrides to get one defect):
:meth:`~Peer27930.message_values` (and the ``values_<msg>`` builders it calls),
:meth:`~Peer27930.period`, :meth:`~Peer27930.priority`, :meth:`~Peer27930.payload`,
:meth:`~Peer27930.timeout`, :meth:`~Peer27930.first_message_timeout`,
:meth:`~Peer27930.on_timeout`, :meth:`~Peer27930.should_reconnect`,
:meth:`~Peer27930.reconnect_delay`, :meth:`~Peer27930.stop_fields`,
:meth:`~Peer27930.accepts_peer_error`, :meth:`~Peer27930.timeouts_suspended`; each side adds
its own (``accepts_parameters``, ``output``, ``insulation_check_time``, ``precharge_time`` for
the charger; ``accepts_limits``, ``ready_delay`` for the BMS).

Attempts are counted per plug-in (:meth:`~Peer27930.connect` resets them) and are not reset by
a successful reconnection: the fourth communication error of a session is final.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any, ClassVar

import can

from pile_interop.core.clock import Clock
from pile_interop.gbt27930 import codec
from pile_interop.gbt27930.layout import VARIANTS, normalise_variant
from pile_interop.gbt27930.peer_tx import Transmitter
from pile_interop.gbt27930.peer_waits import Waits, cancel_task
from pile_interop.gbt27930.records import (
    Journal,
    Message,
    PeerEvent,
    decode_order,
    from_other_side,
    received_message,
)
from pile_interop.gbt27930.states import (
    ACTIVE,
    ENDING,
    ERROR,
    IDLE,
    MAX_RECONNECTS,
    RECONNECT_DELAY_S,
    TIMEOUTS,
    PeerFault,
    PeerTimeout,
    StopRequested,
    Watch,
)
from pile_interop.gbt27930.transport import J1939Node

logger = logging.getLogger(__name__)

RX_POLL_S = 1.0
"""Longest single wait of the receive loop for the next message."""
CONTROL_ACK_S = 1.0
"""Control actions (stops) wait this long for the stop message to be on its way."""


class Peer27930:
    """One side of GB/T 27930 on a CAN bus; subclasses write the flow of their side."""

    ROLE: ClassVar[str] = ""
    ADDRESS: ClassVar[int] = 0
    PEER_ADDRESS: ClassVar[int] = 0
    SENDER: ClassVar[str] = ""
    """Codec sender name of this side (``Charger`` / ``BMS``)."""
    ERROR_MESSAGE: ClassVar[str] = ""
    PEER_ERROR_MESSAGE: ClassVar[str] = ""
    STOP_MESSAGE: ClassVar[str] = ""
    PEER_STOP_MESSAGE: ClassVar[str] = ""
    TIMEOUT_BITS: ClassVar[dict[str, str]] = {}
    """Timeout key → the BEM / CEM field set on that timeout."""
    STOP_REASONS: ClassVar[dict[str, dict[str, int]]] = {}

    def __init__(
        self,
        bus: can.BusABC,
        *,
        variant: str = "2015",
        clock: Clock | None = None,
        name: str = "",
        owns_bus: bool = False,
    ) -> None:
        self.variant = normalise_variant(variant)
        self.clock = clock or Clock()
        self.name = name or self.ROLE
        self._owns_bus = owns_bus
        self.node = J1939Node(
            bus, self.ADDRESS, clock=self.clock, owns_bus=owns_bus, name=self.name
        )
        self.phase = IDLE
        self.attempts = 0
        self.failed = False
        """True once the session gave up (no reconnection left, or an error while stopping)."""
        self.connected = False
        self.peer_variant: str | None = None
        """Set when the peer turned out to be a 2011 implementation (compatibility mode)."""
        self.error_bits: dict[str, int] = {}
        self.stop_reason: str | None = None
        self.stop_fields_sent: dict[str, int] = {}
        self.hold_timeouts: bool | None = None
        """``None``: own timeouts held while any suppression / override is active; True /
        False forces it."""
        received: dict[str, Message] = {}
        self.waits = Waits(self.clock, self.name, held=self.timeouts_suspended, last=received)
        self.journal = Journal(self.name, self.waits.notify, last=received)
        self.tx = Transmitter(
            self.node, self, self.waits, self.journal.publish, self.variant, self.PEER_ADDRESS
        )
        self._peer_stop_t: float | None = None
        self._attempt_t0 = 0.0
        self._error_t = 0.0
        self._rx_task: asyncio.Task[None] | None = None
        self._session: asyncio.Task[None] | None = None
        self._started = False
        self._closed = False

    @property
    def history(self) -> deque[Message]:
        """Messages sent and received, the most recent :data:`~.records.HISTORY`."""
        return self.journal.history

    @property
    def last(self) -> dict[str, Message]:
        """The last message received, by name."""
        return self.journal.last

    @property
    def last_tx(self) -> dict[str, Message]:
        return self.journal.last_tx

    @property
    def events(self) -> list[PeerEvent]:
        return self.journal.events

    @property
    def suppressed(self) -> set[str]:
        """Messages not sent now (fault injection, see :meth:`suppress`)."""
        return self.tx.suppressed

    @property
    def overrides(self) -> dict[str, dict[str, Any]]:
        """Field values sent instead of the state machine's, by message (:meth:`override`)."""
        return self.tx.overrides

    # -- life cycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """J1939 node up and the receive loop running; the session waits for :meth:`connect`."""
        if self._closed:
            raise RuntimeError(f"{self.name} was stopped")
        if self._started:
            return
        self._started = True
        # Loading a database takes about a second: do it before any timer runs, off the loop.
        await asyncio.to_thread(_load_databases)
        await self.node.start()
        self._rx_task = asyncio.ensure_future(self._rx_loop())

    async def stop(self) -> None:
        """Cancel everything and close the node; bounded and idempotent."""
        if self._closed:
            return
        self._closed = True
        await self._end_session()
        if self._rx_task is not None:
            await cancel_task(self._rx_task)
            self._rx_task = None
        if self._started:
            await self.node.close()
        elif self._owns_bus:
            self.node.bus.shutdown()
        logger.info("%s stopped", self.name)

    async def __aenter__(self) -> Peer27930:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- control surface -----------------------------------------------------------------------

    async def connect(self) -> None:
        """Plugged in with auxiliary power: the session starts (see the subclass)."""
        await self.start()
        if self.connected:
            return
        self.connected = True
        self.attempts = 0
        self.failed = False
        self.peer_variant = None
        self.error_bits = {}
        self.stop_reason = None
        self.stop_fields_sent = {}
        self.waits.pending = None
        self._reset_session_state()
        self._event("connect")
        self._session = asyncio.ensure_future(self._run_session())

    async def disconnect(self) -> None:
        """Unplugged: the session ends at once, every message stops."""
        if not self.connected:
            return
        self.connected = False
        await self._end_session()
        self._set_phase(IDLE)
        self._event("disconnect")

    def suppress(self, message: str, on: bool = True) -> None:
        """Stop (or resume) sending ``message``: the state machine goes on as if it had sent
        it, so the peer's timeout is what happens next."""
        self.tx.suppress(message, on)
        self.waits.wake()

    def override(self, message: str, **values: Any) -> None:
        """Send these field values in ``message`` instead of the state machine's (accumulates;
        out-of-range values are sent as they are)."""
        self.tx.override(message, values)
        self.waits.wake()

    def clear_overrides(self) -> None:
        self.tx.overrides.clear()
        self.waits.wake()

    async def emergency_stop(self) -> None:
        await self.request_stop("emergency")

    async def insulation_fault(self) -> None:
        self._event("insulation", detail="insulation fault")
        await self.request_stop("insulation")

    async def request_stop(self, reason: str = "manual") -> None:
        """Stop charging with ``reason`` (see :attr:`STOP_REASONS`); returns once the stop
        message is on its way (bounded by :data:`CONTROL_ACK_S`)."""
        fields = self.stop_fields(reason)
        if self.phase not in ACTIVE:
            logger.info("%s: stop (%s) ignored in phase %s", self.name, reason, self.phase)
            return
        self.waits.interrupt(StopRequested(reason, fields, "local"))
        with contextlib.suppress(TimeoutError):
            await self.wait_until(lambda: self.phase not in ACTIVE, CONTROL_ACK_S)

    def set(self, **params: Any) -> None:
        """Change live parameters (fields of the side's params dataclass)."""
        known = {f.name for f in fields(self.params)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(f"{self.ROLE} has no parameter {', '.join(unknown)}")
        for key, value in params.items():
            setattr(self.params, key, value)
        self._on_params_changed(params)
        self.waits.wake()

    def subscribe(self, fn: Callable[[Message], None]) -> None:
        """Call ``fn`` with every complete message sent or received."""
        self.journal.subscribe(fn)

    def subscribe_events(self, fn: Callable[[PeerEvent], None]) -> None:
        self.journal.subscribe_events(fn)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> None:
        """Wait (``timeout`` protocol seconds) until ``predicate()`` holds; re-checked after
        each message, event and phase change. ``TimeoutError`` when it never did."""
        await self.waits.wait_until(predicate, timeout)

    async def wait_phase(self, *phases: str, timeout: float) -> str:
        """Wait until the phase is one of ``phases``; returns it."""
        await self.wait_until(lambda: self.phase in phases, timeout)
        return self.phase

    def sending(self) -> list[str]:
        """Messages being sent periodically now."""
        return self.tx.sending()

    def events_of(self, kind: str) -> list[PeerEvent]:
        return self.journal.events_of(kind)

    def phases(self) -> list[str]:
        """The phases entered so far, in order."""
        return self.journal.phases()

    # -- hooks (override in mutants) -----------------------------------------------------------

    @property
    def params(self) -> Any:  # pragma: no cover - every subclass has params
        raise NotImplementedError

    def message_values(self, name: str) -> dict[str, Any]:
        """Field values the state machine sends in ``name`` now (before overrides)."""
        builder = getattr(self, f"values_{name.lower()}", None)
        if builder is None:
            raise ValueError(f"{self.ROLE} does not send {name}")
        values: dict[str, Any] = builder()
        return values

    def period(self, name: str) -> float:
        """Transmission period of ``name`` in protocol seconds (the standard's table)."""
        return codec.message_info(name, self.variant).period

    def priority(self, name: str) -> int:
        return codec.message_info(name, self.variant).priority

    def payload(self, name: str, values: Mapping[str, Any], *, strict: bool = True) -> bytes:
        """The bytes of ``name`` for ``values`` (fill bits set, absent fields all ones)."""
        return codec.encode(name, values, self.variant, strict=strict, fill_missing=True)

    def after_emit(self, name: str, values: Mapping[str, Any]) -> None:
        """Side effects of a due transmission (energy, SOC…): subclasses."""

    def timeout(self, key: str) -> float:
        """Receive timeout (protocol seconds) by key: see :data:`~.states.TIMEOUTS`."""
        return TIMEOUTS[key]

    def first_message_timeout(self, key: str) -> float:
        """Timeout for the first frame of an awaited message (BHM, BRO / CRO: 5 s — then
        ``timeout("BROAA")`` 60 s for 0xAA); used by the ``first``-mode waits."""
        return self.timeout(key)

    def on_timeout(self, key: str) -> dict[str, int]:
        """BEM / CEM fields to set when the wait ``key`` times out."""
        bit = self.TIMEOUT_BITS.get(key)
        return {bit: 1} if bit else {}

    def should_reconnect(self, attempt: int) -> bool:
        """Whether to make reconnection attempt number ``attempt`` (1, 2, 3…)."""
        return attempt <= MAX_RECONNECTS

    def stop_fields(self, reason: str) -> dict[str, int]:
        """Fields of BST / CST for a stop with ``reason``."""
        try:
            return dict(self.STOP_REASONS[reason])
        except KeyError:
            raise ValueError(
                f"unknown {self.ROLE} stop reason {reason!r} "
                f"(expected one of {', '.join(sorted(self.STOP_REASONS))})"
            ) from None

    def timeouts_suspended(self) -> bool:
        """True while this side's own receive timeouts are held (fault injection active)."""
        if self.hold_timeouts is not None:
            return self.hold_timeouts
        return bool(self.suppressed or self.overrides)

    def accepts_peer_error(self, message: Message) -> bool:
        """Whether a BEM / CEM received now interrupts the session."""
        return self.phase in ACTIVE or self.phase in ENDING

    def reconnect_delay(self) -> float:
        return RECONNECT_DELAY_S

    def peer_stop_reason(self) -> str:
        """Stop reason when the peer's BST / CST starts the stop flow."""
        return "peer"

    def on_message(self, message: Message) -> None:
        """Side-specific reaction to a received message (runs after the common handling)."""

    def _on_params_changed(self, params: Mapping[str, Any]) -> None:
        """Reaction to :meth:`set` (subclasses)."""

    # -- session skeleton ----------------------------------------------------------------------

    async def _handshake(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    async def _identification(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    async def _configuration(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    async def _charging(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    async def _stopping(self, stop: StopRequested) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    async def _reconnect_wait(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _reset_session_state(self) -> None:
        """Per-connection state of the subclass."""

    def _begin_attempt(self) -> None:
        self.waits.pending = None
        self._peer_stop_t = None
        self._attempt_t0 = self.clock.monotonic()

    async def _run_session(self) -> None:
        try:
            await self._main()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.exception("%s: session failed", self.name)
            self.tx.stop_all()
            self.failed = True
            self._event("internal_error", detail=repr(exc))
            self._set_phase(ERROR)

    async def _main(self) -> None:
        first = True
        while True:
            self._begin_attempt()
            try:
                try:
                    if first:
                        first = False
                        await self._handshake()
                    await self._identification()
                    await self._configuration()
                    await self._charging()
                except StopRequested as stop:
                    await self._stopping(stop)
                return
            except (PeerTimeout, PeerFault) as problem:
                if not self._fail(problem):
                    self.failed = True
                    self._event("failed", detail=f"no reconnection after {self.attempts}")
                    return
            await self._reconnect_wait()
            self.attempts += 1
            self._event("reconnect", attempt=self.attempts, detail=f"attempt {self.attempts}")

    def _fail(self, problem: PeerTimeout | PeerFault) -> bool:
        """Enter the error phase; True when a reconnection follows."""
        ending = self.phase in ENDING
        self.tx.stop_all()
        if isinstance(problem, PeerTimeout):
            bits = self.on_timeout(problem.key)
            self.error_bits = bits
            self._event(
                "timeout",
                message=problem.key,
                bits=bits,
                detail=f"{problem} → {self.ERROR_MESSAGE}",
            )
            terminal = ending or problem.watch.terminal
            self._set_phase(ERROR)
            self.tx.start(self.ERROR_MESSAGE)
        else:
            received = problem.message
            self._event(
                "peer_error",
                message=received.name,
                bits={k: int(v) for k, v in received.values.items() if v},
                detail=received.data.hex(" ").upper(),
            )
            terminal = ending
            self._set_phase(ERROR)
        self._error_t = self.clock.monotonic()
        return not terminal and self.should_reconnect(self.attempts + 1)

    async def _end_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await cancel_task(session)
        await self.tx.halt()

    # -- what the flows of the sides wait for --------------------------------------------------

    def _watch(self, key: str, message: str, since: float, mode: str = "first", **kw: Any) -> Watch:
        timeout = self.first_message_timeout(key) if mode == "first" else self.timeout(key)
        return Watch(key, message, timeout, since, mode, **kw)

    def _rx_after(
        self, name: str, since: float, test: Callable[[Mapping[str, Any]], bool] | None = None
    ) -> bool:
        """The last ``name`` received came at or after ``since`` (and passes ``test``)."""
        return self.journal.received_after(name, since, test)

    # -- receiving -----------------------------------------------------------------------------

    async def _rx_loop(self) -> None:
        while True:
            try:
                received = await self.node.receive(timeout=RX_POLL_S)
            except TimeoutError:
                continue
            if received.src != self.PEER_ADDRESS:
                logger.info("%s: message from %02X ignored", self.name, received.src)
                continue
            try:
                order = decode_order(self.variant, self.peer_variant)
                self._on_received(received_message(received, order, self.node.frames))
            except Exception:
                logger.exception("%s: handling PGN %#06x failed", self.name, received.pgn)

    def _on_received(self, message: Message) -> None:
        name = message.name
        known = message.variant != "" and from_other_side(name, self.variant, self.SENDER)
        if known:
            self.last[name] = message
        self.journal.publish(message)
        if not known:
            return
        if name == self.PEER_ERROR_MESSAGE:
            if self.accepts_peer_error(message):
                self.waits.interrupt(PeerFault(message))
        elif name == self.PEER_STOP_MESSAGE and (self.phase in ACTIVE or self.phase in ENDING):
            if self._peer_stop_t is None:
                self._peer_stop_t = message.t
            if self.phase in ACTIVE and not isinstance(self.waits.pending, StopRequested):
                reason = self.peer_stop_reason()
                self.waits.interrupt(StopRequested(reason, self.stop_fields(reason), "peer"))
        self.on_message(message)
        self.waits.wake()

    # -- records -------------------------------------------------------------------------------

    def _event(self, kind: str, **kw: Any) -> PeerEvent:
        kw.setdefault("attempt", self.attempts)
        event = PeerEvent(kind, self.clock.monotonic(), time.monotonic(), self.phase, **kw)
        return self.journal.record(event)

    def _set_phase(self, phase: str) -> None:
        if phase == self.phase:
            return
        old, self.phase = self.phase, phase
        self._event("phase", detail=f"{old} → {phase}")


def _load_databases() -> None:
    for variant in VARIANTS:
        codec.messages(variant)
