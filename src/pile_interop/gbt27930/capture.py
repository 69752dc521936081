"""Read recorded GB/T 27930 sessions and decode them offline.

Two formats:

* the CSV a CAN analyser exports (the shared ``charger-capture.csv``): UTF-8, Chinese headers
  ``序号, 帧ID, 时间标识, 类型, 报文描述, 报文内容, 长度, 数据(Hex)`` — index, frame id, time stamp
  (``mm:ss.t``), type, description, PDU decode, length, data bytes in hex;
* candump's log format: ``(1700000000.123456) vcan0 1826F456#010100``.

:func:`decode_frames` follows every J1939 RTS/CTS transfer like a bus monitor (it never
answers), reassembles the payloads and decodes every message with :mod:`.codec`; whatever it
cannot place is reported as a :class:`LogIssue`.
"""

from __future__ import annotations

import csv
import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pile_interop.gbt27930 import codec
from pile_interop.gbt27930.ids import (
    BMS_ADDRESS,
    CHARGER_ADDRESS,
    PGN_TP_CM,
    PGN_TP_DT,
    Identified,
)
from pile_interop.gbt27930.layout import normalise_variant
from pile_interop.gbt27930.tp_protocol import PACKET_DATA, Control, reason_name

logger = logging.getLogger(__name__)

_CSV_COLUMNS = {
    "index": ("序号", "index", "no."),
    "id": ("帧ID", "帧id", "id", "frame id"),
    "time": ("时间标识", "time", "timestamp"),
    "type": ("类型", "type"),
    "length": ("长度", "length", "dlc"),
    "data": ("数据(Hex)", "数据(hex)", "data", "data(hex)"),
}
_CANDUMP = re.compile(
    r"^\((?P<t>\d+(?:\.\d+)?)\)\s+(?P<iface>\S+)\s+(?P<id>[0-9A-Fa-f]+)(?P<sep>##?)(?P<data>\S*)"
)
_HOUR = 3600.0


@dataclass(frozen=True)
class LogFrame(Identified):
    """One CAN frame from a recording."""

    index: int
    t: float
    """Seconds (relative for the analyser CSV, epoch for candump)."""
    can_id: int
    data: bytes
    line: int
    info: str = ""
    """The recorder's own words for the frame (CSV type column, candump interface)."""

    @property
    def direction(self) -> str:
        """``"C→B"``, ``"B→C"`` from the addresses, or ``"?"`` for anything else."""
        pair = (self.src, self.dst)
        if pair == (CHARGER_ADDRESS, BMS_ADDRESS):
            return codec.CHARGER_TO_BMS
        if pair == (BMS_ADDRESS, CHARGER_ADDRESS):
            return codec.BMS_TO_CHARGER
        return "?"


class LogFormatError(ValueError):
    """A recording line that is not a frame (``path:line: reason``)."""


# -- readers -----------------------------------------------------------------------------------


def _parse_time(text: str) -> float:
    """``mm:ss.t``, ``hh:mm:ss.fff`` or plain seconds."""
    parts = text.strip().split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def _parse_hex_bytes(text: str) -> bytes:
    tokens = text.replace(",", " ").split()
    return bytes(int(tok, 16) for tok in tokens)


def _column(header: Sequence[str], key: str) -> int | None:
    names = {n.lower() for n in _CSV_COLUMNS[key]}
    for i, name in enumerate(header):
        if name.strip().lower() in names:
            return i
    return None


def read_capture_csv(path: str | Path) -> list[LogFrame]:
    """Frames of an analyser CSV export (the shared capture's format)."""
    path = Path(path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise LogFormatError(f"{path}: empty file")
    header = rows[0]
    cols = {key: _column(header, key) for key in _CSV_COLUMNS}
    for key in ("id", "time", "data"):
        if cols[key] is None:
            raise LogFormatError(f"{path}:1: no {_CSV_COLUMNS[key][0]} column in {header}")
    frames: list[LogFrame] = []
    wrap = 0.0
    previous = None
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            can_id = int(row[cols["id"]].strip(), 16)  # type: ignore[index]
            t = _parse_time(row[cols["time"]]) + wrap  # type: ignore[index]
            data = _parse_hex_bytes(row[cols["data"]])  # type: ignore[index]
            index = int(row[cols["index"]]) if cols["index"] is not None else len(frames)
        except (ValueError, IndexError) as exc:
            raise LogFormatError(f"{path}:{line}: {exc}") from exc
        if previous is not None and t < previous - _HOUR / 2:
            wrap += _HOUR  # the mm:ss stamp rolled over an hour
            t += _HOUR
        previous = t
        if cols["length"] is not None:
            declared = int(row[cols["length"]])
            if declared != len(data):
                raise LogFormatError(f"{path}:{line}: length {declared} but {len(data)} data bytes")
        info = row[cols["type"]].strip() if cols["type"] is not None else ""
        frames.append(LogFrame(index, t, can_id, data, line, " ".join(info.split())))
    return frames


def parse_candump(lines: Iterable[str], source: str = "<candump>") -> list[LogFrame]:
    """Frames of candump log lines (``(ts) iface ID#DATA``); blank and ``#`` lines skipped."""
    frames: list[LogFrame] = []
    for line_no, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        match = _CANDUMP.match(text)
        if match is None:
            raise LogFormatError(f"{source}:{line_no}: not a candump log line: {text!r}")
        data_text = match["data"]
        if match["sep"] == "##":
            data_text = data_text[1:]  # CAN FD: a flags nibble precedes the data
        if data_text.upper().startswith("R"):
            logger.info("%s:%d: remote frame skipped", source, line_no)
            continue
        try:
            data = bytes.fromhex(data_text)
        except ValueError as exc:
            raise LogFormatError(f"{source}:{line_no}: bad data {data_text!r}") from exc
        frames.append(
            LogFrame(
                len(frames), float(match["t"]), int(match["id"], 16), data, line_no, match["iface"]
            )
        )
    return frames


def read_candump(path: str | Path) -> list[LogFrame]:
    """Frames of a candump log file (``candump -l``)."""
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        return parse_candump(handle, str(path))


def read_log(path: str | Path) -> list[LogFrame]:
    """Frames of a recording in either format (candump if the first line starts with ``(``)."""
    path = Path(path)
    with path.open(encoding="utf-8-sig") as handle:
        first = next((line for line in handle if line.strip()), "")
    if first.lstrip().startswith("("):
        return read_candump(path)
    return read_capture_csv(path)


# -- decoding ----------------------------------------------------------------------------------


@dataclass
class Transfer:
    """One RTS/CTS transfer seen on the bus."""

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
    superseded: bool = False

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


@dataclass(frozen=True)
class LogIssue:
    """A frame the decoder could not place."""

    index: int
    line: int
    message: str

    def __str__(self) -> str:
        return f"frame {self.index} (line {self.line}): {self.message}"


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


class _Decoder:
    def __init__(self, frames: list[LogFrame], variant: str) -> None:
        self.out = LogDecode(variant, frames)
        self.open: dict[tuple[int, int], Transfer] = {}

    def issue(self, pos: int, message: str) -> None:
        frame = self.out.frames[pos]
        self.out.issues.append(LogIssue(frame.index, frame.line, message))

    def run(self) -> LogDecode:
        for pos, frame in enumerate(self.out.frames):
            if frame.pgn == PGN_TP_CM:
                self.on_cm(pos, frame)
            elif frame.pgn == PGN_TP_DT:
                self.on_dt(pos, frame)
            else:
                self.on_single(pos, frame)
        return self.out

    def decode(self, pos: int, pgn: int, data: bytes, frames: tuple[int, ...], multi: bool) -> bool:
        frame = self.out.frames[pos]
        try:
            info = codec.message_info(pgn, self.out.variant)
            values = codec.decode(pgn, data, self.out.variant)
        except codec.CodecError as exc:
            self.issue(pos, str(exc))
            return False
        self.out.messages.append(
            DecodedMessage(
                info.name,
                pgn,
                frame.t,
                frame.src,
                frame.dst,
                frame.direction,
                data,
                values,
                tuple(self.out.frames[i].index for i in frames),
                multi,
            )
        )
        return True

    def on_single(self, pos: int, frame: LogFrame) -> None:
        if self.decode(pos, frame.pgn, frame.data, (pos,), multi=False):
            self.out.understood.add(pos)

    def on_cm(self, pos: int, frame: LogFrame) -> None:
        data = frame.data
        if len(data) < 8:
            self.issue(pos, f"TP.CM with {len(data)} bytes")
            return
        control = data[0]
        pgn = int.from_bytes(data[5:8], "little")
        if control == Control.RTS:
            key = (frame.src, frame.dst)
            old = self.open.get(key)
            if old is not None and not old.complete:
                old.superseded = True
            size = data[1] | data[2] << 8
            transfer = Transfer(frame.src, frame.dst, pgn, size, data[3], pos)
            if transfer.packets != -(-size // PACKET_DATA):
                self.issue(pos, f"RTS: {transfer.packets} packets for {size} bytes")
                return
            self.open[key] = transfer
            self.out.transfers.append(transfer)
            self.out.understood.add(pos)
            return
        if control in (Control.CTS, Control.EOMA):
            current = self.open.get((frame.dst, frame.src))
            if current is None or current.pgn != pgn:
                self.issue(pos, f"TP.CM {control} for PGN {pgn:#06x} outside a transfer")
                return
            if control == Control.CTS:
                current.cts.append(pos)
            else:
                current.eoma = pos
            self.out.understood.add(pos)
            return
        if control == Control.ABORT:
            for key in ((frame.src, frame.dst), (frame.dst, frame.src)):
                aborted = self.open.get(key)
                if aborted is not None and aborted.pgn == pgn:
                    aborted.abort = (pos, data[1])
                    self.out.understood.add(pos)
                    return
            self.issue(pos, f"TP.Conn_Abort for PGN {pgn:#06x} outside a transfer")
            return
        self.issue(pos, f"TP.CM control byte {control} not used by GB/T 27930")

    def on_dt(self, pos: int, frame: LogFrame) -> None:
        transfer = self.open.get((frame.src, frame.dst))
        if transfer is None or transfer.complete or not frame.data:
            self.issue(pos, "TP.DT outside a transfer")
            return
        seq = frame.data[0]
        if not 1 <= seq <= transfer.packets:
            self.issue(pos, f"TP.DT sequence {seq} outside 1..{transfer.packets}")
            return
        transfer.dts[seq] = pos
        transfer.chunks[seq] = frame.data[1 : 1 + PACKET_DATA]
        self.out.understood.add(pos)
        if transfer.complete:
            payload = transfer.data or b""
            self.decode(pos, transfer.pgn, payload, tuple(transfer.frames), multi=True)


class StreamDecoder:
    """Reassembles and decodes frames one at a time, as they come off a live bus: each
    :meth:`feed` returns the messages that frame completed and the issues it raised."""

    def __init__(self, variant: str = "2015") -> None:
        self._decoder = _Decoder([], normalise_variant(variant))

    @property
    def result(self) -> LogDecode:
        return self._decoder.out

    def feed(self, frame: LogFrame) -> tuple[list[DecodedMessage], list[LogIssue]]:
        out = self._decoder.out
        messages, issues = len(out.messages), len(out.issues)
        out.frames.append(frame)
        pos = len(out.frames) - 1
        if frame.pgn == PGN_TP_CM:
            self._decoder.on_cm(pos, frame)
        elif frame.pgn == PGN_TP_DT:
            self._decoder.on_dt(pos, frame)
        else:
            self._decoder.on_single(pos, frame)
        return out.messages[messages:], out.issues[issues:]


def decode_frames(frames: Sequence[LogFrame], variant: str = "2015") -> LogDecode:
    """Reassemble and decode ``frames`` (in recording order) as ``variant``."""
    return _Decoder(list(frames), normalise_variant(variant)).run()


def decode_log(path: str | Path, variant: str = "2015") -> LogDecode:
    """:func:`read_log` then :func:`decode_frames`."""
    return decode_frames(read_log(path), variant)


def to_candump(frames: Iterable[LogFrame], interface: str = "can0") -> str:
    """candump log text of ``frames`` (handy to convert the analyser CSV)."""
    return "".join(
        f"({f.t:.6f}) {interface} {f.can_id:08X}#{f.data.hex().upper()}\n" for f in frames
    )
