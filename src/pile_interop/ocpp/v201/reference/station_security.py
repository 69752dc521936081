"""Security of the reference OCPP 2.0.1 station (Part 2 blocks A and M).

* Basic auth password (A01 / A02: ``SecurityCtrlr.BasicAuthPassword``, write-only): 16 to 40
  printable ASCII characters, else Rejected; an accepted password is used from the next
  connection on, and the station reconnects at once to use it.
* Security events (A04): SecurityEventNotification, queued while offline and sent in order —
  StartupOfTheDevice at power-up, ResetOrReboot before a reset, SettingSystemTime for a large
  clock correction, InvalidCsmsCertificate when the CSMS's TLS certificate does not verify,
  InvalidChargingStationCertificate for a refused CertificateSigned, InvalidTLSVersion when the
  CSMS offers only TLS below 1.2 (A00.FR.316; see *TLS version probe*).
* CA certificates (M03 / M04 / M05): InstallCertificate stores a PEM certificate per
  certificate type (Rejected when it does not parse or has expired); an installed
  CSMSRootCertificate is trusted for TLS from then on. GetInstalledCertificateIds names them by
  CertificateHashData (:mod:`pile_interop.security.certhash`), NotFound when there are none.
  DeleteCertificate: Accepted, NotFound, or Failed for the last CSMSRootCertificate while the
  station uses TLS (security profile 2 or 3: deleting it would cut the station off its CSMS;
  with profile 1 it may go, TC_A_20).
* Station certificate (A02 / A03): TriggerMessage SignChargingStationCertificate → a new EC key
  and a PKCS#10 CSR (CN = station id, O = SecurityCtrlr.OrganizationName) in SignCertificate;
  CertificateSigned is Accepted when the chain is PEM, the leaf's CN is the station id, the
  leaf is valid now and carries the CSR's key — then it is the client certificate of the next
  TLS connection (security profile 3) — else Rejected with an InvalidChargingStationCertificate
  event.
* Security profiles (A05): a slot may be activated (NetworkConfigurationPriority) only when its
  securityProfile is not lower than the current one (no downgrade) and the station has what
  it needs: a TLS trust anchor for profile 2, also a client certificate for profile 3 (one of
  CertificateSigned, or the one its TLS context was given with: the descriptor's feature
  ``client_certificate``). A station given a password and a wss:// URL is at profile 2.
* TLS version probe (A00.FR.316): the station offers TLS 1.2 and 1.3 only, so a CSMS that
  allows only older versions ends the handshake — with a protocol_version alert, or (a Python
  CSMS) by closing the connection without one. After such a failure the station sends the
  CSMS one ClientHello offering only TLS 1.0 / 1.1 over a new TCP connection and reads the
  answer's first record: a ServerHello with a version below 1.2 means the CSMS allows only
  older TLS — an InvalidTLSVersion event, once until the station is connected again. The probe
  never finishes that handshake (it closes the connection after the ServerHello): nothing is
  ever exchanged over TLS below 1.2.

No key or password is ever logged; keys live in memory and are written to a private temporary
directory only for the moment ``ssl`` loads them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import ssl as ssl_module
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ocpp.charge_point import snake_to_camel_case
from ocpp.v201 import call, call_result
from ocpp.v201.enums import (
    CertificateSignedStatusEnumType,
    CertificateSigningUseEnumType,
    DeleteCertificateStatusEnumType,
    GetInstalledCertificateStatusEnumType,
    InstallCertificateStatusEnumType,
    InstallCertificateUseEnumType,
)

from pile_interop.ocpp.reference.station_base import CONNECT_TIMEOUT_S, MIN_REAL_CONNECT_TIMEOUT
from pile_interop.ocpp.v201.reference.station_core import StationCore
from pile_interop.security.certhash import certificate_hash_data, same_certificate
from pile_interop.security.pki import client_context

#: BasicAuthPassword length (A00.FR.205: 16 to 40 characters)
PASSWORD_MIN, PASSWORD_MAX = 16, 40
CSMS_ROOT = InstallCertificateUseEnumType.csms_root_certificate.value
STATION_CERTIFICATE = CertificateSigningUseEnumType.charging_station_certificate.value
#: ServerHello.server_version values below TLS 1.2 (A00.FR.316)
LEGACY_TLS = {b"\x03\x00": "SSL 3.0", b"\x03\x01": "TLS 1.0", b"\x03\x02": "TLS 1.1"}
#: How a CSMS that allows only TLS < 1.2 ends a handshake offering 1.2 / 1.3 (OpenSSL reasons)
PROTOCOL_VERSION_REASONS = frozenset(
    {"TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "WRONG_SSL_VERSION"}
)


@dataclass
class InstalledCertificate:
    """A CA certificate installed with InstallCertificate."""

    certificate_type: str
    pem: str
    hash_data: dict[str, str]


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


class StationSecurity(StationCore):
    """Password, security events, certificates and security profiles."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        url = str(args[0] if args else kwargs.get("url", ""))
        password = kwargs.get("password")
        if kwargs.get("security_profile") is None and url.startswith("wss://") and password:
            kwargs["security_profile"] = 2  # TLS + Basic auth (profile 3 has no password)
        super().__init__(*args, **kwargs)
        self.certificates: list[InstalledCertificate] = []
        #: the station certificate chain (PEM) accepted with CertificateSigned, and its key
        self.client_certificate: str | None = None
        self._client_key: ec.EllipticCurvePrivateKey | None = None
        #: the key of the CSR sent last (waiting for CertificateSigned)
        self._csr_key: ec.EllipticCurvePrivateKey | None = None
        #: the initial security profile: a profile-3 station got its client certificate with
        #: its TLS context
        self._initial_profile = int(self.model.get("SecurityCtrlr", "SecurityProfile") or 1)
        #: its TLS context came with a client certificate (profile 3 from the start, or the
        #: descriptor's feature client_certificate)
        self._context_certificate = self.ssl is not None and (
            self._initial_profile >= 3 or bool(self.features.get("client_certificate"))
        )
        #: InvalidTLSVersion was reported since the station last registered (once per outage)
        self._tls_version_reported = False
        self._tls_probe: asyncio.Task[Any] | None = None
        entries = self.model.find("SecurityCtrlr", "CertificateEntries")
        if entries is not None:
            entries.live = lambda: str(len(self.certificates))

    # -- A01 / A02: Basic auth password -----------------------------------------------------

    def password_status(self, value: str) -> str:
        """Accepted for 16-40 printable ASCII characters, else Rejected (A_10)."""
        ok = PASSWORD_MIN <= len(value) <= PASSWORD_MAX and value.isascii() and value.isprintable()
        return "Accepted" if ok else "Rejected"

    def set_password(self, value: str) -> None:
        """The new password; the station reconnects to use it (after the response is sent)."""
        self.password = value
        level = int(self.network_profiles.get(self.active_slot, {}).get("securityProfile", 1))
        if level in (1, 2):
            self.defer(self.reconnect)

    # -- A04: events --------------------------------------------------------------------------

    def on_power_on(self, reason: str) -> None:
        if reason == "PowerUp":
            self.security_event("StartupOfTheDevice")

    def on_connect_error(self, exc: BaseException) -> None:
        if isinstance(exc, ssl_module.SSLCertVerificationError):
            self.security_event("InvalidCsmsCertificate", str(exc.verify_message or exc)[:255])
        elif self.may_be_old_tls(exc):
            self.start_tls_version_probe()

    # -- A00.FR.316: a CSMS that allows only TLS below 1.2 ------------------------------------

    def may_be_old_tls(self, exc: BaseException) -> bool:
        """The CSMS ended a TLS handshake the way one that allows only older versions does: a
        protocol-version alert, or the connection closed in the middle (without an alert)."""
        url = self._target(self._current_slot())[0]
        if not url.startswith("wss://") or self._tls_version_reported:
            return False
        if isinstance(exc, ssl_module.SSLCertVerificationError):
            return False
        if isinstance(exc, ssl_module.SSLEOFError | ConnectionResetError | ConnectionAbortedError):
            return True
        return isinstance(exc, ssl_module.SSLError) and exc.reason in PROTOCOL_VERSION_REASONS

    def start_tls_version_probe(self) -> None:
        if self._tls_probe is not None and not self._tls_probe.done():
            return
        url = self._target(self._current_slot())[0]
        self._tls_probe = self.base.spawn(self._probe_tls_version(url), "tls-version-probe")

    async def _probe_tls_version(self, url: str) -> None:
        version = await legacy_tls_answer(
            url, max(self.clock.real(CONNECT_TIMEOUT_S), MIN_REAL_CONNECT_TIMEOUT)
        )
        if version is None or self._tls_version_reported:
            return
        self._tls_version_reported = True
        self.security_event(
            "InvalidTLSVersion",
            f"the CSMS refused TLS 1.2 / 1.3 and answered a TLS 1.0 / 1.1 offer with {version}",
        )

    # -- M03 / M04 / M05: CA certificates ---------------------------------------------------

    async def handle_install_certificate(
        self, req: call.InstallCertificate
    ) -> call_result.InstallCertificate:
        status, cert = self.install_certificate_decision(req.certificate_type, req.certificate)
        if status == InstallCertificateStatusEnumType.accepted and cert is not None:
            self.store_certificate(req.certificate_type, cert)
        return call_result.InstallCertificate(status=status)

    def install_certificate_decision(
        self, certificate_type: str, pem: str
    ) -> tuple[str, x509.Certificate | None]:
        """Rejected for a text without a PEM certificate or an expired one (M05.FR.?)."""
        try:
            cert = x509.load_pem_x509_certificates(pem.encode())[0]
        except (ValueError, IndexError):
            return InstallCertificateStatusEnumType.rejected, None
        now = dt.datetime.now(dt.UTC)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            return InstallCertificateStatusEnumType.rejected, None
        return InstallCertificateStatusEnumType.accepted, cert

    def store_certificate(self, certificate_type: str, cert: x509.Certificate) -> None:
        hash_data = certificate_hash_data(cert)
        self.certificates = [
            c
            for c in self.certificates
            if not (
                c.certificate_type == certificate_type and same_certificate(c.hash_data, hash_data)
            )
        ]
        pem = _pem(cert)
        self.certificates.append(InstalledCertificate(certificate_type, pem, hash_data))
        if certificate_type == CSMS_ROOT and self.ssl is not None:
            self.ssl.load_verify_locations(cadata=pem)

    async def handle_get_installed_certificate_ids(
        self, req: call.GetInstalledCertificateIds
    ) -> call_result.GetInstalledCertificateIds:
        types = set(req.certificate_type or [])
        chain = [
            {"certificateType": c.certificate_type, "certificateHashData": dict(c.hash_data)}
            for c in self.certificates
            if not types or c.certificate_type in types
        ]
        if not chain:
            return call_result.GetInstalledCertificateIds(
                status=GetInstalledCertificateStatusEnumType.notFound
            )
        return call_result.GetInstalledCertificateIds(
            status=GetInstalledCertificateStatusEnumType.accepted,
            certificate_hash_data_chain=chain,
        )

    async def handle_delete_certificate(
        self, req: call.DeleteCertificate
    ) -> call_result.DeleteCertificate:
        wanted = snake_to_camel_case(req.certificate_hash_data)
        found = next((c for c in self.certificates if same_certificate(c.hash_data, wanted)), None)
        status = self.delete_certificate_status(found)
        if status == DeleteCertificateStatusEnumType.accepted and found is not None:
            self.certificates.remove(found)
        return call_result.DeleteCertificate(status=status)

    def delete_certificate_status(self, found: InstalledCertificate | None) -> str:
        """NotFound; Failed for the last CSMSRootCertificate while the station uses TLS (see
        the module docstring); Accepted."""
        if found is None:
            return DeleteCertificateStatusEnumType.not_found
        roots = [c for c in self.certificates if c.certificate_type == CSMS_ROOT]
        if found.certificate_type == CSMS_ROOT and len(roots) == 1 and self.security_level() >= 2:
            return DeleteCertificateStatusEnumType.failed
        return DeleteCertificateStatusEnumType.accepted

    # -- A05: security profiles -------------------------------------------------------------

    def security_level(self) -> int:
        return int(self.model.get("SecurityCtrlr", "SecurityProfile") or 1)

    def profile_problem(self, level: int) -> str | None:
        """Why the station cannot connect with security profile ``level`` (None: it can)."""
        if level < self.security_level():
            return f"security profile {level} is a downgrade from {self.security_level()}"
        if level >= 2 and self.ssl is None and not self._csms_roots():
            return "no CSMSRootCertificate installed"
        if level >= 3 and self.client_certificate is None and not self._context_certificate:
            return "no ChargingStationCertificate installed"
        return None

    def on_network_profile_connected(self, slot: int) -> None:
        """A05: registered through ``slot``: its security profile is now the station's."""
        self._tls_version_reported = False
        self.active_slot = slot
        level = int(self.network_profiles.get(slot, {}).get("securityProfile", 1))
        self.model.set("SecurityCtrlr", "SecurityProfile", str(level))
        self.model.set("OCPPCommCtrlr", "ActiveNetworkProfile", str(slot))

    def _csms_roots(self) -> list[InstalledCertificate]:
        return [c for c in self.certificates if c.certificate_type == CSMS_ROOT]

    def tls_for_profile(self, level: int) -> ssl_module.SSLContext | None:
        """The constructor's context; without one, a context trusting the installed CSMS root
        certificates (TLS 1.2 or newer, hostname checked), presenting the station certificate."""
        if self.ssl is None and self._csms_roots():
            context = ssl_module.SSLContext(ssl_module.PROTOCOL_TLS_CLIENT)
            context.minimum_version = ssl_module.TLSVersion.TLSv1_2
            context.load_verify_locations(cadata="".join(c.pem for c in self._csms_roots()))
            if self.client_certificate is not None and self._client_key is not None:
                _load_chain(context, self.client_certificate, self._client_key)
            self.ssl = context
        return self.ssl

    # -- A02 / A03: station certificate -------------------------------------------------------

    def csr_subject(self) -> x509.Name:
        organization = self.model.get("SecurityCtrlr", "OrganizationName") or self.vendor
        return x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                x509.NameAttribute(NameOID.COMMON_NAME, self.station_id),
            ]
        )

    def build_csr(self) -> str:
        """A new key and its PEM PKCS#10 request (A02.FR.02: the CSR's CN is the station id)."""
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(self.csr_subject())
            .sign(key, hashes.SHA256())
        )
        self._csr_key = key
        return csr.public_bytes(serialization.Encoding.PEM).decode()

    async def request_certificate_signing(self) -> None:
        """SignCertificate with a fresh CSR (TriggerMessage SignChargingStationCertificate)."""
        result = await self.send(
            call.SignCertificate(csr=self.build_csr(), certificate_type=STATION_CERTIFICATE)
        )
        status = getattr(result, "status", None)
        self.log.info("%s: SignCertificate %s", self.station_id, status)

    async def handle_certificate_signed(
        self, req: call.CertificateSigned
    ) -> call_result.CertificateSigned:
        problem = self.certificate_signed_problem(req.certificate_chain, req.certificate_type)
        if problem is not None:
            self.log.info("%s: CertificateSigned refused: %s", self.station_id, problem)
            self.security_event("InvalidChargingStationCertificate", problem)
            return call_result.CertificateSigned(status=CertificateSignedStatusEnumType.rejected)
        self.install_client_certificate(req.certificate_chain)
        return call_result.CertificateSigned(status=CertificateSignedStatusEnumType.accepted)

    def certificate_signed_problem(self, chain: str, certificate_type: str | None) -> str | None:
        """Why a CertificateSigned chain is refused (None: accepted), A02.FR.?/A03."""
        if certificate_type not in (None, STATION_CERTIFICATE):
            return f"{certificate_type} was not requested"
        limit = int(self.model.get("SecurityCtrlr", "MaxCertificateChainSize") or 0)
        if limit and len(chain) > limit:
            return f"chain longer than MaxCertificateChainSize {limit}"
        try:
            certs = x509.load_pem_x509_certificates(chain.encode())
        except ValueError:
            return "not a PEM certificate chain"
        leaf = certs[0]
        names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        common_name = str(names[0].value) if names else None
        if common_name != self.station_id:
            return f"CN {common_name!r} is not the station id"
        now = dt.datetime.now(dt.UTC)
        if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
            return "the certificate is not valid now"
        if self._csr_key is None:
            return "no certificate signing request is pending"
        ours = self._csr_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        theirs = leaf.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if ours != theirs:
            return "the certificate is not for the key of the last CSR"
        return None

    def install_client_certificate(self, chain: str) -> None:
        """The chain and the CSR's key become the client certificate of the next TLS connection."""
        key = self._csr_key
        if key is None:
            return
        self.client_certificate, self._client_key, self._csr_key = chain, key, None
        if self.ssl is not None:
            _load_chain(self.ssl, chain, key)


async def legacy_tls_answer(url: str, timeout: float) -> str | None:
    """The version below TLS 1.2 that the server of ``url`` picks when offered only TLS 1.0 and
    1.1 (None: it refuses that offer, or does not answer within ``timeout`` real seconds).

    One ClientHello over a new TCP connection; the first record of the answer is read and the
    connection closed: the handshake is never finished, nothing is exchanged over it (so no
    certificate is checked either)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    context = client_context(None, max_version=ssl_module.TLSVersion.TLSv1_1, verify=False)
    hello = ssl_module.MemoryBIO()
    session = context.wrap_bio(ssl_module.MemoryBIO(), hello, server_hostname=host)
    with contextlib.suppress(ssl_module.SSLWantReadError):
        session.do_handshake()
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        writer.write(hello.read())
        await asyncio.wait_for(writer.drain(), timeout)
        # record header (type, version, length) + handshake header (type, length) + version
        head = await asyncio.wait_for(reader.readexactly(11), timeout)
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        return None
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), timeout)
    if head[0] != 0x16 or head[5] != 0x02:  # not a ServerHello (an alert: refused)
        return None
    return LEGACY_TLS.get(head[9:11])


def _load_chain(
    context: ssl_module.SSLContext, chain: str, key: ec.EllipticCurvePrivateKey
) -> None:
    """Load a PEM chain and its key into ``context`` (through files only ``ssl`` can read,
    removed at once)."""
    with tempfile.TemporaryDirectory(prefix="ref201-") as folder:
        cert_path = Path(folder) / "cert.pem"
        key_path = Path(folder) / "key.pem"
        cert_path.write_text(chain)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        context.load_cert_chain(cert_path, key_path)
