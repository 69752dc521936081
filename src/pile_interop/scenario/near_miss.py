"""Near misses: the frames of the awaited kind that did come while a step awaited one in vain,
and why each did not do (for the reason of a timed-out ``expect`` step).

A frame of the awaited action that came *before the step began* (in the before-phase, or
while an earlier step ran, before this step's expectation was armed) is named with how long
before the step it came, whether it would have matched or not; one that came *during* the step
is named with the first field that differed (expected vs got). At most :data:`SHOWN` are named,
the rest counted, so a reason stays short however much the SUT sent.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from pile_interop.core.frames import IN, Frame, is_message
from pile_interop.scenario.values import mismatches

#: How many near misses a reason names (the rest are counted).
SHOWN = 3


def near_misses(
    frames: Iterable[Frame],
    action: str,
    pattern: Any,
    began: float,
    taken: Collection[int] = (),
) -> list[str]:
    """One sentence per frame ``action`` from the SUT in ``frames`` that no step ``taken``
    (by sequence number): how it missed ``pattern`` (``None``: any payload matches) and, if
    it came before the step began (monotonic ``began``), how long before."""
    lines = []
    for frame in frames:
        if frame.direction != IN or not is_message(frame) or frame.action != action:
            continue
        if frame.seq in taken:
            continue
        try:
            differences = mismatches(pattern, frame.payload) if pattern is not None else []
        except ValueError:  # a bad operator is the case's fault, said elsewhere
            differences = []
        name = f"{action} #{frame.seq}"
        if differences:
            more = len(differences) - 1
            why = differences[0] + (
                f" (and {more} more difference{'s' * (more > 1)})" if more else ""
            )
        if frame.mono < began:
            ago = f"{_seconds(began - frame.mono)} s before this step"
            if differences:
                lines.append(f"{name} came {ago}, and differed: {why}")
            else:
                lines.append(f"{name}{' matching' if pattern is not None else ''} came {ago}")
        elif differences:
            lines.append(f"{name} differed: {why}")
        else:
            lines.append(f"{name} came after the bound")
    return lines


def summary(lines: list[str], action: str, shown: int = SHOWN) -> str:
    """``lines`` joined, at most ``shown`` of them, the rest counted ("and 2 more …")."""
    if not lines:
        return ""
    text = "; ".join(lines[:shown])
    rest = len(lines) - shown
    if rest > 0:
        text += f"; and {rest} more {action}"
    return text


def _seconds(value: float) -> str:
    """``5.1`` (tenths from 0.1 s on), ``0.004`` below."""
    return f"{value:.1f}" if value >= 0.1 else f"{value:.3f}"
