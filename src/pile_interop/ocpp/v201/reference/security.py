"""Security of the reference OCPP 2.0.1 station (Part 2 block A); the certificates are
:mod:`~pile_interop.ocpp.v201.reference.certificates`.

* Basic auth password (A01 / A02: ``SecurityCtrlr.BasicAuthPassword``, write-only): 16 to 40
  printable ASCII characters, else Rejected; an accepted password is used from the next
  connection on, and the station reconnects at once to use it.
* Security events (A04): SecurityEventNotification, queued while offline and sent in order —
  StartupOfTheDevice at power-up, ResetOrReboot before a reset, SettingSystemTime for a large
  clock correction, InvalidCsmsCertificate when the CSMS's TLS certificate does not verify,
  InvalidChargingStationCertificate for a refused CertificateSigned, InvalidTLSVersion when the
  CSMS offers only TLS below 1.2 (A00.FR.316; see *TLS version probe*).
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

:class:`Security` holds the default behaviour; every decision goes through the station
(``ReferenceStation``, typed as :class:`SecurityStation`), so that a mutant overriding a hook
there changes it. No password is ever logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl as ssl_module
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

from pile_interop.ocpp.reference.station_base import (
    CONNECT_TIMEOUT_S,
    MIN_REAL_CONNECT_TIMEOUT,
    StationBase,
)
from pile_interop.ocpp.v201.reference.certificates import CSMS_ROOT, InstalledCertificate
from pile_interop.ocpp.v201.reference.station_model import DeviceModel
from pile_interop.security.pki import client_context

#: BasicAuthPassword length (A00.FR.205: 16 to 40 characters)
PASSWORD_MIN, PASSWORD_MAX = 16, 40
#: ServerHello.server_version values below TLS 1.2 (A00.FR.316)
LEGACY_TLS = {b"\x03\x00": "SSL 3.0", b"\x03\x01": "TLS 1.0", b"\x03\x02": "TLS 1.1"}
#: How a CSMS that allows only TLS < 1.2 ends a handshake offering 1.2 / 1.3 (OpenSSL reasons)
PROTOCOL_VERSION_REASONS = frozenset(
    {"TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "WRONG_SSL_VERSION"}
)


class SecurityStation(Protocol):
    """What the password, the security events and the security profiles need."""

    password: str | None
    ssl: ssl_module.SSLContext | None
    features: dict[str, Any]
    model: DeviceModel
    network_profiles: dict[int, dict[str, Any]]
    active_slot: int
    certificates: list[InstalledCertificate]
    client_certificate: str | None
    #: the scaled clock
    clock: Any
    base: StationBase

    def defer(self, work: Callable[[], Awaitable[None] | None]) -> None: ...
    def reconnect(self) -> None: ...
    def security_event(self, kind: str, tech_info: str | None = None) -> None: ...
    def current_target(self) -> tuple[str, dict[str, Any]]: ...
    # -- hooks --
    def security_level(self) -> int: ...


class Security:
    """Password, security events on power-up and failed connections, the TLS version probe,
    security profiles."""

    def __init__(self, station: SecurityStation) -> None:
        self.st = station
        #: the initial security profile: a profile-3 station got its client certificate with
        #: its TLS context
        initial = int(station.model.get("SecurityCtrlr", "SecurityProfile") or 1)
        #: its TLS context came with a client certificate (profile 3 from the start, or the
        #: descriptor's feature client_certificate)
        self.context_certificate = station.ssl is not None and (
            initial >= 3 or bool(station.features.get("client_certificate"))
        )
        #: InvalidTLSVersion was reported since the station last registered (once per outage)
        self.tls_version_reported = False
        self.tls_probe: asyncio.Task[Any] | None = None

    # -- A01 / A02: Basic auth password -----------------------------------------------------

    @staticmethod
    def password_status(value: str) -> str:
        ok = PASSWORD_MIN <= len(value) <= PASSWORD_MAX and value.isascii() and value.isprintable()
        return "Accepted" if ok else "Rejected"

    def set_password(self, value: str) -> None:
        """The new password; the station reconnects to use it (after the response is sent)."""
        st = self.st
        st.password = value
        level = int(st.network_profiles.get(st.active_slot, {}).get("securityProfile", 1))
        if level in (1, 2):
            st.defer(st.reconnect)

    # -- A04: events --------------------------------------------------------------------------

    def on_power_on(self, reason: str) -> None:
        if reason == "PowerUp":
            self.st.security_event("StartupOfTheDevice")

    def on_connect_error(self, exc: BaseException) -> None:
        """InvalidCsmsCertificate when the CSMS's certificate did not verify; the TLS version
        probe after a handshake ended the way a CSMS allowing only TLS < 1.2 ends it."""
        if isinstance(exc, ssl_module.SSLCertVerificationError):
            self.st.security_event("InvalidCsmsCertificate", str(exc.verify_message or exc)[:255])
        elif self.may_be_old_tls(exc):
            self.start_tls_version_probe()

    # -- A00.FR.316: a CSMS that allows only TLS below 1.2 ------------------------------------

    def may_be_old_tls(self, exc: BaseException) -> bool:
        """The CSMS ended a TLS handshake the way one that allows only older versions does: a
        protocol-version alert, or the connection closed in the middle (without an alert)."""
        url = self.st.current_target()[0]
        if not url.startswith("wss://") or self.tls_version_reported:
            return False
        if isinstance(exc, ssl_module.SSLCertVerificationError):
            return False
        if isinstance(exc, ssl_module.SSLEOFError | ConnectionResetError | ConnectionAbortedError):
            return True
        return isinstance(exc, ssl_module.SSLError) and exc.reason in PROTOCOL_VERSION_REASONS

    def start_tls_version_probe(self) -> None:
        if self.tls_probe is not None and not self.tls_probe.done():
            return
        url = self.st.current_target()[0]
        self.tls_probe = self.st.base.spawn(self.probe_tls_version(url), "tls-version-probe")

    async def probe_tls_version(self, url: str) -> None:
        version = await legacy_tls_answer(
            url, max(self.st.clock.real(CONNECT_TIMEOUT_S), MIN_REAL_CONNECT_TIMEOUT)
        )
        if version is None or self.tls_version_reported:
            return
        self.tls_version_reported = True
        self.st.security_event(
            "InvalidTLSVersion",
            f"the CSMS refused TLS 1.2 / 1.3 and answered a TLS 1.0 / 1.1 offer with {version}",
        )

    # -- A05: security profiles -------------------------------------------------------------

    def security_level(self) -> int:
        return int(self.st.model.get("SecurityCtrlr", "SecurityProfile") or 1)

    def profile_problem(self, level: int) -> str | None:
        st = self.st
        if level < st.security_level():
            return f"security profile {level} is a downgrade from {st.security_level()}"
        roots = [c for c in st.certificates if c.certificate_type == CSMS_ROOT]
        if level >= 2 and st.ssl is None and not roots:
            return "no CSMSRootCertificate installed"
        if level >= 3 and st.client_certificate is None and not self.context_certificate:
            return "no ChargingStationCertificate installed"
        return None

    def on_network_profile_connected(self, slot: int) -> None:
        st = self.st
        self.tls_version_reported = False
        st.active_slot = slot
        level = int(st.network_profiles.get(slot, {}).get("securityProfile", 1))
        st.model.set("SecurityCtrlr", "SecurityProfile", str(level))
        st.model.set("OCPPCommCtrlr", "ActiveNetworkProfile", str(slot))


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
