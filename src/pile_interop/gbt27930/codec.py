"""Encode and decode GB/T 27930 messages with the shipped cantools databases.

``encode(name, values)`` gives the payload bytes (fill bits and unused bytes set to 1),
``decode(name_or_pgn, data)`` gives ``{signal: physical value}``; each takes a ``variant``
(``"2015"`` by default, ``"2011"``, ``"2023a"``). Multi-packet messages (BRM, BCP, BCS, BMV,
BMT, BSP) are encoded to and decoded from the whole payload that the J1939 transport carries.

Signals are what the DBC says; a few fields that a DBC cannot express as one signal are also
offered as *composites*: ``Version`` ("1.1") for CHM/BRM, ``VIN``, ``BatteryMaker`` and
``RegionCode`` (text), ``Time`` (CTS, a ``datetime``). :func:`encode` accepts them in place of
their signals; :func:`interpret` turns decoded signals into them and labels enumerations.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

import cantools
from cantools.database.can import Database, Message, Signal

from pile_interop.gbt27930.ids import (
    BMS_ADDRESS,
    CHARGER_ADDRESS,
    CanId,
    can_id,
    parse_can_id,
)
from pile_interop.gbt27930.layout import MESSAGES, VARIANTS, normalise_variant
from pile_interop.gbt27930.layout_fields import BMS, CHARGER, MessageDef

logger = logging.getLogger(__name__)

__all__ = [
    "BMS_ADDRESS",
    "BMS_TO_CHARGER",
    "CHARGER_ADDRESS",
    "CHARGER_TO_BMS",
    "VARIANTS",
    "CanId",
    "CodecError",
    "FillBit",
    "MessageInfo",
    "can_id",
    "database",
    "decode",
    "encode",
    "fill_bit_violations",
    "interpret",
    "message_info",
    "messages",
    "parse_can_id",
]

CHARGER_TO_BMS = "C→B"
BMS_TO_CHARGER = "B→C"

_HERE = Path(__file__).resolve().parent
_ADDRESS = {CHARGER: CHARGER_ADDRESS, BMS: BMS_ADDRESS}

Value = float | int | str


class CodecError(ValueError):
    """A message that cannot be encoded or decoded as asked (unknown name, short data…)."""


@dataclass(frozen=True)
class MessageInfo:
    """What the standard says about one message, independent of its content."""

    name: str
    variant: str
    pgn: int
    priority: int
    length: int
    """Payload length in bytes (the maximum for the variable-length BMV, BMT, BSP)."""
    min_length: int
    period_ms: int
    sender: str
    receiver: str
    direction: str
    """``"C→B"`` (charger to BMS) or ``"B→C"``."""
    src: int
    dst: int
    can_id: int
    """29-bit id as a single frame; multi-packet messages travel as TP.CM/TP.DT instead."""
    element_size: int
    signals: tuple[str, ...]
    comment: str

    @property
    def multi_packet(self) -> bool:
        """True when the payload needs the J1939 RTS/CTS transport (more than 8 bytes)."""
        return self.length > 8

    @property
    def variable_length(self) -> bool:
        return self.element_size > 0

    @property
    def period(self) -> float:
        """Transmission period in seconds."""
        return self.period_ms / 1000


@dataclass(frozen=True)
class FillBit:
    """A bit that must be 1 (unused / reserved) but is 0: ``byte`` and ``bit`` count from 1."""

    byte: int
    bit: int

    def __str__(self) -> str:
        return f"byte {self.byte} bit {self.bit}"


# -- databases and metadata --------------------------------------------------------------------


@cache
def database(variant: str = "2015") -> Database:
    """The cantools database shipped for ``variant`` (loaded once)."""
    key = normalise_variant(variant)
    path = _HERE / f"gbt27930_{key}.dbc"
    logger.debug("loading %s", path)
    db = cantools.database.load_file(path, database_format="dbc")
    if not isinstance(db, Database):  # pragma: no cover - the files are DBC
        raise CodecError(f"{path} is not a CAN database")
    return db


@cache
def _tables(variant: str) -> tuple[dict[str, MessageInfo], dict[int, str]]:
    db = database(variant)
    defs: dict[str, MessageDef] = {m.name: m for m in MESSAGES[variant]}
    infos: dict[str, MessageInfo] = {}
    by_pgn: dict[int, str] = {}
    for msg in db.messages:
        parts = parse_can_id(msg.frame_id)
        sender = msg.senders[0]
        receiver = BMS if sender == CHARGER else CHARGER
        d = defs[msg.name]
        info = MessageInfo(
            name=msg.name,
            variant=variant,
            pgn=parts.pgn,
            priority=parts.priority,
            length=msg.length,
            min_length=d.element_size or d.min_length or msg.length,
            period_ms=int(msg.cycle_time or 0),
            sender=sender,
            receiver=receiver,
            direction=CHARGER_TO_BMS if sender == CHARGER else BMS_TO_CHARGER,
            src=parts.src,
            dst=parts.dst,
            can_id=msg.frame_id,
            element_size=d.element_size,
            signals=tuple(s.name for s in sorted(msg.signals, key=lambda s: s.start)),
            comment=str(msg.comment or ""),
        )
        infos[msg.name] = info
        by_pgn[info.pgn] = msg.name
    return infos, by_pgn


def messages(variant: str = "2015") -> list[MessageInfo]:
    """Every message of ``variant``, in PGN order."""
    infos, _ = _tables(normalise_variant(variant))
    return sorted(infos.values(), key=lambda i: i.pgn)


def message_info(name_or_pgn: str | int, variant: str = "2015") -> MessageInfo:
    """Metadata of a message given by name (``"BRM"``) or PGN (``0x0200``)."""
    key = normalise_variant(variant)
    infos, by_pgn = _tables(key)
    if isinstance(name_or_pgn, int):
        name = by_pgn.get(name_or_pgn)
        if name is None:
            raise CodecError(f"PGN {name_or_pgn:#06x} is not a GB/T 27930 ({key}) message")
        return infos[name]
    info = infos.get(str(name_or_pgn).upper())
    if info is None:
        raise CodecError(f"{name_or_pgn!r} is not a GB/T 27930 ({key}) message")
    return info


def _message(info: MessageInfo) -> Message:
    return database(info.variant).get_message_by_name(info.name)


# -- scaling -----------------------------------------------------------------------------------


def _decimals(scale: float) -> int:
    if float(scale).is_integer():
        return 0
    return max(0, -math.floor(math.log10(abs(scale)) + 1e-9)) + 1


def _integral(sig: Signal) -> bool:
    return float(sig.scale).is_integer() and float(sig.offset).is_integer()


def _physical(sig: Signal, raw: int) -> float | int:
    scale, offset = sig.scale, sig.offset
    if _integral(sig):
        return int(raw * int(scale) + int(offset))
    return round(raw * scale + offset, _decimals(scale))


def _raw(sig: Signal, value: Value, *, strict: bool, message: str) -> int:
    where = f"{message}.{sig.name}"
    if isinstance(value, str):
        choices: Mapping[Any, Any] = sig.choices or {}
        for raw, label in choices.items():
            if str(label) == value:
                return int(raw)
        raise CodecError(f"{where}: {value!r} is none of {sorted(map(str, choices.values()))}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CodecError(f"{where}: expected a number, got {value!r}")
    if strict:
        slack = sig.scale / 2
        low, high = sig.minimum, sig.maximum
        if (low is not None and value < low - slack) or (high is not None and value > high + slack):
            raise CodecError(f"{where}: {value} outside [{low}, {high}] {sig.unit or ''}".rstrip())
    if isinstance(value, int) and _integral(sig):
        raw = (value - int(sig.offset)) // int(sig.scale)
    else:
        raw = round((value - sig.offset) / sig.scale)
    if not 0 <= raw < (1 << sig.length):
        raise CodecError(f"{where}: {value} does not fit in {sig.length} bits")
    return int(raw)


# -- composites --------------------------------------------------------------------------------

_TEXT = {
    "CRM": {"RegionCode": "RegionCode"},
    "BRM": {"BatteryMaker": "BatteryMaker", "VIN": "VIN"},
}
_VERSIONED = ("CHM", "BRM")
_CTS_PARTS = (("Second", 2), ("Minute", 2), ("Hour", 2), ("Day", 2), ("Month", 2))
_YEAR_DIGITS = ("YearThousands", "YearHundreds", "YearTens", "YearUnits")


def _text_signals(info: MessageInfo, prefix: str) -> list[str]:
    return [s for s in info.signals if s.startswith(prefix) and s[len(prefix) :].isdigit()]


def _expand(info: MessageInfo, values: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for composite, prefix in _TEXT.get(info.name, {}).items():
        if composite not in out:
            continue
        text = out.pop(composite)
        names = _text_signals(info, prefix)
        raw = b"" if text is None else str(text).encode("ascii")
        if len(raw) > len(names):
            raise CodecError(f"{info.name}.{composite}: {text!r} longer than {len(names)}")
        padded = raw + b"\xff" * (len(names) - len(raw))
        out.update(zip(names, padded, strict=True))
    if info.name in _VERSIONED and "Version" in out:
        major, _, minor = str(out.pop("Version")).partition(".")
        out["VersionMajor"], out["VersionMinor"] = int(major), int(minor or 0)
    if info.name == "CTS" and "Time" in out:
        when: dt.datetime = out.pop("Time")
        fields = {
            "Second": when.second,
            "Minute": when.minute,
            "Hour": when.hour,
            "Day": when.day,
            "Month": when.month,
        }
        for unit, number in fields.items():
            out[f"{unit}Tens"], out[f"{unit}Units"] = divmod(number, 10)
        year = f"{when.year:04d}"
        out.update({name: int(d) for name, d in zip(_YEAR_DIGITS, year, strict=True)})
    return out


def _text(values: Mapping[str, Any], names: Iterable[str]) -> str | None:
    chars = [values[n] for n in names if n in values]
    raw = bytes(int(c) for c in chars).rstrip(b"\xff").rstrip(b"\x00")
    if not raw:
        return None
    return raw.decode("ascii", errors="replace")


def interpret(
    name_or_pgn: str | int, values: Mapping[str, Any], variant: str = "2015"
) -> dict[str, Any]:
    """A readable view of decoded ``values``: enumerations as labels, composites joined.

    BRM gives ``Version`` ``"1.1"``, ``VIN`` (``None`` when absent), ``BatteryMaker``,
    ``ProductionDate``; CTS gives ``Time`` (``None`` if the BCD is not a valid date).
    """
    info = message_info(name_or_pgn, variant)
    msg = _message(info)
    out: dict[str, Any] = {}
    consumed: set[str] = set()
    for composite, prefix in _TEXT.get(info.name, {}).items():
        names = _text_signals(info, prefix)
        consumed.update(names)
        out[composite] = _text(values, names)
    if info.name in _VERSIONED and {"VersionMajor", "VersionMinor"} <= values.keys():
        out["Version"] = f"{int(values['VersionMajor'])}.{int(values['VersionMinor'])}"
        consumed.update(("VersionMajor", "VersionMinor"))
    if info.name == "BRM":
        try:
            out["ProductionDate"] = dt.date(
                int(values["ProductionYear"]),
                int(values["ProductionMonth"]),
                int(values["ProductionDay"]),
            )
        except (KeyError, ValueError):
            out["ProductionDate"] = None
        if "BMSSoftwareVersion" in values:
            raw = int(values["BMSSoftwareVersion"]).to_bytes(8, "little")
            out["BMSSoftwareVersion"] = raw.hex(" ").upper()
            consumed.add("BMSSoftwareVersion")
    if info.name == "CTS":
        out["Time"] = _cts_time(values)
    for sig in msg.signals:
        if sig.name in consumed or sig.name not in values:
            continue
        value = values[sig.name]
        if sig.choices and isinstance(value, int) and value in sig.choices:
            value = str(sig.choices[value])
        out[sig.name] = value
    return out


def _cts_time(values: Mapping[str, Any]) -> dt.datetime | None:
    try:
        parts = {
            unit: int(values[f"{unit}Tens"]) * 10 + int(values[f"{unit}Units"])
            for unit, _ in _CTS_PARTS
        }
        year = int("".join(str(int(values[d])) for d in _YEAR_DIGITS))
        return dt.datetime(
            year, parts["Month"], parts["Day"], parts["Hour"], parts["Minute"], parts["Second"]
        )
    except (KeyError, ValueError):
        return None


# -- encode / decode ---------------------------------------------------------------------------


def _element_index(info: MessageInfo, signal: str) -> int:
    """1-based element number of a variable-length array signal (``Cell012Voltage`` → 12)."""
    digits = "".join(ch for ch in signal if ch.isdigit())
    return int(digits)


def encode(
    name: str,
    values: Mapping[str, Any],
    variant: str = "2015",
    *,
    strict: bool = True,
    fill_missing: bool = False,
) -> bytes:
    """Payload bytes of message ``name`` from physical ``values``.

    Unused bits and bytes are 1. ``strict`` checks each value against the DBC range (turn it off
    to build out-of-range frames for negative tests); ``fill_missing`` sends absent signals as all
    ones ("not available"), otherwise a missing signal is an error. For BMV, BMT and BSP the
    payload is as long as the highest element given (``Cell003Voltage`` → 6 bytes).
    """
    info = message_info(name, variant)
    msg = _message(info)
    given = _expand(info, values)
    signals = {s.name: s for s in msg.signals}
    unknown = sorted(set(given) - set(signals))
    if unknown:
        raise CodecError(f"{info.name} has no signal {', '.join(unknown)}")
    length = info.length
    if info.variable_length:
        count = max((_element_index(info, k) for k in given), default=0)
        if count == 0:
            raise CodecError(f"{info.name} needs at least one element")
        length = count * info.element_size
    raw: dict[str, int] = {}
    for sig in msg.signals:
        in_payload = sig.start + sig.length <= length * 8
        if sig.name in given:
            raw[sig.name] = _raw(sig, given[sig.name], strict=strict, message=info.name)
        elif fill_missing or not in_payload:
            raw[sig.name] = (1 << sig.length) - 1
        else:
            raise CodecError(f"{info.name}: missing signal {sig.name}")
    data = msg.encode(raw, scaling=False, padding=True, strict=False)
    return bytes(data[:length])


def decode(
    name_or_pgn: str | int,
    data: bytes | bytearray | Iterable[int],
    variant: str = "2015",
    *,
    choices: bool = False,
    lenient: bool = False,
) -> dict[str, Value]:
    """``{signal: physical value}`` of a payload; ``choices=True`` labels enumerations.

    Extra bytes (a single frame padded to 8) are ignored; a payload shorter than the message's
    minimum length is a :class:`CodecError` — or, with ``lenient``, decoded as far as its bytes
    go (the fields it covers whole; what a real charger's 7-byte CCS or 2011-era 6-byte CML
    carries). Variable-length arrays decode every whole element.
    """
    info = message_info(name_or_pgn, variant)
    payload = bytes(data)
    if len(payload) < info.min_length and not lenient:
        raise CodecError(f"{info.name} needs at least {info.min_length} bytes, got {len(payload)}")
    msg = _message(info)
    # scaling=False, no containers: a mapping of signal names to raw integers
    raw = cast(
        Mapping[str, int],
        msg.decode(
            payload[: info.length],
            decode_choices=False,
            scaling=False,
            allow_truncated=True,
            allow_excess=True,
        ),
    )
    out: dict[str, Value] = {}
    for sig in sorted(msg.signals, key=lambda s: s.start):
        if sig.name not in raw:
            continue
        value = int(raw[sig.name])
        if choices and sig.choices and value in sig.choices:
            out[sig.name] = str(sig.choices[value])
        else:
            out[sig.name] = _physical(sig, value)
    return out


@cache
def _used_mask(name: str, variant: str) -> int:
    info = message_info(name, variant)
    mask = 0
    for sig in _message(info).signals:
        mask |= ((1 << sig.length) - 1) << sig.start
    return mask


def fill_bit_violations(
    name_or_pgn: str | int, data: bytes | bytearray | Iterable[int], variant: str = "2015"
) -> list[FillBit]:
    """Bits of ``data`` that no field uses (fill, reserved, padding) and that are 0.

    Bytes after the message length (a 1-byte BRO sent with DLC 8) are fill too.
    """
    info = message_info(name_or_pgn, variant)
    payload = bytes(data)
    used = _used_mask(info.name, normalise_variant(variant))
    value = int.from_bytes(payload, "little")
    bad: list[FillBit] = []
    for index in range(len(payload) * 8):
        if not (used >> index) & 1 and not (value >> index) & 1:
            bad.append(FillBit(index // 8 + 1, index % 8 + 1))
    return bad
