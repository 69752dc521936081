"""The sending end of a J1939-21 RTS/CTS transfer, with its fault injection.

A :class:`TransferSender` sends TP.CM_RTS, then the TP.DT packets each TP.CM_CTS asks for,
until TP.CM_EndOfMsgAck, an abort or a timer (T3 after the RTS or a window, T4 after a hold).
Its :class:`~.tp_faults.SenderFaults` drop, reorder or delay packets, go silent or abort.
"""

from __future__ import annotations

import asyncio
import math

from pile_interop.gbt27930.tp_faults import SenderFaults
from pile_interop.gbt27930.tp_frames import FramePort
from pile_interop.gbt27930.tp_protocol import (
    PACKET_DATA,
    PAD,
    AbortReason,
    Control,
    SessionFrame,
    Timers,
    TransferResult,
    mark_failed,
    reason_name,
)


class TransferSender:
    """One outgoing RTS/CTS transfer."""

    def __init__(
        self,
        port: FramePort,
        timers: Timers,
        pgn: int,
        payload: bytes,
        dst: int,
        priority: int,
        faults: SenderFaults,
        queue: asyncio.Queue[SessionFrame],
        result: TransferResult,
    ) -> None:
        self.port, self.timers = port, timers
        self.pgn, self.payload, self.dst = pgn, payload, dst
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
        self.port.send_abort(self.dst, self.pgn, reason)
        mark_failed(self.result, reason, "local", timer, detail)

    def _aborted_by_receiver(self, reason: int) -> None:
        mark_failed(
            self.result, reason, "peer", None, f"aborted by the receiver ({reason_name(reason)})"
        )

    async def run(self) -> None:
        port, t = self.port, self.timers
        size = len(self.payload)
        rts = bytes(
            [Control.RTS, size & 0xFF, size >> 8, self.packets, self.faults.packets_per_cts]
        ) + self.pgn.to_bytes(3, "little")
        port.send_frame(port.cm_id(self.dst, self.priority), rts, "RTS")
        timer, timeout = "T3", t.t3
        while True:
            wait = timeout if not self.silent else t.t1 + t.t2
            try:
                frame = await asyncio.wait_for(self.queue.get(), port.clock.real(wait))
            except TimeoutError:
                if self.silent:
                    mark_failed(
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
        f, port = self.faults, self.port
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
                await port.clock.sleep(delay)
            if not self._check_queue():
                return False
            data = self._packet(seq)
            if seq in f.drop_dt_always or (seq in f.drop_dt and seq not in self.withheld_once):
                self.withheld_once.add(seq)
                port.withhold(port.dt_id(self.dst), data, f"DT {seq} dropped (fault injection)")
            else:
                port.send_frame(port.dt_id(self.dst), data, f"DT {seq}")
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
