"""Security modes of the mock Central System (the suite as CSMS of a charging station).

The device descriptor's ``security.profile`` gives the *baseline* mode the mock CSMS serves
(OCPP 1.6 Security Whitepaper: 0 plain, 1 Basic auth, 2 TLS + Basic auth, 3 TLS + client
certificate). A case switches to another mode with a ``peer: security`` step; the server is
reconfigured on the same port and every open connection is closed, so the station reconnects
under the new mode. After the case the baseline comes back the same way.

``peer: security`` arguments (each one unspecified keeps the baseline's value):

* ``basic_auth: true|false`` — require HTTP Basic auth (user = station identity, password
  from the descriptor);
* ``client_cert: true|false`` — require a client certificate whose CN is the station identity;
* ``server_cert: valid|untrusted|expired`` — which server certificate the suite presents;
* ``tls_max: "1.0"|"1.1"`` — offer only TLS versions up to this one (below 1.2);
* ``subprotocol: negotiate|none|<name>`` — what the server agrees to in the handshake.

TLS material: with ``--against reference`` a test PKI is generated for the run; with
``--listen`` the descriptor names the CA, the server certificate and key (the untrusted
certificate comes from a generated PKI whose root the station cannot know).
"""

from __future__ import annotations

import secrets
import ssl
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pile_interop.core.config import Device, TlsFiles
from pile_interop.core.errors import UsageError
from pile_interop.core.verdicts import HarnessError, NotApplicable
from pile_interop.ocpp.server import NEGOTIATE, CsmsServer
from pile_interop.security.handshakes import legacy_tls_problem
from pile_interop.security.pki import (
    SERVER_VARIANTS,
    CertFiles,
    PkiFileError,
    TestPki,
    generate_pki,
    load_cert_files,
    server_context,
)

#: ``tls_max`` values a case may ask for.
LEGACY_VERSIONS = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1}
#: The arguments of a ``peer: security`` step.
MODE_ARGS = frozenset(
    {"basic_auth", "client_cert", "server_cert", "tls_max", "subprotocol", "password"}
)


@dataclass(frozen=True)
class SecurityMode:
    """What the mock CSMS demands and offers on its next connections."""

    tls: bool = False
    basic_auth: bool = False
    client_cert: bool = False
    server_cert: str = "valid"
    tls_max: str | None = None
    subprotocol: str | None = NEGOTIATE
    #: the Basic password demanded: "device" (the descriptor's) or "new" (the run's new
    #: AuthorizationKey, after a case changed it: TC_073)
    password: str = "device"

    @classmethod
    def for_profile(cls, profile: int) -> SecurityMode:
        return cls(tls=profile >= 2, basic_auth=profile in (1, 2), client_cert=profile == 3)

    def describe(self) -> str:
        parts = [f"TLS (server certificate {self.server_cert})" if self.tls else "no TLS"]
        if self.tls_max:
            parts.append(f"only TLS ≤ {self.tls_max}")
        if self.client_cert:
            parts.append("client certificate required (CN = station identity)")
        if self.basic_auth:
            which = " (the new password)" if self.password == "new" else ""
            parts.append(f"HTTP Basic auth required{which}")
        if self.subprotocol != NEGOTIATE:
            parts.append(f"answers subprotocol {self.subprotocol or 'none'}")
        return ", ".join(parts)


def check_listen_files(device: Device) -> None:
    """With ``--listen`` a TLS profile needs the descriptor's CA, certificate and key: exit 2
    with a one-line reason naming the field and the file when one is missing or bad."""
    if device.security_profile < 2:
        return
    tls = device.tls
    missing = [
        f"security.{k}" for k in ("ca_cert", "server_cert", "server_key") if not getattr(tls, k)
    ]
    if missing:
        raise UsageError(
            f"--device {device.path}: security profile {device.security_profile} with --listen "
            f"needs {', '.join(missing)} (PEM files, relative to the descriptor)"
        )
    pairs = [
        (("ca_cert", tls.ca_cert), ("server_cert", tls.server_cert), ("server_key", tls.server_key))
    ]
    if tls.expired_server_cert or tls.expired_server_key:
        pairs.append(
            (
                ("ca_cert", tls.ca_cert),
                ("expired_server_cert", tls.expired_server_cert),
                ("expired_server_key", tls.expired_server_key),
            )
        )
    for (_, ca), (cert_field, cert), (key_field, key) in pairs:
        if not cert or not key:
            raise UsageError(
                f"--device {device.path}: security.{cert_field} and security.{key_field} "
                "go together"
            )
        try:
            load_cert_files(ca, cert, key)
        except PkiFileError as exc:
            fields = {ca: "ca_cert", cert: cert_field, key: key_field}
            name = fields.get(exc.path, key_field)
            raise UsageError(f"--device {device.path}: security.{name}: {exc}") from None


class CsmsSecurity:
    """The TLS material of one campaign and the mode its :class:`CsmsServer` serves."""

    def __init__(self, server: CsmsServer, device: Device, *, reference: bool) -> None:
        self.server = server
        self.device = device
        self.reference = reference
        self.baseline = SecurityMode.for_profile(device.security_profile)
        self.current = self.baseline
        self.pki: TestPki | None = None
        self._legacy_problem: str | bool | None = False  # False: not probed yet
        #: the AuthorizationKey a password-update case sets (TC_073): fresh for every run,
        #: 20 bytes as 40 hex characters, a secret the campaign's redactor knows
        self.new_password = secrets.token_hex(20)

    # -- lifecycle ------------------------------------------------------------------------

    def prepare(self) -> None:
        """Generate the run's PKI (TLS profiles only) and configure the baseline mode."""
        if self.baseline.tls:
            self.pki = generate_pki(self.device.station_id)
        self.configure(self.baseline)

    def cleanup(self) -> None:
        if self.pki is not None:
            self.pki.cleanup()
            self.pki = None

    def station_files(self) -> TlsFiles:
        """What the reference station gets: the CA to trust and its client certificate."""
        assert self.pki is not None, "prepare() first"
        valid = self.pki.client["valid"]
        return TlsFiles(
            ca_cert=str(self.pki.root_ca),
            client_cert=str(valid.cert),
            client_key=str(valid.key),
        )

    def station_device(self) -> Device:
        """The descriptor handed to the reference station (the run's PKI in it)."""
        if self.pki is None or not self.baseline.tls:
            return self.device
        return replace(self.device, tls=self.station_files())

    # -- modes ------------------------------------------------------------------------------

    def _server_files(self, variant: str) -> CertFiles:
        tls = self.device.tls
        if variant == "untrusted" or self.reference:
            assert self.pki is not None
            return self.pki.server[variant]  # type: ignore[index]
        if variant == "valid":
            assert tls.server_cert and tls.server_key
            return CertFiles(Path(tls.server_cert), Path(tls.server_key))
        if not tls.expired_server_cert or not tls.expired_server_key:
            raise NotApplicable(
                f"device descriptor: no expired server certificate signed by the station's CA "
                f"(security.expired_server_cert / expired_server_key in {self.device.path})"
            )
        return CertFiles(Path(tls.expired_server_cert), Path(tls.expired_server_key))

    def _client_ca(self) -> str:
        if self.reference:
            assert self.pki is not None
            return str(self.pki.root_ca)
        assert self.device.tls.ca_cert
        return self.device.tls.ca_cert

    def ssl_context(self, mode: SecurityMode) -> ssl.SSLContext | None:
        if not mode.tls:
            return None
        return server_context(
            self._server_files(mode.server_cert),
            client_ca=self._client_ca() if mode.client_cert else None,
            max_version=LEGACY_VERSIONS[mode.tls_max] if mode.tls_max else None,
        )

    def configure(self, mode: SecurityMode) -> None:
        """Set the server up for ``mode`` (takes effect at its next start / restart)."""
        self.server.ssl = self.ssl_context(mode)
        password = self.new_password if mode.password == "new" else self.device.basic_auth_password
        self.server.password = password if mode.basic_auth else None
        self.server.client_cn_required = mode.client_cert
        self.server.agree_subprotocol = mode.subprotocol
        self.current = mode

    async def apply(self, mode: SecurityMode) -> str:
        """Serve ``mode`` from now on: every open connection is closed."""
        self.configure(mode)
        await self.server.restart()
        return f"mock CSMS now serves: {mode.describe()}; open connections closed"

    async def reset(self) -> str | None:
        """Back to the baseline, if a case changed the mode."""
        if self.current == self.baseline:
            return None
        return await self.apply(self.baseline)

    def mode_from_args(self, args: dict[str, Any]) -> SecurityMode:
        """The mode a ``peer: security`` step asks for; ``na`` when the device cannot do it,
        ``error`` for a wrong argument."""
        unknown = set(args) - MODE_ARGS
        if unknown:
            raise HarnessError(
                f"peer: security: unknown argument(s) {sorted(unknown)} "
                f"(known: {', '.join(sorted(MODE_ARGS))})"
            )
        if args.get("subprotocol", NEGOTIATE) in ("none", None):
            args = {**args, "subprotocol": None}  # agree to none
        mode = replace(self.baseline, **args)
        if mode.server_cert not in SERVER_VARIANTS:
            raise HarnessError(
                f"peer: security: server_cert {mode.server_cert!r} "
                f"(known: {', '.join(SERVER_VARIANTS)})"
            )
        if mode.password not in ("device", "new"):
            raise HarnessError(f"peer: security: password {mode.password!r} (known: device, new)")
        if mode.tls_max is not None and mode.tls_max not in LEGACY_VERSIONS:
            raise HarnessError(f"peer: security: tls_max {mode.tls_max!r} (known: 1.0, 1.1)")
        tls_only = [k for k in ("client_cert", "tls_max") if args.get(k)]
        if args.get("server_cert", "valid") != "valid":
            tls_only.append("server_cert")
        if tls_only and not mode.tls:
            raise NotApplicable(
                f"device descriptor: security profile {self.device.security_profile} has no "
                f"TLS, the case needs it ({', '.join(tls_only)})"
            )
        if mode.basic_auth and not self.device.basic_auth_password:
            raise NotApplicable("device descriptor: no security.basic_auth_password")
        if mode.tls_max is not None:
            problem = self.legacy_problem()
            if problem is not None:
                raise HarnessError(f"cannot offer TLS {mode.tls_max}: {problem}")
        return mode

    def legacy_problem(self) -> str | None:
        """Why this OpenSSL cannot offer TLS < 1.2 (None when it can); probed once."""
        if self._legacy_problem is False:
            assert self.pki is not None
            self._legacy_problem = legacy_tls_problem(self.pki)
        return self._legacy_problem  # type: ignore[return-value]
