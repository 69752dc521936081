"""A throw-away test PKI and the TLS contexts of the OCPP 1.6 security profiles 2 and 3.

OCPP 1.6 Security Whitepaper: profile 2 is TLS with a server certificate (plus HTTP Basic
auth), profile 3 TLS with client-side certificates whose subject commonName is the charging
station identity. This module is role-neutral: the suite as CSMS, the suite as charging
station, the reference station and the reference CSMS all use it.

Everything is made at run time with ``cryptography`` into a directory (a fresh temporary one by
default, removed by :func:`temporary_pki`); no private key is ever committed, printed or
logged — only file paths travel.

Generating (:func:`generate_pki` → :class:`TestPki`):

* ``root_ca`` — the trusted root (self-signed CA certificate);
* ``server["valid"]`` — CSMS server certificate (SAN ``127.0.0.1`` and ``localhost`` by
  default) signed by the root; ``server["expired"]`` the same, expired yesterday;
  ``server["untrusted"]`` signed by a second root, ``untrusted_root_ca``, nobody trusts;
* ``client["valid"]`` — charging-station client certificate, CN = the station identity,
  signed by the root; ``client["expired"]`` expired; ``client["wrong_cn"]`` CN of another
  station.

Each entry is a :class:`CertFiles` (``cert`` and ``key`` PEM paths).

TLS contexts (plain :class:`ssl.SSLContext`, usable with ``websockets``):

* :func:`server_context` / :func:`pki_server_context` — TLS ≥ 1.2 unless ``max_version``
  caps it below (the "TLS below 1.2" negative); optionally requires a client certificate
  signed by a given CA;
* :func:`client_context` / :func:`pki_client_context` — trusts a CA (hostname checked),
  optionally presents a client certificate, optionally capped below TLS 1.2;
* :func:`load_cert_files` — checks user-given PEM files, :class:`PkiFileError` naming the file;
* :func:`sign_csr` — the root issues a station certificate for a CSR (OCPP 2.0.1
  SignCertificate; the root's key is kept as ``root-ca-key.pem`` for that).

Watching handshakes made with these contexts (failures, the peer's name, whether legacy TLS
still works here) is :mod:`pile_interop.security.handshakes`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import shutil
import ssl
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "DEFAULT_HOSTS",
    "CertFiles",
    "ClientVariant",
    "PkiFileError",
    "ServerVariant",
    "TestPki",
    "client_context",
    "generate_pki",
    "load_cert_files",
    "pki_client_context",
    "pki_server_context",
    "server_context",
    "sign_csr",
    "temporary_pki",
]

ServerVariant = Literal["valid", "untrusted", "expired"]
ClientVariant = Literal["valid", "expired", "wrong_cn"]
SERVER_VARIANTS: tuple[ServerVariant, ...] = ("valid", "untrusted", "expired")
CLIENT_VARIANTS: tuple[ClientVariant, ...] = ("valid", "expired", "wrong_cn")

#: Names the CSMS server certificate is valid for (subjectAltName).
DEFAULT_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost")
#: Validity of the certificates that are not meant to be expired.
VALID_DAYS = 30
#: Cipher string that lets OpenSSL 3 negotiate TLS 1.0 / 1.1 (they need security level 0).
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"


class PkiFileError(ValueError):
    """A certificate or key file is missing, unreadable or not what it should be."""

    def __init__(self, path: str | Path, why: str) -> None:
        self.path = str(path)
        self.why = why
        super().__init__(f"{path}: {why}")


@dataclass(frozen=True)
class CertFiles:
    """A certificate and its private key, both PEM files."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class TestPki:
    """The files of one generated test PKI (see the module docstring)."""

    __test__ = False  # not a pytest test class

    directory: Path
    station_id: str
    root_ca: Path
    untrusted_root_ca: Path
    server: dict[ServerVariant, CertFiles]
    client: dict[ClientVariant, CertFiles]
    #: the root's private key (mode 0600): a CSMS signs stations' CSRs with it (:func:`sign_csr`)
    root_ca_key: Path | None = None

    def cleanup(self) -> None:
        """Remove the directory with every key in it."""
        shutil.rmtree(self.directory, ignore_errors=True)


# -- generating --------------------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pile-interop test PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


@dataclass
class _Issuer:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _root(common_name: str, now: dt.datetime) -> _Issuer:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return _Issuer(cert, key)


def _leaf(
    issuer: _Issuer,
    common_name: str,
    *,
    server: bool,
    hosts: tuple[str, ...],
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(issuer.cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )
    if server:
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer.key, hashes.SHA256()), key


def generate_pki(
    station_id: str,
    directory: str | Path | None = None,
    *,
    hosts: tuple[str, ...] = DEFAULT_HOSTS,
    now: dt.datetime | None = None,
) -> TestPki:
    """Make the whole test PKI into ``directory`` (a new temporary directory when None; the
    caller removes it with :meth:`TestPki.cleanup`). Keys are written with mode 0600."""
    folder = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="pki-"))
    folder.mkdir(parents=True, exist_ok=True)
    now = now or dt.datetime.now(dt.UTC)
    valid = (now - dt.timedelta(days=1), now + dt.timedelta(days=VALID_DAYS))
    expired = (now - dt.timedelta(days=VALID_DAYS), now - dt.timedelta(days=1))
    root = _root("pile-interop test root CA", now)
    stranger = _root("pile-interop UNTRUSTED root CA", now)
    _write_cert(folder / "root-ca.pem", root.cert)
    _write_key(folder / "root-ca-key.pem", root.key)
    _write_cert(folder / "untrusted-root-ca.pem", stranger.cert)

    def leaf(name: str, issuer: _Issuer, cn: str, server: bool, when: tuple) -> CertFiles:
        cert, key = _leaf(
            issuer, cn, server=server, hosts=hosts, not_before=when[0], not_after=when[1]
        )
        files = CertFiles(folder / f"{name}.pem", folder / f"{name}-key.pem")
        _write_cert(files.cert, cert)
        _write_key(files.key, key)
        return files

    csms = "pile-interop test CSMS"
    server: dict[ServerVariant, CertFiles] = {
        "valid": leaf("server", root, csms, True, valid),
        "expired": leaf("server-expired", root, csms, True, expired),
        "untrusted": leaf("server-untrusted", stranger, csms, True, valid),
    }
    client: dict[ClientVariant, CertFiles] = {
        "valid": leaf("client", root, station_id, False, valid),
        "expired": leaf("client-expired", root, station_id, False, expired),
        "wrong_cn": leaf("client-wrong-cn", root, f"NOT-{station_id}", False, valid),
    }
    return TestPki(
        directory=folder,
        station_id=station_id,
        root_ca=folder / "root-ca.pem",
        untrusted_root_ca=folder / "untrusted-root-ca.pem",
        server=server,
        client=client,
        root_ca_key=folder / "root-ca-key.pem",
    )


def sign_csr(
    pki: TestPki, csr_pem: str, *, days: int = VALID_DAYS, common_name: str | None = None
) -> str:
    """The PEM certificate the PKI's root issues for a PKCS#10 ``csr_pem`` (OCPP 2.0.1
    SignCertificate → CertificateSigned): the CSR's subject (its CN replaced by
    ``common_name`` when given: a negative case's wrong CN) and public key, a client-auth leaf
    valid for ``days``. ``ValueError`` when the CSR does not parse or its signature is wrong."""
    if pki.root_ca_key is None:
        raise ValueError("this PKI has no root key to sign with")
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    if not csr.is_signature_valid:
        raise ValueError("the CSR's signature does not verify")
    root_cert = x509.load_pem_x509_certificate(pki.root_ca.read_bytes())
    root_key = serialization.load_pem_private_key(pki.root_ca_key.read_bytes(), password=None)
    if not isinstance(root_key, ec.EllipticCurvePrivateKey):
        raise ValueError("the root key is not an EC key")
    now = dt.datetime.now(dt.UTC)
    public = csr.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise ValueError("the CSR's key is neither EC nor RSA")
    cert = (
        x509.CertificateBuilder()
        .subject_name(csr.subject if common_name is None else _name(common_name))
        .issuer_name(root_cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def csr_common_name(csr_pem: str) -> str | None:
    """The subject CN of a PEM PKCS#10 request (``ValueError`` when it does not parse)."""
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


def make_ca_certificate(common_name: str) -> str:
    """A self-signed CA certificate (PEM) that no TLS connection of the run uses: what the
    certificate-management cases install and delete. Its key is thrown away."""
    return (
        _root(common_name, dt.datetime.now(dt.UTC))
        .cert.public_bytes(serialization.Encoding.PEM)
        .decode()
    )


def make_csr(common_name: str, organization: str = "pile-interop") -> str:
    """A PEM PKCS#10 request for ``common_name`` (the suite as a station: SignCertificate).
    Its private key is thrown away: the CSMS under test only signs it."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


@contextlib.contextmanager
def temporary_pki(station_id: str, *, hosts: tuple[str, ...] = DEFAULT_HOSTS) -> Iterator[TestPki]:
    """A test PKI in a temporary directory, removed (keys and all) on exit."""
    pki = generate_pki(station_id, hosts=hosts)
    try:
        yield pki
    finally:
        pki.cleanup()


# -- contexts ----------------------------------------------------------------------------------


def _cap(context: ssl.SSLContext, max_version: ssl.TLSVersion | None) -> None:
    if max_version is None:
        return
    with warnings.catch_warnings():  # TLS < 1.2 is deprecated: a negative test wants it
        warnings.simplefilter("ignore", DeprecationWarning)
        if max_version < ssl.TLSVersion.TLSv1_2:
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.set_ciphers(LEGACY_CIPHERS)
        context.maximum_version = max_version


def server_context(
    cert: CertFiles,
    *,
    client_ca: str | Path | None = None,
    max_version: ssl.TLSVersion | None = None,
) -> ssl.SSLContext:
    """A server context presenting ``cert``; TLS ≥ 1.2 unless ``max_version`` is below 1.2
    (then *only* versions up to it: the "TLS below 1.2" negative). With ``client_ca`` a client
    certificate signed by that CA is required (security profile 3)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    _cap(context, max_version)
    context.load_cert_chain(cert.cert, cert.key)
    if client_ca is not None:
        context.load_verify_locations(cafile=str(client_ca))
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def pki_server_context(
    pki: TestPki,
    variant: ServerVariant = "valid",
    *,
    require_client_cert: bool = False,
    max_version: ssl.TLSVersion | None = None,
) -> ssl.SSLContext:
    """:func:`server_context` with the PKI's ``variant`` server certificate; a required
    client certificate must chain to the PKI's trusted root."""
    return server_context(
        pki.server[variant],
        client_ca=pki.root_ca if require_client_cert else None,
        max_version=max_version,
    )


def client_context(
    ca: str | Path | None,
    *,
    cert: CertFiles | None = None,
    max_version: ssl.TLSVersion | None = None,
    verify: bool = True,
) -> ssl.SSLContext:
    """A client context trusting ``ca`` (hostname checked; the system roots when None),
    presenting ``cert`` if given. ``verify=False`` accepts any server certificate (only a
    mutant wants that); ``max_version`` below 1.2 offers only the legacy versions."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    _cap(context, max_version)
    if verify:
        if ca is not None:
            context.load_verify_locations(cafile=str(ca))
        else:
            context.load_default_certs()
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if cert is not None:
        context.load_cert_chain(cert.cert, cert.key)
    return context


def pki_client_context(
    pki: TestPki,
    *,
    client: ClientVariant | None = None,
    max_version: ssl.TLSVersion | None = None,
) -> ssl.SSLContext:
    """:func:`client_context` trusting the PKI's root, presenting the ``client`` variant."""
    return client_context(
        pki.root_ca,
        cert=pki.client[client] if client is not None else None,
        max_version=max_version,
    )


def load_cert_files(
    ca: str | Path | None = None, cert: str | Path | None = None, key: str | Path | None = None
) -> None:
    """Check user-given PEM files: each exists, is readable and parses, and the key belongs
    to the certificate. :class:`PkiFileError` names the first bad file (never its content)."""
    texts: dict[str, bytes] = {}
    for path in (ca, cert, key):
        if path is None:
            continue
        try:
            texts[str(path)] = Path(path).read_bytes()
        except FileNotFoundError:
            raise PkiFileError(path, "no such file") from None
        except IsADirectoryError:
            raise PkiFileError(path, "is a directory, not a PEM file") from None
        except OSError as exc:
            raise PkiFileError(path, f"cannot read it ({exc.strerror or exc})") from None
    for path in (ca, cert):
        if path is not None:
            try:
                x509.load_pem_x509_certificates(texts[str(path)])
            except ValueError:
                raise PkiFileError(path, "not a PEM certificate") from None
    if cert is not None and key is not None:
        try:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(cert), str(key), password=_no_password)
        except ssl.SSLError as exc:
            raise PkiFileError(
                key, f"not the unencrypted private key of {cert} ({exc.reason or exc})"
            ) from None


def _no_password() -> str:
    raise PkiFileError("key", "the private key is encrypted (an unencrypted PEM key is needed)")
