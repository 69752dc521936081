"""A campaign where the suite plays the CSMS of a charging station under test (OCPP, SUT role
``cs``).

``--against reference`` starts the embedded reference station in-process (connecting to the
mock CSMS the campaign serves) and drives it through the ``reference`` actuator; ``--listen
HOST:PORT`` waits for a real station, whose manual actions come from the ``prompt`` or
``webhook`` actuator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection

from pile_interop.actuators.base import Actuator
from pile_interop.core.config import Device, Profile
from pile_interop.core.errors import UsageError
from pile_interop.engine.base import CampaignBase, Target
from pile_interop.engine.lab import choose_actuator
from pile_interop.engine.run_values import StationRunValues
from pile_interop.ocpp.csms_security import CsmsSecurity, check_listen_files
from pile_interop.ocpp.dialects import for_run
from pile_interop.ocpp.server import NEGOTIATE, CsmsServer
from pile_interop.ocpp.session import Session
from pile_interop.reporting.redact import Redactor
from pile_interop.scenario.timing import Timing

log = logging.getLogger(__name__)


@dataclass
class StationCampaign(CampaignBase):
    """The suite playing the CSMS for a charging station under test (OCPP, SUT role ``cs``)."""

    profile: Profile
    device: Device
    target: Target
    actuator: Actuator | None = None
    sut: Any = None
    strict: bool = False
    session: Session = field(init=False)
    responder: Any = field(init=False)
    server: CsmsServer = field(init=False)
    security: CsmsSecurity = field(init=False)
    timing: Timing = field(init=False)
    redactor: Redactor = field(init=False)
    _never_connected_after: float | None = None

    def __post_init__(self) -> None:
        self.last_partial = None
        run = for_run(self.profile.ocpp, self.device.ocpp)
        if self.profile.sut != "cs" or self.device.role != "cs" or run is None:
            raise UsageError(
                f"--device {self.device.path}: describes an OCPP {self.device.ocpp} "
                f"{self.device.role}, profile {self.profile.id} tests an OCPP {self.profile.ocpp} "
                f"{self.profile.sut}"
            )
        dialect, version = run
        tokens = {**self.profile.tokens, **self.device.tokens}
        self.tokens = tokens
        self.responder = dialect.mock_csms(tokens, dict(self.profile.params))
        self.session = Session(version, self.responder, name=self.device.station_id)
        self.session.churn.peer = "the station"
        self.watch_invariants(dialect.invariants(), "cs")
        self.vary(self.responder)
        others = [s for s in ("ocpp1.6", "ocpp2.0.1", "ocpp2.1") if s != version.subprotocol]
        self.server = CsmsServer(
            self.target.host,
            self.target.port,
            self._on_connect,
            subprotocols=[version.subprotocol, *others],
            station_ids=[self.device.station_id],
            password=self.device.basic_auth_password,
            on_refused=self.session.log.event,
        )
        if self.target.against != "reference":
            check_listen_files(self.device)
        self.security = CsmsSecurity(
            self.server, self.device, reference=self.target.against == "reference"
        )
        self.role = dialect.station_role(self.responder, self.security)
        timeouts = dict(self.profile.timeouts)
        if self.device.actuator.timeout is not None:  # the bench knows how long its hands take
            timeouts["manual"] = self.device.actuator.timeout
        self.timing = Timing(
            timeouts,
            scale=self.target.time_scale,
            floor=self.target.floor,
            source=self.profile.path,
        )
        password = self.device.basic_auth_password
        self.redactor = Redactor(
            self.device.secret_values(),
            credentials=[(self.device.station_id, password)] if password else (),
        )
        self.redactor.learn(self.security.new_password, self.device.station_id)
        # certificates are made when a case asks for them (a CSR is signed after it came)
        self.values = StationRunValues(self.device, self.security, self.responder, self.server)
        self.run_values: dict[str, Any] = self.values.values()

    async def _on_connect(self, connection: ServerConnection, station_id: str, sub: str) -> None:
        version = self.session.version
        forced = self.server.agree_subprotocol != NEGOTIATE  # a case's negative: serve anyway
        if sub != version.subprotocol and not forced:
            self.session.log.event(
                f"refused {station_id}: it negotiated {sub}, the profile tests OCPP {version.name}"
            )
            await connection.close(1002, f"this test run speaks {version.subprotocol}")
            return
        peer = connection.remote_address
        where = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        transport = self.server.describe_transport(connection)
        agreed = sub or "no subprotocol agreed"
        await self.session.serve(connection, f"{station_id} ({agreed}) from {where}, {transport}")

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        try:
            self.security.prepare()
        except ssl.SSLError as exc:  # files checked already: a key that does not fit, say
            raise UsageError(f"--device {self.device.path}: security: {exc}") from None
        await self.server.start()
        if self.target.against == "reference":
            device = self.security.station_device()
            self.sut = self.target.sut_factory(self.server.url, device, self.target.time_scale)
            await self.sut.start()
        reference = self.sut if self.target.against == "reference" else None
        self.actuator = choose_actuator(self.actuator, self.device, reference)

    async def stop(self) -> None:
        if self.sut is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.sut.stop(), 10.0)
        with contextlib.suppress(Exception):
            await self.session.close(1001, "test run finished")
        await self.server.stop()
        self.security.cleanup()
        self.values.cleanup()
        if self.actuator is not None:
            await self.actuator.close()

    def listen_url(self) -> str:
        return f"{self.server.url}/{self.device.station_id}"

    # -- cases --------------------------------------------------------------------------

    def sut_info(self) -> dict[str, Any]:
        told = self.responder.station_identity()  # what its BootNotification said
        device = self.device
        return {
            "role": self.profile.sut,
            "vendor": told.get("vendor") or device.vendor,
            "model": told.get("model") or device.model,
            "serial": told.get("serial") or device.serial,
            "firmware": told.get("firmware") or device.firmware,
            "station_id": device.station_id,
            "ocpp": self.profile.ocpp,
            "device": device.path,
            "declared": device.public(),
        }
