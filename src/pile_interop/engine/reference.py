"""The embedded reference SUTs as a campaign meets them, and a profile's reference run.

A reference SUT is the suite's own implementation of the side under test, run in-process for
``--against reference`` (and the self-tests, mutants and benchmarks): each OCPP version's
dialect knows how to build its station and its CSMS.
"""

from __future__ import annotations

from typing import Any

from pile_interop.core.config import (
    ContentRoot,
    Device,
    Profile,
    check_known,
    find_root,
    load_device,
    load_profile,
)
from pile_interop.ocpp.dialects import for_device
from pile_interop.scenario.loader import CaseLibrary
from pile_interop.scenario.model import Scenario
from pile_interop.security.station_tls import StationTls


def reference_station(url: str, device: Device, time_scale: float, cls: Any = None) -> Any:
    """The embedded reference station for ``device`` (or a subclass ``cls`` of it), of the
    device's OCPP version."""
    return for_device(device.ocpp).reference_station(url, device, time_scale, cls)


def reference_csms(device: Device, tls: StationTls, cls: Any = None) -> Any:
    """The embedded reference CSMS (or a subclass ``cls`` of it) of the device's OCPP version
    that knows ``device``: its id tokens, its password, and with security profile 2/3 serving
    wss from the run's PKI (requiring a client certificate whose CN is the station identity
    when the device declares ``client_certificate``)."""
    return for_device(device.ocpp).reference_csms(device, tls, cls)


def load_reference_run(
    profile_id: str, root: ContentRoot | None = None
) -> tuple[Profile, list[Scenario], Device]:
    """A profile, its cases in order, and its reference device (for self-tests, benchmarks)."""
    root = root or find_root()
    profile = load_profile(root.profile_path(profile_id))
    library = CaseLibrary(*root.case_folders)
    check_known(profile, set(library.ids()))
    device = load_device(root.resolve(profile.reference_device or ""))
    return profile, [library.get(c) for c in profile.cases], device
