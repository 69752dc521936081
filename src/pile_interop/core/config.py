"""Typed configuration: device descriptors (PICS), certification profiles, the content root."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pile_interop.core.errors import ConfigError, UsageError
from pile_interop.core.yamlfile import load_checked

log = logging.getLogger(__name__)

#: Default id tokens when neither the profile nor the device names them.
DEFAULT_TOKENS = {
    "valid": "PI-VALID-01",
    "valid2": "PI-VALID-02",
    "invalid": "PI-INVALID",
    "blocked": "PI-BLOCKED",
    "expired": "PI-EXPIRED",
}
#: ... of an OCPP 2.0.1 profile: ISO14443 UIDs (4 bytes, 8 hex digits), the type the suite
#: sends id tokens as unless ``params.token_type`` says otherwise ("PI" is 50 49 in hex)
DEFAULT_TOKENS_201 = {
    "valid": "5049A101",
    "valid2": "5049A102",
    "invalid": "5049F001",
    "blocked": "5049B001",
    "expired": "5049E001",
}
#: The IdTokenEnumType an OCPP 2.0.1 run sends tokens as when the profile names none.
DEFAULT_TOKEN_TYPE_201 = "ISO14443"


#: Header names (lower case) whose values are credentials.
_CREDENTIAL_HEADER_WORDS = ("auth", "token", "key", "secret", "password", "cookie")


@dataclass(frozen=True)
class ActuatorSpec:
    type: str = "prompt"
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None
    #: actions the bench cannot do: the cases that use one are ``na`` without being asked
    unsupported: tuple[str, ...] = ()


#: Security-profile features a case may ``need``; when the descriptor does not declare them
#: they follow from ``security.profile`` (OCPP 1.6 Security Whitepaper §2).
_SECURITY_FEATURES = {
    "basic_auth": lambda d: d.security_profile in (1, 2) or bool(d.basic_auth_password),
    "tls": lambda d: d.security_profile >= 2,
    "client_certificate": lambda d: d.security_profile == 3,
}


@dataclass(frozen=True)
class TlsFiles:
    """PEM files of the device descriptor's ``security`` section (absolute paths or None).

    The suite as CSMS serves ``server_cert`` / ``server_key`` (signed by ``ca_cert``, the CA
    the station trusts and its client certificates chain to), ``expired_server_cert`` /
    ``expired_server_key`` for the expired-certificate negative; the suite as a station
    presents ``client_cert`` / ``client_key`` and trusts ``ca_cert``."""

    ca_cert: str | None = None
    server_cert: str | None = None
    server_key: str | None = None
    expired_server_cert: str | None = None
    expired_server_key: str | None = None
    client_cert: str | None = None
    client_key: str | None = None


@dataclass(frozen=True)
class Device:
    """A device descriptor: who the SUT is and what it declares it supports."""

    path: str
    role: str
    ocpp: str = ""  # OCPP SUTs
    name: str = ""
    vendor: str = ""
    model: str = ""
    serial: str = ""
    firmware: str = ""
    station_id: str = "PILE-INTEROP-SUT"
    url: str | None = None  # a CSMS SUT: the endpoint the suite connects to as a station
    #: a CSMS SUT: real seconds it needs after a close before it accepts a reconnect
    reconnect_pause_s: float = 0.0
    connectors: int = 1
    actuator: ActuatorSpec = field(default_factory=ActuatorSpec)
    security_profile: int = 0
    basic_auth_password: str | None = None
    tls: TlsFiles = field(default_factory=TlsFiles)
    features: dict[str, bool] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    token_type: str = ""  # the IdTokenEnumType the tokens are declared as ("": not declared)
    secrets: tuple[str, ...] = ()
    gbt_variant: str = ""  # GB/T 27930 SUTs: 2011, 2015, 2023a
    can: str = ""  # GB/T 27930 SUTs: the python-can bus spec

    def supports(self, feature: str) -> bool | None:
        """True/False when declared, None when the descriptor is silent (the security
        features ``basic_auth``, ``tls``, ``client_certificate`` follow from the profile)."""
        if feature not in self.features and feature in _SECURITY_FEATURES:
            return bool(_SECURITY_FEATURES[feature](self))
        return self.features.get(feature)

    def secret_values(self) -> list[str]:
        """Everything that must never reach a log or a report: the basic-auth password, the
        strings listed under ``secrets:``, and credential headers of the webhook actuator."""
        values = list(self.secrets)
        if self.basic_auth_password:
            values.append(self.basic_auth_password)
        for name, value in self.actuator.headers.items():
            if any(word in name.lower() for word in _CREDENTIAL_HEADER_WORDS):
                values.append(value)
        return values

    def public(self) -> dict[str, Any]:
        """The descriptor as reports show it (no secrets)."""
        return {
            "path": self.path,
            "name": self.name,
            "vendor": self.vendor,
            "model": self.model,
            "serial": self.serial,
            "firmware": self.firmware,
            "role": self.role,
            "ocpp": self.ocpp,
            "station_id": self.station_id,
            **({"url": self.url} if self.url else {}),
            **({"reconnect_pause_s": self.reconnect_pause_s} if self.reconnect_pause_s else {}),
            "connectors": self.connectors,
            "actuator": self.actuator.type,
            "security_profile": self.security_profile,
            "features": dict(self.features),
            **({"gbt27930": self.gbt_variant, "can": self.can} if self.gbt_variant else {}),
        }


def load_device(path: str | Path) -> Device:
    doc = load_checked(path, "pile_interop.core", "device.schema.json", "device descriptor")
    if not isinstance(doc.data, dict):
        raise doc.error("a device descriptor is a mapping")
    d = doc.data
    act = d.get("actuator", {"type": "prompt"})
    sec = d.get("security", {})
    profile = sec.get("profile", 1 if sec.get("basic_auth_password") else 0)
    if profile in (1, 2) and not sec.get("basic_auth_password"):
        raise doc.error(
            f"security profile {profile} needs security.basic_auth_password", "security"
        )
    here = Path(path).resolve().parent

    def file(key: str) -> str | None:  # relative to the descriptor
        return str(here / sec[key]) if sec.get(key) else None

    pause = d.get("reconnect_pause_s", 0.0)
    if not math.isfinite(pause):  # .nan passes the schema's bounds
        raise doc.error(
            f"reconnect_pause_s: {pause} is not a number of seconds", "reconnect_pause_s"
        )
    if "reconnect_pause_s" in d and d["role"] != "csms":
        raise doc.error(
            f"reconnect_pause_s: only a CSMS (role: csms) has it, not a {d['role']}",
            "reconnect_pause_s",
        )
    tokens = {str(k): str(v) for k, v in d.get("tokens", {}).items()}
    token_type = str(d.get("token_type", ""))
    for problem in token_problems(tokens, token_type):
        log.warning("%s: %s", path, problem)
    return Device(
        path=str(path),
        role=d["role"],
        ocpp=d.get("ocpp", ""),
        name=d.get("name", ""),
        vendor=d.get("vendor", ""),
        model=d.get("model", ""),
        serial=d.get("serial", ""),
        firmware=d.get("firmware", ""),
        station_id=d.get("station_id", "PILE-INTEROP-SUT"),
        url=d.get("url"),
        reconnect_pause_s=float(pause),
        connectors=d.get("connectors", 1),
        actuator=ActuatorSpec(
            type=act["type"],
            url=act.get("url"),
            headers=dict(act.get("headers", {})),
            timeout=act.get("timeout"),
            unsupported=tuple(act.get("unsupported", [])),
        ),
        security_profile=profile,
        basic_auth_password=sec.get("basic_auth_password"),
        tls=TlsFiles(**{f: file(f) for f in TlsFiles.__dataclass_fields__}),
        features=dict(d.get("features", {})),
        tokens=tokens,
        token_type=token_type,
        secrets=tuple(d.get("secrets", [])),
        gbt_variant=d.get("gbt27930", {}).get("variant", "2015" if "gbt27930" in d else ""),
        can=d.get("gbt27930", {}).get("can", ""),
    )


#: The id token formats OCPP 2.0.1 gives by type (IdTokenEnumType): an ISO 14443 UID is 4 or 7
#: bytes, an ISO 15693 one 8 bytes, written as hex digits.
TOKEN_FORMATS: dict[str, tuple[re.Pattern[str], str]] = {
    "ISO14443": (re.compile(r"[0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}"), "8 or 14 hex digits"),
    "ISO15693": (re.compile(r"[0-9A-Fa-f]{16}"), "16 hex digits"),
}


def token_problems(tokens: dict[str, str], token_type: str) -> list[str]:
    """One line per token that is not valid for ``token_type`` (none for a type without a
    format, or none declared)."""
    if token_type not in TOKEN_FORMATS:
        return []
    pattern, wanted = TOKEN_FORMATS[token_type]
    return [
        f"token {name} = {value!r} is not a valid {token_type} id token ({wanted})"
        for name, value in tokens.items()
        if not pattern.fullmatch(value)
    ]


def run_token_problems(profile: Profile, device: Device) -> list[str]:
    """The device's tokens that do not fit the type an OCPP 2.0.1 run sends them as, when the
    descriptor declares no ``token_type`` of its own (the loader checked a declared one): the
    profile's ``params.token_type``, by default ISO14443."""
    if profile.ocpp != "2.0.1" or device.token_type:
        return []
    token_type = str(profile.params.get("token_type", DEFAULT_TOKEN_TYPE_201))
    return token_problems(device.tokens, token_type)


@dataclass(frozen=True)
class Profile:
    """A certification profile: which cases, which bounds, which parameters."""

    path: str
    id: str
    title: str
    ocpp: str  # "" for a GB/T 27930 profile
    sut: str
    mandatory: tuple[str, ...]
    optional: tuple[str, ...]
    timeouts: dict[str, float]
    params: dict[str, Any]
    tokens: dict[str, str]
    description: str = ""
    reference_device: str | None = None
    reference_time_scale: float = 1.0
    reference_floor_s: float = 1.0
    gbt27930: str = ""  # the GB/T 27930 edition of a GB/T profile

    @property
    def protocol(self) -> str:
        """What the profile tests, for people: "OCPP 1.6", "GB/T 27930-2015"."""
        return f"OCPP {self.ocpp}" if self.ocpp else f"GB/T 27930-{self.gbt27930}"

    @property
    def cases(self) -> tuple[str, ...]:
        return self.mandatory + self.optional

    def is_mandatory(self, case_id: str) -> bool:
        return case_id in self.mandatory


def load_profile(path: str | Path) -> Profile:
    doc = load_checked(path, "pile_interop.core", "profile.schema.json", "profile")
    d = doc.data
    ref = d.get("reference", {})
    mandatory = tuple(d["cases"]["mandatory"])
    optional = tuple(d["cases"].get("optional", []))
    both = set(mandatory) & set(optional)
    if both:
        raise doc.error(f"cases both mandatory and optional: {sorted(both)}", "cases")
    ocpp = d.get("ocpp", "")
    tokens = {**(DEFAULT_TOKENS_201 if ocpp == "2.0.1" else DEFAULT_TOKENS), **d.get("tokens", {})}
    params = dict(d.get("params", {}))
    for problem in token_problems(tokens, str(params.get("token_type", ""))):
        log.warning("%s: %s (params.token_type)", path, problem)
    return Profile(
        path=str(path),
        id=d["id"],
        title=d["title"],
        ocpp=ocpp,
        gbt27930=d.get("gbt27930", ""),
        sut=d["sut"],
        mandatory=mandatory,
        optional=optional,
        timeouts={k: float(v) for k, v in d["timeouts"].items()},
        params=params,
        tokens=tokens,
        description=d.get("description", ""),
        reference_device=ref.get("device"),
        reference_time_scale=float(ref.get("time_scale", 1.0)),
        reference_floor_s=float(ref.get("floor_s", 1.0)),
    )


@dataclass(frozen=True)
class ContentRoot:
    """Where ``profiles/``, ``conformance/`` and ``fixtures/`` live (a pile-interop checkout, or
    the content an installed package carries), and the vendor's own content folders laid out
    the same way (``--content``, a descriptor's ``content:``): their profiles and cases are
    added to the suite's."""

    path: Path
    extra: tuple[Path, ...] = ()

    @property
    def profiles(self) -> Path:
        return self.path / "profiles"

    @property
    def conformance(self) -> Path:
        return self.path / "conformance"

    @property
    def fixtures(self) -> Path:
        return self.path / "fixtures"

    @property
    def case_folders(self) -> tuple[Path, ...]:
        """Every folder cases are read from: the root's ``conformance/``, then each content
        folder's (a :class:`~pile_interop.scenario.loader.CaseLibrary` takes them all)."""
        extra = tuple(f / "conformance" for f in self.extra if (f / "conformance").is_dir())
        return (self.conformance, *extra)

    def _profile_folders(self) -> list[Path]:
        return [f / "profiles" for f in (self.path, *self.extra) if (f / "profiles").is_dir()]

    def profile_path(self, profile_id: str) -> Path:
        found = [
            path
            for folder in self._profile_folders()
            if (path := folder / f"{profile_id}.yaml").is_file()
        ]
        if not found:
            known = ", ".join(self.profile_ids()) or "none"
            raise UsageError(f"unknown profile {profile_id!r} (known: {known})")
        if len(found) > 1:
            raise UsageError(f"profile {profile_id!r} is defined twice: {found[0]} and {found[1]}")
        return found[0]

    def profile_ids(self) -> list[str]:
        """Every conformance profile (``profiles/fleet/`` holds fleet behaviours, not
        profiles)."""
        return sorted(
            {
                p.relative_to(folder).with_suffix("").as_posix()
                for folder in self._profile_folders()
                for p in folder.rglob("*.yaml")
                if p.relative_to(folder).parts[0] != "fleet"
            }
        )

    def resolve(self, relative: str) -> Path:
        """A path from a profile (``fixtures/…``) relative to the root, else to the content
        folder that has it (a vendor profile's own reference device)."""
        path = Path(relative)
        if path.is_absolute():
            return path
        for folder in (self.path, *self.extra):
            if (folder / path).exists():
                return folder / path
        return self.path / path

    def shown(self, path: str | Path) -> str:
        """A content file as a listing shows it: relative to the root, else as it is."""
        path = Path(path)
        return str(path.relative_to(self.path)) if path.is_relative_to(self.path) else str(path)

    def with_content(self, folders: Iterable[str | Path], what: str = "--content") -> ContentRoot:
        """This root with the vendor's content ``folders`` added (each with ``profiles/`` or
        ``conformance/``, or both); ``what`` names where they came from in an error."""
        extra = list(self.extra)
        for folder in folders:
            path = Path(folder).resolve()
            if not ((path / "profiles").is_dir() or (path / "conformance").is_dir()):
                raise UsageError(f"{what} {folder}: no profiles/ or conformance/ folder there")
            if path != self.path and path not in extra:
                extra.append(path)
        return ContentRoot(self.path, tuple(extra))


def _is_root(path: Path) -> bool:
    return (path / "profiles").is_dir() and (path / "conformance").is_dir()


def _is_checkout(path: Path) -> bool:
    """A pile-interop checkout: the content folders next to the package's source (a vendor's
    repository with a ``profiles/`` and a ``conformance/`` of its own is none)."""
    return _is_root(path) and (path / "src" / "pile_interop").is_dir()


#: The ``pile_interop`` package folder: in a checkout (an editable install) below the checkout's
#: ``src/``; in a built package the content is its ``_content/`` (``setup.py`` copies it there).
PACKAGE = Path(__file__).resolve().parents[1]


def find_root(
    explicit: str | Path | None = None,
    *,
    start: Path | None = None,
    content: Iterable[str | Path] = (),
    device: str | Path | None = None,
    package: Path = PACKAGE,
) -> ContentRoot:
    """The content root: ``explicit`` (``--root``), else the nearest pile-interop checkout at or
    above ``start`` (the cwd), else the checkout the package was installed from (an editable
    install), else the content the installed package carries (``package/_content``). The
    folders of ``content`` (``--content``) and of the ``content:`` key of the descriptor
    ``device`` are added to it (:meth:`ContentRoot.with_content`)."""
    root = _base_root(explicit, start, package)
    root = root.with_content(content)
    if device is not None:
        root = root.with_content(device_content(device), f"{device}: content:")
    return root


def _base_root(explicit: str | Path | None, start: Path | None, package: Path) -> ContentRoot:
    if explicit is not None:
        path = Path(explicit).resolve()
        if not _is_root(path):
            raise UsageError(f"--root {explicit}: no profiles/ and conformance/ folders there")
        return ContentRoot(path)
    for candidate in ((start or Path.cwd()).resolve(), package):
        for path in (candidate, *candidate.parents):
            if _is_checkout(path):
                return ContentRoot(path)
    if _is_root(package / "_content"):
        return ContentRoot(package / "_content")
    raise UsageError(
        "cannot find the cases and profiles: this installation carries none and no "
        "pile-interop checkout is here; pass --root DIR"
    )


def device_content(path: str | Path) -> list[Path]:
    """The content folders a device descriptor adds (its ``content:`` key, relative to it)."""
    doc = load_checked(path, "pile_interop.core", "device.schema.json", "device descriptor")
    data = doc.data if isinstance(doc.data, dict) else {}
    here = Path(path).resolve().parent
    return [here / folder for folder in data.get("content", [])]


def check_known(profile: Profile, known_cases: set[str]) -> None:
    missing = [c for c in profile.cases if c not in known_cases]
    if missing:
        raise ConfigError(profile.path, f"profile lists cases that do not exist: {missing}")
