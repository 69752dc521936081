"""The OCPP 2.0.1 dialect (also spoken with a device that says ``ocpp: "2.1"``, over the
``ocpp2.1`` subprotocol): what a campaign builds for a 2.0.1 profile (registered on import)."""

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
from pile_interop.ocpp.versions import by_name


def _mock_csms(tokens: dict[str, str], params: dict[str, Any]) -> Any:
    from pile_interop.ocpp.v201.mock_csms import MockCsms

    return MockCsms(
        tokens, heartbeat_interval=int(params.get("heartbeat_interval", 60)), params=params
    )


def _mock_station(device: Device) -> Any:
    from pile_interop.ocpp.v201.mock_station import MockStation

    return MockStation(
        device.connectors,
        basic_auth=device.basic_auth_password is not None,
        station_id=device.station_id,
    )


def _reference_station(url: str, device: Device, time_scale: float, cls: Any) -> Any:
    from pile_interop.ocpp.v201.reference.station import ReferenceStation

    station_cls: Any = cls or ReferenceStation
    return station_cls(
        url,
        device.station_id,
        evses=device.connectors,
        time_scale=time_scale,
        password=device.basic_auth_password,
        ssl=station_cls.tls_context(device.tls) if url.startswith("wss://") else None,
        vendor=device.vendor or "pile-interop",
        model=device.model or "RefStation201",
        serial=device.serial or "REF-201-0001",
        firmware=device.firmware or firmware(),
        fixed_cable=bool(device.features.get("fixed_cable", False)),
        features=dict(device.features),
        subprotocol=by_name(device.ocpp).subprotocol,
        security_profile=device.security_profile,
    )


DIALECT = register(
    Dialect(
        name="2.0.1",
        devices=frozenset({"2.0.1", "2.1"}),
        mock_csms=_mock_csms,
        station_role=lazy("pile_interop.ocpp.v201.station_role:StationUnderTest"),
        mock_station=_mock_station,
        csms_role=lazy("pile_interop.ocpp.v201.csms_role:CsmsUnderTest"),
        reference_station=_reference_station,
        reference_csms=reference_csms_factory(
            "pile_interop.ocpp.v201.reference.csms:ReferenceCsms"
        ),
        standalone_station=lazy("pile_interop.ocpp.v201.serve:standalone_station"),
        standalone_csms=lazy("pile_interop.ocpp.v201.serve:standalone_csms"),
        invariants=lazy("pile_interop.ocpp.v201.invariants:invariants"),
    )
)
