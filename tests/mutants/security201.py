"""Mutant OCPP 2.0.1 stations of block A (security): the reference station with ONE defect each.

Registered in the catalogue of :mod:`tests.mutants.stations16` (``mutant(catches, requirement,
*also, profile=...)``): the Core block A cases of ``ocpp201/core-cs`` (Basic auth, server
certificate, TLS version, password update, security events) and every case of
``ocpp201/advanced-security-cs`` (client certificate, certificate renewal, security-profile
upgrade and downgrade). A defect that leaves the station unable to connect at all would break
every later case of the run, so each one here either recovers by itself (the mock CSMS's
baseline comes back after a case) or is bounded in time.

Not caught by any case: a station that answers CertificateSigned Accepted and keeps connecting
with its old certificate — both certificates name the station and chain to the run's root, and
the connection the suite sees says which CN, not which certificate (TC_A_11_CS).
"""

from __future__ import annotations

import ssl
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from ocpp.v201.enums import BootReasonEnumType, SetNetworkProfileStatusEnumType

from pile_interop.core.config import TlsFiles
from pile_interop.ocpp.v201.reference.station import ReferenceStation
from pile_interop.security.pki import LEGACY_CIPHERS, client_context
from tests.mutants.stations16 import mutant

CORE = "ocpp201/core-cs"
SECURITY = "ocpp201/advanced-security-cs"
#: OpenSSL's X509_V_FLAG_NO_CHECK_TIME: verify the chain but not the validity dates
NO_CHECK_TIME = 0x200000
SERVER_CERTIFICATE = "A00.FR.311"
TLS_VERSION = "A00.FR.316"
#: every case of ocpp201/advanced-security-cs (a defect after which the station never connects
#: again breaks all those after it)
SECURITY_CASES = (
    "TC_A_07_CS",
    "TC_A_04_CS",
    "TC_A_05_CS",
    "TC_A_06_CS",
    "TC_A_11_CS",
    "TC_A_14_CS",
    "TC_A_22_CS",
    "TC_A_19_CS",
)


# -- server certificate, TLS version (both profiles) ------------------------------------------


class _AcceptsAnyServerCertificate(ReferenceStation):
    """Does not verify the CSMS's certificate (any issuer, any date, any host)."""

    @classmethod
    def tls_context(cls, files: TlsFiles) -> ssl.SSLContext:
        context = super().tls_context(files)  # its client certificate stays
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context


class _AcceptsExpiredServerCertificate(ReferenceStation):
    """Ignores the validity dates of the CSMS's certificate."""

    @classmethod
    def tls_context(cls, files: TlsFiles) -> ssl.SSLContext:
        context = super().tls_context(files)
        context.verify_flags |= NO_CHECK_TIME
        return context


class _AcceptsLegacyTls(ReferenceStation):
    """Agrees to TLS 1.0 and 1.1 when the CSMS offers nothing newer."""

    @classmethod
    def tls_context(cls, files: TlsFiles) -> ssl.SSLContext:
        context = super().tls_context(files)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers(LEGACY_CIPHERS)
        return context


@mutant("TC_A_05_CS", SERVER_CERTIFICATE, "TC_A_05_2_CS", profile=CORE)
class AcceptsAnyCsmsCertificate(_AcceptsAnyServerCertificate):
    """Does not verify the CSMS's certificate (any issuer, any date, any host)."""


@mutant("TC_A_05_2_CS", SERVER_CERTIFICATE, profile=CORE)
class AcceptsExpiredCsmsCertificate(_AcceptsExpiredServerCertificate):
    """Ignores the validity dates of the CSMS's certificate."""


@mutant("TC_A_06_CS", TLS_VERSION, profile=CORE)
class AcceptsLegacyTlsStation(_AcceptsLegacyTls):
    """Agrees to TLS 1.0 and 1.1 when the CSMS offers nothing newer."""


@mutant(
    "TC_A_01_CS",
    "A00.FR.202",
    *(f"TC_A_{n}_CS" for n in ("04", "05", "05_2", "06", "90")),
    "TC_B_20_CS",
    "TC_B_22_CS",
    "TC_B_58_CS",
    profile=CORE,
)
class NoCredentialsAfterReset(ReferenceStation):
    """For its first 100 s after a Reset it connects without its HTTP Basic credentials (its
    password store is loaded late), then with them again."""

    #: protocol seconds after the reboot; its reconnect back-off (1, 2, 4 … 60 s) then brings
    #: the first attempt with credentials 128 s after the Reset: past the 120 s the Reset cases
    #: wait for the BootNotification, well within the next case's connect bound (the station
    #: is back for the next case, not broken for the rest of the run)
    WINDOW_S = 100
    _booted_at: float | None = None

    def on_power_on(self, reason: str) -> None:
        super().on_power_on(reason)
        remote = reason == BootReasonEnumType.remote_reset.value
        self._booted_at = self.clock.monotonic() if remote else None

    def _target(self, slot: int) -> tuple[str, dict[str, Any]]:
        url, kwargs = super()._target(slot)
        booted = self._booted_at
        if booted is not None and self.clock.monotonic() - booted < self.WINDOW_S:
            kwargs["additional_headers"] = None
        return url, kwargs


@mutant("TC_A_05_CS", SERVER_CERTIFICATE, profile=SECURITY)
class AcceptsAnyCsmsCertificateSecure(_AcceptsAnyServerCertificate):
    """Does not verify the CSMS's certificate (any issuer, any date, any host)."""


@mutant("TC_A_06_CS", TLS_VERSION, profile=SECURITY)
class AcceptsLegacyTlsStationSecure(_AcceptsLegacyTls):
    """Agrees to TLS 1.0 and 1.1 when the CSMS offers nothing newer."""


@mutant("TC_A_07_CS", "A00.FR.401", *SECURITY_CASES, profile=SECURITY)
class ForgetsTlsTrustOnReboot(ReferenceStation):
    """Does not keep its TLS configuration across a reboot: afterwards it trusts only the
    system's root store (not the CSMS root it was given) and has no client certificate."""

    def on_power_on(self, reason: str) -> None:
        super().on_power_on(reason)
        uses_tls = getattr(self, "ssl", None) is not None
        if reason != BootReasonEnumType.power_up.value and uses_tls:
            self.ssl = client_context(None)


# -- Basic auth password, security events (Core) ------------------------------------------------


@mutant("TC_A_09_CS", "OCPP2.0.1 A01", profile=CORE)
class KeepsOldBasicAuthPassword(ReferenceStation):
    """Answers a new BasicAuthPassword Accepted but keeps connecting with the old one."""

    def set_password(self, value: str) -> None:
        return None


@mutant("TC_A_10_CS", "A00.FR.205", profile=CORE)
class AcceptsShortBasicAuthPassword(ReferenceStation):
    """Answers a BasicAuthPassword of 8 to 15 characters Accepted (its minimum is 8, not 16);
    its password store then keeps the old one."""

    def password_status(self, value: str) -> str:
        if 8 <= len(value) < 16 and value.isascii() and value.isprintable():
            return "Accepted"
        return super().password_status(value)

    def set_password(self, value: str) -> None:
        if len(value) >= 16:
            super().set_password(value)


@mutant("TC_A_90_CS", "A04.FR.01", profile=CORE)
class NoResetSecurityEvent(ReferenceStation):
    """Sends no ResetOrReboot / StartupOfTheDevice security event."""

    def security_event(self, kind: str, tech_info: str | None = None) -> None:
        if kind not in ("ResetOrReboot", "StartupOfTheDevice"):
            super().security_event(kind, tech_info)


# -- client certificate, certificate renewal, security profiles (Advanced Security) -----------


# TC_A_04_CS: after TC_A_07_CS failed the station, rebooted but not registered, reconnects
# under the baseline while the next case begins; the suite, still counting it registered,
# sends its Reset before the new BootNotification is answered (SecurityError)
@mutant("TC_A_07_CS", "A00.FR.401", "TC_A_04_CS", profile=SECURITY)
class PresentsNoClientCertificate201(ReferenceStation):
    """Presents no client certificate when the CSMS asks for one (until a CertificateSigned
    gives it one)."""

    @classmethod
    def tls_context(cls, files: TlsFiles) -> ssl.SSLContext:
        return client_context(files.ca_cert)


@mutant("TC_A_11_CS", "A02.FR.09", profile=SECURITY)
class CsrWithWrongCommonName(ReferenceStation):
    """Puts its serial number, not its identity, in the CN of its CSR (so the certificate the
    CSMS issues for it is not the station's)."""

    def csr_subject(self) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.serial)])


@mutant("TC_A_14_CS", "A02.FR.07", "TC_A_19_CS", profile=SECURITY)
class AcceptsWrongCnCertificate(ReferenceStation):
    """Accepts a CertificateSigned chain issued for another identity (CN not checked)."""

    def certificate_signed_problem(self, chain: str, certificate_type: str | None) -> str | None:
        problem = super().certificate_signed_problem(chain, certificate_type)
        if problem is not None and problem.startswith("CN "):
            return None
        return problem


@mutant("TC_A_22_CS", "B09.FR.04", profile=SECURITY)
class AcceptsSecurityProfileDowngrade(ReferenceStation):
    """Accepts a NetworkConnectionProfile with a lower security profile than its own."""

    def network_profile_status(self, slot: int, data: dict[str, Any]) -> str:
        level = int(data.get("securityProfile", 0))
        if 1 <= level < self.security_level():
            return SetNetworkProfileStatusEnumType.accepted
        return super().network_profile_status(slot, data)


@mutant("TC_A_19_CS", "A05.FR.05", profile=SECURITY)
class IgnoresNetworkConfigurationPriority(ReferenceStation):
    """Always connects through its first network profile slot, whatever
    NetworkConfigurationPriority says (no security-profile upgrade)."""

    def priority_slots(self) -> list[int]:
        return [1]
