"""The seam between the reference OCPP 1.6J station and the link of its connection.

:class:`~pile_interop.ocpp.v16.reference.station_link.StationLink` routes every CSMS-initiated
action to the station through a :class:`LinkPort` (the reference station implements it); it
never imports the station, so the link, the core and the station stay free of import cycles.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol


class SmartChargingLink(Protocol):
    """The station's Smart Charging component, as the link reaches it."""

    async def handle_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any]
    ) -> Any: ...

    async def handle_clear_charging_profile(
        self,
        id: int | None,
        connector_id: int | None,
        purpose: str | None,
        stack_level: int | None,
    ) -> Any: ...

    async def handle_get_composite_schedule(
        self, connector_id: int, duration: int, unit: str | None
    ) -> Any: ...

    async def handle_remote_start_transaction(
        self, id_tag: str, connector_id: int | None, charging_profile: dict[str, Any] | None
    ) -> Any: ...


class LinkPort(Protocol):
    """What the link of one connection needs from the station."""

    station_id: str
    log: logging.Logger
    smart_charging: SmartChargingLink

    def ignores_incoming_calls(self) -> bool:
        """§4.2: while Rejected the station answers no CSMS-initiated message."""
        ...

    def run_after_reply(self) -> None:
        """Start the follow-up work deferred while the response was being written."""
        ...

    async def handle_change_availability(self, connector_id: int, type: str) -> Any: ...

    async def handle_change_configuration(self, key: str, value: str) -> Any: ...

    async def handle_clear_cache(self) -> Any: ...

    async def handle_data_transfer(
        self, vendor_id: str, message_id: str | None, data: str | None
    ) -> Any: ...

    async def handle_get_configuration(self, keys: list[str] | None) -> Any: ...

    async def handle_remote_start_transaction(
        self, id_tag: str, connector_id: int | None, charging_profile: dict[str, Any] | None
    ) -> Any: ...

    async def handle_remote_stop_transaction(self, transaction_id: int) -> Any: ...

    async def handle_reset(self, type: str) -> Any: ...

    async def handle_unlock_connector(self, connector_id: int) -> Any: ...
