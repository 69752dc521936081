"""The embedded reference CSMSs a fleet runs against (``--against reference``).

One reference CSMS per (OCPP version, security profile) of the mix, each on its own loopback
port, built through the dialect registry like a conformance run's (``cls`` replaces the
reference class: the slow / lossy mutants of the tests). Basic auth (profiles 1, 2): one fleet
password for every station (the user name must still be the station's identity). TLS
(profile 2): a test PKI generated for the run; the stations trust its root.
"""

from __future__ import annotations

import contextlib
import ssl
from dataclasses import dataclass, field
from typing import Any

from pile_interop.core.config import Device
from pile_interop.fleet.behaviour import Behaviour
from pile_interop.ocpp.dialects import for_device
from pile_interop.security.pki import TestPki, generate_pki, pki_client_context, pki_server_context


@dataclass
class _Tls:
    """What a dialect's reference CSMS builder asks of a run's TLS (StationTls's subset)."""

    context: ssl.SSLContext | None
    pki: TestPki | None
    client_certificates: bool = False

    def reference_server_context(self) -> ssl.SSLContext | None:
        return self.context


@dataclass
class ReferenceFleetCsms:
    """The reference CSMSs of one fleet run, by (version, security profile)."""

    behaviour: Behaviour
    heartbeat_s: int = 60
    classes: dict[str, Any] = field(default_factory=dict)
    servers: dict[tuple[str, int], Any] = field(default_factory=dict)
    pki: TestPki | None = None

    @property
    def client_ssl(self) -> ssl.SSLContext | None:
        return pki_client_context(self.pki) if self.pki is not None else None

    async def start(self) -> dict[tuple[str, int], str]:
        """Start one CSMS per kind of the mix; their URLs."""
        keys = sorted({(k.ocpp, k.security_profile) for k in self.behaviour.mix})
        if any(profile >= 2 for _, profile in keys):
            self.pki = generate_pki("fleet")
        for version, profile in keys:
            device = Device(
                path="fleet",
                role="csms",
                ocpp=version,
                station_id="*",
                tokens={"valid": self.behaviour.id_tag},
                security_profile=profile,
            )
            context = (
                pki_server_context(self.pki) if profile >= 2 and self.pki is not None else None
            )
            csms = for_device(version).reference_csms(
                device, _Tls(context, self.pki), self.classes.get(version)
            )
            csms.heartbeat_interval = self.heartbeat_s
            if profile >= 1:
                csms.server.password = self.behaviour.password
            await csms.start()
            self.servers[(version, profile)] = csms
        return {key: csms.url for key, csms in self.servers.items()}

    async def stop(self) -> None:
        for csms in self.servers.values():
            with contextlib.suppress(Exception):
                await csms.stop()
        if self.pki is not None:
            self.pki.cleanup()
