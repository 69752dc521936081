"""The J1939-21 transport protocol (RTS/CTS) as both ends of a transfer see it.

Control bytes and abort reasons of TP.CM, the transport timers, and what the transport
reports: every frame a node saw (:class:`FrameRecord`), how a multi-packet transfer ended
(:class:`TransferResult`) and what was delivered (:class:`Received`). The two ends of a
transfer are :mod:`.tp_sender` and :mod:`.tp_receiver`; :mod:`.transport` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

from pile_interop.gbt27930.ids import Identified

MAX_PAYLOAD = 1785
"""255 packets × 7 bytes."""
MAX_PACKETS = 255
PACKET_DATA = 7
PAD = 0xFF
NO_LIMIT = 0xFF
"""RTS byte 5: no limit on the packets per CTS."""

TX, RX, WITHHELD = "tx", "rx", "withheld"
"""Directions of a :class:`FrameRecord` (``withheld``: due, but dropped by a fault)."""


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


@dataclass
class SessionFrame:
    """A received TP.CM / TP.DT frame handed to a session."""

    data: bytes
    t: float
    is_dt: bool = False

    @property
    def is_abort(self) -> bool:
        return not self.is_dt and bool(self.data) and self.data[0] == Control.ABORT


SUPERSEDED = SessionFrame(b"", -1.0)
"""Handed to a receiving session when the sender opened a new one (a new RTS)."""


def mark_failed(
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


def reason_name(reason: int) -> str:
    """``"TIMEOUT"`` for 3; the number as text for a reason J1939-21 does not name."""
    value = abort_reason(reason)
    return value.name if isinstance(value, AbortReason) else str(value)


def cm_note(data: bytes) -> str:
    """How a TP.CM frame is described in the frame log."""
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
