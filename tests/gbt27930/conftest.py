"""Fixtures for the GB/T 27930 tests: a scaled clock, a fresh virtual CAN channel, node pairs."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import can
import pytest

from pile_interop.core.clock import Clock
from pile_interop.gbt27930.ids import BMS_ADDRESS, CHARGER_ADDRESS
from pile_interop.gbt27930.tp_receiver import ReceiverPolicy
from pile_interop.gbt27930.transport import J1939Node

TIME_SCALE = 0.1
"""Real seconds per protocol second in the transport tests (T3 = 1.25 s runs in 125 ms)."""
TEST_BOUND = 20.0
"""Real seconds any one asyncio test may take before it is failed."""
CAPTURE = Path(__file__).parent / "data" / "charger-capture.csv"

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    """Run ``coro`` on a new event loop, bounded by :data:`TEST_BOUND`."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, TEST_BOUND)

    return asyncio.run(bounded())


@pytest.fixture
def channel() -> str:
    """A virtual CAN channel no other test uses."""
    return f"gbt-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def clock() -> Clock:
    return Clock(scale=TIME_SCALE)


@asynccontextmanager
async def node_pair(
    channel: str, clock: Clock, policy: ReceiverPolicy | None = None
) -> AsyncIterator[tuple[J1939Node, J1939Node]]:
    """(BMS node 0xF4, charger node 0x56) on ``channel``, started and closed around the block."""
    bms = J1939Node(
        can.Bus(interface="virtual", channel=channel),
        BMS_ADDRESS,
        clock=clock,
        owns_bus=True,
        name="BMS",
    )
    charger = J1939Node(
        can.Bus(interface="virtual", channel=channel),
        CHARGER_ADDRESS,
        clock=clock,
        policy=policy,
        owns_bus=True,
        name="charger",
    )
    async with bms, charger:
        yield bms, charger
