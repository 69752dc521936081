"""Values a run generates for its cases (``{run.…}`` in a case): certificates, CSRs, URLs.

Each value is made when a case first asks for it (a lambda in the dict the case environment
gets): a CA certificate to install, the certificate the run's root issues for the station's
last CSR, a CSR for the CSMS under test to sign. Keys never leave this module's objects; a
PKI made here is removed by :meth:`StationRunValues.cleanup`.
"""

from __future__ import annotations

from typing import Any

from pile_interop.core.config import Device
from pile_interop.core.verdicts import Failure, HarnessError
from pile_interop.ocpp.csms_security import CsmsSecurity
from pile_interop.ocpp.server import CsmsServer
from pile_interop.security.certhash import certificate_hash_data
from pile_interop.security.pki import (
    TestPki,
    csr_common_name,
    generate_pki,
    make_ca_certificate,
    make_csr,
    sign_csr,
)


class StationRunValues:
    """The run values of a station campaign (the suite is the CSMS)."""

    def __init__(
        self, device: Device, security: CsmsSecurity, responder: Any, server: CsmsServer
    ) -> None:
        self.device = device
        self.security = security
        self.responder = responder
        self.server = server
        self._own_pki: TestPki | None = None
        self._install: tuple[str, dict[str, str]] | None = None

    def values(self) -> dict[str, Any]:
        """The ``run`` namespace of the cases: each value a lambda, made when first asked."""
        station_id = self.device.station_id
        server = self.server
        return {
            "new_authorization_key": self.security.new_password,
            # a CA of its own, never the one the station trusts for the suite's TLS (the
            # certificate cases delete what they install)
            "ca_certificate": lambda: self._install_ca()[0],
            "ca_certificate_hash": lambda: self._install_ca()[1],
            # where the station reaches the mock CSMS (without its identity): as served now,
            # and over TLS on the same port (a security-profile upgrade's new slot)
            "csms_url": lambda: server.url,
            "csms_url_tls": lambda: "wss" + server.url.removeprefix("wss").removeprefix("ws"),
            "station_certificate_chain": lambda: self._sign_last_csr(None),
            "wrong_cn_certificate_chain": lambda: self._sign_last_csr(f"NOT-{station_id}"),
        }

    def _certificate_pki(self) -> TestPki:
        """The run's test PKI (TLS profiles), or one made for the certificate cases."""
        if self.security.pki is not None:
            return self.security.pki
        if self._own_pki is None:
            self._own_pki = generate_pki(self.device.station_id)
        return self._own_pki

    def _install_ca(self) -> tuple[str, dict[str, str]]:
        """The CA certificate the certificate cases install, and its CertificateHashData."""
        if self._install is None:
            pem = make_ca_certificate("pile-interop install-test CA")
            self._install = (pem, certificate_hash_data(pem))
        return self._install

    def _sign_last_csr(self, common_name: str | None) -> str:
        """The certificate the run's root issues for the station's last CSR (with another CN
        for a negative case)."""
        csrs = getattr(self.responder.state, "csrs", [])
        if not csrs:
            raise HarnessError("no SignCertificate with a CSR from the station to sign yet")
        station_id = self.device.station_id
        try:
            named = csr_common_name(csrs[-1])
            if common_name is None and named != station_id:
                # a CSMS signs only a request for the station itself (A02.FR.06)
                raise Failure(
                    f"the station's CSR names CN={named!r}, not its identity",
                    expected=f"a CSR with the common name {station_id!r}",
                    observed=f"CN={named!r}",
                )
            return sign_csr(self._certificate_pki(), csrs[-1], common_name=common_name)
        except ValueError as exc:
            raise Failure(
                "the station's CSR cannot be signed",
                expected="a PEM PKCS#10 request with a valid signature",
                observed=str(exc),
            ) from None

    def cleanup(self) -> None:
        """Remove the PKI made for the certificate cases, keys and all."""
        if self._own_pki is not None:
            self._own_pki.cleanup()


class CsmsRunValues:
    """The run values of a CSMS campaign (the suite is a station): CSRs for the certificate
    cases, their keys dropped (the CSMS under test only signs them)."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self._csrs: dict[str, str] = {}

    def values(self) -> dict[str, Any]:
        station_id = self.device.station_id
        return {
            "station_csr": lambda: self._csr(station_id),
            "wrong_cn_csr": lambda: self._csr(f"NOT-{station_id}"),
        }

    def _csr(self, common_name: str) -> str:
        if common_name not in self._csrs:
            self._csrs[common_name] = make_csr(common_name)
        return self._csrs[common_name]
