"""The ISO 15118 (V2G) certificate chain of the reference 2.0.1 station (M03): the generated
chain a station with the feature ``iso15118`` holds, and how GetInstalledCertificateIds names
it (M03.FR.05: the leaf's hash data, the sub-CAs' in childCertificateHashData). The reference
speaks no ISO 15118: it only has to name the chain.

:class:`CertificateHandlers` holds the default behaviour; the station (``ReferenceStation``)
keeps the hook (``v2g_chain_entry``) and the handler, and adds the chain to what its security
layer lists.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ocpp.v201 import call, call_result
from ocpp.v201.enums import GetCertificateIdUseEnumType, GetInstalledCertificateStatusEnumType

from pile_interop.security.certhash import certificate_hash_data

V2G_CHAIN = GetCertificateIdUseEnumType.v2g_certificate_chain.value
#: Validity of the generated V2G certificate chain (days, from the station's start)
V2G_VALID_DAYS = 365


def v2g_certificate_chain(station_id: str) -> list[x509.Certificate]:
    """A generated ISO 15118 chain as a station holds it: [V2G charging station certificate,
    CPO Sub-CA 2, CPO Sub-CA 1, V2G root] (EC P-256, each signed by the next). The keys are
    thrown away: the reference speaks no ISO 15118, it only has to name the chain (M03)."""
    now = dt.datetime.now(dt.UTC)
    names = ["V2G Root CA", "CPO Sub-CA 1", "CPO Sub-CA 2", station_id]
    certs: list[x509.Certificate] = []
    issuer_key: ec.EllipticCurvePrivateKey | None = None
    issuer_name: x509.Name | None = None
    for depth, common_name in enumerate(names):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pile-interop reference V2G"),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )
        leaf = depth == len(names) - 1
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer_name or name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=V2G_VALID_DAYS))
            .add_extension(
                x509.BasicConstraints(ca=not leaf, path_length=None if leaf else 2 - depth),
                critical=True,
            )
            .sign(issuer_key or key, hashes.SHA256())
        )
        certs.append(cert)
        issuer_key, issuer_name = key, name
    return certs[::-1]


class CertificateStation(Protocol):
    """What naming the V2G chain needs from the station."""

    #: the station's V2G certificate chain, leaf first (empty without ``iso15118``)
    v2g_chain: list[x509.Certificate]

    # -- hook --
    def v2g_chain_entry(self) -> dict[str, Any] | None: ...


class CertificateHandlers:
    """The V2G chain in GetInstalledCertificateIds."""

    def __init__(self, station: CertificateStation) -> None:
        self.st = station

    def with_v2g_chain(
        self, req: call.GetInstalledCertificateIds, result: call_result.GetInstalledCertificateIds
    ) -> call_result.GetInstalledCertificateIds:
        """``result`` (the installed CA certificates) with the V2G chain added when asked for
        (M03.FR.05)."""
        types = set(req.certificate_type or [])
        entry = self.st.v2g_chain_entry()
        if entry is None or (types and V2G_CHAIN not in types):
            return result
        return call_result.GetInstalledCertificateIds(
            status=GetInstalledCertificateStatusEnumType.accepted,
            certificate_hash_data_chain=[*(result.certificate_hash_data_chain or []), entry],
        )

    def v2g_chain_entry(self) -> dict[str, Any] | None:
        chain = self.st.v2g_chain
        if len(chain) < 2:
            return None
        children = [
            certificate_hash_data(cert, issuer) for cert, issuer in itertools.pairwise(chain[1:])
        ]
        entry: dict[str, Any] = {
            "certificateType": V2G_CHAIN,
            "certificateHashData": certificate_hash_data(chain[0], chain[1]),
        }
        if children:
            entry["childCertificateHashData"] = children
        return entry
