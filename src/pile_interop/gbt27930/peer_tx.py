"""What a GB/T 27930 peer sends: its periodic messages, with suppression and overrides.

A :class:`Transmitter` sends each running message with a
:class:`~pile_interop.gbt27930.periodic.PeriodicSender` at the period of the standard. On every
tick it asks the side for the values (:class:`MessageHooks`, the hooks mutants override),
remembers when the message was due, and puts it on the bus: one frame, or a multi-packet
RTS/CTS transfer through the :class:`~pile_interop.gbt27930.transport.J1939Node`. Each
message put on the bus is published as a :class:`~.records.Message`.

Fault injection: a suppressed message is still due (the state machine goes on as if it had sent
it) but is not sent; an override sends other field values (out-of-range ones as they are).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Protocol

from pile_interop.gbt27930 import codec
from pile_interop.gbt27930.ids import can_id
from pile_interop.gbt27930.layout import VARIANTS
from pile_interop.gbt27930.peer_waits import Waits, cancel_task
from pile_interop.gbt27930.periodic import PeriodicSender
from pile_interop.gbt27930.records import Message, sent_transfer_frames
from pile_interop.gbt27930.tp_protocol import TX
from pile_interop.gbt27930.transport import J1939Node

logger = logging.getLogger(__name__)

EMITS_KEPT = 16
"""Recent due transmissions kept per message (a wait for "the first one since" reads them)."""

COMPOSITES: dict[str, frozenset[str]] = {
    "CHM": frozenset({"Version"}),
    "BRM": frozenset({"Version", "VIN", "BatteryMaker"}),
    "CRM": frozenset({"RegionCode"}),
    "CTS": frozenset({"Time"}),
}
"""Values the codec composes from several fields (accepted besides the signals)."""

Test = Callable[[Mapping[str, Any]], bool]
"""A test on a message's values."""


class MessageHooks(Protocol):
    """What the transmitter asks of its side on every tick (the hooks mutants override)."""

    def message_values(self, name: str) -> dict[str, Any]: ...

    def period(self, name: str) -> float: ...

    def priority(self, name: str) -> int: ...

    def payload(self, name: str, values: Mapping[str, Any], *, strict: bool = True) -> bytes: ...

    def after_emit(self, name: str, values: Mapping[str, Any]) -> None: ...


class Transmitter:
    """The periodic messages of one peer, sent from its J1939 node to the other side."""

    def __init__(
        self,
        node: J1939Node,
        hooks: MessageHooks,
        waits: Waits,
        publish: Callable[[Message], None],
        variant: str,
        peer_address: int,
    ) -> None:
        """``publish`` is told every message put on the bus; the node's name and clock are
        the peer's."""
        self.node = node
        self.clock = node.clock
        self.variant = variant
        self.peer_address = peer_address
        self.name = node.name
        self.suppressed: set[str] = set()
        self.overrides: dict[str, dict[str, Any]] = {}
        self.sent = Counter[str]()
        """Messages put on the bus, by name (suppressed ones not counted)."""
        self._hooks = hooks
        self._waits = waits
        self._publish = publish
        self._senders: dict[str, PeriodicSender] = {}
        self._emits: dict[str, deque[tuple[float, dict[str, Any]]]] = {}
        self._inflight: set[str] = set()
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- fault injection -----------------------------------------------------------------------

    def suppress(self, message: str, on: bool) -> None:
        """Stop (or resume) sending ``message`` while it stays due."""
        name = message_name(message)
        if on:
            self.suppressed.add(name)
        else:
            self.suppressed.discard(name)
        logger.info("%s: %s %s", self.name, name, "suppressed" if on else "no longer suppressed")

    def override(self, message: str, values: Mapping[str, Any]) -> None:
        """Send these field values in ``message`` from now on (accumulates)."""
        name = message_name(message)
        allowed = self.allowed_signals(name)
        unknown = sorted(set(values) - allowed)
        if unknown:
            raise ValueError(f"{name} ({self.variant}) has no field {', '.join(unknown)}")
        self.overrides.setdefault(name, {}).update(values)
        logger.info("%s: override %s %s", self.name, name, values)

    def allowed_signals(self, name: str) -> frozenset[str]:
        info = codec.message_info(name, self.variant)
        return frozenset(info.signals) | COMPOSITES.get(name, frozenset())

    # -- periodic sending ----------------------------------------------------------------------

    def start(self, *names: str) -> None:
        """Start the periodic sending of ``names`` (first one now)."""
        for name in names:
            sender = self._senders.get(name)
            if sender is not None and sender.running:
                continue
            self._senders[name] = PeriodicSender(
                self.clock,
                self._hooks.period(name),
                functools.partial(self._emit, name),
                name=f"{self.name} {name}",
            ).start()

    def stop(self, *names: str) -> None:
        for name in names:
            sender = self._senders.pop(name, None)
            if sender is not None:
                sender.cancel()

    def stop_all(self) -> None:
        self.stop(*list(self._senders))

    def sending(self) -> list[str]:
        """Messages being sent periodically now."""
        return sorted(name for name, s in self._senders.items() if s.running)

    async def halt(self) -> None:
        """Every message stopped, every transfer in progress cancelled."""
        self.stop_all()
        for task in list(self._tasks):
            await cancel_task(task)
        self._inflight.clear()

    # -- when messages were due ----------------------------------------------------------------

    def emitted_after(self, name: str, since: float, test: Test | None = None) -> float | None:
        """Protocol time ``name`` was first due (sent or suppressed) at or after ``since``
        with values passing ``test``; None when it was not (among the recent emissions)."""
        for when, values in self._emits.get(name, ()):
            if when >= since and (test is None or test(values)):
                return when
        return None

    async def first_emit(self, name: str, since: float, test: Test | None = None) -> float:
        """Wait until ``name`` (passing ``test``) is due after ``since``; its protocol time."""
        await self._waits.until(lambda: self.emitted_after(name, since, test) is not None)
        when = self.emitted_after(name, since, test)
        return since if when is None else when

    async def send_from_now(self, *names: str) -> float:
        """Start sending ``names``; the protocol time the first of them was first due (the
        origin of the timers that wait for the answer)."""
        since = self.clock.monotonic()
        self.start(*names)
        return await self.first_emit(names[0], since)

    # -- one transmission ----------------------------------------------------------------------

    def _emit(self, name: str) -> None:
        """One transmission of ``name`` (a periodic tick)."""
        values = self._hooks.message_values(name)
        now = self.clock.monotonic()
        self._emits.setdefault(name, deque(maxlen=EMITS_KEPT)).append((now, values))
        self._hooks.after_emit(name, values)
        self._waits.changed()
        if name in self.suppressed:
            return
        allowed = self.allowed_signals(name)
        merged = {k: v for k, v in values.items() if k in allowed}
        extra = self.overrides.get(name)
        if extra:
            merged.update(extra)
        try:
            data = self._hooks.payload(name, merged, strict=not extra)
        except codec.CodecError as exc:
            logger.warning("%s: %s out of range (%s); sent as is", self.name, name, exc)
            data = self._hooks.payload(name, merged, strict=False)
        info = codec.message_info(name, self.variant)
        priority = self._hooks.priority(name)
        if len(data) > 8:
            if name in self._inflight:
                logger.debug("%s: %s still in transfer, tick skipped", self.name, name)
                return
            self._inflight.add(name)
            self._spawn(self._send_multi(name, info.pgn, priority, data))
            return
        arbitration_id = can_id(info.pgn, priority, self.node.address, self.peer_address)
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

    async def _send_multi(self, name: str, pgn: int, priority: int, data: bytes) -> None:
        try:
            async with self._lock:
                start = len(self.node.frames)
                result = await self.node.send(pgn, data, self.peer_address, priority=priority)
                frames = sent_transfer_frames(self.node.frames[start:], pgn)
        except Exception as exc:
            logger.warning("%s: %s transfer could not run: %s", self.name, name, exc)
            return
        finally:
            self._inflight.discard(name)
        self.sent[name] += 1
        first = frames[0] if frames else None
        self._publish(
            Message(
                name,
                pgn,
                TX,
                self._decode_own(name, data),
                data,
                can_id(pgn, priority, self.node.address, self.peer_address),
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

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def message_name(message: str) -> str:
    """The codec's name of ``message`` (any case) in any variant; ValueError if none has it."""
    name = str(message).upper()
    for variant in VARIANTS:
        with contextlib.suppress(codec.CodecError):
            return codec.message_info(name, variant).name
    raise ValueError(f"{message!r} is not a GB/T 27930 message")
