"""The frame layer of a J1939 node: single frames on the bus, each one recorded.

A :class:`FramePort` is what both ends of a transfer (:mod:`.tp_sender`, :mod:`.tp_receiver`)
and the node itself (:mod:`.transport`) use to put a frame on the bus, to withhold one (a fault
injection: recorded, never sent) and to address TP.CM / TP.DT frames. Every frame, whichever
way it went, is in :attr:`FramePort.frames` with its direction and protocol time.
"""

from __future__ import annotations

import logging
import time

import can

from pile_interop.core.clock import Clock
from pile_interop.gbt27930.ids import PGN_TP_CM, PGN_TP_DT, can_id
from pile_interop.gbt27930.tp_protocol import PAD, TX, WITHHELD, Control, FrameRecord, reason_name

logger = logging.getLogger(__name__)


class FramePort:
    """One J1939 address's frames on a python-can bus."""

    def __init__(
        self, bus: can.BusABC, address: int, clock: Clock, *, tp_priority: int, name: str
    ) -> None:
        self.bus = bus
        self.address = address
        self.clock = clock
        self.tp_priority = tp_priority
        """Priority of the TP.CM / TP.DT frames."""
        self.name = name
        self.frames: list[FrameRecord] = []

    def record(self, direction: str, arbitration_id: int, data: bytes, note: str) -> FrameRecord:
        """Add a frame to :attr:`frames` (protocol and real time: now)."""
        record = FrameRecord(
            self.clock.monotonic(), time.monotonic(), direction, arbitration_id, bytes(data), note
        )
        self.frames.append(record)
        logger.debug("%s %s", self.name, record)
        return record

    def send_frame(self, arbitration_id: int, data: bytes, note: str = "") -> FrameRecord:
        """Put one extended frame on the bus as it is (raw path for negative tests)."""
        message = can.Message(arbitration_id=arbitration_id, data=data, is_extended_id=True)
        record = self.record(TX, arbitration_id, data, note)
        self.bus.send(message)
        return record

    def withhold(self, arbitration_id: int, data: bytes, note: str) -> None:
        """A frame that was due but is not sent (fault injection): recorded only."""
        self.record(WITHHELD, arbitration_id, data, note)

    def cm_id(self, dst: int, priority: int | None = None) -> int:
        """The id of a TP.CM frame to ``dst``."""
        return can_id(
            PGN_TP_CM, self.tp_priority if priority is None else priority, self.address, dst
        )

    def dt_id(self, dst: int) -> int:
        """The id of a TP.DT frame to ``dst``."""
        return can_id(PGN_TP_DT, self.tp_priority, self.address, dst)

    def send_abort(self, dst: int, pgn: int, reason: int, note: str = "") -> FrameRecord:
        """TP.Conn_Abort of the transfer of ``pgn`` with ``dst``."""
        data = bytes([Control.ABORT, reason, PAD, PAD, PAD]) + pgn.to_bytes(3, "little")
        return self.send_frame(self.cm_id(dst), data, note or f"Abort ({reason_name(reason)})")
