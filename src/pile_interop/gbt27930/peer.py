"""What the GB/T 27930 charger and BMS state machines share: the peer machinery.

:class:`Peer27930` is one side of the conversation on a python-can bus (through a
:class:`~pile_interop.gbt27930.transport.J1939Node`): it sends its periodic messages with
:class:`~pile_interop.gbt27930.periodic.PeriodicSender`, decodes what it receives, supervises
the timeouts of the standard, reports every complete message to subscribers and keeps a list of
:class:`PeerEvent` (phase changes, timeouts with their BEM/CEM bits, stops, reconnections).
:class:`~pile_interop.gbt27930.charger.Charger27930` and
:class:`~pile_interop.gbt27930.bms.Bms27930` write the flow of each side on top of it.

The session (one plug-in) runs as one coroutine written in the order of the standard::

    handshake → identification → configuration → charging ─(BST / CST)→ stopping → end → done
                      ↑                                  │ timeout or BEM / CEM received
                      └──── reconnect (≤ 3 times) ── error ┘

A wait is :meth:`Peer27930._until` (a condition, the timeouts that bound it as
:class:`Watch` objects, and interruptions: the peer's stop or error message, a local stop).
A timeout raises :class:`PeerTimeout`; the error path sends BEM / CEM with the bit of the
awaited message and, unless the session was already stopping, reconnects at identification
up to :data:`MAX_RECONNECTS` times. Every wait runs on the scalable :class:`Clock`.

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
import functools
import logging
import math
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import can

from pile_interop.core.clock import Clock
from pile_interop.gbt27930 import codec
from pile_interop.gbt27930.ids import PGN_TP_CM, PGN_TP_DT, can_id, parse_can_id
from pile_interop.gbt27930.layout import VARIANTS, normalise_variant
from pile_interop.gbt27930.periodic import PeriodicSender
from pile_interop.gbt27930.tp_protocol import RX, TX, FrameRecord, Received
from pile_interop.gbt27930.transport import J1939Node

logger = logging.getLogger(__name__)

# -- phases ------------------------------------------------------------------------------------

IDLE = "idle"
HANDSHAKE = "handshake"
IDENTIFICATION = "identification"
CONFIGURATION = "configuration"
CHARGING = "charging"
STOPPING = "stopping"
END = "end"
ERROR = "error"
DONE = "done"
PHASES = (IDLE, HANDSHAKE, IDENTIFICATION, CONFIGURATION, CHARGING, STOPPING, END, ERROR, DONE)
ACTIVE = (HANDSHAKE, IDENTIFICATION, CONFIGURATION, CHARGING)
"""Phases in which a stop (local, or the peer's BST / CST) starts the stop flow."""
ENDING = (STOPPING, END)
"""Phases after a stop: a timeout or an error here ends the session without reconnecting."""

# -- timing (protocol seconds) -----------------------------------------------------------------

DEFAULT_TIMEOUT_S = 5.0
"""GB/T 27930-2015: the default receive timeout."""
DEMAND_TIMEOUT_S = 1.0
"""BCL (charger) and CCS (BMS): 1 s."""
BCS_TIMEOUT_S = 5.0
READY_FIRST_TIMEOUT_S = 5.0
"""BRO / CRO: the first frame within 5 s."""
READY_TIMEOUT_S = 60.0
"""BRO / CRO: 0xAA within 60 s."""
STOP_TIMEOUT_S = 5.0
"""After sending BST / CST: the counterpart's stop message within 5 s."""
END_TIMEOUT_S = 10.0
"""BSD / CSD within 10 s."""
BHM_TIMEOUT_S = 5.0
"""Charger: no BHM this long after the first CHM → a GB/T 27930-2011 BMS (compatibility)."""
BMS_CRM_TIMEOUT_S = 30.0
"""BMS: the first CRM 0x00 after BHM (or after connection) — it must cover the charger's
insulation check, for which the standard gives no duration; 30 s as public BMS simulators."""
BSM_TIMEOUT_S = 5.0
"""2023 A: BSM supervised once seen (5 s); the timeout ends the session without reconnecting."""

TIMEOUTS: dict[str, float] = {
    # awaited by the charger
    "BHM": BHM_TIMEOUT_S,
    "BRM": DEFAULT_TIMEOUT_S,
    "BCP": DEFAULT_TIMEOUT_S,
    "BRO": READY_FIRST_TIMEOUT_S,
    "BROAA": READY_TIMEOUT_S,
    "BCL": DEMAND_TIMEOUT_S,
    "BCS": BCS_TIMEOUT_S,
    "BSM": BSM_TIMEOUT_S,
    "BST": STOP_TIMEOUT_S,
    "BSD": END_TIMEOUT_S,
    # awaited by the BMS
    "CRM00": BMS_CRM_TIMEOUT_S,
    "CRMAA": DEFAULT_TIMEOUT_S,
    "CML": DEFAULT_TIMEOUT_S,
    "CRO": READY_FIRST_TIMEOUT_S,
    "CROAA": READY_TIMEOUT_S,
    "CCS": DEMAND_TIMEOUT_S,
    "CST": STOP_TIMEOUT_S,
    "CSD": END_TIMEOUT_S,
}
"""Receive timeouts by key: the awaited message, ``…AA`` for "ready / recognised" (0xAA),
``CRM00`` for the first CRM 0x00."""

MAX_RECONNECTS = 3
"""Reconnection attempts after communication errors (GB/T 27930-2015 annex C)."""
RECONNECT_DELAY_S = 2.0
"""Charger: error message this long before it restarts identification with CRM 0x00."""
ERROR_SETTLE_S = 0.5
"""BMS: after an error, only a CRM 0x00 that comes this much later restarts identification
(the charger has stopped its old CRM and begun again); shorter than :data:`RECONNECT_DELAY_S`."""
END_HOLD_S = 2.5
"""How long the charger sends CSD (ten times at 250 ms) before it falls silent."""
IDLE_POLL_S = 1.0
"""Longest single wait inside a state-machine wait: every wait is bounded and re-checked."""
RX_POLL_S = 1.0
"""Longest single wait of the receive loop for the next message."""
CONTROL_ACK_S = 1.0
"""Control actions (stops) wait this long for the stop message to be on its way."""
STOP_WAIT_S = 2.0
"""Real seconds :meth:`Peer27930.stop` and :meth:`Peer27930.disconnect` wait for each task."""

CANCEL_STEP = 0.05
"""Real seconds between two cancellations of a task that has not ended yet."""

HISTORY = 20_000
"""Messages kept in :attr:`Peer27930.history` (the most recent)."""
_EMITS_KEPT = 16
"""Recent due transmissions kept per message (a wait for "the first one since" reads them)."""
_FRAME_SCAN = 4096
"""Recent node frames searched for the frames a received message was made of."""

_COMPOSITES: dict[str, frozenset[str]] = {
    "CHM": frozenset({"Version"}),
    "BRM": frozenset({"Version", "VIN", "BatteryMaker"}),
    "CRM": frozenset({"RegionCode"}),
    "CTS": frozenset({"Time"}),
}


# -- records -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One complete GB/T 27930 message as a peer sent (``tx``) or received (``rx``) it."""

    name: str
    """``"BCL"``…; ``"PGN 0x…"`` for a parameter group the codec does not know."""
    pgn: int
    direction: str
    values: Mapping[str, Any]
    """Decoded physical values (signal names as in the DBC)."""
    data: bytes
    can_id: int
    """The single frame's id; for a multi-packet message the id the parameter group would
    have as a single frame (priority from the RTS)."""
    priority: int
    t: float
    """Protocol time of its first frame (the RTS for a multi-packet message)."""
    mono: float
    """Real ``time.monotonic()`` of its first frame."""
    frames: tuple[FrameRecord, ...]
    multi_packet: bool = False
    variant: str = ""
    """The database the payload was decoded with."""
    ok: bool = True
    """False for a multi-packet message whose transfer failed (sent side)."""

    @property
    def dlc(self) -> int:
        return len(self.data)

    def __str__(self) -> str:
        return f"{self.t:9.3f} {self.direction} {self.name} {self.data.hex(' ').upper()}"


@dataclass(frozen=True)
class PeerEvent:
    """Something the state machine did or detected, with protocol and real time."""

    kind: str
    """``connect``, ``disconnect``, ``phase``, ``timeout``, ``peer_error``, ``stop``,
    ``reconnect``, ``failed``, ``compatibility``, ``mismatch``, ``pause``, ``resume``,
    ``insulation``, ``internal_error``."""
    t: float
    mono: float
    phase: str
    """The phase when it happened (for ``phase``: the new phase)."""
    message: str | None = None
    """Timeouts: the awaited message key (``BCL``, ``BROAA``, ``CRM00``…)."""
    bits: Mapping[str, int] = field(default_factory=dict)
    """BEM / CEM fields set (``timeout``), the peer's error fields (``peer_error``), the stop
    message's fields (``stop``)."""
    detail: str = ""
    attempt: int = 0


class PeerTimeout(Exception):
    """An awaited message did not come in time."""

    def __init__(self, watch: Watch) -> None:
        super().__init__(f"{watch.key} not received within {watch.timeout:g} s")
        self.watch = watch
        self.key = watch.key


class PeerFault(Exception):
    """The peer sent its error message (BEM / CEM)."""

    def __init__(self, message: Message) -> None:
        super().__init__(f"{message.name} received")
        self.message = message


class StopRequested(Exception):
    """A stop: ours (``by="local"``) or the peer's BST / CST (``by="peer"``)."""

    def __init__(self, reason: str, fields: Mapping[str, int], by: str) -> None:
        super().__init__(f"stop ({by}): {reason}")
        self.reason = reason
        self.fields = dict(fields)
        self.by = by


@dataclass(frozen=True)
class Watch:
    """A receive timeout: ``message`` must arrive within ``timeout`` (protocol seconds).

    ``mode``: ``first`` — the first frame after ``since`` (disarmed once seen); ``every`` —
    each frame within ``timeout`` of the previous one (or of ``since``); ``until`` — a fixed
    deadline ``since + timeout`` (for a value, e.g. BRO 0xAA: the wait's condition ends it);
    ``armed`` — like ``every`` but only once the message has been seen (2023 A BSM).
    """

    key: str
    message: str
    timeout: float
    since: float
    mode: str = "first"
    terminal: bool = False
    """A timeout that ends the session (no reconnection)."""
    always: bool = False
    """Runs even while fault injection holds this side's timeouts."""

    def deadline(self, last_rx: float | None) -> float:
        seen = last_rx is not None and last_rx >= self.since
        if self.mode == "first":
            return math.inf if seen else self.since + self.timeout
        if self.mode == "every":
            return (last_rx if seen and last_rx is not None else self.since) + self.timeout
        if self.mode == "armed":
            return last_rx + self.timeout if seen and last_rx is not None else math.inf
        return self.since + self.timeout


# -- the peer ----------------------------------------------------------------------------------


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
        self.events: list[PeerEvent] = []
        self.history: deque[Message] = deque(maxlen=HISTORY)
        self.last: dict[str, Message] = {}
        """The last message received, by name."""
        self.last_tx: dict[str, Message] = {}
        self.suppressed: set[str] = set()
        self.overrides: dict[str, dict[str, Any]] = {}
        self.sent = Counter[str]()
        """Messages put on the bus, by name (suppressed ones not counted)."""
        self.error_bits: dict[str, int] = {}
        self.stop_reason: str | None = None
        self.stop_fields_sent: dict[str, int] = {}
        self.hold_timeouts: bool | None = None
        """``None``: own timeouts held while any suppression / override is active; True /
        False forces it."""
        self._subscribers: list[Callable[[Message], None]] = []
        self._event_subscribers: list[Callable[[PeerEvent], None]] = []
        self._senders: dict[str, PeriodicSender] = {}
        self._last_rx_t: dict[str, float] = {}
        self._emits: dict[str, deque[tuple[float, dict[str, Any]]]] = {}
        self._tp_inflight: set[str] = set()
        self._tp_lock = asyncio.Lock()
        self._changed = asyncio.Event()
        self._watchers: set[asyncio.Event] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pending: BaseException | None = None
        self._peer_stop_t: float | None = None
        self._attempt_t0 = 0.0
        self._error_t = 0.0
        self._rx_task: asyncio.Task[None] | None = None
        self._session: asyncio.Task[None] | None = None
        self._started = False
        self._closed = False

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
            await _cancel(self._rx_task)
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
        self._pending = None
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
        name = _message_name(message)
        if on:
            self.suppressed.add(name)
        else:
            self.suppressed.discard(name)
        logger.info("%s: %s %s", self.name, name, "suppressed" if on else "no longer suppressed")
        self._wake()

    def override(self, message: str, **values: Any) -> None:
        """Send these field values in ``message`` instead of the state machine's (accumulates;
        out-of-range values are sent as they are)."""
        name = _message_name(message)
        allowed = self._allowed_signals(name)
        unknown = sorted(set(values) - allowed)
        if unknown:
            raise ValueError(f"{name} ({self.variant}) has no field {', '.join(unknown)}")
        self.overrides.setdefault(name, {}).update(values)
        logger.info("%s: override %s %s", self.name, name, values)
        self._wake()

    def clear_overrides(self) -> None:
        self.overrides.clear()
        self._wake()

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
        self._interrupt(StopRequested(reason, fields, "local"))
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
        self._wake()

    def subscribe(self, fn: Callable[[Message], None]) -> None:
        """Call ``fn`` with every complete message sent or received."""
        self._subscribers.append(fn)

    def subscribe_events(self, fn: Callable[[PeerEvent], None]) -> None:
        self._event_subscribers.append(fn)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> None:
        """Wait (``timeout`` protocol seconds) until ``predicate()`` holds; re-checked after
        each message, event and phase change. ``TimeoutError`` when it never did."""
        deadline = self.clock.monotonic() + timeout
        while not predicate():
            left = deadline - self.clock.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.name}: condition not met within {timeout:g} s")
            event = asyncio.Event()
            self._watchers.add(event)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), self.clock.real(min(left, IDLE_POLL_S)))
            finally:
                self._watchers.discard(event)

    async def wait_phase(self, *phases: str, timeout: float) -> str:
        """Wait until the phase is one of ``phases``; returns it."""
        await self.wait_until(lambda: self.phase in phases, timeout)
        return self.phase

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

    def timeout(self, key: str) -> float:
        """Receive timeout (protocol seconds) by key: see :data:`TIMEOUTS`."""
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
        self._pending = None
        self._peer_stop_t = None
        self._attempt_t0 = self.clock.monotonic()

    async def _run_session(self) -> None:
        try:
            await self._main()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.exception("%s: session failed", self.name)
            self._stop_all()
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
        self._stop_all()
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
            self._start(self.ERROR_MESSAGE)
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
            await _cancel(session)
        self._stop_all()
        for task in list(self._tasks):
            await _cancel(task)
        self._tp_inflight.clear()

    # -- waits ---------------------------------------------------------------------------------

    def _interrupt(self, exc: BaseException) -> None:
        """Hand ``exc`` to the session's current wait (a fault outranks a stop)."""
        if isinstance(self._pending, PeerFault) and not isinstance(exc, PeerFault):
            return
        self._pending = exc
        self._wake()

    async def _until(
        self,
        done: Callable[[], bool],
        *watches: Watch,
        interruptible: bool = True,
        bound: float | None = None,
    ) -> None:
        """Wait until ``done()``; raise :class:`PeerTimeout` when a watch expires, the pending
        interruption (stop, peer error) when ``interruptible``; return at ``bound``."""
        while True:
            if interruptible and self._pending is not None:
                exc, self._pending = self._pending, None
                raise exc
            if done():
                return
            now = self.clock.monotonic()
            wait = IDLE_POLL_S
            held = self.timeouts_suspended()
            for watch in watches:
                if held and not watch.always:
                    continue
                deadline = watch.deadline(self._last_rx_t.get(watch.message))
                if now >= deadline:
                    raise PeerTimeout(watch)
                wait = min(wait, deadline - now)
            if bound is not None:
                if now >= bound:
                    return
                wait = min(wait, bound - now)
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), self.clock.real(max(wait, 0.0)))

    async def _sleep(self, seconds: float, *, interruptible: bool = True) -> None:
        """Protocol seconds of waiting that a stop or a peer error can cut short."""
        bound = self.clock.monotonic() + seconds
        await self._until(lambda: False, interruptible=interruptible, bound=bound)

    def _watch(self, key: str, message: str, since: float, mode: str = "first", **kw: Any) -> Watch:
        timeout = self.first_message_timeout(key) if mode == "first" else self.timeout(key)
        return Watch(key, message, timeout, since, mode, **kw)

    def _rx_after(
        self, name: str, since: float, test: Callable[[Mapping[str, Any]], bool] | None = None
    ) -> bool:
        """The last ``name`` received came at or after ``since`` (and passes ``test``)."""
        message = self.last.get(name)
        if message is None or message.t < since:
            return False
        return test is None or test(message.values)

    def _emitted_after(
        self, name: str, since: float, test: Callable[[Mapping[str, Any]], bool] | None = None
    ) -> float | None:
        """Protocol time ``name`` was first due (sent or suppressed) at or after ``since``
        with values passing ``test``; None when it was not (among the recent emissions)."""
        for when, values in self._emits.get(name, ()):
            if when >= since and (test is None or test(values)):
                return when
        return None

    async def _first_emit(
        self, name: str, since: float, test: Callable[[Mapping[str, Any]], bool] | None = None
    ) -> float:
        """Wait until ``name`` (passing ``test``) is due after ``since``; its protocol time."""
        await self._until(lambda: self._emitted_after(name, since, test) is not None)
        when = self._emitted_after(name, since, test)
        return since if when is None else when

    async def _send_from_now(self, *names: str) -> float:
        """Start sending ``names``; the protocol time the first of them was first due (the
        origin of the timers that wait for the answer)."""
        since = self.clock.monotonic()
        self._start(*names)
        return await self._first_emit(names[0], since)

    # -- sending -------------------------------------------------------------------------------

    def _start(self, *names: str) -> None:
        """Start the periodic sending of ``names`` (first one now)."""
        for name in names:
            sender = self._senders.get(name)
            if sender is not None and sender.running:
                continue
            self._senders[name] = PeriodicSender(
                self.clock,
                self.period(name),
                functools.partial(self._emit, name),
                name=f"{self.name} {name}",
            ).start()

    def _stop(self, *names: str) -> None:
        for name in names:
            sender = self._senders.pop(name, None)
            if sender is not None:
                sender.cancel()

    def _stop_all(self) -> None:
        self._stop(*list(self._senders))

    def sending(self) -> list[str]:
        """Messages being sent periodically now."""
        return sorted(name for name, s in self._senders.items() if s.running)

    def _allowed_signals(self, name: str) -> frozenset[str]:
        info = codec.message_info(name, self.variant)
        return frozenset(info.signals) | _COMPOSITES.get(name, frozenset())

    def _emit(self, name: str) -> None:
        """One transmission of ``name`` (a periodic tick)."""
        values = self.message_values(name)
        now = self.clock.monotonic()
        self._emits.setdefault(name, deque(maxlen=_EMITS_KEPT)).append((now, values))
        self._after_emit(name, values)
        self._changed.set()
        if name in self.suppressed:
            return
        allowed = self._allowed_signals(name)
        merged = {k: v for k, v in values.items() if k in allowed}
        extra = self.overrides.get(name)
        if extra:
            merged.update(extra)
        try:
            data = self.payload(name, merged, strict=not extra)
        except codec.CodecError as exc:
            logger.warning("%s: %s out of range (%s); sent as is", self.name, name, exc)
            data = self.payload(name, merged, strict=False)
        info = codec.message_info(name, self.variant)
        priority = self.priority(name)
        if len(data) > 8:
            if name in self._tp_inflight:
                logger.debug("%s: %s still in transfer, tick skipped", self.name, name)
                return
            self._tp_inflight.add(name)
            self._spawn(self._send_multi(name, info.pgn, priority, data))
            return
        arbitration_id = can_id(info.pgn, priority, self.ADDRESS, self.PEER_ADDRESS)
        record = self.node.send_frame(arbitration_id, data, name)
        self.sent[name] += 1
        self._publish(
            Message(
                name,
                info.pgn,
                TX,
                self._decode_own(name, data),
                data,
                arbitration_id,
                priority,
                record.t,
                record.mono,
                (record,),
                variant=self.variant,
            )
        )

    def _after_emit(self, name: str, values: Mapping[str, Any]) -> None:
        """Side effects of a due transmission (energy, SOC…): subclasses."""

    async def _send_multi(self, name: str, pgn: int, priority: int, data: bytes) -> None:
        try:
            async with self._tp_lock:
                start = len(self.node.frames)
                result = await self.node.send(pgn, data, self.PEER_ADDRESS, priority=priority)
                frames = tuple(f for f in self.node.frames[start:] if _belongs_to_transfer(f, pgn))
        except Exception as exc:
            logger.warning("%s: %s transfer could not run: %s", self.name, name, exc)
            return
        finally:
            self._tp_inflight.discard(name)
        self.sent[name] += 1
        first = frames[0] if frames else None
        self._publish(
            Message(
                name,
                pgn,
                TX,
                self._decode_own(name, data),
                data,
                can_id(pgn, priority, self.ADDRESS, self.PEER_ADDRESS),
                priority,
                first.t if first else result.started,
                first.mono if first else time.monotonic(),
                frames,
                multi_packet=True,
                variant=self.variant,
                ok=result.ok,
            )
        )

    def _decode_own(self, name: str, data: bytes) -> dict[str, Any]:
        try:
            return dict(codec.decode(name, data, self.variant))
        except codec.CodecError:
            return {}

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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
                self._on_received(self._message(received))
            except Exception:
                logger.exception("%s: handling PGN %#06x failed", self.name, received.pgn)

    def _decode_order(self) -> list[str]:
        order = [v for v in (self.peer_variant, self.variant) if v]
        return order + [v for v in VARIANTS if v not in order]

    def _message(self, received: Received) -> Message:
        name, values, variant = f"PGN {received.pgn:#06x}", {}, ""
        for candidate in self._decode_order():
            try:
                info = codec.message_info(received.pgn, candidate)
                values = dict(codec.decode(received.pgn, received.data, candidate))
            except codec.CodecError:
                continue
            name, variant = info.name, candidate
            break
        frames = self._rx_frames(received)
        first = frames[0] if frames else None
        priority = parse_can_id(first.can_id).priority if first else received.priority
        return Message(
            name,
            received.pgn,
            RX,
            values,
            received.data,
            can_id(received.pgn, priority, received.src, received.dst),
            priority,
            first.t if first else received.t,
            first.mono if first else time.monotonic(),
            frames,
            multi_packet=received.multi_packet,
            variant=variant,
        )

    def _rx_frames(self, received: Received) -> tuple[FrameRecord, ...]:
        recent = self.node.frames[-_FRAME_SCAN:]
        if not received.multi_packet:
            for record in reversed(recent):
                if (
                    record.direction == RX
                    and record.src == received.src
                    and record.pgn == received.pgn
                    and record.data == received.data
                ):
                    return (record,)
            return ()
        found: list[FrameRecord] = []
        for record in reversed(recent):
            if record.src != received.src and record.dst != received.src:
                continue
            if record.pgn == PGN_TP_DT and record.direction == RX:
                found.append(record)
            elif record.pgn == PGN_TP_CM and _cm_pgn(record.data) == received.pgn:
                found.append(record)
                if record.direction == RX and record.data[:1] == b"\x10":
                    break
        return tuple(reversed(found))

    def _on_received(self, message: Message) -> None:
        name = message.name
        known = message.variant != "" and self._knows(name)
        if known:
            self.last[name] = message
            self._last_rx_t[name] = message.t
        self._publish(message)
        if not known:
            return
        if name == self.PEER_ERROR_MESSAGE:
            if self.accepts_peer_error(message):
                self._interrupt(PeerFault(message))
        elif name == self.PEER_STOP_MESSAGE and (self.phase in ACTIVE or self.phase in ENDING):
            if self._peer_stop_t is None:
                self._peer_stop_t = message.t
            if self.phase in ACTIVE and not isinstance(self._pending, StopRequested):
                reason = self.peer_stop_reason()
                self._interrupt(StopRequested(reason, self.stop_fields(reason), "peer"))
        self.on_message(message)
        self._wake()

    def _knows(self, name: str) -> bool:
        """A message of the peer's that this side's variant has."""
        try:
            info = codec.message_info(name, self.variant)
        except codec.CodecError:
            return False
        return info.sender != self.SENDER

    def peer_stop_reason(self) -> str:
        """Stop reason when the peer's BST / CST starts the stop flow."""
        return "peer"

    def on_message(self, message: Message) -> None:
        """Side-specific reaction to a received message (runs after the common handling)."""

    def _on_params_changed(self, params: Mapping[str, Any]) -> None:
        """Reaction to :meth:`set` (subclasses)."""

    # -- records -------------------------------------------------------------------------------

    def _publish(self, message: Message) -> None:
        self.history.append(message)
        if message.direction == TX:
            self.last_tx[message.name] = message
        for fn in list(self._subscribers):
            try:
                fn(message)
            except Exception:
                logger.exception("%s: message subscriber failed", self.name)
        self._notify()

    def _event(self, kind: str, **kw: Any) -> PeerEvent:
        kw.setdefault("attempt", self.attempts)
        event = PeerEvent(kind, self.clock.monotonic(), time.monotonic(), self.phase, **kw)
        self.events.append(event)
        logger.info(
            "%s: %s%s%s",
            self.name,
            kind,
            f" {event.message}" if event.message else "",
            f" ({event.detail})" if event.detail else "",
        )
        for fn in list(self._event_subscribers):
            try:
                fn(event)
            except Exception:
                logger.exception("%s: event subscriber failed", self.name)
        self._notify()
        return event

    def _set_phase(self, phase: str) -> None:
        if phase == self.phase:
            return
        old, self.phase = self.phase, phase
        self._event("phase", detail=f"{old} → {phase}")

    def _wake(self) -> None:
        self._changed.set()
        self._notify()

    def _notify(self) -> None:
        for event in list(self._watchers):
            event.set()

    def events_of(self, kind: str) -> list[PeerEvent]:
        return [e for e in self.events if e.kind == kind]

    def phases(self) -> list[str]:
        """The phases entered so far, in order."""
        return [e.phase for e in self.events if e.kind == "phase"]


# -- helpers -----------------------------------------------------------------------------------


def _load_databases() -> None:
    for variant in VARIANTS:
        codec.messages(variant)


def _message_name(message: str) -> str:
    name = str(message).upper()
    for variant in VARIANTS:
        with contextlib.suppress(codec.CodecError):
            return codec.message_info(name, variant).name
    raise ValueError(f"{message!r} is not a GB/T 27930 message")


def _cm_pgn(data: bytes) -> int | None:
    return int.from_bytes(data[5:8], "little") if len(data) >= 8 else None


def _belongs_to_transfer(record: FrameRecord, pgn: int) -> bool:
    if record.pgn == PGN_TP_DT:
        return record.direction != RX
    return record.pgn == PGN_TP_CM and _cm_pgn(record.data) == pgn


async def _cancel(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait for it (bounded). The cancellation is repeated: Python 3.11's
    ``asyncio.wait_for`` loses a cancellation that comes while its inner future completes
    (gh-86296), and our waits are ``wait_for`` on queues and events."""
    deadline = time.monotonic() + STOP_WAIT_S
    while not task.done():
        left = deadline - time.monotonic()
        if left <= 0:
            logger.warning("task %s did not end within %s s", task.get_name(), STOP_WAIT_S)
            return
        task.cancel()
        await asyncio.wait({task}, timeout=min(CANCEL_STEP, left))


def fields_of(name: str, variant: str, value: int = 0) -> dict[str, int]:
    """Every field of ``name`` set to ``value`` (BST / CST / BEM / CEM start from 0)."""
    return dict.fromkeys(codec.message_info(name, variant).signals, value)


def merge(base: Mapping[str, int], updates: Iterable[tuple[str, int]]) -> dict[str, int]:
    out = dict(base)
    out.update(updates)
    return out
