"""The routes of the optional feature profiles Local Auth List Management, Reservation and
Remote Trigger on the reference OCPP 1.6J station's link: a mixin of
:class:`~pile_interop.ocpp.v16.reference.station_link.StationLink` that only routes to the
station's ``handle_*`` (a profile that is off answers NotSupported there)."""

from __future__ import annotations

from typing import Any, Protocol

from ocpp.routing import on
from ocpp.v16.enums import Action


class OptionalProfilesPort(Protocol):
    """The station's handlers of these profiles."""

    async def handle_get_local_list_version(self) -> Any: ...
    async def handle_send_local_list(
        self, list_version: int, update_type: str, items: list[dict[str, Any]] | None
    ) -> Any: ...
    async def handle_reserve_now(
        self,
        connector_id: int,
        expiry_date: str,
        id_tag: str,
        reservation_id: int,
        parent_id_tag: str | None,
    ) -> Any: ...
    async def handle_cancel_reservation(self, reservation_id: int) -> Any: ...
    async def handle_trigger_message(
        self, requested_message: str, connector_id: int | None
    ) -> Any: ...


class OptionalRoutes:
    """@on handlers for GetLocalListVersion, SendLocalList, ReserveNow, CancelReservation and
    TriggerMessage."""

    _station: Any

    def _optional(self) -> OptionalProfilesPort:
        station: OptionalProfilesPort = self._station
        return station

    @on(Action.get_local_list_version)
    async def _on_get_local_list_version(self, **_: Any) -> Any:
        return await self._optional().handle_get_local_list_version()

    @on(Action.send_local_list)
    async def _on_send_local_list(
        self,
        list_version: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        return await self._optional().handle_send_local_list(
            list_version, update_type, local_authorization_list
        )

    @on(Action.reserve_now)
    async def _on_reserve_now(
        self,
        connector_id: int,
        expiry_date: str,
        id_tag: str,
        reservation_id: int,
        parent_id_tag: str | None = None,
        **_: Any,
    ) -> Any:
        return await self._optional().handle_reserve_now(
            connector_id, expiry_date, id_tag, reservation_id, parent_id_tag
        )

    @on(Action.cancel_reservation)
    async def _on_cancel_reservation(self, reservation_id: int, **_: Any) -> Any:
        return await self._optional().handle_cancel_reservation(reservation_id)

    @on(Action.trigger_message)
    async def _on_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> Any:
        return await self._optional().handle_trigger_message(requested_message, connector_id)
