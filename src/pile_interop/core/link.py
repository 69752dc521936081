"""What a link to a SUT offers the scenario runner, whatever the protocol: armed
expectations on the messages the SUT sends, the exchange that claimed one, and the
:class:`Link` protocol the runner drives (an OCPP session, a GB/T 27930 CAN link), with the
link-level errors and the answer to a request of the protocols that have answers.

The scenario runner is written against these, so it imports no protocol engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pile_interop.core.frames import Frame, FrameLog

Predicate = Callable[[Frame], bool]


class Disconnected(Exception):
    """The connection closed (or was not open) while the session needed it."""


class CallTimeout(TimeoutError):
    """No CALLRESULT or CALLERROR within the bound."""


@dataclass
class Reply:
    """How to answer a CALL: a CALLRESULT payload, a CALLERROR, exact raw text, or nothing."""

    payload: dict[str, Any] | None = None
    error: tuple[str, str, dict[str, Any]] | None = None
    raw: str | None = None
    silent: bool = False

    @classmethod
    def result(cls, payload: dict[str, Any]) -> Reply:
        return cls(payload=payload)

    @classmethod
    def call_error(cls, code: str, description: str = "", details: dict | None = None) -> Reply:
        return cls(error=(code, description, details or {}))


ReplyFn = Callable[[Frame], "Reply | None"]


@dataclass
class LateAnswer:
    """A CALLRESULT or CALLERROR that answered a CALL of ours after the suite stopped waiting
    for it: it belongs to the case that sent the CALL (``case``), never to the case running
    when it came."""

    case: str  # the case tag the CALL was sent under ("" outside any case)
    action: str
    unique_id: str
    type: str  # CALLRESULT | CALLERROR
    delay_s: float  # seconds after the CALL
    waited_s: float  # how long the suite had waited
    call_seq: int
    seq: int
    time: str  # UTC, when the answer came

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "unique_id": self.unique_id,
            "type": self.type,
            "delay_s": round(self.delay_s, 3),
            "waited_s": round(self.waited_s, 3),
            "call_seq": self.call_seq,
            "seq": self.seq,
            "time": self.time,
        }

    def text(self) -> str:
        return (
            f"late {self.type} to {self.action} ({self.unique_id}): came {self.delay_s:.3g} s "
            f"after the CALL; the suite had waited {self.waited_s:.3g} s"
        )


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


class Link(Protocol):
    """The link to the SUT as the scenario runner drives it, whatever the protocol: the frame
    log every case reads its evidence from, and expectations armed on the SUT's messages."""

    @property
    def log(self) -> FrameLog: ...

    @property
    def is_connected(self) -> bool: ...

    def arm(
        self,
        action: str,
        predicate: Predicate | None = None,
        reply: ReplyFn | None = None,
        label: str = "",
        on_claim: Callable[[Exchange], None] | None = None,
    ) -> Expectation:
        """Wait for a message ``action`` matching ``predicate`` (answered with ``reply`` on a
        link with answers)."""
        ...

    def disarm(self, expectation: Expectation) -> None: ...


class DefaultResponder(Protocol):
    """The side the suite plays, as far as the runner asks it: its default answer."""

    def reply(self, call: Frame) -> Reply:
        """The answer to a CALL no expectation claimed."""
        ...


class SchemaVersion(Protocol):
    """The protocol version of a link, as far as the runner asks it."""

    @property
    def schema_version(self) -> str: ...


@runtime_checkable
class RequestLink(Link, Protocol):
    """A link with requests and answers (OCPP-J): what ``send`` and ``negative`` steps and an
    ``expect`` step's ``reply`` use besides :class:`Link`."""

    @property
    def responder(self) -> DefaultResponder: ...

    @property
    def version(self) -> SchemaVersion: ...

    @property
    def connections(self) -> int:
        """How many connections the link has had (a reconnect counts one more)."""
        ...

    async def call(self, action: str, payload: dict[str, Any], *, timeout: float) -> Frame:
        """Send a request; the answer frame (a CALLRESULT or a CALLERROR), or
        :class:`ValueError` (the payload breaks the schema), :class:`Disconnected`,
        :class:`CallTimeout`."""
        ...

    async def call_raw(self, text: str, unique_id: str, *, timeout: float) -> Frame:
        """Send exactly ``text`` (a request with ``unique_id``) and await its answer."""
        ...

    async def send_raw(self, text: str, *, error_ids: Collection[object] = ()) -> Frame:
        """Send exactly ``text``; the frame as recorded. A CALLERROR whose unique id is one of
        ``error_ids`` (as JSON values: ``"-1"``, an integer …) answers this broken frame: it is
        recorded without a finding until :meth:`forget_error_ids`."""
        ...

    def forget_error_ids(self) -> None:
        """A CALLERROR with an id :meth:`send_raw` allowed is again an unknown answer."""
        ...

    #: the case whose requests go out now (set by the runner; a late answer belongs to it)
    case_tag: str

    def take_late_answers(self) -> list[LateAnswer]:
        """The late answers recorded since the last call (each returned once)."""
        ...
