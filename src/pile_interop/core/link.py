"""What a link to a SUT offers the scenario runner, whatever the protocol: armed
expectations on the messages the SUT sends, and the exchange that claimed one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pile_interop.core.frames import Frame

Predicate = Callable[[Frame], bool]


@dataclass
class Exchange:
    """A CALL from the SUT and the frame that answered it (None if we stayed silent)."""

    call: Frame
    reply: Frame | None


class Expectation:
    """An armed wait for one message (an OCPP CALL, a GB/T 27930 message) from the SUT.

    ``reply`` is how to answer it, for protocols with answers (OCPP); ``on_claim`` runs when a
    frame claims it, before the waiting step wakes up."""

    def __init__(
        self,
        action: str,
        predicate: Predicate | None,
        reply: Callable[[Frame], Any] | None,
        label: str,
        on_claim: Callable[[Exchange], None] | None = None,
    ) -> None:
        self.action = action
        self.predicate = predicate
        self.reply = reply
        self.label = label or action
        self.on_claim = on_claim
        self.future: asyncio.Future[Exchange] = asyncio.get_running_loop().create_future()

    @property
    def claimed(self) -> bool:
        return self.future.done()

    def matches(self, frame: Frame) -> bool:
        if self.claimed or frame.action != self.action:
            return False
        return self.predicate is None or self.predicate(frame)

    def claim(self, exchange: Exchange) -> None:
        """The frame of ``exchange`` is the one awaited: run ``on_claim``, wake the step."""
        if self.on_claim is not None:
            self.on_claim(exchange)
        if not self.future.done():
            self.future.set_result(exchange)


class Expectations:
    """The armed expectations of one link, in arming order (the first that matches wins)."""

    def __init__(self) -> None:
        self.armed: list[Expectation] = []

    def arm(
        self,
        action: str,
        predicate: Predicate | None,
        reply: Callable[[Frame], Any] | None,
        label: str,
        on_claim: Callable[[Exchange], None] | None,
    ) -> Expectation:
        expectation = Expectation(action, predicate, reply, label, on_claim)
        self.armed.append(expectation)
        return expectation

    def disarm(self, expectation: Expectation) -> None:
        if expectation in self.armed:
            self.armed.remove(expectation)
        if not expectation.future.done():
            expectation.future.cancel()

    def take(self, frame: Frame) -> Expectation | None:
        """The first armed expectation ``frame`` matches, no longer armed; or None."""
        expectation = next((e for e in self.armed if e.matches(frame)), None)
        if expectation is not None:
            self.armed.remove(expectation)
        return expectation
