"""SetNetworkProfile at the reference 2.0.1 station (B09; A05 / A_22: no security profile
downgrade): which connection profiles it stores (used once NetworkConfigurationPriority names
them and the station resets).

:class:`NetworkHandlers` holds the default behaviour; the decision goes through the station
(``ReferenceStation``, typed as :class:`NetworkStation`), so that a mutant overriding the hook
there changes it.
"""

from __future__ import annotations

from typing import Any, Protocol

from ocpp.charge_point import snake_to_camel_case
from ocpp.v201 import call, call_result
from ocpp.v201.enums import SetNetworkProfileStatusEnumType

from pile_interop.ocpp.v201.reference.station_model import NETWORK_SLOTS


class NetworkStation(Protocol):
    """What SetNetworkProfile needs from the station."""

    network_profiles: dict[int, dict[str, Any]]

    def security_level(self) -> int: ...
    # -- hook --
    def network_profile_status(self, slot: int, data: dict[str, Any]) -> str: ...


class NetworkHandlers:
    """The SetNetworkProfile request."""

    def __init__(self, station: NetworkStation) -> None:
        self.st = station

    async def set_network_profile(
        self, req: call.SetNetworkProfile
    ) -> call_result.SetNetworkProfile:
        st = self.st
        data = snake_to_camel_case(req.connection_data)
        status = st.network_profile_status(req.configuration_slot, data)
        if status == SetNetworkProfileStatusEnumType.accepted:
            st.network_profiles[req.configuration_slot] = data
        return call_result.SetNetworkProfile(status=status)

    def network_profile_status(self, slot: int, data: dict[str, Any]) -> str:
        if str(slot) not in NETWORK_SLOTS:
            return SetNetworkProfileStatusEnumType.rejected
        if data.get("ocppTransport") != "JSON":
            return SetNetworkProfileStatusEnumType.rejected
        level = int(data.get("securityProfile", 0))
        url = str(data.get("ocppCsmsUrl", ""))
        if level not in (1, 2, 3) or level < self.st.security_level():
            return SetNetworkProfileStatusEnumType.rejected
        if not url.startswith("wss://" if level >= 2 else ("ws://", "wss://")):
            return SetNetworkProfileStatusEnumType.rejected
        return SetNetworkProfileStatusEnumType.accepted
