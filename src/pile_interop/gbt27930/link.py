"""The suite's view of a GB/T 27930 CAN bus: every frame, every message, expectations.

A :class:`CanLink` listens on its own python-can bus handle (every frame of both sides comes
by: the SUT's and the suite's mock peer's), reassembles RTS/CTS transfers, decodes every
message, checks each message the SUT sends (identifier, DLC, fill bits, ranges: findings), and
lets the scenario runner arm expectations on them — the same interface the OCPP session gives
(``log``, ``arm``, ``disarm``, ``is_connected``), so the same step kinds work.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import can

from pile_interop.core.frames import EVENT, IN, MSG, OUT, Frame, FrameLog
from pile_interop.core.link import Exchange, Expectation, Expectations, Predicate
from pile_interop.gbt27930 import codec
from pile_interop.gbt27930.capture import DecodedMessage, LogFrame, StreamDecoder
from pile_interop.gbt27930.conformance import message_findings
from pile_interop.gbt27930.ids import PGN_TP_CM, PGN_TP_DT, parse_can_id

log = logging.getLogger(__name__)

CAN = "CAN"  # Frame.type of a raw CAN frame (a MSG frame is a decoded message)


def frame_text(can_id: int, data: bytes) -> str:
    """candump's compact form: ``1826F456#010100``."""
    return f"{can_id:08X}#{data.hex().upper()}"


def frame_label(can_id: int, data: bytes, variant: str) -> str:
    pgn = parse_can_id(can_id).pgn
    if pgn == PGN_TP_CM and data:
        kinds = {0x10: "RTS", 0x11: "CTS", 0x13: "EndOfMsgAck", 0xFF: "Abort"}
        inner = int.from_bytes(data[5:8], "little") if len(data) >= 8 else 0
        try:
            name = codec.message_info(inner, variant).name
        except codec.CodecError:
            name = f"PGN {inner:#06x}"
        return f"TP.CM {kinds.get(data[0], hex(data[0]))} {name}"
    if pgn == PGN_TP_DT:
        return f"TP.DT {data[0] if data else '?'}"
    try:
        return codec.message_info(pgn, variant).name
    except codec.CodecError:
        return f"PGN {pgn:#06x}"


class CanLink:
    """One CAN bus seen from the suite; the SUT is the node at ``sut_address``."""

    responder = None  # CAN messages are not answered: the mock peer's state machine reacts

    def __init__(
        self, bus: can.BusABC, *, variant: str, sut_address: int, name: str = "SUT"
    ) -> None:
        self.bus = bus
        self.variant = variant
        self.sut_address = sut_address
        self.name = name
        self.log = FrameLog()
        self.decoder = StreamDecoder(variant)
        self.connected = asyncio.Event()
        self.connections = 0
        self.listeners: list[Callable[[Frame], None]] = []
        self._expectations = Expectations()
        self._raw: dict[int, Frame] = {}  # LogFrame.index → its Frame (for findings)
        self._logframes: dict[int, LogFrame] = {}
        self._notifier: can.Notifier | None = None
        self._count = 0

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._notifier = can.Notifier(self.bus, [self._on_can], loop=loop)
        self.connections = 1
        self.connected.set()
        self.log.event(f"listening on the CAN bus ({self.bus.channel_info})")

    async def stop(self) -> None:
        if self._notifier is not None:
            self._notifier.stop(timeout=1.0)
            self._notifier = None
        self.connected.clear()

    @property
    def is_connected(self) -> bool:
        return self.connected.is_set()

    async def wait_connected(self, timeout: float) -> None:
        await asyncio.wait_for(self.connected.wait(), timeout)

    # -- frames -------------------------------------------------------------------------

    def _on_can(self, message: can.Message) -> None:
        if message.is_error_frame or not message.is_extended_id:
            self.log.event(f"non-J1939 frame on the bus: {message}")
            return
        data = bytes(message.data)
        self._count += 1
        frame = LogFrame(self._count, time.monotonic(), message.arbitration_id, data, 0)
        ident = parse_can_id(message.arbitration_id)
        direction = IN if ident.src == self.sut_address else OUT
        raw = self.log.add(
            direction,
            frame_text(message.arbitration_id, data),
            type=CAN,
            action=frame_label(message.arbitration_id, data, self.variant),
        )
        self._raw[frame.index] = raw
        self._logframes[frame.index] = frame
        self._notify(raw)
        messages, issues = self.decoder.add(frame)
        for issue in issues:
            target = self._raw.get(issue.index, raw)
            if target.direction == IN:
                target.findings.append(f"J1939 transport: {issue.message}")
        for decoded in messages:
            self._on_message(decoded)
        self._forget_old()

    def _on_message(self, decoded: DecodedMessage) -> None:
        direction = IN if decoded.src == self.sut_address else OUT
        frames = [self._logframes[i] for i in decoded.frames if i in self._logframes]
        frame = self.log.add(
            direction,
            f"{decoded.name} {decoded.data.hex(' ').upper()}",
            type=MSG,
            action=decoded.name,
            payload=dict(decoded.values),
        )
        if direction == IN:
            frame.findings.extend(message_findings(decoded, frames, self.variant))
            expectation = self._expectations.take(frame)
            if expectation is not None:
                expectation.claim(Exchange(frame, None))
        self._notify(frame)

    def _forget_old(self) -> None:
        """Keep the reassembly maps bounded (a transfer spans far fewer frames than this)."""
        if len(self._logframes) > 4096:
            for index in sorted(self._logframes)[:2048]:
                self._logframes.pop(index, None)
                self._raw.pop(index, None)

    def _notify(self, frame: Frame) -> None:
        for listener in self.listeners:
            listener(frame)

    def event(self, text: str) -> Frame:
        frame = self.log.event(text)
        self._notify(frame)
        return frame

    # -- expectations -------------------------------------------------------------------

    def arm(
        self,
        action: str,
        predicate: Predicate | None = None,
        reply: Any = None,
        label: str = "",
        on_claim: Callable[[Exchange], None] | None = None,
    ) -> Expectation:
        return self._expectations.arm(action, predicate, None, label, on_claim)

    def disarm(self, expectation: Expectation) -> None:
        self._expectations.disarm(expectation)


__all__ = ["CAN", "EVENT", "CanLink", "frame_label", "frame_text"]
