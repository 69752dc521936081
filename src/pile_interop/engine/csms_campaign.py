"""A campaign where the suite plays a charging station of a CSMS under test (OCPP 1.6, SUT
role ``csms``).

``--against reference`` starts the embedded reference CSMS in-process and drives its operator
actions (remote start, reset, …) through the ``reference`` actuator; ``--connect URL`` (or the
device descriptor's ``url``) reaches a real CSMS, whose operator actions come from the
``prompt`` or ``webhook`` actuator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl as ssl_module
import time
from dataclasses import replace
from typing import Any

from pile_interop.core.churn import Churn
from pile_interop.core.config import Device, Profile
from pile_interop.core.errors import UsageError
from pile_interop.engine.base import CampaignBase, Target
from pile_interop.engine.lab import choose_actuator
from pile_interop.engine.reference import reference_csms
from pile_interop.engine.run_values import CsmsRunValues
from pile_interop.ocpp.client import (
    ConnectFailed,
    check_url,
    describe_transport,
    open_station_connection,
    station_url,
)
from pile_interop.ocpp.dialects import for_run
from pile_interop.ocpp.session import Session
from pile_interop.reporting.redact import Redactor
from pile_interop.scenario.model import Scenario
from pile_interop.scenario.timing import Timing
from pile_interop.security.station_tls import Presented, StationTls, basic_user

log = logging.getLogger(__name__)

#: Bound on the first connection attempt that tells "unreachable" (exit 2) from a CSMS that
#: answers (whatever it answers is for the cases to judge).
PROBE_BOUND_S = 10.0
#: Bound on stopping the reference CSMS and closing the connection.
STOP_BOUND_S = 10.0


class CsmsCampaign(CampaignBase):
    """The suite as one charging station (identity ``device.station_id``) of the CSMS."""

    BOUNDS = frozenset({"connect", "boot", "manual", "response", "message"})

    def __init__(
        self,
        profile: Profile,
        device: Device,
        target: Target,
        *,
        strict: bool = False,
        actuator: Any = None,
        url: str | None = None,
        sut_class: type | None = None,
        ssl: ssl_module.SSLContext | None = None,
    ) -> None:
        run = for_run(profile.ocpp, device.ocpp)
        if profile.sut != "csms" or device.role != "csms" or run is None:
            raise UsageError(
                f"--device {device.path}: describes an OCPP {device.ocpp} {device.role}, "
                f"profile {profile.id} tests an OCPP {profile.ocpp} {profile.sut}"
            )
        self.dialect, self.version = run
        self.profile = profile
        self.device = device
        self.target = target
        self.strict = strict
        self.actuator = actuator
        self.url = url or device.url
        #: what to name when the URL is wrong: the option, or the descriptor's field
        self.url_source = "--connect" if url else f"--device {device.path}: url"
        if target.against == "connect" and self.url:
            target.url = self.url
        self.sut_class = sut_class
        self.tls = StationTls(device, ssl)
        self.baseline = Presented.baseline(device)
        self.sut: Any = None
        self.last_partial = None
        self._never_connected_after = None
        self.tokens = {**profile.tokens, **device.tokens}
        self.responder = self.dialect.mock_station(device)
        self.responder.on_new_password = self._new_password
        self.session = Session(self.version, self.responder, name=device.station_id)
        self.session.churn = Churn("the CSMS", suite_connects=True)
        self.watch_invariants(self.dialect.invariants(), "csms")
        self.vary(self.responder)
        self.role = self.dialect.csms_role(self.responder, self, device.connectors)
        self._serving: asyncio.Task[None] | None = None
        self.last_connect_failure = ""
        #: real seconds the CSMS needs after a close before a reconnect (the descriptor's)
        self.reconnect_pause_s = device.reconnect_pause_s
        #: when the station's last connection closed (monotonic; None: none closed yet)
        self.closed_at: float | None = None
        timeouts = dict(profile.timeouts)
        if device.actuator.timeout is not None:
            timeouts["manual"] = device.actuator.timeout
        self.timing = Timing(
            timeouts, scale=target.time_scale, floor=target.floor, source=profile.path
        )
        # CSRs for the certificate cases, made when a case first asks (their keys are dropped)
        self.run_values: dict[str, Any] = CsmsRunValues(device).values()
        password = device.basic_auth_password
        self.redactor = Redactor(
            device.secret_values(),
            credentials=(
                [(device.station_id, password), (f"{device.station_id}Invalid", password)]
                if password
                else ()
            ),
        )

    def _new_password(self, password: str) -> None:
        """The CSMS gave the station a new AuthorizationKey: a secret from now on, and the
        password of the station's next connections."""
        self.redactor.learn(password, self.device.station_id)
        self.baseline = replace(self.baseline, password=password)

    # -- the link (the role's MockStationLink) ----------------------------------------------

    def boot_payload(self) -> dict[str, Any]:
        """The mock station's identity (the profile's params, not the CSMS's descriptor)."""
        return self.responder.boot_payload(self.profile.params)

    async def connect(self, timeout: float, presented: Presented | None = None) -> str:
        """Open a connection presenting the baseline credentials (or ``presented``)."""
        presented = presented or self.baseline
        if self.url is None:
            raise ConnectFailed(
                "no CSMS URL (--connect or the device descriptor's url)", kind="unreachable"
            )
        try:
            connection = await open_station_connection(
                self.url,
                self.device.station_id,
                presented.subprotocol or self.version.subprotocol,
                timeout=timeout,
                password=presented.password,
                username=basic_user(self.device.station_id, presented),
                ssl=self.tls.client_context(presented) if self.url.startswith("wss:") else None,
            )
        except ConnectFailed as exc:
            self.last_connect_failure = exc.reason
            self.session.log.event(f"connection failed: {exc.reason}")
            raise
        description = (
            f"{self.device.station_id} ({connection.subprotocol}, {describe_transport(connection)}"
            f"{', ' + presented.describe() if presented.describe() else ''}) "
            f"to {self.station_url()}"
        )
        self._serving = asyncio.create_task(self._serve(connection, description))
        # serve() marks the session connected before its first await: one turn of the loop
        # is enough. (Waiting for ``session.connected`` would miss a CSMS that closes right
        # after the upgrade: set and cleared before the waiter runs. The next step sees it.)
        await asyncio.sleep(0)  # one loop turn, not a wait: the serve task starts
        return description

    async def _serve(self, connection: Any, description: str) -> None:
        try:
            await self.session.serve(connection, description)
        finally:
            self.closed_at = time.monotonic()

    async def disconnect(self, reason: str) -> None:
        await self.session.close(1000, reason)
        if self._serving is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._serving, STOP_BOUND_S)
            self._serving = None
            self.closed_at = time.monotonic()

    def budget_extra(self, scenario: Scenario) -> float:
        """The descriptor's reconnect pause before the before-phase's connection and before
        each ``peer:`` step's (its own bound, outside the profile's)."""
        if not self.reconnect_pause_s:
            return 0.0
        peers = sum(1 for step in scenario.all_steps() if step.kind == "peer")
        return self.reconnect_pause_s * (1 + peers)

    async def pause_before_connect(self) -> str:
        """Wait what is left of the descriptor's ``reconnect_pause_s`` since the last close
        (bounded by it); what was waited, or "" when nothing was."""
        pause = self.reconnect_pause_s
        if not pause or self.closed_at is None:
            return ""
        since = time.monotonic() - self.closed_at
        if since >= pause:
            return ""
        await asyncio.sleep(pause - since)  # bounded by reconnect_pause_s (the descriptor)
        return (
            f"waited {pause - since:.2f} s before connecting (reconnect_pause_s = {pause:g} s "
            f"in {self.device.path}; the last connection closed {since:.2f} s before)"
        )

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        if self.target.against == "reference":
            self.tls.generate_pki()
            self.sut = reference_csms(self.device, self.tls, self.sut_class)
            await self.sut.start()
            self.url = self.sut.url
            self.actuator = choose_actuator(self.actuator, self.device, self.sut)
        else:
            if self.url is None:
                raise UsageError(
                    f"profile {self.profile.id} tests a CSMS: pass --connect URL or set `url` "
                    f"in --device {self.device.path}"
                )
            problem = check_url(self.url)
            if problem:
                raise UsageError(f"{self.url_source}: {problem}")
            profile = self.device.security_profile
            if (profile >= 2) != self.url.startswith("wss:"):
                raise UsageError(
                    f"{self.url_source} {self.url}: security profile {profile} of --device "
                    f"{self.device.path} needs a {'wss' if profile >= 2 else 'ws'}:// URL"
                )
            self.tls.check_files()
            self.actuator = choose_actuator(self.actuator, self.device)
            await self._probe()

    async def _probe(self) -> None:
        """Unreachable → exit 2 in seconds; anything that answers is the cases' business."""
        try:
            await self.connect(min(PROBE_BOUND_S, self.timing.upper("connect")))
        except ConnectFailed as exc:
            if exc.unreachable:
                raise UsageError(f"{self.url_source} {self.url}: {exc.reason}") from None
            log.info("first connection failed: %s", exc.reason)

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.disconnect("test run finished")
        if self.sut is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.sut.stop(), STOP_BOUND_S)
        self.tls.cleanup()
        if self.actuator is not None:
            await self.actuator.close()

    def station_url(self) -> str | None:
        """The URL the suite connects to: the CSMS URL (template) with the identity placed."""
        return station_url(self.url, self.device.station_id) if self.url else None

    def never_connected_reason(self) -> str:
        return (
            f"the suite never got a connection to the CSMS as station "
            f"{self.device.station_id!r}; the last attempt: {self.last_connect_failure}"
        )

    def sut_info(self) -> dict[str, Any]:
        device = self.device
        return {
            "role": self.profile.sut,
            "vendor": device.vendor,
            "model": device.model,
            "serial": device.serial,
            "firmware": device.firmware,
            "station_id": device.station_id,
            "url": self.station_url(),
            **({"url_template": self.url} if self.url and "{" in self.url else {}),
            "ocpp": self.profile.ocpp,
            "device": device.path,
            "declared": device.public(),
        }
