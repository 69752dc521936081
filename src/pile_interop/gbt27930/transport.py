"""J1939-21 connection-mode transport (RTS/CTS) of our own, with fault injection.

A :class:`J1939Node` is one address on a python-can bus, driven by the asyncio event loop: a
``can.Notifier`` hands every received frame to the loop, where it is logged and dispatched to
the transfer it belongs to. The node plays both roles:

* **sender** — :meth:`J1939Node.send`: payloads of up to 8 bytes go out as one frame; longer
  ones (9 … 1785 bytes) as an RTS/CTS transfer (:class:`~.tp_sender.TransferSender`);
* **receiver** — an incoming RTS opens a session (:class:`~.tp_receiver.TransferReceiver`);
  the reassembled message arrives in :meth:`J1939Node.receive` like a single frame does.

Timers (J1939-21, GB/T 27930-2015 §6.5): Tr 200 ms, Th 500 ms, T1 750 ms, T2 1250 ms,
T3 1250 ms, T4 1050 ms (:class:`~.tp_protocol.Timers`). They run on a
:class:`~pile_interop.core.clock.Clock`, so a test can scale protocol time down; every wait of
a transfer is bounded by one of them.

Fault injection: :class:`~.tp_faults.SenderFaults` (drop, reorder or delay a TP.DT, go silent,
abort) for a transfer we send, :class:`~.tp_faults.ReceiverFaults` (late or missing CTS, hold,
missing EndOfMsgAck, abort) for transfers we receive. Every frame — sent, received, or withheld
by a fault — is in :attr:`J1939Node.frames` (its :class:`~.tp_frames.FramePort`) with its
direction and protocol time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import can

from pile_interop.core.clock import Clock
from pile_interop.gbt27930.ids import (
    GLOBAL_ADDRESS,
    PGN_TP_CM,
    PGN_TP_DT,
    TP_PRIORITY,
    can_id,
    parse_can_id,
)
from pile_interop.gbt27930.tp_faults import ReceiverFaults, SenderFaults
from pile_interop.gbt27930.tp_frames import FramePort
from pile_interop.gbt27930.tp_protocol import (
    MAX_PAYLOAD,
    RX,
    SUPERSEDED,
    Control,
    FrameRecord,
    Received,
    SessionFrame,
    Timers,
    TransferError,
    TransferResult,
    cm_note,
)
from pile_interop.gbt27930.tp_receiver import ReceiverPolicy, TransferReceiver
from pile_interop.gbt27930.tp_sender import TransferSender

logger = logging.getLogger(__name__)

NOTIFIER_POLL = 0.05
"""Real seconds the python-can notifier thread blocks in ``recv`` (bounds shutdown time)."""
DEFAULT_RECEIVE_TIMEOUT = 5.0
"""Protocol seconds :meth:`J1939Node.receive` waits by default (GB/T 27930 default timeout)."""

#: Bound on waiting for cancelled transport tasks to end in :meth:`J1939Node.close`.
CLOSE_BOUND_S = 2.0
#: How many received transfers wait for :meth:`J1939Node.next_received_transfer`.
HISTORY = 20_000


class _Listener(can.Listener):
    """Runs in the event loop (the notifier schedules it there) and feeds the node."""

    def __init__(self, node: J1939Node) -> None:
        self._node = node

    def on_message_received(self, msg: can.Message) -> None:
        self._node._on_frame(msg)

    def on_error(self, exc: Exception) -> None:
        logger.error("CAN receive error on node %02X: %s", self._node.address, exc)


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
        self.port = FramePort(bus, address, self.clock, tp_priority=tp_priority, name=self.name)
        self.receiver_faults: ReceiverFaults | None = None
        self.transfers: list[TransferResult] = []
        self._owns_bus = owns_bus
        self._inbox: asyncio.Queue[Received] = asyncio.Queue()
        self._received_transfers: asyncio.Queue[TransferResult] = asyncio.Queue(HISTORY)
        self._rx_sessions: dict[int, asyncio.Queue[SessionFrame]] = {}
        self._tx_sessions: dict[int, asyncio.Queue[SessionFrame]] = {}
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

    @property
    def frames(self) -> list[FrameRecord]:
        """Every frame this node saw: sent, received, or withheld by a fault."""
        return self.port.frames

    def send_frame(self, arbitration_id: int, data: bytes, note: str = "") -> FrameRecord:
        """Put one extended frame on the bus as it is (raw path for negative tests)."""
        return self.port.send_frame(arbitration_id, data, note)

    def send_abort(self, dst: int, pgn: int, reason: int, note: str = "") -> FrameRecord:
        return self.port.send_abort(dst, pgn, reason, note)

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
            self.port.record(RX, msg.arbitration_id, data, cm_note(data))
            self._on_cm(parts.src, data, now)
        elif parts.pgn == PGN_TP_DT and data:
            self.port.record(RX, msg.arbitration_id, data, f"DT {data[0]}")
            session = self._rx_sessions.get(parts.src)
            if session is None:
                logger.info("%s: TP.DT from %02X outside a session ignored", self.name, parts.src)
            else:
                session.put_nowait(SessionFrame(data, now, is_dt=True))
        else:
            self.port.record(RX, msg.arbitration_id, data, "")
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
                old.put_nowait(SUPERSEDED)
            queue: asyncio.Queue[SessionFrame] = asyncio.Queue()
            self._rx_sessions[src] = queue
            self._spawn(self._receive_transfer(src, data, now, queue))
        elif control in (Control.CTS, Control.EOMA):
            tx = self._tx_sessions.get(src)
            if tx is None:
                logger.info(
                    "%s: %s from %02X outside a session ignored", self.name, cm_note(data), src
                )
            else:
                tx.put_nowait(SessionFrame(data, now))
        elif control == Control.ABORT:
            for sessions in (self._rx_sessions, self._tx_sessions):
                if src in sessions:
                    sessions[src].put_nowait(SessionFrame(data, now))
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
        queue: asyncio.Queue[SessionFrame] = asyncio.Queue()
        self._tx_sessions[dst] = queue
        result = TransferResult("sender", pgn, self.address, dst, len(payload), started)
        try:
            await TransferSender(
                self.port,
                self.timers,
                pgn,
                payload,
                dst,
                priority,
                faults or SenderFaults(),
                queue,
                result,
            ).run()
        finally:
            self._tx_sessions.pop(dst, None)
            result.finished = self.clock.monotonic()
            self.transfers.append(result)
            logger.info("%s: %s", self.name, result)
        return result

    # -- receiver ------------------------------------------------------------------------------

    async def _receive_transfer(
        self, src: int, rts: bytes, now: float, queue: asyncio.Queue[SessionFrame]
    ) -> None:
        size = rts[1] | rts[2] << 8
        pgn = int.from_bytes(rts[5:8], "little")
        result = TransferResult("receiver", pgn, src, self.address, size, now)
        faults = self.receiver_faults
        if faults is not None and not faults.applies_to(pgn):
            faults = None
        try:
            await TransferReceiver(
                self.port,
                self.timers,
                self.policy,
                src,
                rts,
                queue,
                faults or ReceiverFaults(),
                result,
            ).run()
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
