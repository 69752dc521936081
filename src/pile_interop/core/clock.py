"""A scalable clock.

Reference SUTs run protocol timers (heartbeats, meter intervals, connection time-outs) on a
:class:`Clock` whose ``scale`` maps protocol seconds to real seconds, so CI can run a 60 s
heartbeat interval in 3 s with ``scale=0.05``. The suite side uses the same scale to turn the
profile's named bounds into real waits. A real SUT runs at ``scale=1``.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta


class Clock:
    """Protocol time on top of the event loop's real time."""

    def __init__(self, scale: float = 1.0, *, start: datetime | None = None) -> None:
        if scale <= 0:
            raise ValueError(f"time scale must be > 0, got {scale}")
        self.scale = scale
        self._t0 = time.monotonic()
        self._wall0 = start or datetime.now(UTC)

    def real(self, seconds: float) -> float:
        """Real seconds that ``seconds`` of protocol time take."""
        return seconds * self.scale

    def protocol(self, real_seconds: float) -> float:
        """Protocol seconds that ``real_seconds`` of real time stand for."""
        return real_seconds / self.scale

    def monotonic(self) -> float:
        """Protocol seconds since the clock was made."""
        return (time.monotonic() - self._t0) / self.scale

    def now(self) -> datetime:
        """Protocol wall-clock time (UTC): runs ``1/scale`` times faster than real time."""
        return self._wall0 + timedelta(seconds=self.monotonic())

    def set_now(self, when: datetime) -> None:
        """Set the protocol wall clock (e.g. from BootNotification.conf currentTime)."""
        self._wall0 = when - timedelta(seconds=self.monotonic())

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of protocol time."""
        await asyncio.sleep(max(0.0, seconds) * self.scale)

    async def sleep_until(self, protocol_monotonic: float) -> None:
        """Sleep until :meth:`monotonic` reaches ``protocol_monotonic``."""
        await self.sleep(protocol_monotonic - self.monotonic())


def utc_iso(when: datetime | None = None) -> str:
    """ISO 8601 UTC timestamp with milliseconds and a ``Z`` suffix, as OCPP writes it."""
    when = when or datetime.now(UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """Parse an OCPP timestamp (``Z`` or an offset); naive times are taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value
