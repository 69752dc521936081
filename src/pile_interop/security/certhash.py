"""OCPP 2.0.1 ``CertificateHashDataType`` of a certificate: how a station names an installed
certificate (GetInstalledCertificateIds) and how a CSMS names the one to delete
(DeleteCertificate). Station and CSMS must compute it the same way, so both use this.

OCPP 2.0.1 Part 2 §2 (CertificateHashDataType), after the OCSP CertID of RFC 6960 §4.1.1:
``issuerNameHash`` is the hash of the DER of the issuer's distinguished name, ``issuerKeyHash``
the hash of the issuer's public key (the value of the subjectPublicKey BIT STRING, without tag,
length and unused-bits byte), ``serialNumber`` the serial in hexadecimal without ``0x`` and
without leading zeroes. Hashes are lowercase hexadecimal, SHA256.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from cryptography import x509
from cryptography.hazmat.primitives import serialization

__all__ = ["certificate_hash_data", "load_certificate", "same_certificate"]


def load_certificate(pem: str | bytes) -> x509.Certificate:
    """The first certificate of a PEM text (``ValueError`` when there is none)."""
    data = pem.encode() if isinstance(pem, str) else pem
    return x509.load_pem_x509_certificates(data)[0]


def _der_tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the DER element at ``at``."""
    tag = data[at]
    length = data[at + 1]
    start = at + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    return tag, start, start + length


def _public_key_bits(cert: x509.Certificate) -> bytes:
    """The subjectPublicKey BIT STRING's bits of ``cert``'s SubjectPublicKeyInfo."""
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _, body, _ = _der_tlv(spki, 0)  # SEQUENCE { algorithm, subjectPublicKey }
    _, _, algorithm_end = _der_tlv(spki, body)
    tag, start, end = _der_tlv(spki, algorithm_end)
    if tag != 0x03:
        raise ValueError("SubjectPublicKeyInfo without a BIT STRING")
    return spki[start + 1 : end]  # drop the unused-bits byte


def certificate_hash_data(
    certificate: x509.Certificate | str | bytes,
    issuer: x509.Certificate | str | bytes | None = None,
) -> dict[str, str]:
    """The CertificateHashDataType (camelCase keys) of ``certificate``, whose issuer is
    ``issuer`` (default: the certificate itself, as for the root certificates a CSMS installs)."""
    cert = (
        certificate if isinstance(certificate, x509.Certificate) else load_certificate(certificate)
    )
    if issuer is None:
        issuer_cert = cert
    elif isinstance(issuer, x509.Certificate):
        issuer_cert = issuer
    else:
        issuer_cert = load_certificate(issuer)
    return {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": hashlib.sha256(cert.issuer.public_bytes()).hexdigest(),
        "issuerKeyHash": hashlib.sha256(_public_key_bits(issuer_cert)).hexdigest(),
        "serialNumber": format(cert.serial_number, "x"),
    }


def same_certificate(a: Mapping[str, object], b: Mapping[str, object]) -> bool:
    """Whether two CertificateHashData name the same certificate (hex compared case-blind)."""
    keys = ("hashAlgorithm", "issuerNameHash", "issuerKeyHash", "serialNumber")
    return all(str(a.get(k, "")).lower() == str(b.get(k, "")).lower() for k in keys)
