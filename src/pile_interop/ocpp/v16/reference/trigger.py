"""Remote Trigger at the reference OCPP 1.6J station (§5.17 TriggerMessage).

The station answers Accepted and, once the answer is out, sends the requested message:
BootNotification, DiagnosticsStatusNotification and FirmwareStatusNotification (Idle: the
station uploads and installs nothing), Heartbeat, MeterValues (the connector's
MeterValuesSampledData readings, context Trigger; every connector without a connectorId) and
StatusNotification (the connector's current status; every connector, 0 included, without
one). A connectorId the station does not have is Rejected; a message in
:attr:`TriggerPort.not_implemented` is NotImplemented.

:class:`RemoteTrigger` holds the default behaviour; the decisions are hooks on the station
(:class:`TriggerPort`), so that a mutant overriding one there changes it everywhere.
"""

from __future__ import annotations

from typing import Any, Protocol

from ocpp.exceptions import NotSupportedError
from ocpp.v16 import call, call_result
from ocpp.v16.datatypes import MeterValue
from ocpp.v16.enums import (
    DiagnosticsStatus,
    FirmwareStatus,
    MessageTrigger,
    ReadingContext,
    RegistrationStatus,
    TriggerMessageStatus,
)

from pile_interop.ocpp.v16.reference.meter import meter_value, sampled_values
from pile_interop.ocpp.v16.reference.station_hooks import StationState
from pile_interop.ocpp.v16.reference.station_model import Connector


class TriggerPort(StationState, Protocol):
    """What remote trigger needs from the station."""

    #: requested messages the station answers NotImplemented
    not_implemented: frozenset[str]

    def remote_trigger_supported(self) -> bool: ...
    def trigger_message_status(self, requested: str, connector_id: int | None) -> str: ...
    def send_triggered(self, requested: str, connector_id: int | None) -> None: ...
    def boot_notification_payload(self) -> call.BootNotification: ...
    def derive_status(self, conn: Connector) -> tuple[str, str]: ...
    def status_notification_payload(
        self, connector_id: int, status: str, error_code: str
    ) -> call.StatusNotification: ...
    def read_meter(self, connector_id: int, items: list[str]) -> list[tuple[str, float]]: ...
    def meter_values_payload(
        self, connector_id: int, values: list[MeterValue], transaction_id: int | None
    ) -> call.MeterValues: ...
    def sync_clock(self, current_time: str) -> None: ...


class RemoteTrigger:
    """TriggerMessage: answer, then send what was asked for."""

    def __init__(self, station: TriggerPort, supported: bool) -> None:
        self.station = station
        self.supported = supported

    async def handle_trigger_message(
        self, requested_message: str, connector_id: int | None
    ) -> call_result.TriggerMessage:
        st = self.station
        if not st.remote_trigger_supported():
            raise NotSupportedError(description="Remote Trigger is not supported")
        status = st.trigger_message_status(requested_message, connector_id)
        if status == TriggerMessageStatus.accepted:
            st.defer(lambda: st.send_triggered(requested_message, connector_id))
        return call_result.TriggerMessage(status=status)  # type: ignore[arg-type]

    def trigger_message_status(self, requested: str, connector_id: int | None) -> str:
        st = self.station
        if requested in st.not_implemented or requested not in {m.value for m in MessageTrigger}:
            return TriggerMessageStatus.not_implemented
        if connector_id is not None and connector_id not in st.connectors:
            return TriggerMessageStatus.rejected
        return TriggerMessageStatus.accepted

    def send_triggered(self, requested: str, connector_id: int | None) -> None:
        st = self.station
        if requested == MessageTrigger.boot_notification:
            if st.registration != RegistrationStatus.accepted:
                st.base.boot_now.set()  # Pending: the boot loop sends it now (§4.2)
            else:
                st.send("BootNotification", st.boot_notification_payload, on_result=self._booted)
        elif requested == MessageTrigger.diagnostics_status_notification:
            st.send(
                "DiagnosticsStatusNotification",
                lambda: call.DiagnosticsStatusNotification(status=DiagnosticsStatus.idle),
            )
        elif requested == MessageTrigger.firmware_status_notification:
            st.send(
                "FirmwareStatusNotification",
                lambda: call.FirmwareStatusNotification(status=FirmwareStatus.idle),
            )
        elif requested == MessageTrigger.heartbeat:
            st.send("Heartbeat", call.Heartbeat)
        elif requested == MessageTrigger.meter_values:
            for conn in self._connectors(connector_id, outlets_only=True):
                self._send_meter_values(conn)
        elif requested == MessageTrigger.status_notification:
            for conn in self._connectors(connector_id, outlets_only=False):
                status, error = st.derive_status(conn)
                payload = st.status_notification_payload(conn.id, status, error)
                conn.status, conn.error_code = status, error
                st.send("StatusNotification", lambda p=payload: p)  # type: ignore[misc]

    def _connectors(self, connector_id: int | None, *, outlets_only: bool) -> list[Connector]:
        st = self.station
        if connector_id is not None:
            return [st.connectors[connector_id]]
        return st._outlets() if outlets_only else list(st.connectors.values())

    def _send_meter_values(self, conn: Connector) -> None:
        st = self.station
        items = st.config.get_list("MeterValuesSampledData") or ["Energy.Active.Import.Register"]
        values = sampled_values(st.read_meter(conn.id, items), ReadingContext.trigger)
        tx = conn.transaction
        tx_id = tx.transaction_id if tx is not None else None
        payload = st.meter_values_payload(conn.id, [meter_value(st.clock.now(), values)], tx_id)
        st.send("MeterValues", lambda: payload)

    def _booted(self, result: Any) -> None:
        """A triggered BootNotification is no reboot: only the clock is taken."""
        current = getattr(result, "current_time", None)
        if current:
            self.station.sync_clock(current)
