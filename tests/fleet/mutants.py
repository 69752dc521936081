"""Reference CSMSs with one load defect each, for the fleet tests: a fleet run against them
must fail naming the threshold the defect breaks."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from pile_interop.ocpp.v16.reference.csms import CsmsLink, ReferenceCsms

#: How long the slow CSMS sits on a BootNotification before answering it.
SLOW_BOOT_S = 1.5


def _action(raw: Any) -> str | None:
    try:
        message = json.loads(raw)
    except (TypeError, ValueError):
        return None
    return message[2] if isinstance(message, list) and len(message) == 4 else None


class _SlowBootLink(CsmsLink):
    async def route_message(self, raw_msg: Any) -> None:
        if _action(raw_msg) == "BootNotification":
            await asyncio.sleep(SLOW_BOOT_S)  # a backend that chokes on a boot storm
        await super().route_message(raw_msg)


class SlowBootCsms(ReferenceCsms):
    """Answers every BootNotification only after 1.5 s."""

    def new_link(self, station_id: str, connection: Any) -> CsmsLink:
        return _SlowBootLink(self, station_id, connection)


class _LossyLink(CsmsLink):
    dropped = itertools.count()

    async def route_message(self, raw_msg: Any) -> None:
        if _action(raw_msg) == "Heartbeat" and next(self.dropped) % 2 == 0:
            return  # every other Heartbeat is lost: never answered
        await super().route_message(raw_msg)


class LossyCsms(ReferenceCsms):
    """Never answers every other Heartbeat."""

    def new_link(self, station_id: str, connection: Any) -> CsmsLink:
        return _LossyLink(self, station_id, connection)


class _GarbledLink(CsmsLink):
    async def route_message(self, raw_msg: Any) -> None:
        if _action(raw_msg) == "Heartbeat":
            unique_id = json.loads(raw_msg)[1]
            # a currentTime that is no RFC 3339 date-time
            await self._connection.send(json.dumps([3, unique_id, {"currentTime": "yesterday"}]))
            return
        await super().route_message(raw_msg)


class GarbledCsms(ReferenceCsms):
    """Answers Heartbeat with a currentTime that is not a date-time (a schema violation)."""

    def new_link(self, station_id: str, connection: Any) -> CsmsLink:
        return _GarbledLink(self, station_id, connection)


class PendingOnceCsms(ReferenceCsms):
    """Answers each station's first BootNotification Pending with a 1 s interval (a correct
    CSMS may); notes when each boot came."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.boots: dict[str, list[float]] = {}

    def registration_terms(self, station_id: str) -> tuple[str, int]:
        import time

        seen = self.boots.setdefault(station_id, [])
        seen.append(time.monotonic())
        if len(seen) == 1:
            return "Pending", 1
        return super().registration_terms(station_id)
