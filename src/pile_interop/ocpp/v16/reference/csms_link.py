"""One station connection of the reference OCPP 1.6J Central System: the ``ocpp.v16.ChargePoint``
handlers, every answer asked of the CSMS through :class:`CsmsAnswers` (whose hooks the mutants
override), with the RPC fixes of :class:`~pile_interop.ocpp.v16.reference.rpc.Rpc`.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action

from pile_interop.ocpp.v16.reference.rpc import Rpc

log = logging.getLogger("pile_interop.ocpp.v16.reference.csms")
# a handler's exception (a mutant's defect) is answered with a CALLERROR and logged by the
# ocpp package; shown with -v, never as a stray traceback on stderr
log.addHandler(logging.NullHandler())

#: Bound on a response from the station to a CSMS-initiated CALL.
RESPONSE_TIMEOUT_S = 30.0


class CsmsAnswers(Protocol):
    """What a link asks of its CSMS: one answer (or record) per station request."""

    def on_boot(self, station_id: str, payload: dict[str, Any]) -> Any: ...

    def heartbeat_reply(self, station_id: str) -> Any: ...

    def on_status(
        self, station_id: str, connector_id: int, status: str, error_code: str
    ) -> None: ...

    def id_tag_info(self, id_tag: str | None) -> dict[str, Any]: ...

    def start_transaction_reply(
        self, station_id: str, connector_id: int, id_tag: str, meter_start: int, timestamp: str
    ) -> Any: ...

    def stop_transaction_reply(
        self,
        transaction_id: int,
        meter_stop: int,
        timestamp: str,
        id_tag: str | None,
        reason: str | None,
    ) -> Any: ...

    def on_meter_values(self, transaction_id: int | None, values: list[Any]) -> None: ...

    def on_reservation_used(
        self, station_id: str, connector_id: int, reservation_id: int | None
    ) -> None: ...

    def data_transfer_status(self, vendor_id: str, message_id: str | None) -> str: ...


class CsmsLink(Rpc, ChargePoint):
    """The ``ocpp`` handler of one station connection; every answer comes from the CSMS."""

    def __init__(self, csms: CsmsAnswers, station_id: str, connection: Any) -> None:
        super().__init__(station_id, connection, response_timeout=RESPONSE_TIMEOUT_S, logger=log)
        self._csms = csms
        self.configure_rpc(csms)

    @on(Action.boot_notification)
    async def _boot(self, **payload: Any) -> Any:
        return self._csms.on_boot(self.id, payload)

    @on(Action.heartbeat)
    async def _heartbeat(self, **_: Any) -> Any:
        return self._csms.heartbeat_reply(self.id)

    @on(Action.status_notification)
    async def _status(self, connector_id: int, status: str, error_code: str, **_: Any) -> Any:
        self._csms.on_status(self.id, connector_id, status, error_code)
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def _authorize(self, id_tag: str, **_: Any) -> Any:
        return call_result.Authorize(id_tag_info=self._csms.id_tag_info(id_tag))

    @on(Action.start_transaction)
    async def _start(
        self,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: str,
        reservation_id: int | None = None,
        **_: Any,
    ) -> Any:
        if reservation_id is not None:
            self._csms.on_reservation_used(self.id, connector_id, reservation_id)
        return self._csms.start_transaction_reply(
            self.id, connector_id, id_tag, meter_start, timestamp
        )

    @on(Action.stop_transaction)
    async def _stop(
        self,
        transaction_id: int,
        meter_stop: int,
        timestamp: str,
        id_tag: str | None = None,
        reason: str | None = None,
        **_: Any,
    ) -> Any:
        return self._csms.stop_transaction_reply(
            transaction_id, meter_stop, timestamp, id_tag, reason
        )

    @on(Action.meter_values)
    async def _meter_values(
        self, connector_id: int, meter_value: list[Any], transaction_id: int | None = None, **_: Any
    ) -> Any:
        self._csms.on_meter_values(transaction_id, meter_value)
        return call_result.MeterValues()

    @on(Action.data_transfer)
    async def _data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None, **_: Any
    ) -> Any:
        return call_result.DataTransfer(
            status=self._csms.data_transfer_status(vendor_id, message_id)
        )

    @on(Action.diagnostics_status_notification)
    async def _diagnostics(self, **_: Any) -> Any:
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    async def _firmware(self, **_: Any) -> Any:
        return call_result.FirmwareStatusNotification()
