"""The OCPP 2.0.1 dialect (also spoken with a device that says ``ocpp: "2.1"``, over the
``ocpp2.1`` subprotocol): what a campaign builds for a 2.0.1 profile (registered on import)."""

from __future__ import annotations

from typing import Any

from pile_interop.core.config import Device
from pile_interop.ocpp.dialects import Dialect, firmware, passwords, register
from pile_interop.ocpp.versions import by_name


def _mock_csms(tokens: dict[str, str], params: dict[str, Any]) -> Any:
    from pile_interop.ocpp.v201.mock_csms import MockCsms

    return MockCsms(
        tokens, heartbeat_interval=int(params.get("heartbeat_interval", 60)), params=params
    )


def _station_role(mock_csms: Any, security: Any) -> Any:
    from pile_interop.ocpp.v201.station_role import StationUnderTest

    return StationUnderTest(mock_csms, security)


def _mock_station(device: Device) -> Any:
    from pile_interop.ocpp.v201.mock_station import MockStation

    return MockStation(
        device.connectors,
        basic_auth=device.basic_auth_password is not None,
        station_id=device.station_id,
    )


def _csms_role(mock_station: Any, link: Any, connectors: int) -> Any:
    from pile_interop.ocpp.v201.csms_role import CsmsUnderTest

    return CsmsUnderTest(mock_station, link, connectors)


def _station_class() -> type:
    from pile_interop.ocpp.v201.reference.station import ReferenceStation

    return ReferenceStation


def _csms_class() -> type:
    from pile_interop.ocpp.v201.reference.csms import ReferenceCsms

    return ReferenceCsms


def _reference_station(url: str, device: Device, time_scale: float, cls: Any) -> Any:
    station_cls: Any = cls or _station_class()
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


def _reference_csms(device: Device, tls: Any, cls: Any) -> Any:
    csms_cls: Any = _csms_class()
    return (cls or csms_cls)(
        id_tags=csms_cls.id_tags_from(device.tokens),
        passwords=passwords(device),
        ssl=tls.reference_server_context(),
        client_cn_required=tls.client_certificates,
        pki=tls.pki,
    )


def _standalone_station(*args: Any) -> Any:
    from pile_interop.ocpp.v201.serve import standalone_station

    return standalone_station(*args)


def _standalone_csms(*args: Any) -> Any:
    from pile_interop.ocpp.v201.serve import standalone_csms

    return standalone_csms(*args)


DIALECT = register(
    Dialect(
        name="2.0.1",
        devices=frozenset({"2.0.1", "2.1"}),
        mock_csms=_mock_csms,
        station_role=_station_role,
        mock_station=_mock_station,
        csms_role=_csms_role,
        reference_station=_reference_station,
        reference_csms=_reference_csms,
        standalone_station=_standalone_station,
        standalone_csms=_standalone_csms,
    )
)
