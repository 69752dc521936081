"""Periodic senders on the scalable clock, and the statistics that judge a period.

GB/T 27930 is a cyclic protocol: BCL and CCS every 50 ms, BST and CST every 10 ms, most others
every 250 ms. :class:`PeriodicSender` calls an action every ``period`` protocol seconds with
**drift-free** scheduling: tick *n* is due at ``start + n × period`` (never ``sleep(period)``
after the previous tick, which would add every tick's latency to the next). A tick that comes
more than a whole period late does not fire in a burst: the sender skips to the next slot
still ahead and counts the slots it skipped.

:func:`period_stats` turns a list of send times into the numbers a case uses to judge a
period: mean interval, and the 50th / 95th / 99th percentile and maximum of
``|interval − nominal|``. ``benchmarks/gbt_periods.py`` uses both on the virtual bus to show
how precise our own senders are (docs/benchmarks.md), which bounds the tolerance a case can
afford when it judges a SUT's period.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pile_interop.core.clock import Clock

logger = logging.getLogger(__name__)

KEEP_TICKS = 10_000
"""Tick times a sender keeps (the most recent ones): bounded memory for long-running peers."""
STOP_TIMEOUT = 1.0
"""Real seconds :meth:`PeriodicSender.stop` waits for the task to end after cancelling it."""


@dataclass(frozen=True)
class PeriodStats:
    """How regular a series of events is, against a nominal period (seconds, any time base)."""

    count: int
    """Number of intervals (events − 1)."""
    nominal: float
    mean: float
    """Mean interval."""
    p50: float
    """Median of ``|interval − nominal|``."""
    p95: float
    p99: float
    max_deviation: float
    """Largest ``|interval − nominal|``."""
    min_interval: float
    max_interval: float

    def as_dict(self, unit: float = 1.0) -> dict[str, float | int]:
        """The numbers divided by ``unit`` (``0.001`` gives milliseconds), count as is."""
        return {
            "count": self.count,
            "nominal": self.nominal / unit,
            "mean": self.mean / unit,
            "p50": self.p50 / unit,
            "p95": self.p95 / unit,
            "p99": self.p99 / unit,
            "max_deviation": self.max_deviation / unit,
            "min_interval": self.min_interval / unit,
            "max_interval": self.max_interval / unit,
        }


def intervals(times: Sequence[float]) -> list[float]:
    """Differences between consecutive times."""
    return [b - a for a, b in itertools.pairwise(times)]


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0 … 1) of ``values`` with linear interpolation; 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def period_stats(times: Sequence[float], nominal: float) -> PeriodStats:
    """Statistics of the intervals between ``times`` against ``nominal`` (same unit)."""
    gaps = intervals(times)
    if not gaps:
        return PeriodStats(0, nominal, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    deviations = [abs(g - nominal) for g in gaps]
    return PeriodStats(
        count=len(gaps),
        nominal=nominal,
        mean=sum(gaps) / len(gaps),
        p50=quantile(deviations, 0.50),
        p95=quantile(deviations, 0.95),
        p99=quantile(deviations, 0.99),
        max_deviation=max(deviations),
        min_interval=min(gaps),
        max_interval=max(gaps),
    )


class PeriodicSender:
    """Calls ``action()`` every ``period`` protocol seconds on ``clock``, drift-free.

    The first call happens ``delay`` protocol seconds after :meth:`start`. :attr:`times` holds
    the protocol time of each call (the most recent :data:`KEEP_TICKS`), :attr:`lateness` how
    late each call was against its slot, :attr:`skipped` the slots dropped because the loop
    was more than a period late. An exception in ``action`` is logged and does not stop the
    sender.
    """

    def __init__(
        self,
        clock: Clock,
        period: float,
        action: Callable[[], object],
        *,
        name: str = "",
        delay: float = 0.0,
        keep: int = KEEP_TICKS,
    ) -> None:
        if period <= 0:
            raise ValueError(f"period must be > 0, got {period}")
        self.clock = clock
        self.period = period
        self.action = action
        self.name = name or getattr(action, "__name__", "periodic")
        self.delay = delay
        self.times: deque[float] = deque(maxlen=keep)
        self.lateness: deque[float] = deque(maxlen=keep)
        self.skipped = 0
        self.calls = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> PeriodicSender:
        """Start calling (needs a running event loop); a second call does nothing."""
        if not self.running:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._run(), name=f"periodic {self.name}")
        return self

    async def stop(self) -> None:
        """Stop calling; bounded by :data:`STOP_TIMEOUT` real seconds, idempotent."""
        task, self._task = self._task, None
        if task is None or task.done():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, STOP_TIMEOUT)

    def cancel(self) -> None:
        """Stop calling without waiting (the task ends at its next await)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()

    def stats(self) -> PeriodStats:
        """:func:`period_stats` of the calls so far (protocol seconds)."""
        return period_stats(list(self.times), self.period)

    async def _run(self) -> None:
        clock, period = self.clock, self.period
        origin = clock.monotonic() + self.delay
        n = 0
        while True:
            slot = origin + n * period
            await clock.sleep_until(slot)
            now = clock.monotonic()
            self.times.append(now)
            self.lateness.append(now - slot)
            self.calls += 1
            try:
                self.action()
            except Exception:
                logger.exception("periodic %s: action failed", self.name)
            n += 1
            behind = clock.monotonic() - (origin + n * period)
            if behind > period:
                missed = math.floor(behind / period)
                self.skipped += missed
                n += missed
                logger.debug("periodic %s: %d slot(s) skipped", self.name, missed)
