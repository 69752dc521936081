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
