"""The period check of a recording: each burst's mean interval against the standard's period.

A burst is a run of one message with no gap over ``BURST_GAP`` periods; its leading equal time
stamps (an analyser's buffer) are left out. Its mean interval must be within ±10 % of the
period, widened by the recording's time resolution spread over the burst.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

#: Period tolerance (fraction of the period), before the recording's time resolution.
TOLERANCE = 0.1
#: Seconds: a mean exactly on the bound passes, whatever the float rounding of the format.
_EPSILON = 1e-7


class BurstLike(Protocol):
    first: float
    last: float
    count: int


def burst_verdict(burst: BurstLike, period: float, step: float) -> tuple[bool, str]:
    """(ok, text) of one burst of at least three messages."""
    average = (burst.last - burst.first) / (burst.count - 1)
    allowed = TOLERANCE * period + step / (burst.count - 1)
    if abs(average - period) > allowed + _EPSILON:
        return False, (
            f"mean {average * 1000:.1f} ms over {burst.count} messages (allowed "
            f"{period * 1000:.0f} ± {allowed * 1000:.1f} ms)"
        )
    return True, f"{burst.count} in a row, mean {average * 1000:.1f} ms"


def period_verdict(
    bursts: Sequence[BurstLike],
    period: float,
    step: float,
    early: Sequence[tuple[bool, str]] = (),
    early_more: Mapping[bool, int] | None = None,
) -> tuple[bool | None, str]:
    """Every burst judged: (all ok, the problems or what was judged); ``None`` when no burst
    was long enough to judge. ``early``: bursts judged before (a few of each kind),
    ``early_more``: how many more passed / failed."""
    results = [*early, *(burst_verdict(b, period, step) for b in bursts)]
    more = early_more or {}
    problems = [text for ok, text in results if not ok]
    shown = [text for ok, text in results if ok]
    failed = len(problems) + more.get(False, 0)
    if failed:
        extra = f" (and {failed - 5} more bursts)" if failed > 5 else ""
        return False, "; ".join(problems[:5]) + extra
    passed = len(shown) + more.get(True, 0)
    if passed > 5:
        return True, "; ".join(shown[:5]) + f" (and {passed - 5} more bursts)"
    if not passed:
        return None, "too few in a row to judge (a burst needs at least three)"
    return True, "; ".join(shown)
