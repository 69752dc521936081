"""29-bit J1939 identifiers as GB/T 27930 uses them (PDU1 only, fixed addresses)."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import NamedTuple

logger = logging.getLogger(__name__)

CHARGER_ADDRESS = 0x56
BMS_ADDRESS = 0xF4
GLOBAL_ADDRESS = 0xFF

PGN_TP_CM = 0xEC00
PGN_TP_DT = 0xEB00
TP_PRIORITY = 7

_MAX_CAN_ID = 0x1FFFFFFF


class CanId(NamedTuple):
    """The parts of a 29-bit identifier: ``priority, pgn, src, dst``."""

    priority: int
    pgn: int
    src: int
    dst: int


def can_id(pgn: int, priority: int, src: int, dst: int) -> int:
    """``priority << 26 | PGN (with PS = dst for PDU1) << 8 | src``.

    For a PDU1 PGN (PF < 240) the destination goes in the PS byte; for PDU2 (PF >= 240) the PGN
    already holds its group extension and ``dst`` must be the global address.
    """
    if not 0 <= priority <= 7:
        raise ValueError(f"priority must be 0..7, got {priority}")
    if not 0 <= pgn <= 0x3FFFF:
        raise ValueError(f"PGN must be 0..0x3FFFF, got {pgn:#x}")
    for what, address in (("source", src), ("destination", dst)):
        if not 0 <= address <= 0xFF:
            raise ValueError(f"{what} address must be 0..255, got {address}")
    pf = (pgn >> 8) & 0xFF
    if pf < 240:
        if pgn & 0xFF:
            raise ValueError(f"PDU1 PGN {pgn:#06x} must have PS = 0")
        ps = dst
    else:
        if dst != GLOBAL_ADDRESS:
            raise ValueError(f"PDU2 PGN {pgn:#06x} is broadcast, destination must be 0xFF")
        ps = pgn & 0xFF
    return (priority << 26) | ((pgn & 0x3FF00) << 8) | (ps << 8) | src


@lru_cache(maxsize=4096)
def parse_can_id(value: int) -> CanId:
    """Split a 29-bit identifier into ``(priority, pgn, src, dst)`` (cached: a recording of
    millions of frames carries a few dozen identifiers)."""
    if not 0 <= value <= _MAX_CAN_ID:
        raise ValueError(f"not a 29-bit identifier: {value:#x}")
    priority = (value >> 26) & 0x7
    pf = (value >> 16) & 0xFF
    ps = (value >> 8) & 0xFF
    src = value & 0xFF
    dp_pf = (value >> 16) & 0x3FF  # EDP, DP and PF
    if pf < 240:
        return CanId(priority, dp_pf << 8, src, ps)
    return CanId(priority, (dp_pf << 8) | ps, src, GLOBAL_ADDRESS)


class Identified:
    """The parts of a frame's 29-bit id, for any record with a ``can_id`` attribute."""

    can_id: int

    @property
    def priority(self) -> int:
        return parse_can_id(self.can_id).priority

    @property
    def pgn(self) -> int:
        return parse_can_id(self.can_id).pgn

    @property
    def src(self) -> int:
        return parse_can_id(self.can_id).src

    @property
    def dst(self) -> int:
        return parse_can_id(self.can_id).dst
