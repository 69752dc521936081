"""GB/T 27930 charger ↔ BMS communication: codec, J1939 transport, bus access, recordings.

* :mod:`.codec` — encode/decode every message of GB/T 27930-2011/2015/2023 (category A) with
  the cantools databases shipped here (``gbt27930_<variant>.dbc``);
* :mod:`.transport` — J1939-21 RTS/CTS connection mode on asyncio over python-can, with fault
  injection;
* :mod:`.bus` — open a python-can bus from ``virtual:<channel>``, ``udp_multicast:<group>``,
  ``socketcan:<if>`` or ``<interface>:<channel>``;
* :mod:`.capture` — read analyser CSV exports and candump logs, reassemble and decode them.
"""

from __future__ import annotations

import logging

from pile_interop.gbt27930.codec import (
    BMS_TO_CHARGER,
    CHARGER_TO_BMS,
    CodecError,
    FillBit,
    MessageInfo,
    database,
    decode,
    encode,
    fill_bit_violations,
    interpret,
    message_info,
    messages,
)
from pile_interop.gbt27930.ids import (
    BMS_ADDRESS,
    CHARGER_ADDRESS,
    CanId,
    can_id,
    parse_can_id,
)
from pile_interop.gbt27930.layout import VARIANTS

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
