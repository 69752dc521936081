"""What every GB/T 27930 message a SUT sends must satisfy, whatever the case: identifier
(priority, source and destination address), data length, fill bits, value ranges.

Problems are *findings* on the message, like a schema violation of an OCPP frame: they fail
the case in which the SUT sent the message (GB/T 34658's per-message checks).
"""

from __future__ import annotations

import logging
from typing import Any

from pile_interop.gbt27930 import codec
from pile_interop.gbt27930.capture import DecodedMessage, LogFrame
from pile_interop.gbt27930.ids import parse_can_id

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
        if len(first.data) != info.length:
            found.append(f"{info.name}: DLC {len(first.data)}, GB/T 27930 gives {info.length}")
    if message.src != info.src or message.dst != info.dst:
        found.append(
            f"{info.name}: from {message.src:#04x} to {message.dst:#04x}, GB/T 27930 gives "
            f"{info.src:#04x} → {info.dst:#04x}"
        )
    for fill in codec.fill_bit_violations(message.name, message.data, variant):
        found.append(f"{info.name}: fill bit byte {fill.byte} bit {fill.bit} is 0 (must be 1)")
    found.extend(range_findings(info.name, message.values, variant))
    return found


def range_findings(name: str, values: dict[str, Any], variant: str) -> list[str]:
    """Signals outside the range GB/T 27930 gives them (the database's minimum/maximum)."""
    message = codec.database(variant).get_message_by_name(name)
    found = []
    for signal in message.signals:
        value = values.get(signal.name)
        if not isinstance(value, int | float):
            continue
        low, high = signal.minimum, signal.maximum
        if (low is not None and value < low - 1e-9) or (high is not None and value > high + 1e-9):
            unit = f" {signal.unit}" if signal.unit else ""
            found.append(f"{name}.{signal.name} = {value}{unit} outside {low}..{high}{unit}")
    return found
