"""One websocket connection of the reference OCPP 1.6J station, on top of ``ocpp.v16.ChargePoint``.

The link only routes: every CSMS-initiated Core action goes to the station's ``handle_*``
method (which mutants override), the Smart Charging ones (and RemoteStartTransaction, whose
chargingProfile is Smart Charging's) to the station's ``smart_charging`` component. Actions
of profiles the station does not support have no handler:
:class:`~pile_interop.ocpp.v16.reference.rpc.Rpc` answers them NotSupported, and unknown
actions NotImplemented (OCPP-J 1.6 §4.2.3).

Follow-up work of a handler (e.g. StopTransaction.req after RemoteStopTransaction.conf) is
deferred by the station and started here only once the response frame has been written, so
the conf always precedes the CALLs it causes on the wire.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint
from ocpp.v16.enums import Action

from pile_interop.ocpp.v16.reference.link_optional import OptionalRoutes
from pile_interop.ocpp.v16.reference.rpc import Rpc
from pile_interop.ocpp.v16.reference.station_port import LinkPort

logger = logging.getLogger(__name__)


def is_call_frame(raw: str | bytes) -> bool:
    """Whether a raw OCPP-J frame is a CALL (message type 2)."""
    try:
        frame = json.loads(raw)
    except (TypeError, ValueError):
        return False
    return isinstance(frame, list) and bool(frame) and frame[0] == 2


class StationLink(Rpc, OptionalRoutes, ChargePoint):
    """The ``ocpp`` ChargePoint of one connection; all behaviour lives in the station."""

    def __init__(self, station: LinkPort, connection: Any, *, response_timeout: float) -> None:
        super().__init__(
            station.station_id,
            connection,
            response_timeout=response_timeout,
            logger=station.log,
        )
        self._station = station
        self.configure_rpc(station)

    async def route_message(self, raw_msg: str) -> None:
        # §4.2: "While Rejected, the Charge Point SHALL NOT respond to any Central System
        # initiated message."
        if self._station.ignores_incoming_calls() and is_call_frame(raw_msg):
            self._station.log.info("%s: registration Rejected, not answering %s", self.id, raw_msg)
            return
        await super().route_message(raw_msg)
        self._station.run_after_reply()

    async def send_call(self, payload: Any, **kwargs: Any) -> Any:
        """``call`` (the sender of the station's outbox)."""
        return await self.call(payload, **kwargs)

    @on(Action.change_availability)
    async def _on_change_availability(self, connector_id: int, type: str, **_: Any) -> Any:
        return await self._station.handle_change_availability(connector_id, type)

    @on(Action.change_configuration)
    async def _on_change_configuration(self, key: str, value: str, **_: Any) -> Any:
        return await self._station.handle_change_configuration(key, value)

    @on(Action.clear_cache)
    async def _on_clear_cache(self, **_: Any) -> Any:
        return await self._station.handle_clear_cache()

    @on(Action.data_transfer)
    async def _on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None, **_: Any
    ) -> Any:
        return await self._station.handle_data_transfer(vendor_id, message_id, data)

    @on(Action.get_configuration)
    async def _on_get_configuration(self, key: list[str] | None = None, **_: Any) -> Any:
        return await self._station.handle_get_configuration(key)

    @on(Action.remote_start_transaction)
    async def _on_remote_start_transaction(
        self,
        id_tag: str,
        connector_id: int | None = None,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        # through Smart Charging: it checks and keeps the chargingProfile (§5.11)
        return await self._station.smart_charging.handle_remote_start_transaction(
            id_tag, connector_id, charging_profile
        )

    @on(Action.remote_stop_transaction)
    async def _on_remote_stop_transaction(self, transaction_id: int, **_: Any) -> Any:
        return await self._station.handle_remote_stop_transaction(transaction_id)

    @on(Action.reset)
    async def _on_reset(self, type: str, **_: Any) -> Any:
        return await self._station.handle_reset(type)

    @on(Action.unlock_connector)
    async def _on_unlock_connector(self, connector_id: int, **_: Any) -> Any:
        return await self._station.handle_unlock_connector(connector_id)

    @on(Action.set_charging_profile)
    async def _on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> Any:
        return await self._station.smart_charging.handle_set_charging_profile(
            connector_id, cs_charging_profiles
        )

    @on(Action.clear_charging_profile)
    async def _on_clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
        **_: Any,
    ) -> Any:
        return await self._station.smart_charging.handle_clear_charging_profile(
            id, connector_id, charging_profile_purpose, stack_level
        )

    @on(Action.get_composite_schedule)
    async def _on_get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None, **_: Any
    ) -> Any:
        return await self._station.smart_charging.handle_get_composite_schedule(
            connector_id, duration, charging_rate_unit
        )
