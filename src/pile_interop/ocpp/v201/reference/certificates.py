"""The certificate store of the reference OCPP 2.0.1 station (Part 2 blocks A and M).

* CA certificates (M03 / M04 / M05): InstallCertificate stores a PEM certificate per
  certificate type (Rejected when it does not parse or has expired); an installed
  CSMSRootCertificate is trusted for TLS from then on. GetInstalledCertificateIds names them by
  CertificateHashData (:mod:`pile_interop.security.certhash`), NotFound when there are none.
  DeleteCertificate: Accepted, NotFound, or Failed for the last CSMSRootCertificate while the
  station uses TLS (security profile 2 or 3: deleting it would cut the station off its CSMS;
  with profile 1 it may go, TC_A_20). From the factory the store holds the CSMS root(s) the
  station's TLS context trusts.
* Station certificate (A02 / A03): TriggerMessage SignChargingStationCertificate → a new EC key
  and a PKCS#10 CSR (CN = station id, O = SecurityCtrlr.OrganizationName) in SignCertificate;
  CertificateSigned is Accepted when the chain is PEM, the leaf's CN is the station id, the
  leaf is valid now and carries the CSR's key — then it is the client certificate of the next
  TLS connection (security profile 3) — else Rejected with an InvalidChargingStationCertificate
  event.
* TLS context: without one given to the constructor the station builds one trusting the
  installed CSMS roots (TLS 1.2 or newer, hostname checked), presenting its station
  certificate.

:class:`Certificates` holds the default behaviour; every decision goes through the station
(``ReferenceStation``, typed as :class:`CertificateStore`), so that a mutant overriding a hook
there changes it. No key is ever logged; keys live in memory and are written to a private
temporary directory only for the moment ``ssl`` loads them.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import ssl as ssl_module
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

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

from pile_interop.core.config import TlsFiles
from pile_interop.ocpp.v201.reference.station_model import DeviceModel
from pile_interop.security.certhash import certificate_hash_data, same_certificate
from pile_interop.security.pki import CertFiles, client_context

CSMS_ROOT = InstallCertificateUseEnumType.csms_root_certificate.value
STATION_CERTIFICATE = CertificateSigningUseEnumType.charging_station_certificate.value


@dataclass
class InstalledCertificate:
    """A CA certificate installed with InstallCertificate."""

    certificate_type: str
    pem: str
    hash_data: dict[str, str]


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def files_tls_context(files: TlsFiles) -> ssl_module.SSLContext:
    """Security profiles 2 and 3: trust ``files.ca_cert`` only (hostname checked, TLS 1.2 or
    newer) and present ``files.client_cert`` when the CSMS asks for one."""
    client = None
    if files.client_cert and files.client_key:
        client = CertFiles(Path(files.client_cert), Path(files.client_key))
    return client_context(files.ca_cert, cert=client)


class CertificateStore(Protocol):
    """What the certificate store needs from the station."""

    station_id: str
    log: logging.Logger
    vendor: str
    model: DeviceModel
    #: the TLS context of wss:// slots (None: built from the installed roots when needed)
    ssl: ssl_module.SSLContext | None
    #: the installed CA certificates
    certificates: list[InstalledCertificate]
    #: the station certificate chain (PEM) accepted with CertificateSigned
    client_certificate: str | None

    async def send(self, request: Any) -> Any: ...
    def security_event(self, kind: str, tech_info: str | None = None) -> None: ...
    def security_level(self) -> int: ...
    # -- hooks --
    def install_certificate_decision(
        self, certificate_type: str, pem: str
    ) -> tuple[str, x509.Certificate | None]: ...
    def store_certificate(self, certificate_type: str, cert: x509.Certificate) -> None: ...
    def delete_certificate_status(self, found: InstalledCertificate | None) -> str: ...
    def csr_subject(self) -> x509.Name: ...
    def certificate_signed_problem(
        self, chain: str, certificate_type: str | None
    ) -> str | None: ...


class Certificates:
    """InstallCertificate, GetInstalledCertificateIds, DeleteCertificate, the CSR and
    CertificateSigned, and the TLS context built from the store."""

    def __init__(self, station: CertificateStore) -> None:
        self.st = station
        #: the key of the station certificate accepted with CertificateSigned
        self.client_key: ec.EllipticCurvePrivateKey | None = None
        #: the key of the CSR sent last (waiting for CertificateSigned)
        self.csr_key: ec.EllipticCurvePrivateKey | None = None

    def csms_roots(self) -> list[InstalledCertificate]:
        return [c for c in self.st.certificates if c.certificate_type == CSMS_ROOT]

    def initial_certificates(self) -> list[InstalledCertificate]:
        ssl = self.st.ssl
        if ssl is None:
            return []
        out = []
        for der in ssl.get_ca_certs(binary_form=True):
            cert = x509.load_der_x509_certificate(der)
            out.append(InstalledCertificate(CSMS_ROOT, _pem(cert), certificate_hash_data(cert)))
        return out

    def add_initial(self, installed: list[InstalledCertificate]) -> None:
        """The factory's certificates, each once."""
        for cert in installed:
            if not any(same_certificate(c.hash_data, cert.hash_data) for c in self.st.certificates):
                self.st.certificates.append(cert)

    # -- M03 / M04 / M05: CA certificates ---------------------------------------------------

    async def install_certificate(
        self, req: call.InstallCertificate
    ) -> call_result.InstallCertificate:
        st = self.st
        status, cert = st.install_certificate_decision(req.certificate_type, req.certificate)
        if status == InstallCertificateStatusEnumType.accepted and cert is not None:
            st.store_certificate(req.certificate_type, cert)
        return call_result.InstallCertificate(status=status)

    @staticmethod
    def install_certificate_decision(
        certificate_type: str, pem: str
    ) -> tuple[str, x509.Certificate | None]:
        try:
            cert = x509.load_pem_x509_certificates(pem.encode())[0]
        except (ValueError, IndexError):
            return InstallCertificateStatusEnumType.rejected, None
        now = dt.datetime.now(dt.UTC)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            return InstallCertificateStatusEnumType.rejected, None
        return InstallCertificateStatusEnumType.accepted, cert

    def store_certificate(self, certificate_type: str, cert: x509.Certificate) -> None:
        st = self.st
        hash_data = certificate_hash_data(cert)
        st.certificates = [
            c
            for c in st.certificates
            if not (
                c.certificate_type == certificate_type and same_certificate(c.hash_data, hash_data)
            )
        ]
        pem = _pem(cert)
        st.certificates.append(InstalledCertificate(certificate_type, pem, hash_data))
        if certificate_type == CSMS_ROOT and st.ssl is not None:
            st.ssl.load_verify_locations(cadata=pem)

    def installed_certificate_ids(
        self, req: call.GetInstalledCertificateIds
    ) -> call_result.GetInstalledCertificateIds:
        types = set(req.certificate_type or [])
        chain = [
            {"certificateType": c.certificate_type, "certificateHashData": dict(c.hash_data)}
            for c in self.st.certificates
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

    def delete_certificate(self, req: call.DeleteCertificate) -> call_result.DeleteCertificate:
        st = self.st
        wanted = snake_to_camel_case(req.certificate_hash_data)
        found = next((c for c in st.certificates if same_certificate(c.hash_data, wanted)), None)
        status = st.delete_certificate_status(found)
        if status == DeleteCertificateStatusEnumType.accepted and found is not None:
            st.certificates.remove(found)
        return call_result.DeleteCertificate(status=status)

    def delete_certificate_status(self, found: InstalledCertificate | None) -> str:
        if found is None:
            return DeleteCertificateStatusEnumType.not_found
        roots = self.csms_roots()
        if (
            found.certificate_type == CSMS_ROOT
            and len(roots) == 1
            and self.st.security_level() >= 2
        ):
            return DeleteCertificateStatusEnumType.failed
        return DeleteCertificateStatusEnumType.accepted

    # -- TLS ----------------------------------------------------------------------------------

    def tls_for_profile(self, level: int) -> ssl_module.SSLContext | None:
        """The constructor's context; without one, a context trusting the installed CSMS root
        certificates (TLS 1.2 or newer, hostname checked), presenting the station certificate."""
        st = self.st
        if st.ssl is None and self.csms_roots():
            context = ssl_module.SSLContext(ssl_module.PROTOCOL_TLS_CLIENT)
            context.minimum_version = ssl_module.TLSVersion.TLSv1_2
            context.load_verify_locations(cadata="".join(c.pem for c in self.csms_roots()))
            if st.client_certificate is not None and self.client_key is not None:
                load_chain(context, st.client_certificate, self.client_key)
            st.ssl = context
        return st.ssl

    # -- A02 / A03: station certificate -------------------------------------------------------

    def csr_subject(self) -> x509.Name:
        st = self.st
        organization = st.model.get("SecurityCtrlr", "OrganizationName") or st.vendor
        return x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                x509.NameAttribute(NameOID.COMMON_NAME, st.station_id),
            ]
        )

    def build_csr(self) -> str:
        """A new key and its PEM PKCS#10 request (A02.FR.02: the CSR's CN is the station id)."""
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(self.st.csr_subject())
            .sign(key, hashes.SHA256())
        )
        self.csr_key = key
        return csr.public_bytes(serialization.Encoding.PEM).decode()

    async def request_certificate_signing(self) -> None:
        """SignCertificate with a fresh CSR (TriggerMessage SignChargingStationCertificate)."""
        st = self.st
        result = await st.send(
            call.SignCertificate(csr=self.build_csr(), certificate_type=STATION_CERTIFICATE)
        )
        status = getattr(result, "status", None)
        st.log.info("%s: SignCertificate %s", st.station_id, status)

    def certificate_signed(self, req: call.CertificateSigned) -> call_result.CertificateSigned:
        st = self.st
        problem = st.certificate_signed_problem(req.certificate_chain, req.certificate_type)
        if problem is not None:
            st.log.info("%s: CertificateSigned refused: %s", st.station_id, problem)
            st.security_event("InvalidChargingStationCertificate", problem)
            return call_result.CertificateSigned(status=CertificateSignedStatusEnumType.rejected)
        self.install_client_certificate(req.certificate_chain)
        return call_result.CertificateSigned(status=CertificateSignedStatusEnumType.accepted)

    def certificate_signed_problem(self, chain: str, certificate_type: str | None) -> str | None:
        st = self.st
        if certificate_type not in (None, STATION_CERTIFICATE):
            return f"{certificate_type} was not requested"
        limit = int(st.model.get("SecurityCtrlr", "MaxCertificateChainSize") or 0)
        if limit and len(chain) > limit:
            return f"chain longer than MaxCertificateChainSize {limit}"
        try:
            certs = x509.load_pem_x509_certificates(chain.encode())
        except ValueError:
            return "not a PEM certificate chain"
        leaf = certs[0]
        names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        common_name = str(names[0].value) if names else None
        if common_name != st.station_id:
            return f"CN {common_name!r} is not the station id"
        now = dt.datetime.now(dt.UTC)
        if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
            return "the certificate is not valid now"
        if self.csr_key is None:
            return "no certificate signing request is pending"
        ours = self.csr_key.public_key().public_bytes(
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
        st = self.st
        key = self.csr_key
        if key is None:
            return
        st.client_certificate, self.client_key, self.csr_key = chain, key, None
        if st.ssl is not None:
            load_chain(st.ssl, chain, key)


def load_chain(context: ssl_module.SSLContext, chain: str, key: ec.EllipticCurvePrivateKey) -> None:
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
