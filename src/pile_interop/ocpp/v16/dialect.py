"""The OCPP 1.6J dialect: what a campaign builds for a 1.6 profile (registered on import)."""

from __future__ import annotations

from typing import Any

from pile_interop.core.config import Device
from pile_interop.ocpp.dialects import (
    Dialect,
    firmware,
    lazy,
    reference_csms_factory,
    register,
)


def _mock_csms(tokens: dict[str, str], params: dict[str, Any]) -> Any:
    from pile_interop.ocpp.v16.mock_csms import MockCsms

    return MockCsms(tokens, heartbeat_interval=int(params.get("heartbeat_interval", 60)))


def _mock_station(device: Device) -> Any:
    from pile_interop.ocpp.v16.mock_station import MockStation

    return MockStation(device.connectors, basic_auth=device.basic_auth_password is not None)


def _reference_station(url: str, device: Device, time_scale: float, cls: Any) -> Any:
    from pile_interop.ocpp.v16.reference.station import ReferenceStation

    station_cls: Any = cls or ReferenceStation
    return station_cls(
        url,
        device.station_id,
        connectors=device.connectors,
        time_scale=time_scale,
        password=device.basic_auth_password,
        ssl=station_cls.tls_context(device.tls) if url.startswith("wss://") else None,
        vendor=device.vendor or "pile-interop",
        model=device.model or "RefStation16",
        serial=device.serial or "REF-0001",
        firmware=device.firmware or firmware(),
        fixed_cable=bool(device.features.get("fixed_cable", False)),
        features=dict(device.features),
    )


DIALECT = register(
    Dialect(
        name="1.6",
        devices=frozenset({"1.6"}),
        mock_csms=_mock_csms,
        station_role=lazy("pile_interop.ocpp.v16.station_role:StationUnderTest"),
        mock_station=_mock_station,
        csms_role=lazy("pile_interop.ocpp.csms_role:CsmsUnderTest"),
        reference_station=_reference_station,
        reference_csms=reference_csms_factory("pile_interop.ocpp.v16.reference.csms:ReferenceCsms"),
        standalone_station=lazy("pile_interop.ocpp.v16.serve:standalone_station"),
        standalone_csms=lazy("pile_interop.ocpp.v16.serve:standalone_csms"),
        invariants=lazy("pile_interop.ocpp.v16.invariants:invariants"),
    )
)
