"""The lifecycle of the reference 2.0.1 station's transaction half: an accepted registration
(every connector's status, the meter loop), a lost connection, ending every transaction before
a reboot, the reset of one EVSE (B11 / B12), a power loss, and ``settle`` (back to idle between
cases).

* Power loss: transactions end with stoppedReason PowerLoss (triggerReason AbnormalCondition);
  ``end_all("ImmediateReset")`` uses triggerReason ResetCommand; ``reset_evse`` resets one EVSE
  (Reset with an evseId). The physical world, the availability and the cache survive it.
* ``settle`` lets the follow-ups of answered CSMS requests, and cards still waiting for their
  AuthorizeResponse, finish before it clears the EVSEs.

:class:`Lifecycle` holds the default behaviour; it goes through the
:class:`~pile_interop.ocpp.v201.reference.evse_hooks.EvsesHooks` facade (``Evses``), so that a
mutant overriding a hook there changes it.
"""

from __future__ import annotations

import asyncio

from pile_interop.ocpp.v201.reference.evse_hooks import EvsesHooks
from pile_interop.ocpp.v201.reference.evse_state import logger
from pile_interop.ocpp.v201.reference.evse_tasks import Outbox, Tasks
from pile_interop.ocpp.v201.reference.metering import Metering

#: Protocol seconds ``end_all`` waits for its Ended events to be handed to the station.
END_ALL_DRAIN_S = 30.0


class Lifecycle:
    """Registration, power loss, resets and settling of the EVSEs."""

    def __init__(self, ev: EvsesHooks, tasks: Tasks, outbox: Outbox, metering: Metering) -> None:
        self.ev = ev
        self.tasks = tasks
        self.outbox = outbox
        self.metering = metering

    async def on_registered(self) -> None:
        ev = self.ev
        ev._was_online = ev.port.online
        for e in ev.evses.values():
            ev.report_status(e, force=True)
        ev._ensure_ticker()

    async def end_all(self, reason: str) -> None:
        ev = self.ev
        trigger = "ResetCommand" if reason in ("ImmediateReset", "Reboot") else "AbnormalCondition"
        for e in ev.evses.values():
            if e.transaction is not None:
                ev._end_transaction(e, trigger, reason)
        await self.outbox.drain(ev.clock.real(END_ALL_DRAIN_S))

    async def reset_evse(self, evse: int, kind: str) -> None:
        ev = self.ev
        e = ev._evse(evse)
        if str(kind) == "Immediate":
            if e.transaction is not None:
                ev._end_transaction(e, "ResetCommand", "ImmediateReset")
            ev._drop_authorization(e)
            e.locked = False
            e.session_ended = e.ev_connected
            e.meter.set_flowing(False)
        elif e.transaction is not None:
            logger.warning("EVSE %d: OnIdle reset while a transaction runs: skipped", e.id)
            return
        logger.info("EVSE %d reset (%s)", e.id, kind)
        ev.report_status(e, force=True)
        await self.outbox.drain(ev.clock.real(END_ALL_DRAIN_S))

    async def on_power_loss(self) -> None:
        ev = self.ev
        for e in ev.evses.values():
            if e.transaction is not None:
                ev._end_transaction(e, "AbnormalCondition", "PowerLoss")
        self.tasks.cancel_all()
        for e in ev.evses.values():
            ev._drop_authorization(e)
            e.reported = None
            e.locked = False
            e.session_ended = e.ev_connected  # a new session needs a new plug-in
            e.meter.set_flowing(False)
        ev._was_online = False
        self.metering.reset()

    async def settle(self, timeout: float) -> None:
        ev = self.ev

        async def _settle() -> None:
            # what an answered CSMS request started finishes first (a remote start still
            # waiting for its AuthorizeResponse must not authorize an EVSE after the settle)
            await self.tasks.wait_follow_ups()
            for e in ev.evses.values():
                e.lock_failing = False
                e.ev_suspended = False
                if e.transaction is not None:
                    ev._end_transaction(e, "StopAuthorized", "Local")
                ev._drop_authorization(e)
                await ev.unplug(e.id)
                e.cable_held = False
                if e.fault or e.lock_fault:
                    await ev.clear_fault(e.id)
                ev.report_status(e)
            await self.outbox.drained.wait()

        await asyncio.wait_for(_settle(), timeout)
