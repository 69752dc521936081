"""Read what a lab records: every common CAN recording format, streamed frame by frame.

:func:`open_recording` recognises the format by its content (the file name is not trusted)
and yields :class:`LogFrame` one at a time, so a day of CAN is never held in memory:

=====================  =========================================================================
format                 read by
=====================  =========================================================================
candump ``-l``         python-can :class:`can.CanutilsLogReader` — ``(ts) can0 1826F456#010100``
candump (plain)        :mod:`.recording_tables` — ``can0  1826F456   [3]  01 01 00``, with or
                       without a ``(ts)`` in front (no time stamps without it)
Vector ASC             python-can :class:`can.ASCReader` (classic and CAN FD lines)
Vector BLF             python-can :class:`can.BLFReader`
PCAN ``.trc``          python-can :class:`can.TRCReader`
python-can CSV         python-can :class:`can.CSVReader`
analyser table         :mod:`.recording_tables` — an analyser's CSV or a USB-CAN analyser's text
                       export: GBK or UTF-8 (detected), comma / tab / space separated, time as
                       ``mm:ss.t``, ``hh:mm:ss.fff``, seconds or hexadecimal 0.1 ms units
=====================  =========================================================================

A file that cannot be read raises :class:`LogFormatError` naming the line and the format tried.
"""

from __future__ import annotations

import codecs
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TextIO, cast

import can

from pile_interop.gbt27930.logframe import LogFormatError, LogFrame
from pile_interop.gbt27930.recording_tables import (
    CANDUMP_PLAIN,
    analyser_frames,
    candump_plain_frames,
    table_header,
)

_HEAD = 65536
"""Bytes read to recognise the format and the encoding."""

CANDUMP_LOG = "candump log"
ASC = "Vector ASC"
BLF = "Vector BLF"
TRC = "PCAN trc"
PYTHON_CAN_CSV = "python-can CSV"
ANALYSER = "analyser table"
FORMATS = (CANDUMP_LOG, CANDUMP_PLAIN, ASC, BLF, TRC, PYTHON_CAN_CSV, ANALYSER)

_CANDUMP_LOG_LINE = re.compile(r"^\(\d+(?:\.\d+)?\)\s+\S+\s+[0-9A-Fa-f]+#")
_CANDUMP_PLAIN_LINE = re.compile(r"^(?:\(\d+(?:\.\d+)?\)\s+)?\S+\s+[0-9A-Fa-f]{1,8}\s+\[\d+\]")
_PYTHON_CAN_CSV = "timestamp,arbitration_id,extended,remote,error,dlc,data"


class Lines:
    """A text file's lines for a reader, counted (the line a reader failed on is named) and
    with ``#`` comment lines left out when asked (candump logs carry them)."""

    def __init__(
        self,
        handle: IO[str] | Iterator[str],
        *,
        comments: bool = False,
        explain: Callable[[str], str | None] | None = None,
    ) -> None:
        self.handle = handle
        self.comments = comments
        self.explain = explain
        """What is wrong with a line the reader failed on (in words better than its own)."""
        self.number = 0
        self.text = ""

    def __iter__(self) -> Lines:
        return self

    def __next__(self) -> str:
        while True:
            line = next(self.handle)
            self.number += 1
            if self.comments and line.lstrip().startswith("#"):
                continue
            self.text = line
            return line

    def close(self) -> None:
        close = getattr(self.handle, "close", None)
        if close is not None:
            close()

    @property
    def closed(self) -> bool:
        return bool(getattr(self.handle, "closed", False))


@dataclass
class Recording:
    """A recording opened for reading: its format, encoding and (after reading) what it held."""

    path: Path
    format: str
    encoding: str = ""
    channel: str | None = None
    """Only frames of this channel are read (``--channel``)."""
    frames: int = 0
    """Frames read so far (of the chosen channel)."""
    other_channels: int = 0
    """Frames skipped because they were on another channel."""
    channels: tuple[str, ...] = ()
    """Every channel seen (the first few)."""

    def __iter__(self) -> Iterator[LogFrame]:
        seen: dict[str, None] = {}
        for frame in _READERS[self.format](self):
            if frame.channel not in seen and len(seen) < 16:
                seen[frame.channel] = None
                self.channels = tuple(seen)
            if self.channel is not None and frame.channel != self.channel:
                self.other_channels += 1
                continue
            self.frames += 1
            yield frame
        if self.frames == 0:
            if self.channel is not None and self.other_channels:
                named = [c for c in self.channels if c]
                known = f"channels: {', '.join(named)}" if named else "it names no channel"
                raise LogFormatError(
                    f"no frame on channel {self.channel} ({known})", fmt=self.format
                )
            raise LogFormatError("no CAN frame in the file", fmt=self.format)


def _encoding(head: bytes) -> str:
    """UTF-8 (with or without a BOM) when the head decodes as UTF-8, else GB18030 (GBK's
    superset: what Chinese analysers export)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


def _first_lines(text: str, count: int = 3) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()][:count]


def detect(path: Path) -> tuple[str, str]:
    """(format, encoding) of the recording at ``path``; :class:`LogFormatError` if unknown."""
    with path.open("rb") as handle:
        head = handle.read(_HEAD)
    if not head.strip():
        raise LogFormatError("empty file")
    if head.startswith(b"LOGG"):
        return BLF, ""
    encoding = _encoding(head)
    text = head.decode(encoding, errors="replace")
    lines = _first_lines(text)
    first = lines[0]
    if first.lower().startswith(("date ", "base ")) or "begin triggerblock" in text[:4096].lower():
        return ASC, encoding
    if first.startswith(";$FILEVERSION") or first.startswith(";####"):
        return TRC, encoding
    if first.replace(" ", "").lower() == _PYTHON_CAN_CSV:
        return PYTHON_CAN_CSV, encoding
    data_lines = [line for line in lines if not line.startswith("#")]
    if data_lines and _CANDUMP_LOG_LINE.match(data_lines[0]):
        return CANDUMP_LOG, encoding
    if data_lines and _CANDUMP_PLAIN_LINE.match(data_lines[0]):
        return CANDUMP_PLAIN, encoding
    if table_header(first) is not None:
        return ANALYSER, encoding
    raise LogFormatError(
        f"not a recording this suite reads (tried {', '.join(FORMATS)}): {first[:60]!r}",
        line=1,
    )


def open_recording(path: str | Path, channel: str | None = None) -> Recording:
    """The recording at ``path``, its format recognised; iterate it for its frames."""
    path = Path(path)
    fmt, encoding = detect(path)
    return Recording(path, fmt, encoding, channel)


# -- python-can readers ------------------------------------------------------------------------


def _frame(
    msg: can.Message, index: int, line: int, channel: str, info: str = ""
) -> LogFrame | None:
    if msg.is_error_frame or msg.is_remote_frame:
        return None
    return LogFrame(
        index,
        float(msg.timestamp),
        int(msg.arbitration_id),
        bytes(msg.data),
        line,
        info or channel,
        channel,
        bool(msg.is_extended_id),
    )


def _messages(
    lines: Lines,
    make: Callable[[TextIO], Any],
    check: Callable[[can.Message, str], str | None],
    channel: Callable[[can.Message], str],
    fmt: str,
    encoding: str = "",
) -> Iterator[LogFrame]:
    index = 0
    try:
        reader = make(cast(TextIO, lines))  # python-can iterates it line by line
        for msg in reader:
            problem = check(msg, lines.text)
            if problem:
                raise LogFormatError(problem, line=lines.number, fmt=fmt)
            frame = _frame(msg, index, lines.number, channel(msg))
            if frame is not None:
                index += 1
                yield frame
    except LogFormatError as exc:
        raise exc.tried(fmt) from None
    except UnicodeDecodeError as exc:
        raise LogFormatError(
            f"not {encoding} text ({exc.reason})", line=lines.number + 1, fmt=fmt
        ) from None
    except Exception as exc:  # a reader's own error, whatever its type
        said = lines.explain(lines.text.strip()) if lines.explain is not None else None
        raise LogFormatError(
            said or f"{type(exc).__name__}: {exc}".rstrip(": "), line=lines.number, fmt=fmt
        ) from None


def _text_reader(
    rec: Recording,
    make: Callable[[TextIO], Any],
    check: Callable[[can.Message, str], str | None],
    channel: Callable[[can.Message], str],
    *,
    comments: bool = False,
    explain: Callable[[str], str | None] | None = None,
) -> Iterator[LogFrame]:
    with rec.path.open(encoding=rec.encoding, newline="") as handle:
        lines = Lines(handle, comments=comments, explain=explain)
        yield from _messages(lines, make, check, channel, rec.format, rec.encoding)


def _whole_bytes(msg: can.Message, _line: str) -> str | None:
    """A line cut short: fewer data bytes than its DLC says."""
    if msg.is_remote_frame or msg.is_error_frame:
        return None
    expected = can.util.dlc2len(msg.dlc) if msg.is_fd else msg.dlc
    if len(msg.data) < expected:
        return f"{len(msg.data)} data bytes, DLC {msg.dlc} (a truncated line?)"
    return None


_CANDUMP_FULL = re.compile(
    r"^\((?P<t>\d+(?:\.\d+)?)\)\s+\S+\s+[0-9A-Fa-f]{1,8}#(?P<fd>#[0-9A-Fa-f])?(?P<data>\S*)"
    r"(?:\s+[RTrt])?$"
)


def _candump_line(line: str) -> str | None:
    """What is wrong with a candump log line (python-can's reader would misread it)."""
    match = _CANDUMP_FULL.match(line)
    if match is None:
        return f"not a candump log line: {line[:60]!r}"
    data = match["data"]
    if data[:1].upper() != "R" and (len(data) % 2 or not re.fullmatch(r"[0-9A-Fa-f]*", data)):
        return f"bad data {data!r} (a truncated line?)"
    return None


def _candump_bytes(msg: can.Message, line: str) -> str | None:
    """Every data digit made a byte (python-can reads an odd digit as a byte of its own)."""
    if msg.is_remote_frame or msg.is_error_frame:
        return None
    data = line.split()[2].split("#", 1)[1]
    digits = len(data) - 2 if data.startswith("#") else len(data)
    if digits != 2 * len(msg.data):
        return f"bad data {data!r} (a truncated line?)"
    return None


def _read_candump_log(rec: Recording) -> Iterator[LogFrame]:
    yield from _text_reader(
        rec,
        can.CanutilsLogReader,
        _candump_bytes,
        lambda m: str(m.channel),
        comments=True,
        explain=_candump_line,
    )


def _asc_channel(msg: can.Message) -> str:
    # python-can numbers ASC channels from 0; the file (and CANalyzer) from 1
    return str(msg.channel + 1) if isinstance(msg.channel, int) else str(msg.channel or "")


def candump_log_lines(lines: Iterable[str]) -> Iterator[LogFrame]:
    """Frames of candump log lines (``(ts) iface ID#DATA``), read by python-can."""
    yield from _messages(
        Lines(iter(lines), comments=True, explain=_candump_line),
        can.CanutilsLogReader,
        _candump_bytes,
        lambda m: str(m.channel),
        CANDUMP_LOG,
    )


def _read_asc(rec: Recording) -> Iterator[LogFrame]:
    yield from _text_reader(
        rec,
        lambda lines: can.ASCReader(lines, base="hex", relative_timestamp=True),
        _whole_bytes,
        _asc_channel,
    )


def _read_trc(rec: Recording) -> Iterator[LogFrame]:
    yield from _text_reader(
        rec, can.TRCReader, _whole_bytes, lambda m: "" if m.channel is None else str(m.channel)
    )


def _read_python_can_csv(rec: Recording) -> Iterator[LogFrame]:
    yield from _text_reader(rec, can.CSVReader, _whole_bytes, lambda m: "")


def _read_blf(rec: Recording) -> Iterator[LogFrame]:
    size = rec.path.stat().st_size
    with rec.path.open("rb") as handle:
        index = 0
        try:
            reader = can.BLFReader(handle)
            for msg in reader:
                frame = _frame(msg, index, index + 1, _asc_channel(msg))
                if frame is not None:
                    index += 1
                    yield frame
        except Exception as exc:  # BLFParseError, struct.error …
            raise LogFormatError(
                f"after object {index}: {type(exc).__name__}: {exc}".rstrip(": "), fmt=BLF
            ) from None
        if (reader.file_size and size < reader.file_size) or reader._tail:
            raise LogFormatError(
                f"truncated: {size} of the {reader.file_size} bytes its header announces "
                f"(read {index} frames)",
                fmt=BLF,
            )


def _read_analyser(rec: Recording) -> Iterator[LogFrame]:
    yield from analyser_frames(rec.path, rec.encoding, ANALYSER)


def _read_candump_plain(rec: Recording) -> Iterator[LogFrame]:
    yield from candump_plain_frames(rec.path, rec.encoding)


_READERS: dict[str, Callable[[Recording], Iterator[LogFrame]]] = {
    CANDUMP_LOG: _read_candump_log,
    CANDUMP_PLAIN: _read_candump_plain,
    ASC: _read_asc,
    BLF: _read_blf,
    TRC: _read_trc,
    PYTHON_CAN_CSV: _read_python_can_csv,
    ANALYSER: _read_analyser,
}


def timestamps_usable(first: float, last: float) -> bool:
    """Whether a recording's first and last frame times can judge periods."""
    return not (math.isnan(first) or math.isnan(last)) and last > first
