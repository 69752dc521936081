"""Mutant OCPP 1.6 Central Systems with one transport-security defect each (profile
``ocpp16/security-csms``), registered in the same catalogue as every other mutant."""

from __future__ import annotations

import ssl
from typing import Any

from pile_interop.ocpp.server import CsmsServer
from pile_interop.ocpp.v16.reference.csms import ReferenceCsms
from pile_interop.security.pki import pki_server_context, server_context
from tests.mutants.stations16 import mutant

SECURITY = "ocpp16/security-csms"


@mutant("TC_085_2_CSMS", "OCPP1.6-SEC Basic authentication", "TC_085_3_CSMS", profile=SECURITY)
class AcceptsAnyPassword(ReferenceCsms):
    """Accepts any (or no) Basic password: the station identity in the URL is enough."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.server.password = None


@mutant("TC_087_2_CSMS", "OCPP1.6-SEC TLS client certificate", profile=SECURITY)
class IgnoresClientCertificateName(ReferenceCsms):
    """Accepts any client certificate of its CA, whatever station identity it was issued to."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**{**kwargs, "client_cn_required": False})


@mutant("TC_086_2_CSMS", "OCPP1.6-SEC TLS version", profile=SECURITY)
class CsmsAcceptsLegacyTls(ReferenceCsms):
    """Also accepts TLS 1.0 and 1.1."""

    def __init__(self, **kwargs: Any) -> None:
        context: ssl.SSLContext | None = kwargs.get("ssl")
        if context is not None:
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        super().__init__(**kwargs)


@mutant("TC_088_2_CSMS", "OCPP-J1.6 subprotocol", profile=SECURITY)
class AgreesToAnySubprotocol(ReferenceCsms):
    """Agrees to whatever OCPP version a station offers (here the unknown ocpp0.9)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        old = self.server
        self.server = CsmsServer(
            old.host,
            old.port,
            self._on_connect,
            subprotocols=["ocpp1.6", "ocpp0.9"],
            station_ids=list(self.passwords) or None,
            password=old.password,
            ssl=old.ssl,
            client_cn_required=old.client_cn_required,
        )


#: every case of the profile: a defect in what every connection needs breaks them all
_ALL = tuple(
    f"TC_{n}_CSMS"
    for n in (
        *("085", "085_2", "085_3", "086", "086_2"),
        *("087", "087_2", "087_3", "087_4", "088", "088_2", "073"),
    )
)


@mutant("TC_085_CSMS", "OCPP1.6-SEC Basic authentication", *_ALL, profile=SECURITY)
class ComparesPasswordHashes(ReferenceCsms):
    """Checks the Basic password against a hash of the configured one (never matches)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.server.password is not None:
            import hashlib

            self.server.password = hashlib.sha256(self.server.password.encode()).hexdigest()


@mutant("TC_086_CSMS", "OCPP1.6-SEC TLS server certificate", *_ALL, profile=SECURITY)
class ServesExpiredCertificate(ReferenceCsms):
    """Serves a server certificate that expired yesterday."""

    def __init__(self, **kwargs: Any) -> None:
        pki = kwargs.get("pki")
        if pki is not None:
            kwargs["ssl"] = pki_server_context(pki, "expired", require_client_cert=True)
        super().__init__(**kwargs)


@mutant("TC_087_CSMS", "OCPP1.6-SEC TLS client certificate", *_ALL, profile=SECURITY)
class TrustsTheWrongCa(ReferenceCsms):
    """Verifies client certificates against another CA than the one it issued them with."""

    def __init__(self, **kwargs: Any) -> None:
        pki = kwargs.get("pki")
        if pki is not None:
            kwargs["ssl"] = server_context(pki.server["valid"], client_ca=pki.untrusted_root_ca)
        super().__init__(**kwargs)


@mutant("TC_087_3_CSMS", "OCPP1.6-SEC TLS client certificate", profile=SECURITY)
class IgnoresCertificateExpiry(ReferenceCsms):
    """Does not check the validity period of client certificates."""

    def __init__(self, **kwargs: Any) -> None:
        context = kwargs.get("ssl")
        if context is not None:
            no_check_time = 0x200000  # OpenSSL X509_V_FLAG_NO_CHECK_TIME
            context.verify_flags = ssl.VerifyFlags(context.verify_flags | no_check_time)
        super().__init__(**kwargs)


@mutant("TC_087_4_CSMS", "OCPP1.6-SEC TLS client certificate", "TC_087_2_CSMS", profile=SECURITY)
class ClientCertificateOptional(ReferenceCsms):
    """Asks for a client certificate but accepts a station without one (or with any name)."""

    def __init__(self, **kwargs: Any) -> None:
        context = kwargs.get("ssl")
        if context is not None:
            context.verify_mode = ssl.CERT_OPTIONAL
        super().__init__(**{**kwargs, "client_cn_required": False})


@mutant("TC_088_CSMS", "OCPP-J1.6 subprotocol", *_ALL, profile=SECURITY)
class AgreesToNoSubprotocol(ReferenceCsms):
    """Accepts the connection without repeating the subprotocol in its handshake answer."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.server.agree_subprotocol = None


@mutant("TC_073_CSMS", "OCPP1.6-SEC Basic authentication", profile=SECURITY)
class ShortDecimalPassword(ReferenceCsms):
    """Generates new station passwords of 8 decimal digits (not 16-20 bytes in hex)."""

    def new_authorization_key(self) -> str:
        return "12345678"


@mutant("TC_073_CSMS", "OCPP1.6-SEC Basic authentication", profile=SECURITY)
class ForgetsNewPassword(ReferenceCsms):
    """Sends the station a new password but keeps checking the old one."""

    def store_password(self, station_id: str, password: str) -> None:
        return None


@mutant("TC_073_CSMS", "OCPP1.6-SEC Basic authentication", profile=SECURITY)
class StopsCheckingAfterPasswordChange(ReferenceCsms):
    """After a password change it accepts any password for the station (the old one too)."""

    def store_password(self, station_id: str, password: str) -> None:
        self.server.password = None
