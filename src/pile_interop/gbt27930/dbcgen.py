"""Write the shipped DBC files from the message table in :mod:`.layout`.

``python -m pile_interop.gbt27930.dbcgen`` rewrites ``gbt27930_<variant>.dbc`` next to this
module; ``--check`` only compares and exits 1 when a file is stale (the test suite does the same).

Each DBC message uses the frame id the parameter group would have as a single frame from its
sender to its receiver (charger 0x56, BMS 0xF4), e.g. BRM ``0x1C0256F4``. Messages longer than
8 bytes (BRM, BCP, BCS, BMV, BMT, BSP) never appear with that id on the bus: they travel in a
J1939 RTS/CTS transfer and the codec decodes the reassembled payload by PGN.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import OrderedDict
from pathlib import Path

from cantools.database.can import Database, Message, Node, Signal
from cantools.database.conversion import BaseConversion
from cantools.database.namedsignalvalue import NamedSignalValue

from pile_interop.gbt27930.ids import BMS_ADDRESS, CHARGER_ADDRESS, can_id
from pile_interop.gbt27930.layout import MESSAGES, TITLES, VARIANTS
from pile_interop.gbt27930.layout_fields import BMS, CHARGER, Field, MessageDef

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
ADDRESSES = {CHARGER: CHARGER_ADDRESS, BMS: BMS_ADDRESS}


def dbc_path(variant: str) -> Path:
    """Where the DBC file of ``variant`` lives in the package."""
    return HERE / f"gbt27930_{variant}.dbc"


def _signal(f: Field, receiver: str) -> Signal:
    choices: OrderedDict[int, str | NamedSignalValue] | None = None
    if f.choices:
        choices = OrderedDict(sorted(f.choices.items()))
    return Signal(
        name=f.name,
        start=f.start,
        length=f.length,
        byte_order="little_endian",
        is_signed=False,
        conversion=BaseConversion.factory(scale=f.scale, offset=f.offset, choices=choices),
        minimum=f.minimum,
        maximum=f.maximum,
        unit=f.unit or None,
        comment=f.comment or None,
        receivers=[receiver],
        spn=f.spn,
    )


def _message(m: MessageDef) -> Message:
    receiver = BMS if m.sender == CHARGER else CHARGER
    frame_id = can_id(m.pgn, m.priority, ADDRESSES[m.sender], ADDRESSES[receiver])
    comment = m.comment
    if m.length > 8:
        comment += " Sent with J1939 RTS/CTS; the frame id is the single-frame equivalent."
    return Message(
        frame_id=frame_id,
        name=m.name,
        length=m.length,
        signals=[_signal(f, receiver) for f in m.fields],
        comment=comment,
        senders=[m.sender],
        cycle_time=m.period_ms,
        is_extended_frame=True,
        unused_bit_pattern=0xFF,
    )


def build(variant: str) -> Database:
    """The cantools database of ``variant`` built from the table."""
    nodes = [
        Node(CHARGER, comment=f"Off-board charger, address 0x{CHARGER_ADDRESS:02X}"),
        Node(BMS, comment=f"Battery management system, address 0x{BMS_ADDRESS:02X}"),
    ]
    return Database(
        messages=[_message(m) for m in MESSAGES[variant]],
        nodes=nodes,
        version=TITLES[variant],
    )


def render(variant: str) -> str:
    """DBC text of ``variant``."""
    return build(variant).as_dbc_string()


def _lines(text: str) -> list[str]:
    """Lines without their ending: a checkout may turn the DBC's CRLF into LF."""
    return text.splitlines()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only, exit 1 if stale")
    args = parser.parse_args(argv)
    stale = []
    for variant in VARIANTS:
        path = dbc_path(variant)
        text = render(variant)
        current = path.read_bytes().decode("utf-8") if path.exists() else None
        if current is not None and _lines(current) == _lines(text):
            continue
        stale.append(path.name)
        if not args.check:
            path.write_bytes(text.encode("utf-8"))
            logger.info("wrote %s", path)
    if args.check and stale:
        print(f"stale DBC files: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    logging.basicConfig(level=logging.INFO)
    raise SystemExit(main())
