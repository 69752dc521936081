"""J1939-21 connection-mode transport (RTS/CTS) of our own, with fault injection.

A :class:`J1939Node` is one address on a python-can bus, driven by the asyncio event loop: a
``can.Notifier`` hands every received frame to the loop, where it is logged and dispatched to
the transfer it belongs to. The node plays both roles:

* **sender** — :meth:`J1939Node.send`: payloads of up to 8 bytes go out as one frame; longer
  ones (9 … 1785 bytes) as TP.CM_RTS, then TP.DT packets as the receiver's TP.CM_CTS allow,
  until TP.CM_EndOfMsgAck;
* **receiver** — an incoming RTS opens a session that answers CTS, collects the TP.DT packets in
  sequence, asks again for missing ones and acknowledges with EndOfMsgAck; the reassembled
  message arrives in :meth:`J1939Node.receive` like a single frame does.

Timers (J1939-21, GB/T 27930-2015 §6.5): Tr 200 ms, Th 500 ms, T1 750 ms, T2 1250 ms,
T3 1250 ms, T4 1050 ms. They run on a :class:`~pile_interop.core.clock.Clock`, so a test can
scale protocol time down; every wait in here is bounded by one of them.

Fault injection: :class:`SenderFaults` (drop, reorder or delay a TP.DT, go silent, abort) for a
transfer we send, :class:`ReceiverFaults` (late or missing CTS, hold, missing EndOfMsgAck,
abort) for transfers we receive. Every frame — sent, received, or withheld by a fault — is in
:attr:`J1939Node.frames` with its direction and protocol time.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal

import can

from pile_interop.core.clock import Clock
from pile_interop.gbt27930.ids import (
    GLOBAL_ADDRESS,
    PGN_TP_CM,
    PGN_TP_DT,
    TP_PRIORITY,
    Identified,
    can_id,
    parse_can_id,
)

logger = logging.getLogger(__name__)

MAX_PAYLOAD = 1785
"""255 packets × 7 bytes."""
MAX_PACKETS = 255
PACKET_DATA = 7
PAD = 0xFF
NO_LIMIT = 0xFF
"""RTS byte 5: no limit on the packets per CTS."""

NOTIFIER_POLL = 0.05
"""Real seconds the python-can notifier thread blocks in ``recv`` (bounds shutdown time)."""
DEFAULT_RECEIVE_TIMEOUT = 5.0
"""Protocol seconds :meth:`J1939Node.receive` waits by default (GB/T 27930 default timeout)."""

TX, RX, WITHHELD = "tx", "rx", "withheld"


#: Bound on waiting for cancelled transport tasks to end in :meth:`J1939Node.close`.
CLOSE_BOUND_S = 2.0
#: How many received transfers wait for :meth:`J1939Node.next_received_transfer`.
HISTORY = 20_000


class Control(IntEnum):
    """TP.CM control byte."""

    RTS = 16
    CTS = 17
    EOMA = 19
    BAM = 32
    ABORT = 255


class AbortReason(IntEnum):
    """TP.Conn_Abort reasons (J1939-21)."""

    BUSY = 1
    """Already in one or more connection-managed sessions and cannot support another."""
    RESOURCES = 2
    """System resources were needed for another task."""
    TIMEOUT = 3
    """A timeout occurred."""
    CTS_DURING_TRANSFER = 4
    """CTS received while the data transfer was in progress."""
    MAX_RETRANSMIT = 5
    """Maximum retransmit request limit reached."""
    UNEXPECTED_DT = 6
    """Unexpected data transfer packet."""
    BAD_SEQUENCE = 7
    """Bad sequence number (and the software cannot recover)."""
    DUPLICATE_SEQUENCE = 8
    """Duplicate sequence number (and the software cannot recover)."""
    TOO_LARGE = 9
    """Total message size is greater than 1785 bytes."""
    OTHER = 250
    """Any other reason."""


def abort_reason(value: int) -> AbortReason | int:
    """The :class:`AbortReason` for ``value``, or the number itself when it is not one."""
    try:
        return AbortReason(value)
    except ValueError:
        return value


@dataclass(frozen=True)
class Timers:
    """J1939-21 transport timers in protocol seconds."""

    tr: float = 0.200
    """Response time: a receiver answers an RTS (and a sender a CTS) within Tr."""
    th: float = 0.500
    """Holding time: a receiver holding the connection repeats CTS(0) every Th."""
    t1: float = 0.750
    """Receiver: longest gap between two TP.DT of a window."""
    t2: float = 1.250
    """Receiver: longest wait for the first TP.DT after a CTS."""
    t3: float = 1.250
    """Sender: longest wait for a CTS or EndOfMsgAck after the RTS or the last TP.DT."""
    t4: float = 1.050
    """Sender: longest wait for the next CTS after a CTS(0) (hold)."""


@dataclass(frozen=True)
class FrameRecord(Identified):
    """One frame as this node saw it; ``withheld`` frames were due but dropped by a fault."""

    t: float
    """Protocol seconds on the node's clock."""
    mono: float
    """Real ``time.monotonic()``."""
    direction: str
    can_id: int
    data: bytes
    note: str = ""

    def __str__(self) -> str:
        return (
            f"{self.t:10.4f} {self.direction:8} {self.can_id:08X} {self.data.hex(' ').upper()}"
            + (f"  {self.note}" if self.note else "")
        )


@dataclass(frozen=True)
class SenderFaults:
    """Faults a sending node injects into one transfer (sequence numbers count from 1)."""

    drop_dt: frozenset[int] = frozenset()
    """TP.DT withheld the first time they are due (a retransmission goes out)."""
    drop_dt_always: frozenset[int] = frozenset()
    """TP.DT withheld every time, retransmissions included."""
    reorder_dt: tuple[int, int] | None = None
    """Two TP.DT of the same window sent in swapped order (the first time only)."""
    delay_dt: Mapping[int, float] = field(default_factory=dict)
    """Protocol seconds to wait before TP.DT n (more than T1 / T2 breaks the receiver's timer)."""
    stop_after_dt: int | None = None
    """Go silent after TP.DT n (0: after the CTS, before any TP.DT)."""
    abort_after_dt: int | None = None
    """Send TP.Conn_Abort after TP.DT n (0: right after the first CTS)."""
    abort_reason: int = AbortReason.OTHER
    packets_per_cts: int = NO_LIMIT
    """RTS byte 5: the most packets the sender accepts per CTS."""


@dataclass(frozen=True)
class ReceiverFaults:
    """Faults a receiving node injects into the transfers it receives (``pgn`` None: all)."""

    pgn: int | None = None
    drop_cts: bool = False
    """Never answer the RTS (the sender's T3 expires)."""
    delay_cts: float = 0.0
    """Protocol seconds before each CTS: above Tr is late, above T3 breaks the sender's timer."""
    hold: float = 0.0
    """Hold the connection this long before the first window: CTS(0) repeated every Th."""
    hold_without_renew: bool = False
    """Send one CTS(0) and nothing more (the sender's T4 expires)."""
    drop_eoma: bool = False
    """Do not send EndOfMsgAck (the sender's T3 expires after the last TP.DT)."""
    abort_on_rts: int | None = None
    """Answer the RTS with TP.Conn_Abort and this reason."""
    abort_after_dt: int | None = None
    """Send TP.Conn_Abort after receiving TP.DT n."""
    abort_reason: int = AbortReason.OTHER

    def applies_to(self, pgn: int) -> bool:
        return self.pgn is None or self.pgn == pgn


@dataclass(frozen=True)
class ReceiverPolicy:
    """How a receiving node behaves when nothing is injected."""

    packets_per_cts: int = MAX_PACKETS
    """Largest window a CTS grants (also bounded by the RTS's byte 5)."""
    on_sequence_error: Literal["retransmit", "abort"] = "retransmit"
    """Out-of-sequence TP.DT: ask again with a CTS (J1939-21 recovery) or abort (reason 7/8)."""
    max_retransmits: int = 2
    """Retransmission requests per transfer before aborting with reason 5."""


@dataclass
class TransferResult:
    """How one multi-packet transfer ended, from one side's point of view."""

    role: Literal["sender", "receiver"]
    pgn: int
    src: int
    dst: int
    size: int
    started: float
    ok: bool = False
    finished: float | None = None
    data: bytes | None = None
    abort_reason: AbortReason | int | None = None
    aborted_by: Literal["local", "peer"] | None = None
    timer: str | None = None
    """``"T1"`` … ``"T4"`` when a timer expiry ended the transfer."""
    retransmits: int = 0
    detail: str = ""

    def __str__(self) -> str:
        outcome = "ok" if self.ok else f"failed ({self.detail})"
        return (
            f"{self.role} PGN {self.pgn:#06x} {self.src:02X}->{self.dst:02X} "
            f"{self.size} bytes: {outcome}"
        )


@dataclass(frozen=True)
class Received:
    """A message delivered to this node: one frame, or a reassembled multi-packet payload."""

    pgn: int
    src: int
    dst: int
    priority: int
    data: bytes
    t: float
    multi_packet: bool = False


class TransferError(RuntimeError):
    """A transfer could not even start (payload too large, a session with the peer is open)."""


class _Listener(can.Listener):
    """Runs in the event loop (the notifier schedules it there) and feeds the node."""

    def __init__(self, node: J1939Node) -> None:
        self._node = node

    def on_message_received(self, msg: can.Message) -> None:
        self._node._on_frame(msg)

    def on_error(self, exc: Exception) -> None:
        logger.error("CAN receive error on node %02X: %s", self._node.address, exc)


@dataclass
class _Frame:
    """A received TP.CM / TP.DT frame handed to a session."""

    data: bytes
    t: float
    is_dt: bool = False

    @property
    def is_abort(self) -> bool:
        return not self.is_dt and bool(self.data) and self.data[0] == Control.ABORT


_SUPERSEDED = _Frame(b"", -1.0)


class J1939Node:
    """One J1939 address on a python-can bus, sending and receiving with RTS/CTS."""

    def __init__(
        self,
        bus: can.BusABC,
        address: int,
        *,
        clock: Clock | None = None,
        timers: Timers | None = None,
        policy: ReceiverPolicy | None = None,
        tp_priority: int = TP_PRIORITY,
        owns_bus: bool = False,
        name: str = "",
    ) -> None:
        self.bus = bus
        self.address = address
        self.clock = clock or Clock()
        self.timers = timers or Timers()
        self.policy = policy or ReceiverPolicy()
        self.tp_priority = tp_priority
        self.name = name or f"node {address:02X}"
        self.receiver_faults: ReceiverFaults | None = None
        self.frames: list[FrameRecord] = []
        self.transfers: list[TransferResult] = []
        self._owns_bus = owns_bus
        self._inbox: asyncio.Queue[Received] = asyncio.Queue()
        self._received_transfers: asyncio.Queue[TransferResult] = asyncio.Queue(HISTORY)
        self._rx_sessions: dict[int, asyncio.Queue[_Frame]] = {}
        self._tx_sessions: dict[int, asyncio.Queue[_Frame]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._notifier: can.Notifier | None = None

    # -- life cycle ----------------------------------------------------------------------------

    async def start(self) -> J1939Node:
        if self._notifier is None:
            loop = asyncio.get_running_loop()
            self._notifier = can.Notifier(
                self.bus, [_Listener(self)], timeout=NOTIFIER_POLL, loop=loop
            )
        return self

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            # bounded: on 3.11 a cancellation can be lost inside wait_for (gh-86296)
            _done, stuck = await asyncio.wait(list(self._tasks), timeout=CLOSE_BOUND_S)
            if stuck:
                logger.warning("%s: %d transport task(s) did not end", self.name, len(stuck))
        if self._notifier is not None:
            notifier, self._notifier = self._notifier, None
            await asyncio.to_thread(notifier.stop, NOTIFIER_POLL * 20)
        if self._owns_bus:
            self.bus.shutdown()

    async def __aenter__(self) -> J1939Node:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- frames --------------------------------------------------------------------------------

    def _record(self, direction: str, arbitration_id: int, data: bytes, note: str) -> FrameRecord:
        record = FrameRecord(
            self.clock.monotonic(), time.monotonic(), direction, arbitration_id, bytes(data), note
        )
        self.frames.append(record)
        logger.debug("%s %s", self.name, record)
        return record

    def send_frame(self, arbitration_id: int, data: bytes, note: str = "") -> FrameRecord:
        """Put one extended frame on the bus as it is (raw path for negative tests)."""
        message = can.Message(arbitration_id=arbitration_id, data=data, is_extended_id=True)
        record = self._record(TX, arbitration_id, data, note)
        self.bus.send(message)
        return record

    def _withhold(self, arbitration_id: int, data: bytes, note: str) -> None:
        self._record(WITHHELD, arbitration_id, data, note)

    def _cm_id(self, dst: int, priority: int | None = None) -> int:
        return can_id(
            PGN_TP_CM, self.tp_priority if priority is None else priority, self.address, dst
        )

    def _dt_id(self, dst: int) -> int:
        return can_id(PGN_TP_DT, self.tp_priority, self.address, dst)

    def send_abort(self, dst: int, pgn: int, reason: int, note: str = "") -> FrameRecord:
        data = bytes([Control.ABORT, reason, PAD, PAD, PAD]) + pgn.to_bytes(3, "little")
        return self.send_frame(self._cm_id(dst), data, note or f"Abort ({reason_name(reason)})")

    def _on_frame(self, msg: can.Message) -> None:
        if not msg.is_extended_id or msg.is_error_frame or msg.is_remote_frame:
            return
        parts = parse_can_id(msg.arbitration_id)
        if parts.src == self.address:
            return  # our own frame echoed back (udp_multicast loops back)
        if parts.dst not in (self.address, GLOBAL_ADDRESS):
            return
        data = bytes(msg.data)
        now = self.clock.monotonic()
        if parts.pgn == PGN_TP_CM and data:
            self._record(RX, msg.arbitration_id, data, _cm_note(data))
            self._on_cm(parts.src, data, now)
        elif parts.pgn == PGN_TP_DT and data:
            self._record(RX, msg.arbitration_id, data, f"DT {data[0]}")
            session = self._rx_sessions.get(parts.src)
            if session is None:
                logger.info("%s: TP.DT from %02X outside a session ignored", self.name, parts.src)
            else:
                session.put_nowait(_Frame(data, now, is_dt=True))
        else:
            self._record(RX, msg.arbitration_id, data, "")
            self._inbox.put_nowait(
                Received(parts.pgn, parts.src, parts.dst, parts.priority, data, now)
            )

    def _on_cm(self, src: int, data: bytes, now: float) -> None:
        if len(data) < 8:
            logger.info("%s: TP.CM of %d bytes from %02X ignored", self.name, len(data), src)
            return
        control = data[0]
        if control == Control.RTS:
            old = self._rx_sessions.pop(src, None)
            if old is not None:
                old.put_nowait(_SUPERSEDED)
            queue: asyncio.Queue[_Frame] = asyncio.Queue()
            self._rx_sessions[src] = queue
            self._spawn(self._receive_transfer(src, data, now, queue))
        elif control in (Control.CTS, Control.EOMA):
            tx = self._tx_sessions.get(src)
            if tx is None:
                logger.info(
                    "%s: %s from %02X outside a session ignored", self.name, _cm_note(data), src
                )
            else:
                tx.put_nowait(_Frame(data, now))
        elif control == Control.ABORT:
            for sessions in (self._rx_sessions, self._tx_sessions):
                if src in sessions:
                    sessions[src].put_nowait(_Frame(data, now))
        else:
            logger.info("%s: TP.CM control byte %d from %02X ignored", self.name, control, src)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- public API ----------------------------------------------------------------------------

    async def receive(self, timeout: float = DEFAULT_RECEIVE_TIMEOUT) -> Received:
        """Next message for this node (protocol seconds); ``TimeoutError`` when none came."""
        return await asyncio.wait_for(self._inbox.get(), self.clock.real(timeout))

    async def next_received_transfer(
        self, timeout: float = DEFAULT_RECEIVE_TIMEOUT
    ) -> TransferResult:
        """The result of the next transfer this node received (completed or failed)."""
        return await asyncio.wait_for(self._received_transfers.get(), self.clock.real(timeout))

    async def send(
        self,
        pgn: int,
        data: bytes,
        dst: int,
        *,
        priority: int = 6,
        faults: SenderFaults | None = None,
    ) -> TransferResult:
        """Send ``data`` as parameter group ``pgn`` to ``dst``: one frame or an RTS/CTS transfer.

        Returns when the transfer ended (EndOfMsgAck, an abort or a timer); never raises for a
        protocol failure: the result says what happened.
        """
        payload = bytes(data)
        started = self.clock.monotonic()
        if len(payload) <= 8:
            self.send_frame(can_id(pgn, priority, self.address, dst), payload)
            return TransferResult(
                "sender",
                pgn,
                self.address,
                dst,
                len(payload),
                started,
                ok=True,
                finished=started,
                data=payload,
                detail="single frame",
            )
        if len(payload) > MAX_PAYLOAD:
            raise TransferError(f"{len(payload)} bytes exceed the {MAX_PAYLOAD}-byte TP limit")
        if dst in self._tx_sessions:
            raise TransferError(f"a transfer to {dst:02X} is already in progress")
        queue: asyncio.Queue[_Frame] = asyncio.Queue()
        self._tx_sessions[dst] = queue
        result = TransferResult("sender", pgn, self.address, dst, len(payload), started)
        try:
            await _Sender(
                self, pgn, payload, dst, priority, faults or SenderFaults(), queue, result
            ).run()
        finally:
            self._tx_sessions.pop(dst, None)
            result.finished = self.clock.monotonic()
            self.transfers.append(result)
            logger.info("%s: %s", self.name, result)
        return result

    # -- receiver ------------------------------------------------------------------------------

    async def _receive_transfer(
        self, src: int, rts: bytes, now: float, queue: asyncio.Queue[_Frame]
    ) -> None:
        size = rts[1] | rts[2] << 8
        pgn = int.from_bytes(rts[5:8], "little")
        result = TransferResult("receiver", pgn, src, self.address, size, now)
        faults = self.receiver_faults
        if faults is not None and not faults.applies_to(pgn):
            faults = None
        try:
            await _Receiver(self, src, rts, queue, faults or ReceiverFaults(), result).run()
        finally:
            if self._rx_sessions.get(src) is queue:
                del self._rx_sessions[src]
            result.finished = self.clock.monotonic()
            self.transfers.append(result)
            if self._received_transfers.full():  # nobody reads them: keep the newest
                self._received_transfers.get_nowait()
            self._received_transfers.put_nowait(result)
            logger.info("%s: %s", self.name, result)
        if result.ok and result.data is not None:
            self._inbox.put_nowait(
                Received(
                    pgn,
                    src,
                    self.address,
                    TP_PRIORITY,
                    result.data,
                    result.finished or now,
                    multi_packet=True,
                )
            )


def _fail(
    result: TransferResult,
    reason: int | None,
    by: Literal["local", "peer"] | None,
    timer: str | None,
    detail: str,
) -> None:
    """Mark a transfer as failed: why, by whom, which timer."""
    result.ok = False
    result.abort_reason = None if reason is None else abort_reason(reason)
    result.aborted_by, result.timer, result.detail = by, timer, detail


class _Sender:
    """One outgoing RTS/CTS transfer."""

    def __init__(
        self,
        node: J1939Node,
        pgn: int,
        payload: bytes,
        dst: int,
        priority: int,
        faults: SenderFaults,
        queue: asyncio.Queue[_Frame],
        result: TransferResult,
    ) -> None:
        self.node, self.pgn, self.payload, self.dst = node, pgn, payload, dst
        self.priority, self.faults, self.queue, self.result = priority, faults, queue, result
        self.packets = math.ceil(len(payload) / PACKET_DATA)
        self.sent: set[int] = set()
        self.withheld_once: set[int] = set()
        self.delayed: set[int] = set()
        self.reordered = False
        self.silent = False

    def _packet(self, seq: int) -> bytes:
        chunk = self.payload[(seq - 1) * PACKET_DATA : seq * PACKET_DATA]
        return bytes([seq]) + chunk + bytes([PAD]) * (PACKET_DATA - len(chunk))

    def _abort(self, reason: int, timer: str | None, detail: str) -> None:
        self.node.send_abort(self.dst, self.pgn, reason)
        _fail(self.result, reason, "local", timer, detail)

    def _aborted_by_receiver(self, reason: int) -> None:
        _fail(self.result, reason, "peer", None, f"aborted by the receiver ({reason_name(reason)})")

    async def run(self) -> None:
        node, t = self.node, self.node.timers
        size = len(self.payload)
        rts = bytes(
            [Control.RTS, size & 0xFF, size >> 8, self.packets, self.faults.packets_per_cts]
        ) + self.pgn.to_bytes(3, "little")
        node.send_frame(node._cm_id(self.dst, self.priority), rts, "RTS")
        timer, timeout = "T3", t.t3
        while True:
            wait = timeout if not self.silent else t.t1 + t.t2
            try:
                frame = await asyncio.wait_for(self.queue.get(), node.clock.real(wait))
            except TimeoutError:
                if self.silent:
                    _fail(
                        self.result,
                        None,
                        None,
                        None,
                        "went silent (fault injection); no abort seen",
                    )
                else:
                    self._abort(
                        AbortReason.TIMEOUT, timer, f"{timer} expired waiting for CTS / EndOfMsgAck"
                    )
                return
            control = frame.data[0]
            if control == Control.ABORT:
                self._aborted_by_receiver(frame.data[1])
                return
            if self.silent:
                continue
            if control == Control.EOMA:
                self.result.ok = True
                self.result.detail = "EndOfMsgAck"
                return
            count, first = frame.data[1], frame.data[2]
            if count == 0:
                timer, timeout = "T4", t.t4  # hold: the receiver must renew within Th < T4
                continue
            if not 1 <= first <= self.packets:
                self._abort(AbortReason.OTHER, None, f"CTS asks for packet {first}")
                return
            if first in self.sent:
                self.result.retransmits += 1
            if not await self._send_window(first, min(self.packets, first + count - 1)):
                return
            timer, timeout = "T3", t.t3

    async def _send_window(self, first: int, last: int) -> bool:
        """Send TP.DT first..last; False when the transfer ended on the way."""
        f, node = self.faults, self.node
        order = list(range(first, last + 1))
        if f.reorder_dt and not self.reordered and all(s in order for s in f.reorder_dt):
            a, b = order.index(f.reorder_dt[0]), order.index(f.reorder_dt[1])
            order[a], order[b] = order[b], order[a]
            self.reordered = True
        if f.abort_after_dt == 0 and not self.sent:
            self._abort(f.abort_reason, None, "abort injected before the first TP.DT")
            return False
        for seq in order:
            if f.stop_after_dt is not None and seq > f.stop_after_dt:
                self.silent = True
                return True
            delay = f.delay_dt.get(seq)
            if delay and seq not in self.delayed:
                self.delayed.add(seq)
                await node.clock.sleep(delay)
            if not self._check_queue():
                return False
            data = self._packet(seq)
            if seq in f.drop_dt_always or (seq in f.drop_dt and seq not in self.withheld_once):
                self.withheld_once.add(seq)
                node._withhold(node._dt_id(self.dst), data, f"DT {seq} dropped (fault injection)")
            else:
                node.send_frame(node._dt_id(self.dst), data, f"DT {seq}")
            self.sent.add(seq)
            if f.abort_after_dt == seq:
                self._abort(f.abort_reason, None, f"abort injected after TP.DT {seq}")
                return False
        return True

    def _check_queue(self) -> bool:
        """Between two TP.DT: an abort ends the transfer, a CTS is a protocol error."""
        while not self.queue.empty():
            frame = self.queue.get_nowait()
            control = frame.data[0]
            if control == Control.ABORT:
                self._aborted_by_receiver(frame.data[1])
                return False
            if control == Control.CTS:
                self._abort(
                    AbortReason.CTS_DURING_TRANSFER, None, "CTS received while sending TP.DT"
                )
                return False
        return True


class _Receiver:
    """One incoming RTS/CTS transfer."""

    def __init__(
        self,
        node: J1939Node,
        src: int,
        rts: bytes,
        queue: asyncio.Queue[_Frame],
        faults: ReceiverFaults,
        result: TransferResult,
    ) -> None:
        self.node, self.src, self.queue, self.faults, self.result = node, src, queue, faults, result
        self.size = rts[1] | rts[2] << 8
        self.packets = rts[3]
        limit = rts[4] if rts[4] != NO_LIMIT else MAX_PACKETS
        self.window = max(1, min(node.policy.packets_per_cts, limit, MAX_PACKETS))
        self.pgn = result.pgn
        self.chunks: dict[int, bytes] = {}
        self.expected = 1
        self.window_last = 0
        self.in_window = 0
        self.held = False

    def _abort(self, reason: int, timer: str | None, detail: str) -> None:
        self.node.send_abort(self.src, self.pgn, reason)
        _fail(self.result, reason, "local", timer, detail)

    def _cts(self, count: int, first: int, note: str) -> None:
        data = bytes([Control.CTS, count, first, PAD, PAD]) + self.pgn.to_bytes(3, "little")
        self.node.send_frame(self.node._cm_id(self.src), data, note)

    async def _wait(self, seconds: float) -> _Frame | None:
        try:
            return await asyncio.wait_for(self.queue.get(), self.node.clock.real(seconds))
        except TimeoutError:
            return None

    async def _pause(self, seconds: float) -> bool:
        """Wait ``seconds`` (protocol) for nothing but an abort; False when one came."""
        clock = self.node.clock
        deadline = clock.monotonic() + seconds
        while (left := deadline - clock.monotonic()) > 0:
            frame = await self._wait(left)
            if frame is None:
                return True
            if frame is _SUPERSEDED or frame.is_abort:
                self._on_abort_or_superseded(frame)
                return False
            logger.info(
                "%s: frame %s from %02X ignored while pausing",
                self.node.name,
                frame.data.hex(" "),
                self.src,
            )
        return True

    def _on_abort_or_superseded(self, frame: _Frame) -> None:
        if frame is _SUPERSEDED:
            _fail(self.result, None, None, None, "superseded by a new RTS from the sender")
        else:
            reason = frame.data[1]
            _fail(
                self.result, reason, "peer", None, f"aborted by the sender ({reason_name(reason)})"
            )

    async def _grant(self, first: int, note: str) -> bool:
        """Send the CTS for the window starting at ``first`` (with the faults); False if ended."""
        f, t = self.faults, self.node.timers
        if f.hold_without_renew and not self.held:
            self.held = True
            self._cts(0, first, "CTS hold (never renewed: fault injection)")
            if await self._pause(t.t4 + t.t3):
                _fail(self.result, None, None, None, "held without renewing; no abort seen")
            return False
        if f.hold > 0 and not self.held:
            self.held = True
            until = self.node.clock.monotonic() + f.hold
            while (left := until - self.node.clock.monotonic()) > 0:
                self._cts(0, first, "CTS hold")
                if not await self._pause(min(t.th * 0.8, left)):
                    return False
        if f.delay_cts > 0 and not await self._pause(f.delay_cts):
            return False
        count = min(self.window, self.packets - first + 1)
        if f.drop_cts:
            self.node._withhold(
                self.node._cm_id(self.src),
                bytes([Control.CTS, count, first, PAD, PAD]) + self.pgn.to_bytes(3, "little"),
                "CTS dropped (fault injection)",
            )
            # Having sent nothing, this side runs no T2: it waits for the sender's T3 abort.
            if await self._pause(t.t3 + t.tr):
                _fail(self.result, None, None, None, "CTS withheld; no abort seen")
            return False
        self._cts(count, first, note)
        self.window_last = first + count - 1
        self.in_window = 0
        return True

    async def run(self) -> None:
        f, t = self.faults, self.node.timers
        if self.size > MAX_PAYLOAD:
            self._abort(AbortReason.TOO_LARGE, None, f"RTS announces {self.size} bytes")
            return
        if self.packets != math.ceil(self.size / PACKET_DATA) or self.packets == 0:
            self._abort(
                AbortReason.OTHER,
                None,
                f"RTS: {self.packets} packets cannot carry {self.size} bytes",
            )
            return
        if f.abort_on_rts is not None:
            self._abort(f.abort_on_rts, None, "abort injected on RTS")
            return
        if not await self._grant(1, "CTS"):
            return
        while True:
            timer = "T1" if self.in_window else "T2"
            frame = await self._wait(t.t1 if self.in_window else t.t2)
            if frame is None:
                self._abort(
                    AbortReason.TIMEOUT, timer, f"{timer} expired waiting for TP.DT {self.expected}"
                )
                return
            if frame is _SUPERSEDED or frame.is_abort:
                self._on_abort_or_superseded(frame)
                return
            if not await self._on_dt(frame.data):
                return

    async def _on_dt(self, data: bytes) -> bool:
        """Handle one TP.DT; False when the transfer ended."""
        f, policy = self.faults, self.node.policy
        seq = data[0]
        self.in_window += 1
        if seq == self.expected and seq <= self.window_last:
            self.chunks[seq] = data[1 : 1 + PACKET_DATA]
            self.expected += 1
        elif policy.on_sequence_error == "abort":
            reason = (
                AbortReason.DUPLICATE_SEQUENCE
                if seq < self.expected
                else (AbortReason.BAD_SEQUENCE)
            )
            self._abort(reason, None, f"TP.DT {seq} while expecting {self.expected}")
            return False
        if f.abort_after_dt == seq:
            self._abort(f.abort_reason, None, f"abort injected after TP.DT {seq}")
            return False
        if self.expected > self.packets:
            payload = b"".join(self.chunks[i] for i in range(1, self.packets + 1))[: self.size]
            self.result.ok, self.result.data = True, payload
            if f.drop_eoma:
                self.result.detail = "complete; EndOfMsgAck withheld (fault injection)"
                self.node._withhold(
                    self.node._cm_id(self.src),
                    self._eoma(),
                    "EndOfMsgAck dropped (fault injection)",
                )
            else:
                self.result.detail = "complete"
                self.node.send_frame(self.node._cm_id(self.src), self._eoma(), "EndOfMsgAck")
            return False
        if self.expected > self.window_last:
            return await self._grant(self.expected, "CTS")
        if seq == self.window_last:
            # the sender has sent its whole window and something is still missing
            if self.result.retransmits >= policy.max_retransmits:
                self._abort(
                    AbortReason.MAX_RETRANSMIT,
                    None,
                    f"TP.DT {self.expected} still missing after "
                    f"{self.result.retransmits} retransmission requests",
                )
                return False
            self.result.retransmits += 1
            return await self._grant(self.expected, f"CTS retransmit from {self.expected}")
        return True

    def _eoma(self) -> bytes:
        return bytes([Control.EOMA, self.size & 0xFF, self.size >> 8, self.packets, PAD]) + (
            self.pgn.to_bytes(3, "little")
        )


def reason_name(reason: int) -> str:
    """``"TIMEOUT"`` for 3; the number as text for a reason J1939-21 does not name."""
    value = abort_reason(reason)
    return value.name if isinstance(value, AbortReason) else str(value)


def _cm_note(data: bytes) -> str:
    control = data[0]
    if control == Control.RTS and len(data) >= 5:
        return f"RTS {data[1] | data[2] << 8} bytes, {data[3]} packets"
    if control == Control.CTS and len(data) >= 3:
        return "CTS hold" if data[1] == 0 else f"CTS {data[1]} from {data[2]}"
    if control == Control.EOMA:
        return "EndOfMsgAck"
    if control == Control.ABORT and len(data) >= 2:
        return f"Abort ({reason_name(data[1])})"
    if control == Control.BAM:
        return "BAM"
    return f"TP.CM {control}"
