"""What a GB/T 27930 peer records: complete messages (sent or received) and its events.

A :class:`Message` is built here from what the J1939 node delivered — decoded with the first
protocol variant that knows it, with the frames it was made of — or from what the peer sent.
:class:`PeerEvent` is one thing the state machine did or detected. A peer's :class:`Journal`
keeps both and tells its subscribers. :func:`fields_of` and :func:`merge` build the flag
messages (BST / CST / BEM / CEM) from their fields.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pile_interop.gbt27930 import codec
from pile_interop.gbt27930.ids import PGN_TP_CM, PGN_TP_DT, can_id, parse_can_id
from pile_interop.gbt27930.layout import VARIANTS
from pile_interop.gbt27930.tp_protocol import RX, TX, FrameRecord, Received

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

HISTORY = 20_000
"""Messages kept in :attr:`Journal.history` (the most recent)."""
FRAME_SCAN = 4096
"""Recent node frames searched for the frames a received message was made of."""


@dataclass(frozen=True)
class Message:
    """One complete GB/T 27930 message as a peer sent (``tx``) or received (``rx``) it."""

    name: str
    """``"BCL"``…; ``"PGN 0x…"`` for a parameter group the codec does not know."""
    pgn: int
    direction: str
    values: Mapping[str, Any]
    """Decoded physical values (signal names as in the DBC)."""
    data: bytes
    can_id: int
    """The single frame's id; for a multi-packet message the id the parameter group would
    have as a single frame (priority from the RTS)."""
    priority: int
    t: float
    """Protocol time of its first frame (the RTS for a multi-packet message)."""
    mono: float
    """Real ``time.monotonic()`` of its first frame."""
    frames: tuple[FrameRecord, ...]
    multi_packet: bool = False
    variant: str = ""
    """The database the payload was decoded with."""
    ok: bool = True
    """False for a multi-packet message whose transfer failed (sent side)."""

    @property
    def dlc(self) -> int:
        return len(self.data)

    def __str__(self) -> str:
        return f"{self.t:9.3f} {self.direction} {self.name} {self.data.hex(' ').upper()}"


@dataclass(frozen=True)
class PeerEvent:
    """Something the state machine did or detected, with protocol and real time."""

    kind: str
    """``connect``, ``disconnect``, ``phase``, ``timeout``, ``peer_error``, ``stop``,
    ``reconnect``, ``failed``, ``compatibility``, ``mismatch``, ``pause``, ``resume``,
    ``insulation``, ``internal_error``."""
    t: float
    mono: float
    phase: str
    """The phase when it happened (for ``phase``: the new phase)."""
    message: str | None = None
    """Timeouts: the awaited message key (``BCL``, ``BROAA``, ``CRM00``…)."""
    bits: Mapping[str, int] = field(default_factory=dict)
    """BEM / CEM fields set (``timeout``), the peer's error fields (``peer_error``), the stop
    message's fields (``stop``)."""
    detail: str = ""
    attempt: int = 0


class Journal:
    """The records of one peer: its messages, the last of each, its events; and who is told."""

    def __init__(
        self, name: str, notify: Callable[[], None], *, last: dict[str, Message] | None = None
    ) -> None:
        """``notify``: called after each message and event (waits re-check their condition);
        ``last``: where the last message received is kept by name (shared with the waits
        that supervise it)."""
        self.name = name
        self.history: deque[Message] = deque(maxlen=HISTORY)
        self.last: dict[str, Message] = {} if last is None else last
        """The last message received, by name (set by the peer for the messages it knows)."""
        self.last_tx: dict[str, Message] = {}
        self.events: list[PeerEvent] = []
        self._notify = notify
        self._subscribers: list[Callable[[Message], None]] = []
        self._event_subscribers: list[Callable[[PeerEvent], None]] = []

    def subscribe(self, fn: Callable[[Message], None]) -> None:
        self._subscribers.append(fn)

    def subscribe_events(self, fn: Callable[[PeerEvent], None]) -> None:
        self._event_subscribers.append(fn)

    def publish(self, message: Message) -> None:
        """Keep ``message`` (sent or received) and tell the subscribers."""
        self.history.append(message)
        if message.direction == TX:
            self.last_tx[message.name] = message
        self._tell(self._subscribers, message, "message")

    def record(self, event: PeerEvent) -> PeerEvent:
        """Keep ``event``, log it and tell the subscribers."""
        self.events.append(event)
        logger.info(
            "%s: %s%s%s",
            self.name,
            event.kind,
            f" {event.message}" if event.message else "",
            f" ({event.detail})" if event.detail else "",
        )
        self._tell(self._event_subscribers, event, "event")
        return event

    def _tell(self, subscribers: list[Callable[[_T], None]], item: _T, what: str) -> None:
        """Call each of ``subscribers`` with ``item`` (one failing does not stop the others),
        then notify."""
        for fn in list(subscribers):
            try:
                fn(item)
            except Exception:
                logger.exception("%s: %s subscriber failed", self.name, what)
        self._notify()

    def events_of(self, kind: str) -> list[PeerEvent]:
        return [e for e in self.events if e.kind == kind]

    def phases(self) -> list[str]:
        """The phases entered so far, in order."""
        return [e.phase for e in self.events if e.kind == "phase"]

    def received_after(
        self, name: str, since: float, test: Callable[[Mapping[str, Any]], bool] | None = None
    ) -> bool:
        """The last ``name`` received came at or after ``since`` (and passes ``test``)."""
        message = self.last.get(name)
        if message is None or message.t < since:
            return False
        return test is None or test(message.values)


def decode_order(variant: str, peer_variant: str | None) -> list[str]:
    """The variants to decode a received payload with: the peer's, ours, then the others."""
    order = [v for v in (peer_variant, variant) if v]
    return order + [v for v in VARIANTS if v not in order]


def received_message(
    received: Received, variants: Iterable[str], frames: Sequence[FrameRecord]
) -> Message:
    """The :class:`Message` for what the node delivered, decoded with the first of
    ``variants`` that knows it, with the frames (among the node's ``frames``) it was made of."""
    name, values, variant = f"PGN {received.pgn:#06x}", {}, ""
    order = list(variants)
    # a message shorter than the standard's (a real charger's 7-byte CCS) is still taken,
    # decoded as far as its bytes go in the variant spoken: the link makes its length a finding
    attempts = [(v, lenient) for v in order[:1] for lenient in (False, True)]
    attempts += [(v, lenient) for lenient in (False, True) for v in order[1:]]
    for candidate, lenient in attempts:
        try:
            info = codec.message_info(received.pgn, candidate)
            values = dict(codec.decode(received.pgn, received.data, candidate, lenient=lenient))
        except codec.CodecError:
            continue
        name, variant = info.name, candidate
        break
    made_of = _rx_frames(received, frames[-FRAME_SCAN:])
    first = made_of[0] if made_of else None
    priority = parse_can_id(first.can_id).priority if first else received.priority
    return Message(
        name,
        received.pgn,
        RX,
        values,
        received.data,
        can_id(received.pgn, priority, received.src, received.dst),
        priority,
        first.t if first else received.t,
        first.mono if first else time.monotonic(),
        made_of,
        multi_packet=received.multi_packet,
        variant=variant,
    )


def _rx_frames(received: Received, recent: Sequence[FrameRecord]) -> tuple[FrameRecord, ...]:
    if not received.multi_packet:
        for record in reversed(recent):
            if (
                record.direction == RX
                and record.src == received.src
                and record.pgn == received.pgn
                and record.data == received.data
            ):
                return (record,)
        return ()
    found: list[FrameRecord] = []
    for record in reversed(recent):
        if record.src != received.src and record.dst != received.src:
            continue
        if record.pgn == PGN_TP_DT and record.direction == RX:
            found.append(record)
        elif record.pgn == PGN_TP_CM and _cm_pgn(record.data) == received.pgn:
            found.append(record)
            if record.direction == RX and record.data[:1] == b"\x10":
                break
    return tuple(reversed(found))


def from_other_side(name: str, variant: str, sender: str) -> bool:
    """Whether ``name`` is a message of ``variant`` that the side other than ``sender``
    (``Charger`` / ``BMS``) sends."""
    try:
        info = codec.message_info(name, variant)
    except codec.CodecError:
        return False
    return info.sender != sender


def sent_transfer_frames(frames: Iterable[FrameRecord], pgn: int) -> tuple[FrameRecord, ...]:
    """Among ``frames``, those of a multi-packet transfer of ``pgn`` that this node sent."""
    return tuple(f for f in frames if _belongs_to_transfer(f, pgn))


def _cm_pgn(data: bytes) -> int | None:
    return int.from_bytes(data[5:8], "little") if len(data) >= 8 else None


def _belongs_to_transfer(record: FrameRecord, pgn: int) -> bool:
    if record.pgn == PGN_TP_DT:
        return record.direction != RX
    return record.pgn == PGN_TP_CM and _cm_pgn(record.data) == pgn


def fields_of(name: str, variant: str, value: int = 0) -> dict[str, int]:
    """Every field of ``name`` set to ``value`` (BST / CST / BEM / CEM start from 0)."""
    return dict.fromkeys(codec.message_info(name, variant).signals, value)


def merge(base: Mapping[str, int], updates: Iterable[tuple[str, int]]) -> dict[str, int]:
    """``base`` with ``updates`` set (the fields a stop or an error raises)."""
    out = dict(base)
    out.update(updates)
    return out
