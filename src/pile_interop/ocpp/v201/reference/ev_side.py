"""What the driver, the EV and the hardware do at an EVSE of the reference 2.0.1 station (the
manual actions of the transaction half): plug in, unplug (E10: TxCtrlr.StopTxOnEVSideDisconnect),
faults, a failing connector lock (G05), the EV suspending and resuming.

* ``raise_fault``: the connector is Faulted, the power path opens; the transaction goes on
  (``chargingState`` SuspendedEVSE) unless ``PowerPathClosed`` / ``EnergyTransfer`` is a stop
  point (then Ended: triggerReason AbnormalCondition, stoppedReason Other).
* ``set_lock_failure``: an UnlockConnector answers UnlockFailed, and locking the cable when the
  power path would close fails: the connector goes Faulted (lock fault, reported with a
  NotifyEvent ConnectorPlugRetentionLock.Problem true, G05.FR.02) and no power flows until
  ``clear_fault`` or ``set_lock_failure(failing=False)``. A fixed cable has no lock
  (UnlockConnector: UnlockFailed, nothing to open).
* ``unplug`` with ``TxCtrlr.StopTxOnEVSideDisconnect`` true deauthorizes the transaction (E_25,
  stop points EVConnected / Authorized end it: triggerReason EVCommunicationLost, stoppedReason
  EVDisconnected); false keeps the cable locked in the socket and the transaction going
  (Updated EVCommunicationLost, chargingState SuspendedEV, E10) until the EV is plugged again or
  the driver stops it.

:class:`EvSide` holds the default behaviour; every decision goes through the
:class:`~pile_interop.ocpp.v201.reference.evse_hooks.EvsesHooks` facade (``Evses``), so that a
mutant overriding a hook there changes it.
"""

from __future__ import annotations

from pile_interop.ocpp.v201.reference.evse_hooks import EvsesHooks
from pile_interop.ocpp.v201.reference.evse_state import TX


class EvSide:
    """The physical world's events at the EVSEs."""

    def __init__(self, ev: EvsesHooks) -> None:
        self.ev = ev

    async def plug_in(self, evse: int) -> None:
        ev = self.ev
        ev._ensure_ticker()
        e = ev._evse(evse)
        if e.ev_connected:
            return
        e.ev_connected = True
        e.cable_held = False
        e.session_ended = False
        if e.authorization is not None and e.authorization.timer is not None:
            e.authorization.timer.cancel()
            e.authorization.timer = None
        ev.report_status(e)
        ev._evaluate(e, "CablePluggedIn")

    async def unplug(self, evse: int) -> None:
        ev = self.ev
        ev._ensure_ticker()
        e = ev._evse(evse)
        if not e.ev_connected:
            return
        e.ev_connected = False
        e.session_ended = False
        e.ev_suspended = False
        tx = e.transaction
        if tx is None:
            e.locked = False
            ev._evaluate(e, "EVCommunicationLost")
            return
        if ev.stop_on_ev_side_disconnect(e):
            # E10 / E_25: the transaction is deauthorized.
            ev._drop_authorization(e)
        else:
            e.cable_held = True  # E10.FR.01: stays locked until the driver comes back
        ev._evaluate(e, "EVCommunicationLost", reason="EVDisconnected")

    def stop_on_ev_side_disconnect(self) -> bool:
        return self.ev._bool(TX, "StopTxOnEVSideDisconnect")

    async def raise_fault(self, evse: int) -> None:
        ev = self.ev
        ev._ensure_ticker()
        e = ev._evse(evse)
        e.fault = True
        ev.report_status(e)
        ev._evaluate(e, "ChargingStateChanged", end_trigger="AbnormalCondition", quiet=True)

    async def clear_fault(self, evse: int) -> None:
        ev = self.ev
        ev._ensure_ticker()
        e = ev._evse(evse)
        e.fault = False
        if e.lock_fault:
            ev._clear_lock_fault(e)
        ev._evaluate(e, "ChargingStateChanged", quiet=True)

    async def set_lock_failure(self, evse: int, failing: bool) -> None:
        ev = self.ev
        e = ev._evse(evse)
        e.lock_failing = failing
        if not failing and e.lock_fault:
            ev._clear_lock_fault(e)
            ev._evaluate(e, "ChargingStateChanged", quiet=True)

    async def ev_suspend(self, evse: int) -> None:
        e = self.ev._evse(evse)
        e.ev_suspended = True
        self.ev._evaluate(e, "ChargingStateChanged", reason="StoppedByEV", quiet=True)

    async def ev_resume(self, evse: int) -> None:
        e = self.ev._evse(evse)
        e.ev_suspended = False
        self.ev._evaluate(e, "ChargingStateChanged", quiet=True)
