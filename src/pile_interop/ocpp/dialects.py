"""What a campaign needs per OCPP version: the registry of version dialects.

A :class:`Dialect` names the mock CSMS and the mock station the suite plays, the two roles
(how a case reaches its before-state) and the two reference SUTs. Each version package
(``ocpp/v16``, ``ocpp/v201`` …) defines its dialect in its ``dialect`` module and registers it
here; this module finds the version packages by their folder (``ocpp/v*``) and never imports
them by name, so adding OCPP 2.1 is adding one folder. A 2.0.1 profile also runs against a
device descriptor that says ``ocpp: "2.1"`` over the ``ocpp2.1`` subprotocol, its frames
checked with the 2.1 schemas (the 2.0.1 dialect lists 2.1 among its devices).
"""

from __future__ import annotations

import importlib
import pkgutil
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
    #: (csms url, station id, connectors, time scale, password) → the standalone station
    #: (``serve-reference station``: a ``pile_interop.ocpp.serve.Standalone``)
    standalone_station: Callable[[str, str, int, float, str | None], Any]
    #: ((host, port), id tags, Basic-auth passwords) → the standalone CSMS
    standalone_csms: Callable[[tuple[str, int], dict[str, str], dict[str, str]], Any]
    #: () → the run-wide invariants of the version (``ocpp.invariants.Invariant`` classes,
    #: the shared ones included)
    invariants: Callable[[], list[Any]] = list


_REGISTRY: dict[str, Dialect] = {}


def register(dialect: Dialect) -> Dialect:
    """Called by a version package's ``dialect`` module when it is imported."""
    _REGISTRY[dialect.name] = dialect
    for device in dialect.devices:
        _REGISTRY.setdefault(device, dialect)
    return dialect


def _discover() -> dict[str, Dialect]:
    if not _REGISTRY:
        package = importlib.import_module(__package__ or "pile_interop.ocpp")
        for info in pkgutil.iter_modules(package.__path__):
            if info.ispkg and info.name.startswith("v") and info.name[1:].isdigit():
                importlib.import_module(f"{package.__name__}.{info.name}.dialect")
    return _REGISTRY


def known() -> list[str]:
    """The OCPP versions some dialect speaks."""
    return sorted(_discover())


def for_device(ocpp: str) -> Dialect:
    try:
        return _discover()[ocpp]
    except KeyError:
        raise ValueError(f"no dialect for OCPP {ocpp!r} (known: {known()})") from None


def for_run(profile_ocpp: str, device_ocpp: str) -> tuple[Dialect, OcppVersion] | None:
    """The dialect of a profile and the version spoken on the wire with the device, or
    None when the device cannot run the profile (a 1.6 station and a 2.0.1 profile)."""
    dialect = _discover().get(profile_ocpp)
    if dialect is None or device_ocpp not in dialect.devices:
        return None
    return dialect, by_name(device_ocpp)


def lazy(target: str) -> Callable[..., Any]:
    """``"package.module:name"`` → a callable that imports ``name`` when first called and
    calls it (a dialect names its classes without importing them at registration)."""
    module, _, name = target.partition(":")

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__qualname__ = call.__name__ = name
    return call


def reference_csms_factory(target: str) -> Callable[[Device, Any, Any], Any]:
    """The ``reference_csms`` of a dialect whose reference CSMS is ``target``
    (``"module:Class"``): built the same way in every version."""
    module, _, name = target.partition(":")

    def build(device: Device, tls: Any, cls: Any) -> Any:
        csms_cls: Any = getattr(importlib.import_module(module), name)
        return (cls or csms_cls)(
            id_tags=csms_cls.id_tags_from(device.tokens),
            passwords=passwords(device),
            ssl=tls.reference_server_context(),
            client_cn_required=tls.client_certificates,
            pki=tls.pki,
        )

    return build


def firmware() -> str:
    """The reference SUTs' default firmware version: the suite's own."""
    from pile_interop import __version__

    return __version__


def passwords(device: Device) -> dict[str, str]:
    """A reference CSMS's Basic-auth table for the device's station."""
    password = device.basic_auth_password
    return {device.station_id: password} if password else {}
