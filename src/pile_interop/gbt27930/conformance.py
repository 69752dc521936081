"""What every GB/T 27930 message a SUT sends must satisfy, whatever the case: identifier
(priority, source and destination address), data length, fill bits, value ranges, content
(CTS a real BCD date and time; BRM's manufacturer and VIN, CRM's region printable text).

A field sent as all ones is "not available" (GB/T 27930 §4, as in J1939) and no range
finding; ranges are the standard's tables' (``layout_fields``), nothing invented on top.
A message shorter than the standard's length is decoded as far as its bytes go; its length is
one finding (the same text every time, so a check reports it once per message type).

Problems are *findings* on the message, like a schema violation of an OCPP frame: they fail
the case in which the SUT sent the message (GB/T 34658's per-message checks).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from pile_interop.gbt27930 import codec
from pile_interop.gbt27930.capture import DecodedMessage, LogFrame
from pile_interop.gbt27930.ids import parse_can_id

#: CTS years outside this range are not a plausible clock.
CTS_YEARS = (2000, dt.date.today().year + 1)
#: The text fields: message → signal prefixes.
TEXT_FIELDS = {"BRM": ("BatteryMaker", "VIN"), "CRM": ("RegionCode",)}

log = logging.getLogger(__name__)


def message_findings(message: DecodedMessage, frames: list[LogFrame], variant: str) -> list[str]:
    """Findings against one reassembled or single-frame message the SUT sent."""
    found: list[str] = []
    try:
        info = codec.message_info(message.name, variant)
    except codec.CodecError as exc:
        return [f"{message.name}: {exc}"]
    first = frames[0] if frames else None
    if not message.multi_packet and first is not None:
        ident = parse_can_id(first.can_id)
        if ident.priority != info.priority:
            found.append(
                f"{info.name}: priority {ident.priority}, GB/T 27930 gives {info.priority}"
            )
    length = length_finding(info, len(message.data), message.multi_packet)
    if length:
        found.append(length)
    if message.src != info.src or message.dst != info.dst:
        found.append(
            f"{info.name}: from {message.src:#04x} to {message.dst:#04x}, GB/T 27930 gives "
            f"{info.src:#04x} → {info.dst:#04x}"
        )
    for fill in codec.fill_bit_violations(message.name, message.data, variant):
        found.append(f"{info.name}: fill bit byte {fill.byte} bit {fill.bit} is 0 (must be 1)")
    if not (info.name == "CTS" and set(message.data) == {0xFF}):  # CTS "not available"
        found.extend(range_findings(info.name, message.values, variant))
    found.extend(content_findings(info.name, message.values, variant))
    return found


def length_finding(info: codec.MessageInfo, length: int, multi_packet: bool) -> str | None:
    """The data length against the standard's: one text per message type and length."""
    if info.variable_length:
        if length == 0 or length % info.element_size:
            return f"{info.name}: {length} bytes, not whole elements of {info.element_size}"
        return None
    if multi_packet:
        if length < info.min_length:
            return f"{info.name}: {length} bytes, GB/T 27930 gives {info.length}"
        return None
    if length != info.length:
        return f"{info.name}: DLC {length}, GB/T 27930 gives {info.length}"
    return None


def content_findings(name: str, values: dict[str, Any], variant: str) -> list[str]:
    """What the ranges cannot say: CTS a real date and time, text fields printable."""
    found = []
    whole = all(k in values for k in ("SecondUnits", "YearThousands"))
    # an all-ones CTS is "not available"
    if name == "CTS" and whole and any(int(v) != 0xF for v in values.values()):
        when = codec.interpret("CTS", values, variant).get("Time")
        if when is None:
            found.append("CTS: not a valid BCD date and time")
        elif not CTS_YEARS[0] <= when.year <= CTS_YEARS[1]:
            found.append(f"CTS: year {when.year} is not a plausible clock")
    for prefix in TEXT_FIELDS.get(name, ()):
        chars = [int(v) for k, v in sorted(values.items()) if _is_char(k, prefix)]
        text = bytes(chars).rstrip(b"\xff").rstrip(b"\x00").rstrip(b"\xff")
        bad = [c for c in text if not 0x20 <= c <= 0x7E]
        if bad:
            found.append(f"{name}.{prefix}: not printable text ({bytes(chars).hex(' ')})")
    return found


def _is_char(signal: str, prefix: str) -> bool:
    return signal.startswith(prefix) and signal[len(prefix) :].isdigit()


def range_findings(name: str, values: dict[str, Any], variant: str) -> list[str]:
    """Signals outside the range GB/T 27930 gives them (the database's minimum/maximum)."""
    message = codec.database(variant).get_message_by_name(name)
    found = []
    for signal in message.signals:
        value = values.get(signal.name)
        if not isinstance(value, int | float):
            continue
        if signal.length >= 8:
            raw = round((value - signal.offset) / signal.scale)
            if raw == (1 << signal.length) - 1:
                continue  # all ones: "not available"
        low, high = signal.minimum, signal.maximum
        if (low is not None and value < low - 1e-9) or (high is not None and value > high + 1e-9):
            unit = f" {signal.unit}" if signal.unit else ""
            found.append(f"{name}.{signal.name} = {value}{unit} outside {low}..{high}{unit}")
    return found
