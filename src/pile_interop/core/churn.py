"""How often the SUT's connections open and close: a reconnect storm, told as what it is.

A station that opens dozens of connections a second and closes each at once makes every wait
of a case run out ("not connected", "did not register"); the case should say "the station opened
412 connections in 4.6 s (each closed within 0.02 s)" instead. :class:`Churn` counts a window's
connections in constant memory (counters, no per-connection object), so a storm of any length
costs nothing to remember; the window restarts with each case.
"""

from __future__ import annotations

import time

#: A connection that closes this soon after it opened is short-lived (seconds).
SHORT_LIVED_S = 1.0
#: This many short-lived connections in one window are a reconnect storm (a station that
#: reboots or reconnects as a case asks opens a handful at most).
STORM_CONNECTIONS = 10


class Churn:
    """The connections opened and closed since :meth:`restart` (counters only)."""

    def __init__(self, peer: str = "the SUT", *, suite_connects: bool = False) -> None:
        #: who opens the connections, for the sentence ("the station")
        self.peer = peer
        #: the suite opens the connections (a CSMS under test): the SUT is the one closing them
        self.suite_connects = suite_connects
        self.restart()

    def restart(self) -> None:
        """Start a new window (a new case): forget the counts."""
        self.opened_n = 0
        self.closed_n = 0
        self.short_n = 0
        self.first_open: float | None = None
        self.last_open: float | None = None
        self.longest_short = 0.0

    def opened(self, mono: float | None = None) -> float:
        """A connection opened (at ``mono``, default now); returns its opening time."""
        now = time.monotonic() if mono is None else mono
        self.opened_n += 1
        if self.first_open is None:
            self.first_open = now
        self.last_open = now
        return now

    def closed(self, opened: float, mono: float | None = None) -> None:
        """The connection opened at ``opened`` closed (at ``mono``, default now)."""
        now = time.monotonic() if mono is None else mono
        if self.first_open is None or opened < self.first_open:
            return  # opened before the window: not this window's
        self.closed_n += 1
        life = max(0.0, now - opened)
        if life <= SHORT_LIVED_S:
            self.short_n += 1
            self.longest_short = max(self.longest_short, life)

    @property
    def is_storm(self) -> bool:
        return self.short_n >= STORM_CONNECTIONS

    def storm(self) -> str:
        """``the station opened 412 connections in 4.6 s (each closed within 0.02 s)``, or ""
        when the window saw no reconnect storm."""
        if not self.is_storm or self.first_open is None or self.last_open is None:
            return ""
        span = self.last_open - self.first_open
        within = f"closed within {_seconds(self.longest_short)} s"
        which = "each" if self.short_n == self.closed_n else f"{self.short_n} of them"
        if self.suite_connects:
            return (
                f"{self.peer} closed {self.short_n} of the suite's {self.opened_n} connections "
                f"in {_seconds(span)} s, each within {_seconds(self.longest_short)} s"
            )
        return (
            f"{self.peer} opened {self.opened_n} connections in {_seconds(span)} s "
            f"({which} {within}): a reconnect storm"
        )


def _seconds(value: float) -> str:
    """``4.6``, ``0.02``, ``412``: two significant digits, never an exponent."""
    return f"{value:.0f}" if value >= 10 else f"{value:.2g}" if value >= 1e-4 else "0"
