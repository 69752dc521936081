"""The reference OCPP 1.6J station as its components see it.

:class:`~pile_interop.ocpp.v16.reference.station.ReferenceStation` is one class that owns
components (:mod:`registration`, :mod:`authorization`, :mod:`sessions`, :mod:`metering`,
:mod:`availability`, :mod:`configuration`, :mod:`remote`, all modules of this package) and is
the one class mutants subclass. A component never calls another component, nor one of its own
hooks, directly: it calls the station, typed as a small Protocol of what it needs (its port,
declared in its own module on top of :class:`StationState`), so that a hook a mutant overrides
takes effect wherever it is used. No component imports the station (no import cycle).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from pile_interop.core.clock import Clock
from pile_interop.ocpp.reference.outbox import Outbox
from pile_interop.ocpp.reference.station_base import StationBase
from pile_interop.ocpp.v16.reference.station_config import Config
from pile_interop.ocpp.v16.reference.station_model import AuthCache, Connector

#: what a queued CALL does with its result (or once it was given up)
OnResult = Callable[[Any], Awaitable[None] | None]
OnGiveUp = Callable[[], Awaitable[None] | None]


class StationState(Protocol):
    """The state every component shares, and the station's ways to send and report."""

    station_id: str
    log: logging.Logger
    #: connection loop, boot loop, heartbeat, tasks (``spawn``, ``boot_tasks`` …)
    base: StationBase
    #: the scaled clock every timer runs on
    clock: Clock
    #: the outgoing queue (``open``: registered and online; ``drained``: nothing left)
    outbox: Outbox
    config: Config
    cache: AuthCache
    #: connector 0 (the station) and the outlets 1..N
    connectors: dict[int, Connector]
    #: set while a websocket is open and BootNotification was Accepted
    connected: asyncio.Event
    #: status of the last BootNotification.conf on this connection (None before one)
    registration: str | None
    fixed_cable: bool

    def _outlets(self) -> list[Connector]: ...
    def update_status(self, conn: Connector) -> None: ...
    def response_timeout(self) -> float: ...
    def defer(self, work: Callable[[], Awaitable[None] | None]) -> None: ...
    def send(
        self, action: str, build: Callable[[], Any], *, on_result: OnResult | None = None
    ) -> asyncio.Future[Any]: ...
    def send_transactional(
        self,
        action: str,
        build: Callable[[], Any],
        *,
        on_result: OnResult | None = None,
        on_give_up: OnGiveUp | None = None,
    ) -> asyncio.Future[Any]: ...
    async def request(self, action: str, build: Callable[[], Any]) -> Any: ...
