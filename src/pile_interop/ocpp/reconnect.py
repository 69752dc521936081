"""The mock station's connection attempts to a CSMS under test: a bounded back-off, each
attempt recorded with what it got.

A before-phase that needs a connection tries again after a failed attempt — an attempt that
found nothing listening, timed out, was refused with a status that may change (HTTP 5xx, 409,
429 …), or was closed by the CSMS within :data:`EARLY_CLOSE_S` of opening (before a
BootNotification was answered) — after 0.25 s, 0.5 s, 1 s … (at most :data:`BACKOFF_MAX_S`),
as long as the ``connect`` bound allows. A refusal about who the station is (TLS, HTTP 400,
401, 403, 404, the subprotocol) ends the attempts at once: the next one would get the same.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

#: The first pause between two attempts (real seconds); each next one doubles it.
BACKOFF_FIRST_S = 0.25
#: The longest pause between two attempts.
BACKOFF_MAX_S = 4.0
#: A connection the CSMS closes within this long after opening (before the station's
#: BootNotification is answered) is a failed attempt, not a connection.
EARLY_CLOSE_S = 0.5


@dataclass
class Attempt:
    at: float  # real seconds since the first attempt began
    got: str  # what it got
    closed_after: float | None = None  # the CSMS closed it this long after it opened
    close: str = ""  # how it was closed ("code 1000")

    def line(self, n: int) -> str:
        return f"attempt {n} at {self.at:.2f} s: {self.got}"


@dataclass
class Attempts:
    """The attempts of one before-phase within ``bound`` real seconds (``bound_text`` says
    which bound: ``timeouts.connect = 10 s``)."""

    bound: float
    bound_text: str
    started: float = field(default_factory=time.monotonic)
    tried: list[Attempt] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def time_left(self) -> float:
        return self.bound - self.elapsed

    def failed(
        self,
        got: str,
        *,
        at: float | None = None,
        closed_after: float | None = None,
        close: str = "",
    ) -> None:
        """An attempt begun ``at`` (default: now) got ``got``."""
        self.tried.append(Attempt(self.elapsed if at is None else at, got, closed_after, close))

    def connected(self, description: str, *, at: float) -> None:
        self.tried.append(Attempt(at, f"connected: {description}"))

    def closed_before_boot(self, why: str, close: str) -> None:
        """The connection of the last attempt closed before the BootNotification was answered:
        that attempt failed (one that began before these attempts is one more)."""
        last = self.tried[-1] if self.tried else None
        if last is None or not last.got.startswith("connected:"):
            self.failed(f"closed before the BootNotification was answered ({why})", close=close)
            return
        after = self.elapsed - last.at
        last.got = (
            f"the CSMS closed it {after:.2f} s after it opened, before it answered the "
            f"BootNotification ({why})"
        )
        last.closed_after, last.close = after, close

    def next_delay(self) -> float | None:
        """The pause before the next attempt, or None when the bound leaves no room for one."""
        delay = min(BACKOFF_FIRST_S * 2 ** (len(self.tried) - 1), BACKOFF_MAX_S)
        return delay if self.time_left() > delay else None

    def record(self) -> str:
        """Every attempt and what it got (and any pause waited), for the before-phase record."""
        lines = [*self.notes, *(a.line(n) for n, a in enumerate(self.tried, 1))]
        return "; ".join(lines)

    def summary(self) -> str:
        """Why the attempts did not give a connection, for a reason."""
        n = len(self.tried)
        head = (
            f"{n} connection attempt{'s' if n != 1 else ''} in {self.elapsed:.2g} s "
            f"({self.bound_text})"
        )
        if n and all(a.closed_after is not None for a in self.tried):
            longest = max(a.closed_after or 0.0 for a in self.tried)
            closes = ", ".join(dict.fromkeys(a.close for a in self.tried if a.close))
            return f"{head}, the CSMS closed each within {max(longest, 0.01):.2g} s" + (
                f" ({closes})" if closes else ""
            )
        if n == 1:
            return f"{head}: {self.tried[0].got}"
        return f"{head}: " + "; ".join(a.line(i) for i, a in enumerate(self.tried, 1))
