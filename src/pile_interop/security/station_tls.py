"""What the suite presents when it plays a charging station (SUT = CSMS): Basic credentials,
a TLS client context, a client certificate — the baseline of the device's security profile,
and the deliberately wrong variants the security cases try.

With ``--against reference`` a test PKI is generated for the run (:mod:`pki`) and the reference
CSMS serves from it; against a real CSMS the device descriptor names the CA that signed the
CSMS's certificate (``security.ca_cert``) and, for client certificates, the station's own
(``security.client_cert`` / ``client_key``). Variants that need another certificate signed by
the CSMS's CA (wrong CN, expired) only exist with the generated PKI: elsewhere the case is
``na``.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, replace
from typing import Any

from pile_interop.core.config import Device
from pile_interop.core.errors import UsageError
from pile_interop.core.verdicts import NotApplicable
from pile_interop.security.pki import (
    CertFiles,
    PkiFileError,
    TestPki,
    client_context,
    generate_pki,
    load_cert_files,
    pki_server_context,
)

#: ``tls_max`` values a case may ask for → the highest TLS version offered
_TLS_MAX = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1}
#: The Basic password a case sends when it wants a wrong one (never the real one).
WRONG_PASSWORD = "pile-interop-wrong-password"
#: What a ``peer: connect`` step may change (``expect`` says how it must end).
CONNECT_ARGS = frozenset(
    {"username", "password", "client_cert", "tls_max", "subprotocol", "expect"}
)


def basic_user(station_id: str, presented: Presented) -> str:
    """The Basic user name presented: the identity, or (a case's negative, as the OCA tool
    does) the identity with ``Invalid`` appended."""
    return f"{station_id}Invalid" if presented.username == "wrong" else station_id


@dataclass(frozen=True)
class Presented:
    """What one connection attempt presents to the CSMS."""

    password: str | None = None  # Basic auth password (None: no Authorization header)
    client: str | None = None  # client certificate: valid, expired, wrong_cn (None: none)
    tls_max: str | None = None  # "1.0" / "1.1": offer only TLS up to this version
    subprotocol: str | None = None  # offer this instead of the profile's
    #: the descriptor's password, after a CSMS changed it (``password: old``)
    original_password: str | None = None
    #: the Basic user name: None = the station identity (OCPP); a case's wrong one otherwise
    username: str | None = None

    @classmethod
    def baseline(cls, device: Device) -> Presented:
        return cls(
            password=device.basic_auth_password,
            client="valid" if device.supports("client_certificate") else None,
            original_password=device.basic_auth_password,
        )

    def changed(self, args: dict[str, Any]) -> Presented:
        """The baseline with a case's ``peer: connect`` arguments applied."""
        unknown = set(args) - CONNECT_ARGS
        if unknown:
            raise ValueError(
                f"unknown argument(s) {sorted(unknown)} (known: {', '.join(sorted(CONNECT_ARGS))})"
            )
        presented = self
        if "username" in args:
            if args["username"] not in ("right", "wrong"):
                raise ValueError(f"username: {args['username']!r} (right or wrong)")
            presented = replace(presented, username=args["username"])
        if "password" in args:
            wanted = args["password"]
            if wanted == "wrong":
                presented = replace(presented, password=WRONG_PASSWORD)
            elif wanted == "none":
                presented = replace(presented, password=None)
            elif wanted == "old":
                presented = replace(presented, password=self.original_password)
            elif wanted != "right":
                raise ValueError(f"password: {wanted!r} (right, old, wrong or none)")
        if "client_cert" in args:
            variant = args["client_cert"]
            if variant not in ("valid", "expired", "wrong_cn", "none"):
                raise ValueError(f"client_cert: {variant!r} (valid, expired, wrong_cn, none)")
            presented = replace(presented, client=None if variant == "none" else variant)
        if "tls_max" in args:
            if str(args["tls_max"]) not in _TLS_MAX:
                raise ValueError(f"tls_max: {args['tls_max']!r} (1.0 or 1.1)")
            presented = replace(presented, tls_max=str(args["tls_max"]))
        if "subprotocol" in args:
            presented = replace(presented, subprotocol=str(args["subprotocol"]))
        return presented

    def describe(self) -> str:
        """What was presented, for the report (never the password itself)."""
        parts: list[str] = []
        if self.username == "wrong":
            parts.append("a Basic user name other than the station identity")
        if self.password == WRONG_PASSWORD:
            parts.append("a wrong Basic password")
        elif self.password is not None:
            changed = self.original_password and self.password != self.original_password
            parts.append("Basic auth" + (" with the new password" if changed else ""))
        if self.client:
            parts.append(f"client certificate ({self.client})")
        if self.tls_max:
            parts.append(f"TLS ≤ {self.tls_max} only")
        if self.subprotocol:
            parts.append(f"offering {self.subprotocol}")
        return ", ".join(parts)


class StationTls:
    """The TLS side of the mock station: the run's PKI or the descriptor's files."""

    def __init__(self, device: Device, override: ssl.SSLContext | None = None) -> None:
        self.device = device
        self.override = override
        self.pki: TestPki | None = None

    @property
    def client_certificates(self) -> bool:
        return bool(self.device.supports("client_certificate"))

    def generate_pki(self) -> None:
        if self.device.security_profile >= 2 and self.pki is None:
            self.pki = generate_pki(self.device.station_id)

    def cleanup(self) -> None:
        if self.pki is not None:
            self.pki.cleanup()
            self.pki = None

    def reference_server_context(self) -> ssl.SSLContext | None:
        """The reference CSMS's server context (None below security profile 2)."""
        if self.pki is None:
            return None
        return pki_server_context(self.pki, require_client_cert=self.client_certificates)

    def check_files(self) -> None:
        """Exit 2 naming the field and file when a descriptor's PEM file is not usable."""
        tls = self.device.tls
        where = f"--device {self.device.path}"
        if self.client_certificates and not (tls.client_cert and tls.client_key):
            raise UsageError(
                f"{where}: client certificates need security.client_cert and security.client_key"
            )
        try:
            load_cert_files(tls.ca_cert, tls.client_cert, tls.client_key)
        except PkiFileError as exc:
            raise UsageError(f"{where}: {exc.path}: {exc.why}") from None

    def _client_cert(self, variant: str | None) -> CertFiles | None:
        if variant is None:
            return None
        if self.pki is not None:
            return self.pki.client[variant]  # type: ignore[index]
        tls = self.device.tls
        if variant == "valid" and tls.client_cert and tls.client_key:
            from pathlib import Path

            return CertFiles(Path(tls.client_cert), Path(tls.client_key))
        raise NotApplicable(
            f"a {variant} client certificate signed by the CSMS's CA exists only with the "
            "generated test PKI (--against reference)"
        )

    def client_context(self, presented: Presented) -> ssl.SSLContext:
        if self.override is not None:
            return self.override
        ca = self.pki.root_ca if self.pki is not None else self.device.tls.ca_cert
        return client_context(
            ca,
            cert=self._client_cert(presented.client),
            max_version=_TLS_MAX.get(presented.tls_max or ""),
        )
