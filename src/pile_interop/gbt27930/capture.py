"""Decode recorded GB/T 27930 sessions offline.

:mod:`.recording` reads the recording (candump, analyser tables, Vector ASC/BLF, PCAN trc,
python-can CSV) into :class:`LogFrame` one at a time; :class:`FrameDecoder` follows every J1939
RTS/CTS transfer like a bus monitor (it never answers), reassembles the payloads and decodes
every message with :mod:`.codec` — a message shorter than the standard's length is decoded as
far as its bytes go (:attr:`DecodedMessage.short`); whatever it cannot place is reported as a
:class:`LogIssue`. :func:`decode_frames` collects everything in a :class:`LogDecode` (small
recordings, tests); ``logcheck`` streams a recording through a decoder without keeping it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pile_interop.gbt27930 import codec
from pile_interop.gbt27930.ids import PGN_TP_CM, PGN_TP_DT
from pile_interop.gbt27930.layout import normalise_variant
from pile_interop.gbt27930.logframe import LogFormatError, LogFrame
from pile_interop.gbt27930.recording import (
    ANALYSER,
    analyser_frames,
    candump_log_lines,
    open_recording,
)
from pile_interop.gbt27930.tp_protocol import PACKET_DATA, Control, reason_name

logger = logging.getLogger(__name__)

#: Distinct payloads whose decoding a decoder keeps (then it starts again).
DECODED_KEPT = 4096

__all__ = [
    "DecodedMessage",
    "FrameDecoder",
    "LogDecode",
    "LogFormatError",
    "LogFrame",
    "LogIssue",
    "StreamDecoder",
    "Transfer",
    "decode_frames",
    "decode_log",
    "parse_candump",
    "read_capture_csv",
    "read_log",
    "to_candump",
]


def read_capture_csv(path: str | Path) -> list[LogFrame]:
    """Frames of an analyser CSV export (the shared capture's format)."""
    return list(analyser_frames(Path(path), "utf-8-sig", ANALYSER))


def parse_candump(lines: Iterable[str], source: str = "<candump>") -> list[LogFrame]:
    """Frames of candump log lines (``(ts) iface ID#DATA``); blank and ``#`` lines skipped."""
    return list(candump_log_lines(lines))


def read_log(path: str | Path, channel: str | None = None) -> list[LogFrame]:
    """Every frame of a recording in any format :mod:`.recording` reads."""
    return list(open_recording(path, channel))


# -- decoding ----------------------------------------------------------------------------------


@dataclass
class Transfer:
    """One RTS/CTS transfer seen on the bus (frames named by their :attr:`LogFrame.index`)."""

    src: int
    dst: int
    pgn: int
    size: int
    packets: int
    rts: int
    """Index of the RTS frame."""
    cts: list[int] = field(default_factory=list)
    dts: dict[int, int] = field(default_factory=dict)
    """Sequence number → frame index."""
    chunks: dict[int, bytes] = field(default_factory=dict)
    eoma: int | None = None
    abort: tuple[int, int] | None = None
    """(frame index, reason) of a TP.Conn_Abort."""
    abort_src: int | None = None
    """Who sent the TP.Conn_Abort."""
    superseded: bool = False
    t: float = 0.0
    """Time of the RTS."""

    @property
    def complete(self) -> bool:
        """Every packet seen: the payload is reassembled."""
        return len(self.chunks) == self.packets

    @property
    def acknowledged(self) -> bool:
        return self.eoma is not None

    @property
    def data(self) -> bytes | None:
        if not self.complete:
            return None
        return b"".join(self.chunks[i] for i in range(1, self.packets + 1))[: self.size]

    @property
    def frames(self) -> list[int]:
        out = [self.rts, *self.cts, *self.dts.values()]
        if self.eoma is not None:
            out.append(self.eoma)
        if self.abort is not None:
            out.append(self.abort[0])
        return sorted(out)

    @property
    def state(self) -> str:
        if self.abort is not None:
            return f"aborted ({reason_name(self.abort[1])})"
        if self.complete:
            return "complete" if self.acknowledged else "complete, no EndOfMsgAck"
        if self.superseded:
            return "superseded by a new RTS"
        if not self.cts:
            return "RTS not answered"
        return f"incomplete ({len(self.chunks)}/{self.packets} packets)"


@dataclass(frozen=True)
class DecodedMessage:
    """A message of the recording with its decoded signals."""

    name: str
    pgn: int
    t: float
    src: int
    dst: int
    direction: str
    data: bytes
    values: dict[str, Any]
    frames: tuple[int, ...]
    multi_packet: bool = False
    short: bool = False
    """Shorter than the standard's length: ``values`` holds the fields its bytes cover."""


@dataclass(frozen=True)
class LogIssue:
    """A frame the decoder could not place."""

    index: int
    line: int
    message: str

    def __str__(self) -> str:
        return f"frame {self.index} (line {self.line}): {self.message}"


class FrameDecoder:
    """Reassembles and decodes frames one at a time; what it finds goes to the hooks
    :meth:`on_message`, :meth:`on_issue`, :meth:`on_understood` and :meth:`on_transfer`
    (a transfer is handed over when its RTS arrives; :meth:`on_transfer_closed` when a new
    RTS of the same pair replaces it, or at :meth:`finish`). Only open transfers are kept."""

    def __init__(self, variant: str = "2015") -> None:
        self.variant = normalise_variant(variant)
        self.open: dict[tuple[int, int], Transfer] = {}
        self._decoded: dict[tuple[int, bytes], tuple[codec.MessageInfo, dict[str, Any]]] = {}
        """Payloads decoded lately: periodic messages repeat theirs."""

    # -- hooks --------------------------------------------------------------------------

    def on_message(self, message: DecodedMessage, frame: LogFrame) -> None:
        """A message was decoded (``frame``: the single frame, or a transfer's last TP.DT)."""

    def on_issue(self, issue: LogIssue) -> None:
        """A frame could not be placed."""

    def on_understood(self, frame: LogFrame) -> None:
        """A frame was placed."""

    def on_transfer(self, transfer: Transfer) -> None:
        """An RTS opened ``transfer``."""

    def on_transfer_closed(self, transfer: Transfer) -> None:
        """``transfer`` will change no more."""

    # -- the machine --------------------------------------------------------------------

    def feed(self, frame: LogFrame) -> None:
        if frame.pgn == PGN_TP_CM:
            self._on_cm(frame)
        elif frame.pgn == PGN_TP_DT:
            self._on_dt(frame)
        elif self._decode(frame, frame.pgn, frame.data, (frame.index,), multi=False):
            self.on_understood(frame)

    def finish(self) -> None:
        for transfer in self.open.values():
            self.on_transfer_closed(transfer)
        self.open.clear()

    def _issue(self, frame: LogFrame, message: str) -> None:
        self.on_issue(LogIssue(frame.index, frame.line, message))

    def _decode(
        self, frame: LogFrame, pgn: int, data: bytes, frames: tuple[int, ...], multi: bool
    ) -> bool:
        key = (pgn, data)
        known = self._decoded.get(key)
        if known is None:
            try:
                info = codec.message_info(pgn, self.variant)
                values = codec.decode(pgn, data, self.variant, lenient=True)
            except codec.CodecError as exc:
                self._issue(frame, str(exc))
                return False
            if len(self._decoded) >= DECODED_KEPT:
                self._decoded.clear()
            known = self._decoded[key] = (info, values)
        info, values = known
        self.on_message(
            DecodedMessage(
                info.name,
                pgn,
                frame.t,
                frame.src,
                frame.dst,
                frame.direction,
                data,
                dict(values),
                frames,
                multi,
                len(data) < info.min_length,
            ),
            frame,
        )
        return True

    def _on_cm(self, frame: LogFrame) -> None:
        data = frame.data
        if len(data) < 8:
            self._issue(frame, f"TP.CM with {len(data)} bytes")
            return
        control = data[0]
        pgn = int.from_bytes(data[5:8], "little")
        if control == Control.RTS:
            key = (frame.src, frame.dst)
            old = self.open.pop(key, None)
            if old is not None:
                if not old.complete:
                    old.superseded = True
                self.on_transfer_closed(old)
            size = data[1] | data[2] << 8
            transfer = Transfer(frame.src, frame.dst, pgn, size, data[3], frame.index, t=frame.t)
            if transfer.packets != -(-size // PACKET_DATA):
                self._issue(frame, f"RTS: {transfer.packets} packets for {size} bytes")
                return
            self.open[key] = transfer
            self.on_transfer(transfer)
            self.on_understood(frame)
            return
        if control in (Control.CTS, Control.EOMA):
            current = self.open.get((frame.dst, frame.src))
            if current is None or current.pgn != pgn:
                self._issue(frame, f"TP.CM {control} for PGN {pgn:#06x} outside a transfer")
                return
            if control == Control.CTS:
                current.cts.append(frame.index)
            else:
                current.eoma = frame.index
            self.on_understood(frame)
            return
        if control == Control.ABORT:
            for key in ((frame.src, frame.dst), (frame.dst, frame.src)):
                aborted = self.open.get(key)
                if aborted is not None and aborted.pgn == pgn:
                    aborted.abort = (frame.index, data[1])
                    aborted.abort_src = frame.src
                    self.on_understood(frame)
                    return
            self._issue(frame, f"TP.Conn_Abort for PGN {pgn:#06x} outside a transfer")
            return
        self._issue(frame, f"TP.CM control byte {control} not used by GB/T 27930")

    def _on_dt(self, frame: LogFrame) -> None:
        transfer = self.open.get((frame.src, frame.dst))
        if transfer is None or transfer.complete or not frame.data:
            self._issue(frame, "TP.DT outside a transfer")
            return
        seq = frame.data[0]
        if not 1 <= seq <= transfer.packets:
            self._issue(frame, f"TP.DT sequence {seq} outside 1..{transfer.packets}")
            return
        transfer.dts[seq] = frame.index
        transfer.chunks[seq] = frame.data[1 : 1 + PACKET_DATA]
        self.on_understood(frame)
        if transfer.complete:
            payload = transfer.data or b""
            self._decode(frame, transfer.pgn, payload, tuple(transfer.frames), multi=True)


@dataclass
class LogDecode:
    """Everything :func:`decode_frames` found in a recording."""

    variant: str
    frames: list[LogFrame]
    messages: list[DecodedMessage] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    issues: list[LogIssue] = field(default_factory=list)
    understood: set[int] = field(default_factory=set)
    """Indexes (positions in :attr:`frames`) of every frame that was placed."""

    def counts(self) -> Counter[str]:
        """Messages per name (a multi-packet message counts once)."""
        return Counter(m.name for m in self.messages)

    @property
    def complete(self) -> bool:
        """Every frame understood and no issue."""
        return not self.issues and len(self.understood) == len(self.frames)

    def summary(self) -> str:
        counts = ", ".join(f"{name} {n}" for name, n in sorted(self.counts().items()))
        states = Counter(t.state for t in self.transfers)
        return (
            f"{len(self.frames)} frames, {len(self.understood)} understood, "
            f"{len(self.messages)} messages ({counts}); {len(self.transfers)} transfers ("
            + ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
            + f"); {len(self.issues)} issues"
        )


class StreamDecoder(FrameDecoder):
    """Collects into a :class:`LogDecode` (frames kept): each :meth:`add` returns the messages
    that frame completed and the issues it raised."""

    def __init__(self, variant: str = "2015") -> None:
        super().__init__(variant)
        self.result = LogDecode(self.variant, [])
        self._pos = -1

    def on_message(self, message: DecodedMessage, frame: LogFrame) -> None:
        self.result.messages.append(message)

    def on_issue(self, issue: LogIssue) -> None:
        self.result.issues.append(issue)

    def on_understood(self, frame: LogFrame) -> None:
        self.result.understood.add(self._pos)

    def on_transfer(self, transfer: Transfer) -> None:
        self.result.transfers.append(transfer)

    def add(self, frame: LogFrame) -> tuple[list[DecodedMessage], list[LogIssue]]:
        out = self.result
        messages, issues = len(out.messages), len(out.issues)
        out.frames.append(frame)
        self._pos = len(out.frames) - 1
        self.feed(frame)
        return out.messages[messages:], out.issues[issues:]


def decode_frames(frames: Sequence[LogFrame], variant: str = "2015") -> LogDecode:
    """Reassemble and decode ``frames`` (in recording order) as ``variant``."""
    decoder = StreamDecoder(variant)
    for frame in frames:
        decoder.add(frame)
    decoder.finish()
    return decoder.result


def decode_log(path: str | Path, variant: str = "2015") -> LogDecode:
    """:func:`read_log` then :func:`decode_frames`."""
    return decode_frames(read_log(path), variant)


def to_candump(frames: Iterable[LogFrame], interface: str = "can0") -> str:
    """candump log text of ``frames`` (handy to convert the analyser CSV)."""
    return "".join(
        f"({f.t:.6f}) {interface} {f.can_id:08X}#{f.data.hex().upper()}\n" for f in frames
    )
