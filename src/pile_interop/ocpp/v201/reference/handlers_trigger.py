"""TriggerMessage at the reference 2.0.1 station (F06): the station's own messages
(BootNotification: Rejected once Accepted, F06.FR.17; Heartbeat; SignChargingStationCertificate;
FirmwareStatusNotification and LogStatusNotification, Idle: nothing is being updated or uploaded),
the EVSE messages the transaction half answers and sends (StatusNotification, MeterValues,
TransactionEvent), NotImplemented for the rest. Before the registration is Accepted a triggered
message may go out all the same (B02.FR.01).

:class:`TriggerHandlers` holds the default behaviour; every decision goes through the station
(``ReferenceStation``, typed as :class:`TriggerStation`), so that a mutant overriding a hook
there changes it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from ocpp.v201 import call, call_result
from ocpp.v201.enums import (
    MessageTriggerEnumType,
    RegistrationStatusEnumType,
    TriggerMessageStatusEnumType,
)

#: the registration status once the BootNotification was Accepted
ACCEPTED = RegistrationStatusEnumType.accepted.value

#: Trigger → the CALL it makes the station send
TRIGGERED_ACTION = {
    MessageTriggerEnumType.boot_notification.value: "BootNotification",
    MessageTriggerEnumType.heartbeat.value: "Heartbeat",
    MessageTriggerEnumType.sign_charging_station_certificate.value: "SignCertificate",
    MessageTriggerEnumType.status_notification.value: "StatusNotification",
    MessageTriggerEnumType.meter_values.value: "MeterValues",
    MessageTriggerEnumType.transaction_event.value: "TransactionEvent",
    MessageTriggerEnumType.firmware_status_notification.value: "FirmwareStatusNotification",
    MessageTriggerEnumType.log_status_notification.value: "LogStatusNotification",
}
#: The status notifications a trigger makes the station send (no firmware update nor log
#: upload ever runs in the reference: Idle, without requestId; L01 / N01)
IDLE_NOTIFICATIONS = {
    MessageTriggerEnumType.firmware_status_notification.value: call.FirmwareStatusNotification,
    MessageTriggerEnumType.log_status_notification.value: call.LogStatusNotification,
}


class TriggerStation(Protocol):
    """What a TriggerMessage needs from the station."""

    registration: str | None
    #: the actions a trigger lets out before the registration is Accepted
    _trigger_allow: set[str]
    #: the transaction half (``Evses``: ``await evses.trigger(req)``)
    evses: Any

    def defer(self, work: Callable[[], Awaitable[None] | None]) -> None: ...
    def trigger_boot(self) -> None: ...
    async def send(self, request: Any) -> Any: ...
    async def request_certificate_signing(self) -> None: ...
    # -- hook --
    def trigger_status(self, requested: str) -> str | None: ...


class TriggerHandlers:
    """The TriggerMessage request."""

    def __init__(self, station: TriggerStation) -> None:
        self.st = station

    async def trigger_message(self, req: call.TriggerMessage) -> call_result.TriggerMessage:
        st = self.st
        requested = str(req.requested_message)
        status = st.trigger_status(requested)
        if status is None:  # an EVSE message: the EVSE half answers and sends it
            action = TRIGGERED_ACTION.get(requested, requested)
            allow = st.registration != ACCEPTED
            if allow:
                st._trigger_allow.add(action)
            result = await st.evses.trigger(req)
            if result is None:
                result = call_result.TriggerMessage(
                    status=TriggerMessageStatusEnumType.not_implemented
                )
            if allow and result.status != TriggerMessageStatusEnumType.accepted:
                st._trigger_allow.discard(action)
            return result
        if status == TriggerMessageStatusEnumType.accepted:
            if requested == MessageTriggerEnumType.boot_notification:
                st.defer(st.trigger_boot)
            elif requested == MessageTriggerEnumType.heartbeat:
                st._trigger_allow.add("Heartbeat")
                st.defer(lambda: st.send(call.Heartbeat()))
            elif requested == MessageTriggerEnumType.sign_charging_station_certificate:
                st._trigger_allow.add("SignCertificate")
                st.defer(st.request_certificate_signing)
            elif requested in IDLE_NOTIFICATIONS:
                notification = IDLE_NOTIFICATIONS[requested](status="Idle")
                st._trigger_allow.add(TRIGGERED_ACTION[requested])
                st.defer(lambda: st.send(notification))
        return call_result.TriggerMessage(status=status)

    def trigger_status(self, requested: str) -> str | None:
        if requested == MessageTriggerEnumType.boot_notification:
            if self.st.registration == ACCEPTED:
                return TriggerMessageStatusEnumType.rejected
            return TriggerMessageStatusEnumType.accepted
        if requested in (
            MessageTriggerEnumType.heartbeat,
            MessageTriggerEnumType.sign_charging_station_certificate,
            *IDLE_NOTIFICATIONS,
        ):
            return TriggerMessageStatusEnumType.accepted
        if requested in (
            MessageTriggerEnumType.status_notification,
            MessageTriggerEnumType.meter_values,
            MessageTriggerEnumType.transaction_event,
        ):
            return None
        return TriggerMessageStatusEnumType.not_implemented
