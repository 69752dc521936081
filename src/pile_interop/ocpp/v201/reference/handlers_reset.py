"""Reset of the reference 2.0.1 station (B11, B12): Immediate or OnIdle (Scheduled while a
transaction runs), of the whole station or of one EVSE (the feature ``reset_evse``), the
transactions it ends (stoppedReason ImmediateReset) and the reboot (BootNotification reason
RemoteReset or ScheduledReset).

:class:`ResetHandlers` holds the default behaviour; every decision goes through the station
(``ReferenceStation``, typed as :class:`ResetStation`), so that a mutant overriding a hook there
changes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from ocpp.v201 import call, call_result
from ocpp.v201.enums import (
    BootReasonEnumType,
    ReasonEnumType,
    ResetEnumType,
    ResetStatusEnumType,
)

#: Bounds (protocol seconds): an OnIdle reset waits for the transactions to end this long at
#: most, polling every IDLE_POLL_S; an Immediate reset waits this long for the Ended events.
ONIDLE_RESET_MAX_WAIT_S = 24 * 3600
IDLE_POLL_S = 1
RESET_DRAIN_S = 60


class ResetStation(Protocol):
    """What a reset needs from the station."""

    #: the scaled clock
    clock: Any
    log: logging.Logger
    station_id: str
    features: dict[str, bool]
    evse_count: int
    #: the transaction half (``Evses``)
    evses: Any
    #: the outgoing queue (``outbox.drained``: an event set once it is empty)
    outbox: Any

    def defer(self, work: Callable[[], Awaitable[None] | None]) -> None: ...
    def security_event(self, kind: str, tech_info: str | None = None) -> None: ...
    def reboot(self, reason: str) -> None: ...
    # -- hooks --
    def reset_status(self, kind: str, evse_id: int | None) -> str: ...
    async def perform_reset(
        self, kind: str, evse_id: int | None, *, scheduled: bool = False
    ) -> None: ...
    def reset_stopped_reason(self, kind: str) -> str | None: ...
    def reset_boot_reason(self, kind: str, scheduled: bool) -> str: ...


class ResetHandlers:
    """The Reset request, the reset itself and the power loss it makes."""

    def __init__(self, station: ResetStation) -> None:
        self.st = station

    async def reset(self, req: call.Reset) -> call_result.Reset:
        st = self.st
        status = st.reset_status(req.type, req.evse_id)
        if status in (ResetStatusEnumType.accepted, ResetStatusEnumType.scheduled):
            scheduled = status == ResetStatusEnumType.scheduled
            st.defer(lambda: st.perform_reset(req.type, req.evse_id, scheduled=scheduled))
        return call_result.Reset(status=status)

    def reset_status(self, kind: str, evse_id: int | None) -> str:
        st = self.st
        if evse_id is not None and (
            not st.features.get("reset_evse") or not 1 <= evse_id <= st.evse_count
        ):
            return ResetStatusEnumType.rejected
        if kind == ResetEnumType.on_idle and st.evses.has_transaction(evse_id):
            return ResetStatusEnumType.scheduled
        return ResetStatusEnumType.accepted

    async def perform_reset(self, kind: str, evse_id: int | None, *, scheduled: bool) -> None:
        st = self.st
        if kind == ResetEnumType.on_idle:
            await self.wait_idle(evse_id)
        if evse_id is not None:
            reset_evse = getattr(st.evses, "reset_evse", None)
            if reset_evse is None:
                st.log.warning("%s: the EVSE half cannot reset EVSE %d", st.station_id, evse_id)
                return
            await reset_evse(evse_id, kind)
            return
        st.security_event("ResetOrReboot", f"Reset {kind}")
        await self.power_loss(st.reset_stopped_reason(kind))
        try:
            await asyncio.wait_for(st.outbox.drained.wait(), st.clock.real(RESET_DRAIN_S))
        except TimeoutError:
            st.log.warning("%s: reset with messages still queued", st.station_id)
        st.reboot(st.reset_boot_reason(kind, scheduled))

    @staticmethod
    def reset_stopped_reason(kind: str) -> str | None:
        return ReasonEnumType.immediate_reset.value if kind == ResetEnumType.immediate else None

    @staticmethod
    def reset_boot_reason(scheduled: bool) -> str:
        if scheduled:
            return BootReasonEnumType.scheduled_reset.value
        return BootReasonEnumType.remote_reset.value

    async def wait_idle(self, evse_id: int | None) -> None:
        st = self.st
        waited = 0.0
        while st.evses.has_transaction(evse_id) and waited < ONIDLE_RESET_MAX_WAIT_S:
            await st.clock.sleep(IDLE_POLL_S)
            waited += IDLE_POLL_S

    async def power_loss(self, reason: str | None) -> None:
        st = self.st
        end_all = getattr(st.evses, "end_all", None)
        if reason is not None and end_all is not None and st.evses.has_transaction():
            await end_all(reason)
        await st.evses.on_power_loss()
