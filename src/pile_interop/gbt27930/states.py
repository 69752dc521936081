"""The vocabulary of a GB/T 27930 session: phases, protocol timeouts and what ends a wait.

The session (one plug-in) runs in the order of the standard::

    handshake → identification → configuration → charging ─(BST / CST)→ stopping → end → done
                      ↑                                  │ timeout or BEM / CEM received
                      └──── reconnect (≤ 3 times) ── error ┘

A receive timeout is a :class:`Watch`; when one expires the wait raises :class:`PeerTimeout`.
The peer's error message interrupts a wait as :class:`PeerFault`, a stop (ours or the peer's
BST / CST) as :class:`StopRequested`. Every duration here is in protocol seconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from pile_interop.gbt27930.records import Message

# -- phases ------------------------------------------------------------------------------------

IDLE = "idle"
HANDSHAKE = "handshake"
IDENTIFICATION = "identification"
CONFIGURATION = "configuration"
CHARGING = "charging"
STOPPING = "stopping"
END = "end"
ERROR = "error"
DONE = "done"
PHASES = (IDLE, HANDSHAKE, IDENTIFICATION, CONFIGURATION, CHARGING, STOPPING, END, ERROR, DONE)
ACTIVE = (HANDSHAKE, IDENTIFICATION, CONFIGURATION, CHARGING)
"""Phases in which a stop (local, or the peer's BST / CST) starts the stop flow."""
ENDING = (STOPPING, END)
"""Phases after a stop: a timeout or an error here ends the session without reconnecting."""

# -- timing (protocol seconds) -----------------------------------------------------------------

DEFAULT_TIMEOUT_S = 5.0
"""GB/T 27930-2015: the default receive timeout."""
DEMAND_TIMEOUT_S = 1.0
"""BCL (charger) and CCS (BMS): 1 s."""
BCS_TIMEOUT_S = 5.0
READY_FIRST_TIMEOUT_S = 5.0
"""BRO / CRO: the first frame within 5 s."""
READY_TIMEOUT_S = 60.0
"""BRO / CRO: 0xAA within 60 s."""
STOP_TIMEOUT_S = 5.0
"""After sending BST / CST: the counterpart's stop message within 5 s."""
END_TIMEOUT_S = 10.0
"""BSD / CSD within 10 s."""
BHM_TIMEOUT_S = 5.0
"""Charger: no BHM this long after the first CHM → a GB/T 27930-2011 BMS (compatibility)."""
BMS_CRM_TIMEOUT_S = 30.0
"""BMS: the first CRM 0x00 after BHM (or after connection) — it must cover the charger's
insulation check, for which the standard gives no duration; 30 s as public BMS simulators."""
BSM_TIMEOUT_S = 5.0
"""2023 A: BSM supervised once seen (5 s); the timeout ends the session without reconnecting."""

TIMEOUTS: dict[str, float] = {
    # awaited by the charger
    "BHM": BHM_TIMEOUT_S,
    "BRM": DEFAULT_TIMEOUT_S,
    "BCP": DEFAULT_TIMEOUT_S,
    "BRO": READY_FIRST_TIMEOUT_S,
    "BROAA": READY_TIMEOUT_S,
    "BCL": DEMAND_TIMEOUT_S,
    "BCS": BCS_TIMEOUT_S,
    "BSM": BSM_TIMEOUT_S,
    "BST": STOP_TIMEOUT_S,
    "BSD": END_TIMEOUT_S,
    # awaited by the BMS
    "CRM00": BMS_CRM_TIMEOUT_S,
    "CRMAA": DEFAULT_TIMEOUT_S,
    "CML": DEFAULT_TIMEOUT_S,
    "CRO": READY_FIRST_TIMEOUT_S,
    "CROAA": READY_TIMEOUT_S,
    "CCS": DEMAND_TIMEOUT_S,
    "CST": STOP_TIMEOUT_S,
    "CSD": END_TIMEOUT_S,
}
"""Receive timeouts by key: the awaited message, ``…AA`` for "ready / recognised" (0xAA),
``CRM00`` for the first CRM 0x00."""

MAX_RECONNECTS = 3
"""Reconnection attempts after communication errors (GB/T 27930-2015 annex C)."""
RECONNECT_DELAY_S = 2.0
"""Charger: error message this long before it restarts identification with CRM 0x00."""
ERROR_SETTLE_S = 0.5
"""BMS: after an error, only a CRM 0x00 that comes this much later restarts identification
(the charger has stopped its old CRM and begun again); shorter than :data:`RECONNECT_DELAY_S`."""
END_HOLD_S = 2.5
"""How long the charger sends CSD (ten times at 250 ms) before it falls silent."""


class PeerTimeout(Exception):
    """An awaited message did not come in time."""

    def __init__(self, watch: Watch) -> None:
        super().__init__(f"{watch.key} not received within {watch.timeout:g} s")
        self.watch = watch
        self.key = watch.key


class PeerFault(Exception):
    """The peer sent its error message (BEM / CEM)."""

    def __init__(self, message: Message) -> None:
        super().__init__(f"{message.name} received")
        self.message = message


class StopRequested(Exception):
    """A stop: ours (``by="local"``) or the peer's BST / CST (``by="peer"``)."""

    def __init__(self, reason: str, fields: Mapping[str, int], by: str) -> None:
        super().__init__(f"stop ({by}): {reason}")
        self.reason = reason
        self.fields = dict(fields)
        self.by = by


@dataclass(frozen=True)
class Watch:
    """A receive timeout: ``message`` must arrive within ``timeout`` (protocol seconds).

    ``mode``: ``first`` — the first frame after ``since`` (disarmed once seen); ``every`` —
    each frame within ``timeout`` of the previous one (or of ``since``); ``until`` — a fixed
    deadline ``since + timeout`` (for a value, e.g. BRO 0xAA: the wait's condition ends it);
    ``armed`` — like ``every`` but only once the message has been seen (2023 A BSM).
    """

    key: str
    message: str
    timeout: float
    since: float
    mode: str = "first"
    terminal: bool = False
    """A timeout that ends the session (no reconnection)."""
    always: bool = False
    """Runs even while fault injection holds this side's timeouts."""

    def deadline(self, last_rx: float | None) -> float:
        seen = last_rx is not None and last_rx >= self.since
        if self.mode == "first":
            return math.inf if seen else self.since + self.timeout
        if self.mode == "every":
            return (last_rx if seen and last_rx is not None else self.since) + self.timeout
        if self.mode == "armed":
            return last_rx + self.timeout if seen and last_rx is not None else math.inf
        return self.since + self.timeout
