"""The recording formats python-can has no reader for: analyser tables and plain candump.

* An **analyser table**: the CSV a CAN analyser exports (the shared capture: ``序号, 帧ID,
  时间标识, 类型, 报文描述, 报文内容, 长度, 数据(Hex)``) or the text export of a USB-CAN analyser
  (``序号 传输方向 时间标识 帧ID 帧格式 帧类型 数据长度 数据(HEX)``, time in hexadecimal
  0.1 ms units ``0x0012a3f4``). Columns are found by their header (Chinese or English);
  comma, tab or space separated (with spaces, the data bytes are the last column and take the
  rest of the line). Time stamps: ``mm:ss.t`` (rolled over at the hour), ``hh:mm:ss.fff``,
  seconds, or ``0x…`` (0.1 ms units); an empty time cell gives no time stamp (``nan``).
* **candump** without ``-l``: ``  can0  1826F456   [3]  01 01 00``, with ``(ts)`` in front when
  run with ``-t a|z`` and without any time stamp otherwise.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from pile_interop.gbt27930.logframe import LogFormatError, LogFrame

CANDUMP_PLAIN = "candump (plain)"

COLUMNS = {
    "index": ("序号", "index", "no.", "no"),
    "id": ("帧id", "id", "frame id", "帧id(hex)", "id号", "can id", "identifier"),
    "time": ("时间标识", "时间", "time", "timestamp", "time stamp", "时间戳"),
    "type": ("类型", "type"),
    "format": ("帧格式", "format", "frame format"),
    "frame_type": ("帧类型", "frame type"),
    "channel": ("通道", "can通道", "channel", "ch", "通道号"),
    "length": ("长度", "数据长度", "length", "dlc", "len"),
    "data": ("数据(hex)", "数据", "data", "data(hex)", "数据(hex)值", "data (hex)"),
}
_REQUIRED = ("id", "data")
_HOUR = 3600.0
_PLAIN = re.compile(
    r"^(?:\((?P<t>\d+(?:\.\d+)?)\)\s+)?(?P<iface>\S+)\s+(?P<id>[0-9A-Fa-f]{1,8})\s+"
    r"\[(?P<dlc>\d+)\]\s*(?P<data>.*)$"
)


def _split(line: str, sep: str | None) -> list[str]:
    if sep is None:
        return line.split()
    return next(csv.reader([line], delimiter=sep))


def _separator(line: str) -> str | None:
    if "\t" in line:
        return "\t"
    if "," in line:
        return ","
    return None


def _columns(header: Sequence[str]) -> dict[str, int]:
    """Column of each key, by the first of its names the header has (``时间标识`` before
    ``时间`` when an export has both)."""
    cells = [name.strip().lower() for name in header]
    found: dict[str, int] = {}
    for key, names in COLUMNS.items():
        for name in names:
            if name in cells:
                found[key] = cells.index(name)
                break
    return found


def table_header(line: str) -> dict[str, int] | None:
    """The columns of an analyser table's header line, or ``None`` if it is not one."""
    cols = _columns(_split(line.strip().lstrip("\ufeff"), _separator(line)))
    return cols if all(k in cols for k in _REQUIRED) else None


def parse_time(text: str) -> float:
    """``mm:ss.t``, ``hh:mm:ss.fff``, seconds, or ``0x…`` in 0.1 ms units; empty → ``nan``."""
    text = text.strip()
    if not text or text in ("-", "无", "N/A"):
        return math.nan
    if text.lower().startswith("0x"):
        return int(text, 16) / 10000
    seconds = 0.0
    for part in text.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def _number(text: str) -> int:
    text = text.strip()
    return int(text, 16) if text.lower().startswith("0x") else int(text)


def parse_hex_bytes(text: str) -> bytes:
    """``01 01 00``, ``010100``, ``0x01 0x01 0x00``, ``01,01,00`` or ``x| 01 01 00`` (the
    data column of some USB-CAN tools)."""
    text = text.strip().removeprefix("x|")
    tokens = text.replace(",", " ").replace("0x", "").replace("0X", "").split()
    if len(tokens) == 1 and len(tokens[0]) > 2:
        return bytes.fromhex(tokens[0])
    return bytes(int(tok, 16) for tok in tokens)


def analyser_frames(path: Path, encoding: str, fmt: str) -> Iterator[LogFrame]:
    """Frames of an analyser table, streamed (one row at a time)."""
    with path.open(encoding=encoding, newline="") as handle:
        line_no = 0
        try:
            header_line = ""
            for raw in handle:
                line_no += 1
                if raw.strip():
                    header_line = raw.strip().lstrip("\ufeff")
                    break
            sep = _separator(header_line)
            header = _split(header_line, sep)
            cols = _columns(header)
            missing = [COLUMNS[k][0] for k in _REQUIRED if k not in cols]
            if missing:
                raise LogFormatError(f"no {', '.join(missing)} column in {header}", line=line_no)
            rest_is_data = sep is None and cols["data"] == len(header) - 1
            wrap, previous, index = 0.0, None, 0
            for raw in handle:
                line_no += 1
                if not raw.strip():
                    continue
                row = _split(raw.rstrip("\r\n"), sep)
                if rest_is_data:
                    row = [*row[: len(header) - 1], " ".join(row[len(header) - 1 :])]
                frame = _row(row, cols, line_no, index)
                if frame is None:
                    continue
                t = frame.t
                if not math.isnan(t):
                    t += wrap
                    if previous is not None and t < previous - _HOUR / 2:
                        wrap += _HOUR  # the mm:ss stamp rolled over an hour
                        t += _HOUR
                    previous = t
                index += 1
                yield LogFrame(
                    frame.index, t, frame.can_id, frame.data, line_no, frame.info, frame.channel,
                    frame.extended,
                )  # fmt: skip
        except LogFormatError as exc:
            raise exc.tried(fmt) from None
        except UnicodeDecodeError as exc:
            raise LogFormatError(
                f"not {encoding} text ({exc.reason})", line=line_no + 1, fmt=fmt
            ) from None


def _cell(row: Sequence[str], cols: dict[str, int], key: str) -> str:
    i = cols.get(key)
    return row[i].strip() if i is not None and i < len(row) else ""


def _row(row: Sequence[str], cols: dict[str, int], line: int, index: int) -> LogFrame | None:
    if len(row) <= max(cols[k] for k in _REQUIRED):
        raise LogFormatError(
            f"{len(row)} columns, the header has more (a truncated line?)", line=line
        )
    kind = " ".join(
        " ".join(_cell(row, cols, k).split()) for k in ("type", "format", "frame_type")
    ).strip()
    if "远程帧" in kind or "remote" in kind.lower():
        return None
    try:
        can_id = int(_cell(row, cols, "id"), 16)
        t = parse_time(_cell(row, cols, "time")) if "time" in cols else math.nan
        data = parse_hex_bytes(_cell(row, cols, "data"))
        number = _cell(row, cols, "index")
        position = int(number) if number.isdigit() else index
        declared = _cell(row, cols, "length")
        length = _number(declared) if declared else None
    except ValueError as exc:
        raise LogFormatError(str(exc), line=line) from None
    if length is not None and length != len(data):
        raise LogFormatError(
            f"length {length} but {len(data)} data bytes (a truncated line?)", line=line
        )
    extended = not ("标准帧" in kind or "standard" in kind.lower()) and (
        can_id > 0x7FF or "扩展帧" in kind or "extended" in kind.lower() or not kind
    )
    return LogFrame(position, t, can_id, data, line, kind, _cell(row, cols, "channel"), extended)


def candump_plain_frames(path: Path, encoding: str) -> Iterator[LogFrame]:
    """Frames of candump's default output (``can0  1826F456   [3]  01 01 00``)."""
    with path.open(encoding=encoding) as handle:
        index = 0
        for line_no, raw in enumerate(handle, start=1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            match = _PLAIN.match(text)
            if match is None:
                raise LogFormatError(
                    f"not a candump line: {text[:60]!r}", line=line_no, fmt=CANDUMP_PLAIN
                )
            data_text = match["data"].strip()
            if "remote request" in data_text:
                continue
            try:
                data = bytes(int(tok, 16) for tok in data_text.split()[: int(match["dlc"])])
            except ValueError:
                raise LogFormatError(
                    f"bad data {data_text!r}", line=line_no, fmt=CANDUMP_PLAIN
                ) from None
            if len(data) != int(match["dlc"]):
                raise LogFormatError(
                    f"[{match['dlc']}] but {len(data)} data bytes (a truncated line?)",
                    line=line_no,
                    fmt=CANDUMP_PLAIN,
                )
            t = float(match["t"]) if match["t"] else math.nan
            yield LogFrame(
                index,
                t,
                int(match["id"], 16),
                data,
                line_no,
                match["iface"],
                match["iface"],
                len(match["id"]) > 3,
            )
            index += 1
