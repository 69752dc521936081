"""Mutant OCPP 2.0.1 stations of blocks C, E, F, G and J: the reference station with ONE defect
each, in its transaction half.

Registered in the catalogue of :mod:`tests.mutants.stations16` (``mutant(catches, requirement,
*also, profile=...)``), profile ``ocpp201/core-cs``. Almost every mutant overrides one hook of
:class:`~pile_interop.ocpp.v201.reference.station_tx.Evses` (``evses_mutant`` below builds the
station
class around it: ``ReferenceStation.evses_class``); the two TriggerMessage answers the
station itself gives (Heartbeat, an unknown message) are station subclasses.

Availability is persistent in a station: a defect that left an EVSE Inoperative would break
every later case, so the availability mutants only keep the CSMS uninformed (the station
believes it reported the status) or refuse what they do not apply.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from ocpp.v201 import call, call_result
from ocpp.v201.datatypes import EVSEType, MeterValueType
from ocpp.v201.enums import MessageTriggerEnumType, TriggerMessageStatusEnumType

from pile_interop.ocpp.v201.reference.station import ReferenceStation
from pile_interop.ocpp.v201.reference.station_auth import ACCEPTED, Token, TokenInfo, as_dict
from pile_interop.ocpp.v201.reference.station_tx import (
    AUTHORIZED,
    ENERGY,
    EV_CONNECTED,
    POWER_PATH,
    Authorization,
    Evse,
    Evses,
    Transaction,
)
from tests.mutants.stations16 import mutant

CORE = "ocpp201/core-cs"


def _ids(*names: str) -> tuple[str, ...]:
    return tuple(f"TC_{n}_CS" for n in names)


def evses_mutant(  # type: ignore[no-untyped-def]
    catches: str,
    requirement: str,
    *also: str,
    features: dict[str, bool] | None = None,
    defect_class: str = "case",
):
    """Register a reference station whose transaction half is the decorated ``Evses``
    subclass (same name and docstring) as a mutant of ``ocpp201/core-cs``."""

    def register(evses_cls: type[Evses]) -> type[Evses]:
        station = type(
            evses_cls.__name__,
            (ReferenceStation,),
            {"evses_class": evses_cls, "__doc__": evses_cls.__doc__, "__module__": __name__},
        )
        mutant(
            catches, requirement, *also, profile=CORE, features=features, defect_class=defect_class
        )(station)
        return evses_cls

    return register


class _RewritesEvents(Evses):
    """Base of the mutants that change what a TransactionEvent says (one field each)."""

    def rewrite(self, request: call.TransactionEvent) -> None:
        raise NotImplementedError

    def transaction_event_payload(self, *args: Any, **kwargs: Any) -> call.TransactionEvent:
        request = super().transaction_event_payload(*args, **kwargs)
        self.rewrite(request)
        return request


class _QuietAvailability(Evses):
    """Base of the availability mutants that keep the CSMS uninformed: for the changes
    ``quiet_for`` names the station takes the new statuses as reported without sending the
    StatusNotifications."""

    def quiet_for(self, evse_id: int | None, operative: bool) -> bool:
        raise NotImplementedError

    def availability_changed(
        self, evse_id: int | None, operative: bool, statuses: dict[int, str]
    ) -> None:
        if not self.quiet_for(evse_id, operative):
            super().availability_changed(evse_id, operative, statuses)
            return
        for e in self.evses.values():
            e.reported = statuses[e.id]


#: the cases that check the seqNo of a transaction with more than one event
_SEQ_NO = _ids(
    *("C_39", "C_49", "E_01", "E_02", "E_03", "E_04", "E_07", "E_09", "E_14", "E_15", "E_21"),
    *("E_25", "E_26", "E_38", "E_39", "E_53", "F_01", "F_02", "F_03", "F_13", "F_14"),
    *("J_02", "J_03", "J_09", "J_10"),
)


# -- block C: authorization ---------------------------------------------------------------------


@evses_mutant("TC_C_02_CS", "OCPP2.0.1 E05", "TC_C_20_CS")
class AcceptsInvalidToken(Evses):
    """Lets an idToken the CSMS reports Invalid charge."""

    def authorize_outcome(self, info: TokenInfo) -> bool:
        return info.status in (ACCEPTED, "Invalid")


@evses_mutant("TC_C_06_CS", "OCPP2.0.1 E05")
class AcceptsBlockedToken(Evses):
    """Lets a Blocked idToken charge."""

    def authorize_outcome(self, info: TokenInfo) -> bool:
        return info.status in (ACCEPTED, "Blocked")


@evses_mutant("TC_C_07_CS", "OCPP2.0.1 E05")
class AcceptsExpiredToken(Evses):
    """Lets an Expired idToken charge."""

    def authorize_outcome(self, info: TokenInfo) -> bool:
        return info.status in (ACCEPTED, "Expired")


# a card accepted without a cable stays authorized after the case failed (the CSMS cannot see
# it, so nothing settles it): the next case finds the EVSE taken
@evses_mutant("TC_C_08_CS", "OCPP2.0.1 C12", "TC_C_20_CS")
class SkipsCacheDespiteLocalPreAuthorize(Evses):
    """Sends an AuthorizeRequest for a cached Accepted idToken although LocalPreAuthorize is
    true."""

    def _bool(self, component: str, variable: str) -> bool:
        if (component, variable) == ("AuthCtrlr", "LocalPreAuthorize"):
            return False
        return super()._bool(component, variable)


@evses_mutant("TC_C_20_CS", "OCPP2.0.1 C12")
class CachesEveryTokenAsAccepted(Evses):
    """Stores every idToken in its Authorization Cache as Accepted, whatever the CSMS said."""

    def remember(self, token: Token, info: TokenInfo) -> None:
        super().remember(token, TokenInfo(ACCEPTED, info.group_id_token, info.cache_expiry))


@evses_mutant("TC_C_37_CS", "OCPP2.0.1 C11", "TC_C_08_CS")
class ClearCacheRejected(Evses):
    """Answers ClearCache Rejected although its Authorization Cache is enabled."""

    def clear_cache_status(self) -> str:
        return "Rejected"


@evses_mutant("TC_C_38_CS", "C11.FR.04")
class ClearCacheAcceptedWhenDisabled(Evses):
    """Answers ClearCache Accepted while AuthCacheCtrlr.Enabled is false."""

    def clear_cache_status(self) -> str:
        return "Accepted"


@evses_mutant("TC_C_39_CS", "C09.FR.03")
class IgnoresGroupIdToken(Evses):
    """Does not let a token of the same group (groupIdToken) stop a transaction."""

    def stops_by_group(self, auth: Authorization, info: TokenInfo) -> bool:
        return False


@evses_mutant("TC_C_49_CS", "C16.FR.02")
class IgnoresMasterPass(Evses):
    """Does not recognise AuthCtrlr.MasterPassGroupId: a master pass stops nothing."""

    def is_master_pass(self, info: TokenInfo) -> bool:
        return False


@evses_mutant("TC_C_47_CS", "C16.FR.01", "TC_C_48_CS", features={"master_pass_ui": True})
class IgnoresMasterPassWithUi(IgnoresMasterPass):
    """A station with a master pass UI that does not recognise AuthCtrlr.MasterPassGroupId."""


# -- block E: transactions ----------------------------------------------------------------------


@evses_mutant("TC_E_01_CS", "E01.FR.05", *_ids("C_08", "E_02", "F_03"))
class PowerPathClosedWithoutCable(Evses):
    """Takes the power path for closed as soon as the driver is authorized (no cable needed):
    with TxStartPoint PowerPathClosed the transaction starts before the EV is plugged in."""

    def start_point_reached(self, e: Evse, conditions: dict[str, bool]) -> bool:
        conditions = dict(conditions)
        conditions[POWER_PATH] = conditions[POWER_PATH] or (
            conditions[AUTHORIZED] and not e.fault and not e.lock_fault
        )
        return super().start_point_reached(e, conditions)


@evses_mutant("TC_E_02_CS", "E01.FR.06")
class EnergyTransferStartsAtPowerPath(Evses):
    """With TxStartPoint EnergyTransfer it starts the transaction when the power path closes,
    before the EV draws energy."""

    def start_point_reached(self, e: Evse, conditions: dict[str, bool]) -> bool:
        conditions = dict(conditions)
        conditions[ENERGY] = conditions[POWER_PATH]
        return super().start_point_reached(e, conditions)


@evses_mutant("TC_E_03_CS", "E01.FR.05", *_ids("E_01", "E_04", "E_09"))
class EventsWithoutConnectorId(_RewritesEvents):
    """Leaves the connectorId out of the evse of its TransactionEvents."""

    def rewrite(self, request: call.TransactionEvent) -> None:
        if request.evse is not None:
            request.evse = EVSEType(id=request.evse.id)


@evses_mutant("TC_E_04_CS", "OCPP2.0.1 E03", *_ids("E_01", "F_03", "C_08"))
class DropsAuthorizationOnPlugIn(Evses):
    """Drops an authorization given before the cable was plugged in: the driver must present
    the card again after plugging in."""

    async def plug_in(self, evse: int = 1) -> None:
        e = self.evses.get(evse)
        if e is not None and e.transaction is None and not e.ev_connected:
            self._drop_authorization(e)
        await super().plug_in(evse)


@evses_mutant("TC_E_07_CS", "E06.FR.06", *_ids("E_03", "C_39"))
class IgnoresPowerPathStopPoint(Evses):
    """Never ends a transaction because the power path opened (TxStopPoint PowerPathClosed)."""

    def should_end(self, e: Evse, tx: Transaction, conditions: dict[str, bool]) -> bool:
        points = self._points("TxStopPoint") or [EV_CONNECTED, AUTHORIZED]
        return any(p in tx.seen and not conditions[p] for p in points if p != POWER_PATH)


@evses_mutant("TC_E_09_CS", "E01.FR.02")
class CablePluggedInStartReportedAsAuthorized(Evses):
    """Gives a transaction started by the plug-in (TxStartPoint EVConnected) triggerReason
    Authorized instead of CablePluggedIn."""

    def start_trigger(self, e: Evse, trigger: str, conditions: dict[str, bool]) -> str:
        reason = super().start_trigger(e, trigger, conditions)
        return "Authorized" if reason == "CablePluggedIn" else reason


@evses_mutant("TC_E_14_CS", "E06.FR.02")
class IgnoresTxStopPoint(Evses):
    """Ends transactions at its built-in stop points (EVConnected, Authorized) whatever
    TxCtrlr.TxStopPoint says."""

    def should_end(self, e: Evse, tx: Transaction, conditions: dict[str, bool]) -> bool:
        points = [EV_CONNECTED, AUTHORIZED]
        return any(p in tx.seen and not conditions[p] for p in points)


@evses_mutant("TC_E_15_CS", "E06.FR.03")
class LocalStopReportedAsDeauthorized(_RewritesEvents):
    """Reports a local stop (the same idToken presented again) with triggerReason Deauthorized
    instead of StopAuthorized."""

    def rewrite(self, request: call.TransactionEvent) -> None:
        if request.trigger_reason == "StopAuthorized":
            request.trigger_reason = "Deauthorized"  # type: ignore[assignment]


@evses_mutant("TC_E_21_CS", "E06.FR.03")
class RemoteStopReportedAsStopAuthorized(_RewritesEvents):
    """Reports a RequestStopTransaction stop with triggerReason StopAuthorized instead of
    RemoteStop."""

    def rewrite(self, request: call.TransactionEvent) -> None:
        if request.trigger_reason == "RemoteStop":
            request.trigger_reason = "StopAuthorized"  # type: ignore[assignment]


@evses_mutant("TC_E_25_CS", "OCPP2.0.1 E10")
class EvDisconnectReportedAsLocal(_RewritesEvents):
    """Ends a transaction the EV-side unplug stopped with stoppedReason Local instead of
    EVDisconnected."""

    def rewrite(self, request: call.TransactionEvent) -> None:
        if request.transaction_info.stopped_reason == "EVDisconnected":
            request.transaction_info.stopped_reason = "Local"  # type: ignore[assignment]


@evses_mutant("TC_E_26_CS", "OCPP2.0.1 E10")
class IgnoresStopTxOnEvSideDisconnectFalse(Evses):
    """Deauthorizes the transaction when the EV side is unplugged even with
    TxCtrlr.StopTxOnEVSideDisconnect false."""

    def stop_on_ev_side_disconnect(self, e: Evse) -> bool:
        return True


@evses_mutant("TC_E_30_CS", "E14.FR.02")
class OngoingIndicatorAlwaysFalse(Evses):
    """Answers GetTransactionStatus ongoingIndicator false for a running transaction."""

    def transaction_status(self, req: call.GetTransactionStatus) -> Any:
        result = super().transaction_status(req)
        if req.transaction_id is not None:
            result.ongoing_indicator = False
        return result


@evses_mutant("TC_E_32_CS", "E14.FR.03")
class OngoingForAnyTransaction(Evses):
    """Answers GetTransactionStatus ongoingIndicator true for any transactionId, ended or not."""

    def transaction_status(self, req: call.GetTransactionStatus) -> Any:
        result = super().transaction_status(req)
        if req.transaction_id is not None:
            result.ongoing_indicator = True
        return result


@evses_mutant("TC_E_34_CS", "E14.FR.06")
class OngoingIndicatorWithoutTransactionId(Evses):
    """Puts an ongoingIndicator into the GetTransactionStatus answer without a transactionId."""

    def transaction_status(self, req: call.GetTransactionStatus) -> Any:
        result = super().transaction_status(req)
        if req.transaction_id is None:
            result = call_result.GetTransactionStatus(
                messages_in_queue=result.messages_in_queue, ongoing_indicator=False
            )
        return result


@evses_mutant("TC_E_38_CS", "OCPP2.0.1 E04")
class ChargingWhileEvSuspended(Evses):
    """Reports chargingState Charging as soon as the power path is closed, also while the EV
    draws no energy (SuspendedEV)."""

    def charging_state(self, e: Evse, tx: Transaction | None) -> str:
        if self.conditions(e)[POWER_PATH]:
            return "Charging"
        return super().charging_state(e, tx)


@evses_mutant("TC_E_39_CS", "E06.FR.04")
class EvConnectTimeoutReportedAsDeauthorized(_RewritesEvents):
    """Ends a transaction whose EV never came with triggerReason Deauthorized instead of
    EVConnectTimeout."""

    def rewrite(self, request: call.TransactionEvent) -> None:
        if request.trigger_reason == "EVConnectTimeout":
            request.trigger_reason = "Deauthorized"  # type: ignore[assignment]


@evses_mutant("TC_E_53_CS", "E01.FR.07", "TC_B_21_CS", *(c for c in _SEQ_NO if c != "TC_E_53_CS"))
class SeqNoGap(Evses):
    """Skips a seqNo: the event after Started gets seqNo 2 (the issue's example)."""

    def next_seq_no(self, tx: Transaction) -> int:
        seq = super().next_seq_no(tx)
        if seq == 1:
            seq = super().next_seq_no(tx)
        return seq


@evses_mutant("TC_E_53_CS", "E01.FR.07")
class SeqNoAcrossTransactions(Evses):
    """Numbers the TransactionEvents of all transactions with one counter (a new transaction
    does not start again at seqNo 0)."""

    _counter = 0

    def next_seq_no(self, tx: Transaction) -> int:
        seq = self._counter
        self._counter += 1
        return seq


# -- block F: remote control, TriggerMessage ----------------------------------------------------


@evses_mutant("TC_F_01_CS", "OCPP2.0.1 F01", *_ids("F_02", "F_03"))
class NoRemoteStartId(_RewritesEvents):
    """Leaves the remoteStartId of RequestStartTransaction out of the transaction's events."""

    def rewrite(self, request: call.TransactionEvent) -> None:
        request.transaction_info.remote_start_id = None


@evses_mutant("TC_F_02_CS", "OCPP2.0.1 F02")
class NeverAuthorizesRemoteStart(Evses):
    """Does not Authorize the idToken of a remote start although AuthorizeRemoteStart is
    true."""

    def authorize_remote_start(self) -> bool:
        return False


# the authorization of the remote start outlives the failed case (as with
# SkipsCacheDespiteLocalPreAuthorize)
@evses_mutant("TC_F_03_CS", "OCPP2.0.1 F02", *_ids("F_04", "F_13"))
class AlwaysAuthorizesRemoteStart(Evses):
    """Authorizes the idToken of a remote start although AuthorizeRemoteStart is false."""

    def authorize_remote_start(self) -> bool:
        return True


@evses_mutant("TC_F_04_CS", "OCPP2.0.1 F02", *_ids("E_39", "C_08", "C_37", "E_53"))
class IgnoresEvConnectionTimeout(Evses):
    """Keeps an authorization without a cable forever (TxCtrlr.EVConnectionTimeOut ignored)."""

    def _int(self, component: str, variable: str) -> int:
        if (component, variable) == ("TxCtrlr", "EVConnectionTimeOut"):
            return 0
        return super()._int(component, variable)


@evses_mutant("TC_F_06_CS", "OCPP2.0.1 F05")
class UnlockFailsWithWorkingLock(Evses):
    """Answers UnlockConnector UnlockFailed although the lock works."""

    def unlock_status(self, req: call.UnlockConnector) -> str:
        status = super().unlock_status(req)
        return "UnlockFailed" if status == "Unlocked" else status


@evses_mutant("TC_F_11_CS", "OCPP2.0.1 F06", "TC_F_12_CS")
class TriggeredMeterValuesAsPeriodic(Evses):
    """Sends the MeterValues a TriggerMessage asked for with context Sample.Periodic instead of
    Trigger."""

    def meter_values_payload(self, e: Evse, values: list[MeterValueType]) -> call.MeterValues:
        for value in values:
            for sampled in value.sampled_value:
                if sampled.context == "Trigger":
                    sampled.context = "Sample.Periodic"  # type: ignore[assignment]
        return super().meter_values_payload(e, values)


@evses_mutant("TC_F_12_CS", "OCPP2.0.1 F06")
class TriggerMeterValuesNeedsEvse(Evses):
    """Rejects a TriggerMessage MeterValues without an evse (all EVSEs)."""

    def trigger_status(self, message: str, evse_id: int | None, connector: int | None) -> str:
        if message == "MeterValues" and evse_id is None:
            return "Rejected"
        return super().trigger_status(message, evse_id, connector)


@evses_mutant("TC_F_13_CS", "OCPP2.0.1 F06", "TC_F_14_CS")
class TriggeredEventAsPeriodic(_RewritesEvents):
    """Sends the TransactionEvent a TriggerMessage asked for with triggerReason
    MeterValuePeriodic instead of Trigger."""

    def rewrite(self, request: call.TransactionEvent) -> None:
        if request.trigger_reason == "Trigger":
            request.trigger_reason = "MeterValuePeriodic"  # type: ignore[assignment]


@evses_mutant("TC_F_14_CS", "OCPP2.0.1 F06")
class TriggerTransactionEventNeedsEvse(Evses):
    """Rejects a TriggerMessage TransactionEvent without an evse (all EVSEs)."""

    def trigger_status(self, message: str, evse_id: int | None, connector: int | None) -> str:
        if message == "TransactionEvent" and evse_id is None:
            return "Rejected"
        return super().trigger_status(message, evse_id, connector)


@mutant("TC_F_20_CS", "OCPP2.0.1 F06", profile=CORE)
class HeartbeatTriggerNotImplemented(ReferenceStation):
    """Answers TriggerMessage Heartbeat NotImplemented."""

    def trigger_status(self, requested: str) -> str | None:
        if requested == MessageTriggerEnumType.heartbeat:
            return TriggerMessageStatusEnumType.not_implemented
        return super().trigger_status(requested)


@mutant("TC_F_27_CS", "F06.FR.08", profile=CORE)
class UnknownTriggerRejected(ReferenceStation):
    """Answers a TriggerMessage for a message it does not implement Rejected instead of
    NotImplemented."""

    def trigger_status(self, requested: str) -> str | None:
        status = super().trigger_status(requested)
        if status == TriggerMessageStatusEnumType.not_implemented:
            return TriggerMessageStatusEnumType.rejected
        return status


@evses_mutant("TC_F_23_CS", "OCPP2.0.1 F06", "TC_F_24_CS")
class TriggeredStatusNotSent(Evses):
    """Accepts a TriggerMessage StatusNotification but sends it only when the status changed
    (so not at all)."""

    def _triggered(self, message: str, targets: list[Evse]) -> None:
        if message == "StatusNotification":
            for e in targets:
                self.report_status(e)
            return
        super()._triggered(message, targets)


@evses_mutant("TC_F_24_CS", "OCPP2.0.1 F06")
class TriggeredStatusAlwaysAvailable(Evses):
    """Answers a TriggerMessage StatusNotification with connectorStatus Available whatever the
    connector's status."""

    def _triggered(self, message: str, targets: list[Evse]) -> None:
        if message == "StatusNotification":
            for e in targets:
                self._enqueue(self.status_notification_payload(e, "Available"), transactional=False)
            return
        super()._triggered(message, targets)


# -- block G: availability, lock failure --------------------------------------------------------


# the station believes it reported Unavailable: later station-wide changes differ from what the
# CSMS saw
@evses_mutant("TC_G_03_CS", "OCPP2.0.1 G03", *_ids("G_04", "G_05", "G_06", "G_07", "G_08"))
class EvseInoperativeNotReported(_QuietAvailability):
    """Makes an EVSE (or connector) Inoperative without a StatusNotification Unavailable."""

    def quiet_for(self, evse_id: int | None, operative: bool) -> bool:
        return evse_id is not None and not operative


@evses_mutant("TC_G_04_CS", "OCPP2.0.1 G03", "TC_G_08_CS")
class EvseOperativeNotReported(_QuietAvailability):
    """Makes an EVSE (or connector) Operative again without a StatusNotification Available."""

    def quiet_for(self, evse_id: int | None, operative: bool) -> bool:
        return evse_id is not None and operative


@evses_mutant("TC_G_05_CS", "OCPP2.0.1 G04", "TC_G_06_CS")
class StationInoperativeNotReported(_QuietAvailability):
    """Makes the whole station Inoperative without a StatusNotification Unavailable."""

    def quiet_for(self, evse_id: int | None, operative: bool) -> bool:
        return evse_id is None and not operative


@evses_mutant("TC_G_06_CS", "OCPP2.0.1 G04")
class StationOperativeNotReported(_QuietAvailability):
    """Makes the whole station Operative again without a StatusNotification Available."""

    def quiet_for(self, evse_id: int | None, operative: bool) -> bool:
        return evse_id is None and operative


@evses_mutant("TC_G_07_CS", "OCPP2.0.1 G03", *_ids("G_08", "G_17"))
class RejectsConnectorAvailability(Evses):
    """Rejects a ChangeAvailability that names a connector."""

    def availability_status(self, req: call.ChangeAvailability) -> str:
        evse = as_dict(req.evse) if req.evse is not None else {}
        if evse.get("connector_id", evse.get("connectorId")) is not None:
            return "Rejected"
        return super().availability_status(req)


@evses_mutant("TC_G_11_CS", "G03.FR.05", "TC_G_17_CS")
class EvseInoperativeAcceptedDuringTransaction(Evses):
    """Answers an EVSE-level Inoperative Accepted instead of Scheduled while a transaction runs
    there (and still waits for the transaction to end)."""

    def availability_status(self, req: call.ChangeAvailability) -> str:
        status = super().availability_status(req)
        return "Accepted" if status == "Scheduled" and req.evse is not None else status


@evses_mutant("TC_G_14_CS", "G04.FR.06")
class StationInoperativeAcceptedDuringTransaction(Evses):
    """Answers a station-wide Inoperative Accepted instead of Scheduled while a transaction
    runs (and still waits for it to end)."""

    def availability_status(self, req: call.ChangeAvailability) -> str:
        status = super().availability_status(req)
        return "Accepted" if status == "Scheduled" and req.evse is None else status


@evses_mutant("TC_G_17_CS", "G03.FR.05", *_ids("G_11", "G_14"))
class ScheduledAvailabilityForgotten(Evses):
    """Answers Scheduled, then forgets the change when the transaction ends."""

    def _apply_scheduled(self) -> None:
        for e in self.evses.values():
            if e.transaction is None:
                e.scheduled_operative = None
        if not self.has_transaction():
            self.station_scheduled = None
        super()._apply_scheduled()


@evses_mutant("TC_G_20_CS", "G05.FR.02")
class NoLockFailureEvent(Evses):
    """Faults the connector when its lock fails but sends no NotifyEvent."""

    def lock_problem_event(self, e: Evse, problem: bool) -> call.NotifyEvent | None:
        return None


# -- block J: meter values ----------------------------------------------------------------------


@evses_mutant("TC_J_01_CS", "OCPP2.0.1 J01", *_ids("J_02", "J_03"))
class AlignedGridShifted(Evses):
    """Takes its clock-aligned readings half an interval after the boundaries (its interval grid
    is shifted): one interval apart, but off the clock."""

    def aligned_boundary(self, now: datetime, interval: int) -> datetime:
        boundary = super().aligned_boundary(now - timedelta(seconds=interval / 2), interval)
        return boundary + timedelta(seconds=interval / 2)


@evses_mutant("TC_J_02_CS", "OCPP2.0.1 J02")
class ClockValuesAsPeriodic(_RewritesEvents):
    """Sends the clock-aligned values of a transaction with triggerReason MeterValuePeriodic
    instead of MeterValueClock."""

    def rewrite(self, request: call.TransactionEvent) -> None:
        if request.trigger_reason == "MeterValueClock":
            request.trigger_reason = "MeterValuePeriodic"  # type: ignore[assignment]


@evses_mutant("TC_J_03_CS", "OCPP2.0.1 J02")
class EndedWithoutAlignedValues(Evses):
    """Does not keep the AlignedDataCtrlr.TxEndedMeasurands for the Ended event."""

    def _keep_aligned_ended(self, boundary: datetime) -> None:
        return None


@evses_mutant("TC_J_07_CS", "OCPP2.0.1 J02")
class StartedWithoutMeterValue(_RewritesEvents):
    """Sends the Started event without the TxStartedMeasurands (context Transaction.Begin)."""

    def rewrite(self, request: call.TransactionEvent) -> None:
        if request.event_type == "Started":
            request.meter_value = None


@evses_mutant("TC_J_09_CS", "OCPP2.0.1 J02")
class SamplesLate(Evses):
    """Samples the TxUpdatedMeasurands every TxUpdatedInterval + 3 s."""

    def _int(self, component: str, variable: str) -> int:
        value = super()._int(component, variable)
        if (component, variable) == ("SampledDataCtrlr", "TxUpdatedInterval") and value > 0:
            return value + 3
        return value


@evses_mutant("TC_J_90_CS", "B05.FR.10", defect_class="setting-not-applied")
class TxUpdatedMeasurandsAcceptedNotApplied(Evses):
    """Accepts a new SampledDataCtrlr.TxUpdatedMeasurands and reads it back, but samples the list
    it had when it registered."""

    boot_measurands: str | None = None

    async def on_registered(self) -> None:
        self.boot_measurands = super()._text("SampledDataCtrlr", "TxUpdatedMeasurands")
        await super().on_registered()

    def _text(self, component: str, variable: str) -> str:
        pinned = self.boot_measurands
        if (component, variable) == ("SampledDataCtrlr", "TxUpdatedMeasurands") and pinned:
            return pinned
        return super()._text(component, variable)


@evses_mutant("TC_J_91_CS", "B05.FR.10", defect_class="setting-not-applied")
class AlignedIntervalAcceptedNotApplied(Evses):
    """Accepts a new AlignedDataCtrlr.Interval and reads it back, but a running clock-aligned
    timer keeps the interval it was started with (a change applies only after it was 0)."""

    running_interval = 0

    def _int(self, component: str, variable: str) -> int:
        value = super()._int(component, variable)
        if (component, variable) != ("AlignedDataCtrlr", "Interval"):
            return value
        if value <= 0 or self.running_interval <= 0:
            self.running_interval = max(0, value)
            return value
        return self.running_interval


@evses_mutant("TC_J_10_CS", "OCPP2.0.1 J02")
class EndedWithoutFinalValue(_RewritesEvents):
    """Sends TransactionEvent Ended without the final meter value (context Transaction.End; the
    issue's example)."""

    def rewrite(self, request: call.TransactionEvent) -> None:
        if request.event_type != "Ended" or not request.meter_value:
            return
        kept = []
        for value in request.meter_value:
            sampled = [s for s in value.sampled_value if s.context != "Transaction.End"]
            if sampled:
                kept.append(dataclasses.replace(value, sampled_value=sampled))
        request.meter_value = kept or None


@evses_mutant("TC_J_10_CS", "OCPP2.0.1 J02")
class IgnoresTxEndedInterval(Evses):
    """Samples nothing for the Ended event between start and end (SampledDataCtrlr.
    TxEndedInterval ignored)."""

    def _int(self, component: str, variable: str) -> int:
        if (component, variable) == ("SampledDataCtrlr", "TxEndedInterval"):
            return 0
        return super()._int(component, variable)


# -- the reusable states ------------------------------------------------------------------------


@evses_mutant("TC_E_04_CS", "OCPP2.0.1 C01", *_ids("E_01", "C_08", "C_37", "C_20", "E_39"))
class NeedsCableBeforeCard(Evses):
    """Ignores an idToken presented before a cable is plugged in (state Authorized,
    IdTokenCached)."""

    async def present_id_tag(self, id_tag: str, evse: int | None = None) -> None:
        if not any(e.ev_connected for e in self.evses.values()):
            return
        await super().present_id_tag(id_tag, evse)


#: every case that waits for a connector to be reported Occupied (states EVConnectedPreSession,
#: EnergyTransferStarted …)
_WAITS_FOR_OCCUPIED = _ids(
    *("B_21", "B_22", "B_26", "B_27", "B_90"),
    *("C_02", "C_06", "C_07", "C_08", "C_20", "C_39", "C_49"),
    *("E_01", "E_02", "E_03", "E_04", "E_07", "E_09", "E_14", "E_15", "E_21", "E_25", "E_26"),
    *("E_30", "E_32", "E_38", "E_39", "E_53"),
    *("F_01", "F_02", "F_03", "F_04", "F_13", "F_14"),
    *("G_11", "G_14", "G_17"),
    *("J_02", "J_03", "J_07", "J_09", "J_10"),
)


@evses_mutant("TC_F_24_CS", "OCPP2.0.1 G01", *_WAITS_FOR_OCCUPIED)
class NoOccupiedStatus(Evses):
    """Reports a connector with a cable plugged in as Available (never Occupied): states
    EVConnectedPreSession and EnergyTransferStarted."""

    def connector_status(self, e: Evse) -> str:
        status = super().connector_status(e)
        return "Available" if status == "Occupied" else status
