"""A bounded wait for the suite's own tests: poll a condition until it holds or a named bound
runs out, then fail naming what was awaited, for how long and what was seen instead."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

#: How often a condition is looked at again (real seconds).
POLL_S = 0.02


async def eventually(
    condition: Callable[[], bool],
    bound_s: float,
    what: str,
    seen: Callable[[], Any] | None = None,
) -> None:
    """Return once ``condition()`` holds; after ``bound_s`` real seconds, fail naming ``what``
    (and ``seen()``, what there was instead)."""
    deadline = time.monotonic() + bound_s
    while not condition():
        if time.monotonic() >= deadline:
            instead = f"; instead: {seen()!r}" if seen is not None else ""
            raise AssertionError(f"{what}: not within {bound_s:g} s{instead}")
        await asyncio.sleep(POLL_S)
