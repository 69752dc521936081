"""Mutant OCPP 1.6 stations of the security profile (``ocpp16/security-cs``): the reference
station with ONE transport-security defect each, registered in the same catalogue as
:mod:`tests.mutants.stations16` (a separate module so the Core and security mutants can grow
apart)."""

from __future__ import annotations

import ssl
from typing import Any

from pile_interop.core.config import TlsFiles
from pile_interop.ocpp.v16.reference.registration import SUBPROTOCOL
from pile_interop.ocpp.v16.reference.station import ReferenceStation
from pile_interop.security.pki import LEGACY_CIPHERS, client_context
from tests.mutants.stations16 import mutant

PROFILE = "ocpp16/security-cs"
#: every case of the profile (a defect that keeps the station from ever connecting)
ALL = (
    "TC_085_CS",
    "TC_086_CS",
    "TC_087_CS",
    "TC_088_CS",
    "TC_073_CS",
    "TC_086_2_CS",
    "TC_086_3_CS",
    "TC_086_4_CS",
    "TC_088_2_CS",
)
SERVER_CERT = "OCPP1.6-SEC server certificate validation"
#: OpenSSL's X509_V_FLAG_NO_CHECK_TIME: verify the chain but not the validity dates
NO_CHECK_TIME = 0x200000


@mutant("TC_086_2_CS", SERVER_CERT, "TC_086_3_CS", profile=PROFILE)
class AcceptsAnyServerCertificate(ReferenceStation):
    """Does not verify the Central System's certificate (any issuer, any date, any host)."""

    @classmethod
    def tls_context(cls, files: TlsFiles) -> ssl.SSLContext:
        context = super().tls_context(files)  # its client certificate stays
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context


@mutant("TC_086_3_CS", SERVER_CERT, profile=PROFILE)
class AcceptsExpiredServerCertificate(ReferenceStation):
    """Ignores the validity dates of the Central System's certificate."""

    @classmethod
    def tls_context(cls, files: TlsFiles) -> ssl.SSLContext:
        context = super().tls_context(files)
        context.verify_flags |= NO_CHECK_TIME
        return context


@mutant("TC_086_4_CS", "OCPP1.6-SEC TLS version", profile=PROFILE)
class AcceptsLegacyTls(ReferenceStation):
    """Agrees to TLS 1.0 and 1.1 when the Central System offers nothing newer."""

    @classmethod
    def tls_context(cls, files: TlsFiles) -> ssl.SSLContext:
        context = super().tls_context(files)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers(LEGACY_CIPHERS)
        return context


@mutant("TC_085_CS", "OCPP1.6-SEC Basic authentication", *ALL, profile=PROFILE)
class SendsNoBasicAuth(ReferenceStation):
    """Sends no HTTP Basic credentials (its AuthorizationKey is never used)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.password = None


@mutant("TC_087_CS", "OCPP1.6-SEC TLS client certificate", profile=PROFILE)
class PresentsNoClientCertificate(ReferenceStation):
    """Presents no client certificate when the Central System asks for one (profile 3)."""

    @classmethod
    def tls_context(cls, files: TlsFiles) -> ssl.SSLContext:
        return client_context(files.ca_cert)


@mutant("TC_088_2_CS", "OCPP-J1.6 subprotocol agreement", profile=PROFILE)
class IgnoresAgreedSubprotocol(ReferenceStation):
    """Speaks OCPP 1.6 on a connection where the Central System agreed to no subprotocol."""

    async def serve_connection(self, ws: Any) -> None:
        await super().serve_connection(_Agreed(ws))


class _Agreed:
    """The connection as the mutant sees it: always ``ocpp1.6`` agreed."""

    subprotocol = SUBPROTOCOL

    def __init__(self, ws: Any) -> None:
        self._ws = ws

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)

    def __aiter__(self) -> Any:
        return self._ws.__aiter__()


@mutant("TC_086_CS", "OCPP1.6-SEC TLS server certificate", *ALL, profile=PROFILE)
class IgnoresConfiguredCa(ReferenceStation):
    """Trusts only the system's root store, not the CA it was given: valid CSMS certificate
    refused."""

    @classmethod
    def tls_context(cls, files: TlsFiles) -> ssl.SSLContext:
        return client_context(None)


@mutant("TC_088_CS", "OCPP-J1.6 subprotocol", *ALL, profile=PROFILE)
class OffersNoSubprotocol(ReferenceStation):
    """Opens its WebSocket without a Sec-WebSocket-Protocol header."""

    def _connect_kwargs(self) -> dict[str, Any]:
        return {**super()._connect_kwargs(), "subprotocols": None}


@mutant("TC_073_CS", "OCPP1.6-SEC Basic authentication", profile=PROFILE)
class KeepsOldAuthorizationKey(ReferenceStation):
    """Answers a new AuthorizationKey Accepted but keeps connecting with the old password."""

    def set_authorization_key(self, value: str) -> None:
        return None
