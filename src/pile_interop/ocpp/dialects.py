"""What a campaign needs per OCPP version: the thin adapter between the version-neutral engine
(session, runner, campaigns, reports) and the version's messages.

A :class:`Dialect` names the mock CSMS and the mock station the suite plays, the two roles
(how a case reaches its before-state) and the two reference SUTs. OCPP 2.1 speaks the 2.0.1
dialect where the same messages apply: a 2.0.1 profile runs against a device descriptor that
says ``ocpp: "2.1"`` over the ``ocpp2.1`` subprotocol, its frames checked with the 2.1 schemas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pile_interop.core.config import Device
from pile_interop.ocpp.versions import OcppVersion, by_name


@dataclass(frozen=True)
class Dialect:
    name: str
    #: device descriptors' ``ocpp`` versions a profile of this dialect runs against
    devices: frozenset[str]
    #: (tokens, params) → the mock CSMS's default answers (SUT = station)
    mock_csms: Callable[[dict[str, str], dict[str, Any]], Any]
    #: (mock CSMS, CsmsSecurity) → the role bringing a station to its before-state
    station_role: Callable[[Any, Any], Any]
    #: device → the mock station's default answers (SUT = CSMS)
    mock_station: Callable[[Device], Any]
    #: (mock station, link, connectors) → the role bringing a CSMS to its before-state
    csms_role: Callable[[Any, Any, int], Any]
    #: (csms url, device, time scale, subclass or None) → the reference station
    reference_station: Callable[[str, Device, float, Any], Any]
    #: (device, StationTls, subclass or None) → the reference CSMS
    reference_csms: Callable[[Device, Any, Any], Any]


def _firmware() -> str:
    from pile_interop import __version__

    return __version__


# -- OCPP 1.6 -----------------------------------------------------------------------------


def _mock_csms16(tokens: dict[str, str], params: dict[str, Any]) -> Any:
    from pile_interop.ocpp.csms16 import Csms16Responder

    return Csms16Responder(tokens, heartbeat_interval=int(params.get("heartbeat_interval", 60)))


def _station_role16(responder: Any, security: Any) -> Any:
    from pile_interop.roles.ocpp16_cs import StationUnderTest

    return StationUnderTest(responder, security)


def _mock_station16(device: Device) -> Any:
    from pile_interop.ocpp.cs16 import Station16Responder

    return Station16Responder(device.connectors, basic_auth=device.basic_auth_password is not None)


def _csms_role16(responder: Any, link: Any, connectors: int) -> Any:
    from pile_interop.roles.ocpp16_csms import CsmsUnderTest

    return CsmsUnderTest(responder, link, connectors)


def _reference_station16(url: str, device: Device, time_scale: float, cls: Any) -> Any:
    from pile_interop.reference.station16 import ReferenceStation16

    station_cls = cls or ReferenceStation16
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
        firmware=device.firmware or _firmware(),
        fixed_cable=bool(device.features.get("fixed_cable", False)),
    )


def _reference_csms16(device: Device, tls: Any, cls: Any) -> Any:
    from pile_interop.reference.csms16 import ReferenceCsms16

    return (cls or ReferenceCsms16)(
        id_tags=ReferenceCsms16.id_tags_from(device.tokens),
        passwords=_passwords(device),
        ssl=tls.reference_server_context(),
        client_cn_required=tls.client_certificates,
        pki=tls.pki,
    )


def _passwords(device: Device) -> dict[str, str]:
    password = device.basic_auth_password
    return {device.station_id: password} if password else {}


# -- OCPP 2.0.1 (and 2.1) -----------------------------------------------------------------


def _mock_csms201(tokens: dict[str, str], params: dict[str, Any]) -> Any:
    from pile_interop.ocpp.csms201 import Csms201Responder

    return Csms201Responder(
        tokens, heartbeat_interval=int(params.get("heartbeat_interval", 60)), params=params
    )


def _station_role201(responder: Any, security: Any) -> Any:
    from pile_interop.roles.ocpp201_cs import Station201UnderTest

    return Station201UnderTest(responder, security)


def _mock_station201(device: Device) -> Any:
    from pile_interop.ocpp.cs201 import Station201Responder

    return Station201Responder(
        device.connectors,
        basic_auth=device.basic_auth_password is not None,
        station_id=device.station_id,
    )


def _csms_role201(responder: Any, link: Any, connectors: int) -> Any:
    from pile_interop.roles.ocpp201_csms import Csms201UnderTest

    return Csms201UnderTest(responder, link, connectors)


def _reference_station201(url: str, device: Device, time_scale: float, cls: Any) -> Any:
    from pile_interop.reference.station201 import ReferenceStation201

    station_cls = cls or ReferenceStation201
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
        firmware=device.firmware or _firmware(),
        fixed_cable=bool(device.features.get("fixed_cable", False)),
        features=dict(device.features),
        subprotocol=by_name(device.ocpp).subprotocol,
        security_profile=device.security_profile,
    )


def _reference_csms201(device: Device, tls: Any, cls: Any) -> Any:
    from pile_interop.reference.csms201 import ReferenceCsms201

    return (cls or ReferenceCsms201)(
        id_tags=ReferenceCsms201.id_tags_from(device.tokens),
        passwords=_passwords(device),
        ssl=tls.reference_server_context(),
        client_cn_required=tls.client_certificates,
        pki=tls.pki,
    )


V16 = Dialect(
    name="1.6",
    devices=frozenset({"1.6"}),
    mock_csms=_mock_csms16,
    station_role=_station_role16,
    mock_station=_mock_station16,
    csms_role=_csms_role16,
    reference_station=_reference_station16,
    reference_csms=_reference_csms16,
)
V201 = Dialect(
    name="2.0.1",
    devices=frozenset({"2.0.1", "2.1"}),
    mock_csms=_mock_csms201,
    station_role=_station_role201,
    mock_station=_mock_station201,
    csms_role=_csms_role201,
    reference_station=_reference_station201,
    reference_csms=_reference_csms201,
)
#: profile OCPP version → dialect
DIALECTS = {"1.6": V16, "2.0.1": V201, "2.1": V201}


def for_device(ocpp: str) -> Dialect:
    try:
        return DIALECTS[ocpp]
    except KeyError:
        raise ValueError(f"no dialect for OCPP {ocpp!r} (known: {sorted(DIALECTS)})") from None


def for_run(profile_ocpp: str, device_ocpp: str) -> tuple[Dialect, OcppVersion] | None:
    """The dialect of a profile and the version spoken on the wire with the device, or
    None when the device cannot run the profile (a 1.6 station and a 2.0.1 profile)."""
    dialect = DIALECTS.get(profile_ocpp)
    if dialect is None or device_ocpp not in dialect.devices:
        return None
    return dialect, by_name(device_ocpp)
