"""One station connection of the reference OCPP 2.0.1 CSMS: the ``ocpp.v201.ChargePoint``
handlers, every answer asked of the CSMS through :class:`CsmsPort` (whose hooks the mutants
override), and the RPC fix the ``ocpp`` package needs.

The package swaps NotImplemented and NotSupported (it answers an action it does not know
NotSupported, a known one without handler NotImplemented); OCPP-J 2.0.1 §4.3 says
NotImplemented is "not known by receiver" and NotSupported "recognized but not supported":
:class:`CsmsLink` answers both before the package does (unless its owner sets
``answers_unknown_actions = False``). ``validates_requests = False`` on the owner turns the
package's request validation off (a mutant's defect).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import Action

from pile_interop.ocpp.reference.rpc import CallErrorsAsInfo, unhandled_action_error
from pile_interop.ocpp.v201.reference.csms_link_smart import SmartChargingLink

log = logging.getLogger("pile_interop.ocpp.v201.reference.csms")
log.addHandler(logging.NullHandler())

#: Bound on a response from the station to a CSMS-initiated CALL.
RESPONSE_TIMEOUT_S = 30.0
#: Every OCPP 2.0.1 action.
ACTIONS_201 = frozenset(str(a.value) for a in Action)


class CsmsPort(Protocol):
    """What a link asks of its CSMS: one answer (or record) per station request, and the work
    that follows an answer (``after_boot``, ``sign_and_send``)."""

    def on_boot(self, station_id: str, payload: dict[str, Any]) -> Any: ...

    async def after_boot(self, link: CsmsLink, payload: dict[str, Any]) -> None: ...

    def heartbeat_reply(self, station_id: str) -> Any: ...

    def on_status(self, station_id: str, evse_id: int, connector_id: int, status: str) -> None: ...

    def authorize_reply(
        self, station_id: str, id_token: dict[str, Any], payload: dict[str, Any]
    ) -> Any: ...

    def on_transaction_event(self, station_id: str, payload: dict[str, Any]) -> Any: ...

    def on_meter_values(self, station_id: str, evse_id: int, values: list[Any]) -> None: ...

    def on_notify_report(self, station_id: str, payload: dict[str, Any]) -> None: ...

    def note(self, station_id: str, action: str, payload: dict[str, Any]) -> None: ...

    def reservation_status_update(self, station_id: str, payload: dict[str, Any]) -> None: ...

    def sign_certificate_reply(self, station_id: str, csr: str) -> Any: ...

    async def sign_and_send(
        self, link: CsmsLink, csr: str, certificate_type: str | None
    ) -> None: ...

    def data_transfer_status(self, vendor_id: str, message_id: str | None) -> str: ...


class CsmsLink(SmartChargingLink, ChargePoint):
    """The ``ocpp`` handler of one station connection; every answer comes from the CSMS."""

    def __init__(self, csms: CsmsPort, station_id: str, connection: Any) -> None:
        super().__init__(station_id, connection, response_timeout=RESPONSE_TIMEOUT_S, logger=log)
        self._csms = csms
        self.logger = CallErrorsAsInfo(log)
        if not getattr(csms, "validates_requests", True):
            for handlers in self.route_map.values():
                handlers["_skip_schema_validation"] = True

    async def route_message(self, raw_msg: str) -> None:
        if getattr(self._csms, "answers_unknown_actions", True):
            error = unhandled_action_error(
                raw_msg,
                self.route_map,
                ACTIONS_201,
                not_supported="{action}: this CSMS does not support it",
                not_implemented="{action} is not an OCPP 2.0.1 action",
            )
            if error is not None:
                await self._send(error)
                return
        await super().route_message(raw_msg)

    @on(Action.boot_notification)
    async def _boot(self, **payload: Any) -> Any:
        return self._csms.on_boot(self.id, payload)

    @after(Action.boot_notification)
    async def _after_boot(self, **payload: Any) -> None:
        await self._csms.after_boot(self, payload)

    @on(Action.heartbeat)
    async def _heartbeat(self, **_: Any) -> Any:
        return self._csms.heartbeat_reply(self.id)

    @on(Action.status_notification)
    async def _status(
        self, evse_id: int, connector_id: int, connector_status: str, **_: Any
    ) -> Any:
        self._csms.on_status(self.id, evse_id, connector_id, connector_status)
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def _authorize(self, id_token: dict[str, Any], **payload: Any) -> Any:
        return self._csms.authorize_reply(self.id, id_token, payload)

    @on(Action.transaction_event)
    async def _transaction_event(self, **payload: Any) -> Any:
        return self._csms.on_transaction_event(self.id, payload)

    @on(Action.meter_values)
    async def _meter_values(self, evse_id: int, meter_value: list[Any], **_: Any) -> Any:
        self._csms.on_meter_values(self.id, evse_id, meter_value)
        return call_result.MeterValues()

    @on(Action.notify_report)
    async def _notify_report(self, **payload: Any) -> Any:
        self._csms.on_notify_report(self.id, payload)
        return call_result.NotifyReport()

    @on(Action.notify_event)
    async def _notify_event(self, **payload: Any) -> Any:
        self._csms.note(self.id, "NotifyEvent", payload)
        return call_result.NotifyEvent()

    @on(Action.notify_monitoring_report)
    async def _notify_monitoring_report(self, **payload: Any) -> Any:
        self._csms.note(self.id, "NotifyMonitoringReport", payload)
        return call_result.NotifyMonitoringReport()

    @on(Action.security_event_notification)
    async def _security_event(self, **payload: Any) -> Any:
        self._csms.note(self.id, "SecurityEventNotification", payload)
        return call_result.SecurityEventNotification()

    @on(Action.firmware_status_notification)
    async def _firmware(self, **payload: Any) -> Any:
        self._csms.note(self.id, "FirmwareStatusNotification", payload)
        return call_result.FirmwareStatusNotification()

    @on(Action.log_status_notification)
    async def _log_status(self, **payload: Any) -> Any:
        self._csms.note(self.id, "LogStatusNotification", payload)
        return call_result.LogStatusNotification()

    @on(Action.reservation_status_update)
    async def _reservation_status(self, **payload: Any) -> Any:
        self._csms.reservation_status_update(self.id, payload)
        return call_result.ReservationStatusUpdate()

    @on(Action.sign_certificate)
    async def _sign_certificate(self, csr: str, **payload: Any) -> Any:
        return self._csms.sign_certificate_reply(self.id, csr)

    @after(Action.sign_certificate)
    async def _after_sign_certificate(
        self, csr: str, certificate_type: str | None = None, **_: Any
    ) -> None:
        await self._csms.sign_and_send(self, csr, certificate_type)

    @on(Action.data_transfer)
    async def _data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: Any = None, **_: Any
    ) -> Any:
        return call_result.DataTransfer(
            status=self._csms.data_transfer_status(vendor_id, message_id)
        )
