"""Fault injection into J1939-21 transfers: what a sending or a receiving node does wrong.

:class:`SenderFaults` apply to one transfer that :meth:`~.transport.J1939Node.send` sends;
:class:`ReceiverFaults` to the transfers a node receives (set as
:attr:`~.transport.J1939Node.receiver_faults`). Each fault says which reaction it provokes in
the other side (a timer expiry, an abort, a retransmission).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pile_interop.gbt27930.tp_protocol import NO_LIMIT, AbortReason


@dataclass(frozen=True)
class SenderFaults:
    """Faults a sending node injects into one transfer (sequence numbers count from 1)."""

    drop_dt: frozenset[int] = frozenset()
    """TP.DT withheld the first time they are due (a retransmission goes out)."""
    drop_dt_always: frozenset[int] = frozenset()
    """TP.DT withheld every time, retransmissions included."""
    reorder_dt: tuple[int, int] | None = None
    """Two TP.DT of the same window sent in swapped order (the first time only)."""
    delay_dt: Mapping[int, float] = field(default_factory=dict)
    """Protocol seconds to wait before TP.DT n (more than T1 / T2 breaks the receiver's timer)."""
    stop_after_dt: int | None = None
    """Go silent after TP.DT n (0: after the CTS, before any TP.DT)."""
    abort_after_dt: int | None = None
    """Send TP.Conn_Abort after TP.DT n (0: right after the first CTS)."""
    abort_reason: int = AbortReason.OTHER
    packets_per_cts: int = NO_LIMIT
    """RTS byte 5: the most packets the sender accepts per CTS."""


@dataclass(frozen=True)
class ReceiverFaults:
    """Faults a receiving node injects into the transfers it receives (``pgn`` None: all)."""

    pgn: int | None = None
    drop_cts: bool = False
    """Never answer the RTS (the sender's T3 expires)."""
    delay_cts: float = 0.0
    """Protocol seconds before each CTS: above Tr is late, above T3 breaks the sender's timer."""
    hold: float = 0.0
    """Hold the connection this long before the first window: CTS(0) repeated every Th."""
    hold_without_renew: bool = False
    """Send one CTS(0) and nothing more (the sender's T4 expires)."""
    drop_eoma: bool = False
    """Do not send EndOfMsgAck (the sender's T3 expires after the last TP.DT)."""
    abort_on_rts: int | None = None
    """Answer the RTS with TP.Conn_Abort and this reason."""
    abort_after_dt: int | None = None
    """Send TP.Conn_Abort after receiving TP.DT n."""
    abort_reason: int = AbortReason.OTHER

    def applies_to(self, pgn: int) -> bool:
        return self.pgn is None or self.pgn == pgn
