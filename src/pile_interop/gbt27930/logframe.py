"""One CAN frame of a recording, and the error a recording that cannot be read raises."""

from __future__ import annotations

from dataclasses import dataclass

from pile_interop.gbt27930 import codec
from pile_interop.gbt27930.ids import BMS_ADDRESS, CHARGER_ADDRESS, Identified


@dataclass(frozen=True)
class LogFrame(Identified):
    """One CAN frame from a recording."""

    index: int
    t: float
    """Seconds (relative or epoch, as the recording gives them); ``nan`` when it gives none."""
    can_id: int
    data: bytes
    line: int
    info: str = ""
    """The recorder's own words for the frame (CSV type column, candump interface)."""
    channel: str = ""
    """The channel as the recording names it (candump interface, ASC/TRC channel number)."""
    extended: bool = True
    """A 29-bit identifier (every GB/T 27930 frame is one)."""

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
    """A recording that cannot be read: ``line N: read as <format>: reason`` (the CLI puts the
    path in front)."""

    def __init__(self, reason: str, *, line: int | None = None, fmt: str = "") -> None:
        self.reason = reason
        self.line = line
        self.fmt = fmt
        where = f"line {line}: " if line is not None else ""
        tried = f"read as {fmt}: " if fmt else ""
        super().__init__(f"{where}{tried}{reason}")

    def tried(self, fmt: str) -> LogFormatError:
        """The same error naming ``fmt`` as the format tried (unless it names one already)."""
        return LogFormatError(self.reason, line=self.line, fmt=self.fmt or fmt)
