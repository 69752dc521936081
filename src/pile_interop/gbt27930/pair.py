"""The reference pair: our charger and our BMS talking to each other on a python-can bus.

Used by the self-tests, by the period benchmark and wherever a case wants both sides of the
suite at once (``--against reference``). By default each pair gets a fresh ``virtual``
channel, so pairs in one process do not hear each other.

```python
async with reference_pair(clock=Clock(0.1)) as (charger, bms):
    await charger.wait_phase("charging", timeout=30)
    await bms.request_stop("soc")
    await charger.wait_phase("done", timeout=30)
```
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager

import can

from pile_interop.core.clock import Clock
from pile_interop.gbt27930.bms import Bms27930, BmsParams
from pile_interop.gbt27930.charger import Charger27930, ChargerParams
from pile_interop.gbt27930.records import Message

logger = logging.getLogger(__name__)

__all__ = ["messages_of", "reference_pair", "virtual_channel"]


def virtual_channel(prefix: str = "gbt-pair") -> str:
    """A python-can ``virtual`` channel name no other pair uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@asynccontextmanager
async def reference_pair(
    *,
    channel: str | None = None,
    clock: Clock | None = None,
    charger_variant: str = "2015",
    bms_variant: str = "2015",
    charger_params: ChargerParams | None = None,
    bms_params: BmsParams | None = None,
    charger_class: type[Charger27930] = Charger27930,
    bms_class: type[Bms27930] = Bms27930,
    connect: bool = True,
) -> AsyncIterator[tuple[Charger27930, Bms27930]]:
    """A started charger and BMS on one virtual channel (connected unless ``connect=False``);
    both are stopped, and their buses shut down, when the block ends."""
    channel = channel or virtual_channel()
    clock = clock or Clock()
    charger = charger_class(
        can.Bus(interface="virtual", channel=channel),
        variant=charger_variant,
        clock=clock,
        params=charger_params,
        owns_bus=True,
    )
    bms = bms_class(
        can.Bus(interface="virtual", channel=channel),
        variant=bms_variant,
        clock=clock,
        params=bms_params,
        owns_bus=True,
    )
    try:
        await charger.start()
        await bms.start()
        if connect:
            await charger.connect()
            await bms.connect()
        yield charger, bms
    finally:
        await bms.stop()
        await charger.stop()


def messages_of(
    history: Iterable[Message],
    name: str,
    direction: str | None = None,
    test: Callable[[Message], bool] | None = None,
) -> list[Message]:
    """The messages called ``name`` (optionally in one direction, passing ``test``)."""
    return [
        m
        for m in history
        if m.name == name
        and (direction is None or m.direction == direction)
        and (test is None or test(m))
    ]
