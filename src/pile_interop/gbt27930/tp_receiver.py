"""The receiving end of a J1939-21 RTS/CTS transfer, with its fault injection.

A :class:`TransferReceiver` answers an incoming TP.CM_RTS with CTS, collects the TP.DT packets
in sequence (T1 between packets, T2 after a CTS), asks again for missing ones as its
:class:`ReceiverPolicy` allows, and acknowledges with TP.CM_EndOfMsgAck. Its
:class:`~.tp_faults.ReceiverFaults` delay, withhold or hold the CTS, withhold the
EndOfMsgAck or abort.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import Literal

from pile_interop.gbt27930.tp_faults import ReceiverFaults
from pile_interop.gbt27930.tp_frames import FramePort
from pile_interop.gbt27930.tp_protocol import (
    MAX_PACKETS,
    MAX_PAYLOAD,
    NO_LIMIT,
    PACKET_DATA,
    PAD,
    SUPERSEDED,
    AbortReason,
    Control,
    SessionFrame,
    Timers,
    TransferResult,
    mark_failed,
    reason_name,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReceiverPolicy:
    """How a receiving node behaves when nothing is injected."""

    packets_per_cts: int = MAX_PACKETS
    """Largest window a CTS grants (also bounded by the RTS's byte 5)."""
    on_sequence_error: Literal["retransmit", "abort"] = "retransmit"
    """Out-of-sequence TP.DT: ask again with a CTS (J1939-21 recovery) or abort (reason 7/8)."""
    max_retransmits: int = 2
    """Retransmission requests per transfer before aborting with reason 5."""


class TransferReceiver:
    """One incoming RTS/CTS transfer."""

    def __init__(
        self,
        port: FramePort,
        timers: Timers,
        policy: ReceiverPolicy,
        src: int,
        rts: bytes,
        queue: asyncio.Queue[SessionFrame],
        faults: ReceiverFaults,
        result: TransferResult,
    ) -> None:
        self.port, self.timers, self.policy = port, timers, policy
        self.src, self.queue, self.faults, self.result = src, queue, faults, result
        self.size = rts[1] | rts[2] << 8
        self.packets = rts[3]
        limit = rts[4] if rts[4] != NO_LIMIT else MAX_PACKETS
        self.window = max(1, min(policy.packets_per_cts, limit, MAX_PACKETS))
        self.pgn = result.pgn
        self.chunks: dict[int, bytes] = {}
        self.expected = 1
        self.window_last = 0
        self.in_window = 0
        self.held = False

    def _abort(self, reason: int, timer: str | None, detail: str) -> None:
        self.port.send_abort(self.src, self.pgn, reason)
        mark_failed(self.result, reason, "local", timer, detail)

    def _cts(self, count: int, first: int, note: str) -> None:
        data = bytes([Control.CTS, count, first, PAD, PAD]) + self.pgn.to_bytes(3, "little")
        self.port.send_frame(self.port.cm_id(self.src), data, note)

    async def _wait(self, seconds: float) -> SessionFrame | None:
        try:
            return await asyncio.wait_for(self.queue.get(), self.port.clock.real(seconds))
        except TimeoutError:
            return None

    async def _pause(self, seconds: float) -> bool:
        """Wait ``seconds`` (protocol) for nothing but an abort; False when one came."""
        clock = self.port.clock
        deadline = clock.monotonic() + seconds
        while (left := deadline - clock.monotonic()) > 0:
            frame = await self._wait(left)
            if frame is None:
                return True
            if frame is SUPERSEDED or frame.is_abort:
                self._on_abort_or_superseded(frame)
                return False
            logger.info(
                "%s: frame %s from %02X ignored while pausing",
                self.port.name,
                frame.data.hex(" "),
                self.src,
            )
        return True

    def _on_abort_or_superseded(self, frame: SessionFrame) -> None:
        if frame is SUPERSEDED:
            mark_failed(self.result, None, None, None, "superseded by a new RTS from the sender")
        else:
            reason = frame.data[1]
            mark_failed(
                self.result, reason, "peer", None, f"aborted by the sender ({reason_name(reason)})"
            )

    async def _grant(self, first: int, note: str) -> bool:
        """Send the CTS for the window starting at ``first`` (with the faults); False if ended."""
        f, t = self.faults, self.timers
        if f.hold_without_renew and not self.held:
            self.held = True
            self._cts(0, first, "CTS hold (never renewed: fault injection)")
            if await self._pause(t.t4 + t.t3):
                mark_failed(self.result, None, None, None, "held without renewing; no abort seen")
            return False
        if f.hold > 0 and not self.held:
            self.held = True
            until = self.port.clock.monotonic() + f.hold
            while (left := until - self.port.clock.monotonic()) > 0:
                self._cts(0, first, "CTS hold")
                if not await self._pause(min(t.th * 0.8, left)):
                    return False
        if f.delay_cts > 0 and not await self._pause(f.delay_cts):
            return False
        count = min(self.window, self.packets - first + 1)
        if f.drop_cts:
            self.port.withhold(
                self.port.cm_id(self.src),
                bytes([Control.CTS, count, first, PAD, PAD]) + self.pgn.to_bytes(3, "little"),
                "CTS dropped (fault injection)",
            )
            # Having sent nothing, this side runs no T2: it waits for the sender's T3 abort.
            if await self._pause(t.t3 + t.tr):
                mark_failed(self.result, None, None, None, "CTS withheld; no abort seen")
            return False
        self._cts(count, first, note)
        self.window_last = first + count - 1
        self.in_window = 0
        return True

    async def run(self) -> None:
        f, t = self.faults, self.timers
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
            if frame is SUPERSEDED or frame.is_abort:
                self._on_abort_or_superseded(frame)
                return
            if not await self._on_dt(frame.data):
                return

    async def _on_dt(self, data: bytes) -> bool:
        """Handle one TP.DT; False when the transfer ended."""
        f, policy = self.faults, self.policy
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
                self.port.withhold(
                    self.port.cm_id(self.src),
                    self._eoma(),
                    "EndOfMsgAck dropped (fault injection)",
                )
            else:
                self.result.detail = "complete"
                self.port.send_frame(self.port.cm_id(self.src), self._eoma(), "EndOfMsgAck")
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
