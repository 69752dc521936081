"""The building blocks of the GB/T 27930 message table: fields, messages and their helpers.

The helpers read like the standard's tables. Conventions (GB/T 27930-2015 §4 and §7):

* bytes are numbered from 1 and multi-byte values are little-endian ("low byte first");
* bits inside a byte are numbered from 1 (the least significant bit) — ``byte 7 bit 1-2`` of CCS
  is the mask ``0x03`` of the seventh byte, which the shared capture confirms (``FD`` = permitted,
  the other six bits filled with 1);
* every bit that no field covers is a fill bit and is sent as 1.

Physical value = raw × scale + offset, as in a DBC file. The messages themselves are in
:mod:`.layout_setup`, :mod:`.layout_charging` and :mod:`.layout_stop`; :mod:`.layout` puts them
together per protocol variant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypedDict, Unpack

CHARGER = "Charger"
BMS = "BMS"


@dataclass(frozen=True)
class Field:
    """One signal: ``start`` is the DBC little-endian start bit (byte index × 8 + bit index)."""

    name: str
    start: int
    length: int
    scale: float = 1
    offset: float = 0
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    spn: int | None = None
    comment: str = ""
    choices: Mapping[int, str] | None = None

    @property
    def raw_max(self) -> int:
        return (1 << self.length) - 1


@dataclass(frozen=True)
class MessageDef:
    """One parameter group as GB/T 27930 defines it."""

    name: str
    pgn: int
    priority: int
    length: int
    period_ms: int
    sender: str
    fields: tuple[Field, ...]
    comment: str
    min_length: int | None = None
    """Shortest payload that still carries every mandatory field (BRM: 41, see the docs)."""
    element_size: int = 0
    """Non-zero for the variable-length arrays (BMV, BMT, BSP): bytes per element."""
    notes: tuple[str, ...] = field(default=())

    @property
    def variable(self) -> bool:
        return self.element_size > 0


Header = tuple[str, int, int, int, int, str]
"""A row of the standard's message overview: name, PGN, priority, bytes, period (ms), sender."""


def message(
    header: Header,
    fields: Iterable[Field],
    comment: str,
    *,
    min_length: int | None = None,
    element_size: int = 0,
) -> MessageDef:
    """The :class:`MessageDef` of ``header`` (a row of the overview table) with ``fields``."""
    name, pgn, priority, length, period_ms, sender = header
    return MessageDef(
        name,
        pgn,
        priority,
        length,
        period_ms,
        sender,
        tuple(fields),
        comment,
        min_length=min_length,
        element_size=element_size,
    )


class FieldOptions(TypedDict, total=False):
    """What a field may say besides its place (the defaults are those of :class:`Field`)."""

    scale: float
    offset: float
    minimum: float | None
    maximum: float | None
    unit: str
    spn: int | None
    comment: str
    choices: Mapping[int, str] | None


def fld(name: str, byte: int, nbytes: int = 1, **options: Unpack[FieldOptions]) -> Field:
    """A field of whole bytes, ``byte`` numbered from 1 as in the standard's tables."""
    return bits(name, byte, 1, nbytes * 8, **options)


def bits(name: str, byte: int, bit: int, length: int, **options: Unpack[FieldOptions]) -> Field:
    """A bit field starting at ``bit`` (1 = least significant) of ``byte`` (from 1)."""
    return Field(name, (byte - 1) * 8 + bit - 1, length, **options)


# -- value ranges and enumerations shared by several messages ---------------------------------

V_MAX = 6553.5
"""Upper bound of the 0.1 V/bit voltages: the 16 bits' whole range. The 2015 tables give no
range for these voltages (no 750 V cap: chargers rated 1000 V exist); 2011 keeps 750 V
(:data:`V_MAX_2011`, applied in :mod:`.layout`)."""
V_MAX_2011 = 750.0
"""The 0.1 V/bit voltages' upper bound in the 2011 layout ("0 V ~ 750 V")."""
A_MIN = -400.0
"""Currents are 0.1 A/bit with a −400 A offset; a negative value is a charging current."""
A_MAX = A_MIN + 6553.5
"""The tables set no upper bound on currents: a small positive BCS / BCL / CCS current around
charging (a measurement's noise, a discharge) is legal, up to the 16 bits' range."""

STATE = {0: "normal", 1: "abnormal", 2: "untrusted", 3: "not available"}
REACHED = {0: "not reached", 1: "reached", 2: "untrusted", 3: "not available"}
STOPPED = {0: "normal", 1: "stopped", 2: "untrusted", 3: "not available"}
FAULT = {0: "normal", 1: "fault", 2: "untrusted", 3: "not available"}
TIMEOUT = {0: "normal", 1: "timeout", 2: "untrusted", 3: "not available"}
HIGH_LOW = {0: "normal", 1: "too high", 2: "too low", 3: "not available"}


# -- the field kinds of the tables ------------------------------------------------------------


def raw(
    name: str,
    byte: int,
    nbytes: int,
    spn: int,
    comment: str,
    choices: Mapping[int, str] | None = None,
) -> Field:
    """An unsigned number of ``nbytes`` whole bytes, 1/bit, over its whole range."""
    maximum = (1 << (8 * nbytes)) - 1
    return fld(
        name, byte, nbytes, minimum=0, maximum=maximum, spn=spn, comment=comment, choices=choices
    )


def tenths(name: str, byte: int, unit: str, maximum: float, spn: int, comment: str) -> Field:
    """Two bytes at 0.1 ``unit``/bit from 0 to ``maximum``."""
    return fld(
        name, byte, 2, scale=0.1, minimum=0, maximum=maximum, unit=unit, spn=spn, comment=comment
    )


def volts(name: str, byte: int, spn: int, comment: str) -> Field:
    return tenths(name, byte, "V", V_MAX, spn, comment)


def amps(name: str, byte: int, spn: int, comment: str) -> Field:
    return fld(
        name,
        byte,
        2,
        scale=0.1,
        offset=A_MIN,
        minimum=A_MIN,
        maximum=A_MAX,
        unit="A",
        spn=spn,
        comment=comment + " (negative = charging)",
    )


def cell_volts(name: str, byte: int, spn: int, comment: str) -> Field:
    return fld(name, byte, 2, scale=0.01, minimum=0, maximum=24, unit="V", spn=spn, comment=comment)


def cell_volts_and_group(
    names: tuple[str, str], byte: int, spn: int, comments: tuple[str, str]
) -> tuple[Field, Field]:
    """A cell voltage (bits 1-12, 0.01 V/bit) and its group number (bits 13-16) in two bytes."""
    voltage = bits(
        names[0],
        byte,
        1,
        12,
        scale=0.01,
        minimum=0,
        maximum=24,
        unit="V",
        spn=spn,
        comment=comments[0],
    )
    group = bits(names[1], byte + 1, 5, 4, minimum=0, maximum=15, spn=spn, comment=comments[1])
    return voltage, group


def celsius(name: str, byte: int, spn: int, comment: str) -> Field:
    return fld(
        name, byte, 1, offset=-50, minimum=-50, maximum=200, unit="degC", spn=spn, comment=comment
    )


def percent(name: str, byte: int, spn: int, comment: str) -> Field:
    """One byte, 1 %/bit, 0-100 %."""
    return fld(name, byte, 1, minimum=0, maximum=100, unit="%", spn=spn, comment=comment)


def minutes(name: str, byte: int, spn: int, comment: str) -> Field:
    return fld(name, byte, 2, minimum=0, maximum=600, unit="min", spn=spn, comment=comment)


def point(name: str, byte: int, maximum: int, spn: int, comment: str) -> Field:
    """The number of a cell or a measuring point, one byte with offset 1."""
    return fld(name, byte, 1, offset=1, minimum=1, maximum=maximum, spn=spn, comment=comment)


def version(spn: int, whose: str) -> tuple[Field, ...]:
    return (
        raw(
            "VersionMinor",
            1,
            1,
            spn,
            f"{whose} protocol version, byte 1 (minor): V1.1 is sent as 01 01 00",
        ),
        raw(
            "VersionMajor", 2, 2, spn, f"{whose} protocol version, bytes 2-3 (major, little-endian)"
        ),
    )


def ascii_text(prefix: str, first_byte: int, count: int, spn: int, what: str) -> tuple[Field, ...]:
    """``count`` one-byte characters ``<prefix>1`` … (numbered with a common width)."""
    width = len(str(count))
    return tuple(
        raw(
            f"{prefix}{i + 1:0{width}d}",
            first_byte + i,
            1,
            spn,
            f"{what}, character {i + 1} (ASCII; 0xFF when not provided)",
        )
        for i in range(count)
    )


def two_bit(
    name: str, byte: int, bit: int, spn: int, comment: str, choices: Mapping[int, str]
) -> Field:
    return bits(name, byte, bit, 2, minimum=0, maximum=3, spn=spn, comment=comment, choices=choices)


Flag = tuple[str, int, int, int, str, Mapping[int, str]]
"""A two-bit status field: name, byte, first bit, SPN, comment, value names."""


def flags(*rows: Flag) -> tuple[Field, ...]:
    """The two-bit status fields of a table, one row each."""
    return tuple(two_bit(*row) for row in rows)


def bcd(name: str, byte: int, high: bool, spn: int, comment: str) -> Field:
    return bits(name, byte, 5 if high else 1, 4, minimum=0, maximum=9, spn=spn, comment=comment)
