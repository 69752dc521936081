"""The target resolver: which SUT a run talks to and how, for the CLI and the pytest plugin.

Both entry points describe what the user asked for as a :class:`TargetRequest` — the CLI from
``--against reference`` / ``--listen HOST:PORT`` / ``--connect URL`` / ``--can SPEC``, the
plugin from ``--pile-against reference|listen:HOST:PORT|connect:URL|can:SPEC``
(:func:`parse_pile_against`) — and :func:`resolve_target` turns it into the device and the
:class:`~pile_interop.engine.base.Target`; :func:`make_campaign` then chooses the campaign
class by the profile's SUT. Messages name each entry point's own options (:class:`Spelling`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from pile_interop.core.config import ContentRoot, Device, Profile, load_device, run_token_problems
from pile_interop.core.errors import UsageError
from pile_interop.engine.base import CampaignBase, Target
from pile_interop.engine.can_campaign import GbtCampaign
from pile_interop.engine.csms_campaign import CsmsCampaign
from pile_interop.engine.station_campaign import StationCampaign
from pile_interop.ocpp.client import check_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TargetRequest:
    """What the user asked for: at most one of ``against`` (``"reference"``), ``listen``,
    ``connect`` and ``can``, or none (a CSMS descriptor's ``url``)."""

    against: str | None = None
    listen: tuple[str, int] | None = None
    connect: str | None = None  # a CSMS under test: ws[s]://host:port/path
    can: str | None = None  # a GB/T 27930 bench's CAN bus spec
    device: str | None = None  # device descriptor YAML
    time_scale: float | None = None
    #: the seed of the forms the suite varies (None: a new one each run)
    seed: int | None = None


@dataclass(frozen=True)
class Spelling:
    """How an entry point names its options in messages."""

    listen: str
    connect: str
    connect_url: str
    can: str
    device: str
    missing: str  # no target at all


CLI_SPELLING = Spelling(
    listen="--listen",
    connect="--connect",
    connect_url="--connect URL",
    can="--can",
    device="--device",
    missing="one of the arguments --against --listen --connect --can is required",
)
PYTEST_SPELLING = Spelling(
    listen="--pile-against listen:…",
    connect="--pile-against connect:…",
    connect_url="--pile-against connect:URL",
    can="--pile-against can:…",
    device="--pile-device",
    missing="--pile-against: expected reference, listen:HOST:PORT, connect:URL or can:SPEC",
)


@dataclass(frozen=True)
class Resolved:
    """A resolved target: the device descriptor, the target, and where the SUT is."""

    device: Device
    target: Target
    url: str | None = None  # connect: the CSMS URL (else the descriptor's)
    bus_spec: str | None = None  # can: the bus (else the descriptor's gbt27930.can)


def parse_host_port(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (an empty host is every interface); ``ValueError`` naming ``text``."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return host or "0.0.0.0", int(port)


def parse_pile_against(
    text: str,
    *,
    device: str | None = None,
    time_scale: float | None = None,
    seed: int | None = None,
) -> TargetRequest:
    """The request of the plugin's ``--pile-against reference|listen:HOST:PORT|connect:URL|
    can:SPEC`` (with ``--pile-device``, ``--pile-time-scale`` and ``--pile-seed``)."""
    kind, _, rest = text.partition(":")
    common = TargetRequest(device=device, time_scale=time_scale, seed=seed)
    if text == "reference":
        return replace(common, against="reference")
    if kind == "listen" and rest:
        try:
            listen = parse_host_port(rest)
        except ValueError as exc:
            raise UsageError(f"--pile-against {text}: {exc}") from None
        return replace(common, listen=listen)
    if kind == "connect" and rest:
        return replace(common, connect=rest)
    if kind == "can" and rest:
        return replace(common, can=rest)
    raise UsageError(
        f"--pile-against {text}: expected reference, listen:HOST:PORT, connect:URL or can:SPEC"
    )


def _device(
    request: TargetRequest, root: ContentRoot, profile: Profile, spelling: Spelling
) -> Device:
    if request.device:
        return load_device(request.device)
    needs = f"needs {spelling.device} FILE"
    if request.listen:
        raise UsageError(f"{spelling.listen} {needs} (station identity, actuator, features)")
    if request.connect:
        raise UsageError(f"{spelling.connect} {needs} (station identity, tokens, actuator)")
    if request.can:
        raise UsageError(f"{spelling.can} {needs} (the SUT's role, variant, actuator)")
    if not profile.reference_device:
        raise UsageError(f"profile {profile.id} names no reference device; pass {spelling.device}")
    return load_device(root.resolve(profile.reference_device))


def _check_csms_url(request: TargetRequest, device: Device, spelling: Spelling) -> None:
    """A malformed CSMS URL (template) is exit 2 naming the option or the descriptor field."""
    url = request.connect or device.url
    problem = check_url(url) if url else None
    if problem:
        where = spelling.connect if request.connect else f"{spelling.device} {device.path}: url"
        raise UsageError(f"{where}: {problem}")


def resolve_target(
    request: TargetRequest,
    profile: Profile,
    root: ContentRoot,
    spelling: Spelling = CLI_SPELLING,
) -> Resolved:
    """The device and target of ``request`` for ``profile``; :class:`UsageError` (exit 2)
    when they do not fit. Without a target a CSMS profile connects to its descriptor's
    ``url`` and a GB/T 27930 profile to its descriptor's bus."""
    targeted = request.against or request.listen or request.connect or request.can
    if not targeted and not (profile.sut == "csms" and request.device):
        raise UsageError(spelling.missing)
    device = _device(request, root, profile, spelling)
    if request.against:
        target = Target(
            "reference",
            time_scale=request.time_scale or profile.reference_time_scale,
            floor=profile.reference_floor_s,
        )
    elif request.connect or (profile.sut == "csms" and not request.listen):
        if profile.sut != "csms":
            raise UsageError(
                f"{spelling.connect}: profile {profile.id} tests a {profile.sut}, not a CSMS"
            )
        target = Target("connect", time_scale=request.time_scale or 1.0, floor=0.0)
        _check_csms_url(request, device, spelling)
    elif request.can or (profile.gbt27930 and not request.listen):
        target = Target("can", time_scale=request.time_scale or 1.0, floor=0.0)
    else:
        if profile.gbt27930:
            raise UsageError(
                f"profile {profile.id} is GB/T 27930: use {spelling.can}, not {spelling.listen}"
            )
        assert request.listen is not None  # no target at all was refused above
        host, port = request.listen
        # a simulator started with --time-scale (serve-reference) runs its clock scaled too
        scale = request.time_scale or 1.0
        floor = profile.reference_floor_s if scale != 1.0 else 0.0
        target = Target("listen", host=host, port=port, time_scale=scale, floor=floor)
    if profile.sut == "csms" and request.listen:
        raise UsageError(
            f"profile {profile.id} tests a CSMS: use {spelling.connect_url}, not {spelling.listen}"
        )
    target.seed = request.seed
    return Resolved(device, target, url=request.connect, bus_spec=request.can)


def make_campaign(
    profile: Profile,
    device: Device,
    target: Target,
    *,
    strict: bool = False,
    actuator: Any = None,
    bus_spec: str | None = None,
    sut_class: type | None = None,
    url: str | None = None,
) -> CampaignBase:
    """The campaign for ``profile``'s protocol and SUT role."""
    for problem in run_token_problems(profile, device):
        log.warning("%s: %s (as %s sends them)", device.path, problem, profile.id)
    if profile.gbt27930:
        return GbtCampaign(
            profile,
            device,
            target,
            strict=strict,
            actuator=actuator,
            bus_spec=bus_spec,
            sut_class=sut_class,
        )
    if profile.sut == "csms":
        return CsmsCampaign(
            profile, device, target, strict=strict, actuator=actuator, url=url, sut_class=sut_class
        )
    return StationCampaign(profile, device, target, actuator=actuator, strict=strict)


def campaign_for(profile: Profile, resolved: Resolved, *, strict: bool = False) -> CampaignBase:
    """The campaign of a resolved target (what the CLI and the plugin run)."""
    return make_campaign(
        profile,
        resolved.device,
        resolved.target,
        strict=strict,
        bus_spec=resolved.bus_spec,
        url=resolved.url,
    )
