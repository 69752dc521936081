"""A campaign: one profile run against one SUT, from starting the mock side to the report.

The CLI and the pytest plugin both drive a :class:`StationCampaign`; the CLI runs every case of a
profile through :func:`run_profile`, the plugin one case per pytest item.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.server import ServerConnection

from pile_interop import __version__
from pile_interop.actuators.base import Actuator
from pile_interop.actuators.prompt import PromptActuator
from pile_interop.actuators.reference import ReferenceActuator
from pile_interop.actuators.webhook import WebhookActuator
from pile_interop.core.clock import utc_iso
from pile_interop.core.config import (
    ContentRoot,
    Device,
    Profile,
    check_known,
    find_root,
    load_device,
    load_profile,
)
from pile_interop.core.errors import UsageError
from pile_interop.core.verdicts import Failure, HarnessError, Verdict
from pile_interop.ocpp.csms_security import CsmsSecurity, check_listen_files
from pile_interop.ocpp.dialects import for_device, for_run
from pile_interop.ocpp.server import NEGOTIATE, CsmsServer
from pile_interop.ocpp.session import Session
from pile_interop.reporting.redact import Redactor
from pile_interop.reporting.results_json import profile_verdict, summarize, write_results_json
from pile_interop.reporting.stream import ResultsStream
from pile_interop.reporting.writer import write_all
from pile_interop.scenario.loader import CaseLibrary
from pile_interop.scenario.model import Scenario
from pile_interop.scenario.runner import CaseEnv, CaseRun, case_budget, case_identity
from pile_interop.scenario.timing import Timing
from pile_interop.security.certhash import certificate_hash_data
from pile_interop.security.pki import (
    TestPki,
    csr_common_name,
    generate_pki,
    make_ca_certificate,
    sign_csr,
)

log = logging.getLogger(__name__)

#: Makes the reference SUT (or a mutant of it): (csms_url, device, time_scale) → SUT object.
SutFactory = Callable[[str, Device, float], Any]


def reference_station(url: str, device: Device, time_scale: float, cls: Any = None) -> Any:
    """The embedded reference station for ``device`` (or a subclass ``cls`` of it), of the
    device's OCPP version."""
    return for_device(device.ocpp).reference_station(url, device, time_scale, cls)


@dataclass
class Target:
    """Which SUT a campaign talks to and how."""

    against: str  # "reference" | "listen" | "connect" (a CSMS) | "can"
    host: str = "127.0.0.1"
    port: int = 0
    url: str = ""  # connect / can: where the SUT is
    time_scale: float = 1.0
    floor: float = 0.0
    sut_factory: SutFactory = reference_station

    def describe(self) -> str:
        if self.against == "reference":
            return "reference"
        if self.against in ("connect", "can"):
            return f"{self.against} {self.url}".strip()
        return f"listen {self.host}:{self.port}"


class CampaignBase:
    """What every campaign does with a case, whatever the protocol: subclasses set up
    ``session`` (the link to the SUT), ``role``, ``actuator``, ``timing``, ``redactor``."""

    profile: Profile
    device: Device
    target: Target
    actuator: Actuator | None
    session: Any
    role: Any
    timing: Timing
    redactor: Redactor
    strict: bool
    tokens: dict[str, str]
    _never_connected_after: float | None
    last_partial: dict[str, Any] | None
    #: the named bounds the campaign's role uses besides those the cases name
    BOUNDS: frozenset[str] = frozenset(
        {"connect", "boot", "boot_status", "settle", "manual", "response", "message"}
    )

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    def sut_info(self) -> dict[str, Any]:
        raise NotImplementedError

    def lab_actuator(self, who: str | None = None) -> Actuator:
        """The device descriptor's actuator for a real SUT: ``webhook`` (the POST names ``who``,
        by default the station identity) or ``prompt``; ``reference`` is a usage error."""
        spec = self.device.actuator
        if spec.type == "webhook":
            assert spec.url is not None  # the descriptor schema requires it
            return WebhookActuator(spec.url, who or self.device.station_id, spec.headers)
        if spec.type == "reference":
            raise UsageError(
                f"--device {self.device.path}: actuator 'reference' needs --against reference"
            )
        return PromptActuator()

    def never_connected_reason(self) -> str:
        """Why a case did not even try: no connection ever came up in an earlier case."""
        return (
            f"the station {self.device.station_id!r} never connected "
            f"(waited {self._never_connected_after or 0:.3g} s in an earlier case)"
        )

    async def __aenter__(self) -> CampaignBase:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def env(self) -> CaseEnv:
        assert self.actuator is not None, "campaign not started"
        return CaseEnv(
            session=self.session,
            role=self.role,
            actuator=self.actuator,
            timing=self.timing,
            device=self.device,
            profile=self.profile,
            tokens=self.tokens,
            params=dict(self.profile.params),
            secrets=self.device.secret_values(),
            strict=self.strict,
            run_values=dict(getattr(self, "run_values", {})),
        )

    def check(self, scenarios: list[Scenario]) -> None:
        """Fail early (exit 2) on a case that names a bound the profile lacks."""
        for scenario in scenarios:
            names = set(self.BOUNDS)
            for step in scenario.all_steps():
                for key in ("timeout", "not_before", "during"):
                    if key in step.data:
                        names.add(step.data[key])
                if step.kind == "wait":
                    names.add(step.subject)
            self.timing.check(names, f"{scenario.path} (with {self.profile.path})")

    async def run_case(self, scenario: Scenario) -> dict[str, Any]:
        """Run one case; the result is already redacted. Cancellation propagates, after
        the partial result is stored in ``self.last_partial``."""
        if isinstance(self.actuator, WebhookActuator):
            self.actuator.case_id = scenario.id
        run = CaseRun(scenario, self.env())
        self.last_partial: dict[str, Any] | None = None
        if self._never_connected_after is not None and not self.session.connections:
            result = run.result(Verdict.ERROR, self.never_connected_reason())
            return self.redactor.redact(result)
        budget = case_budget(scenario, self.timing)
        try:
            result = await asyncio.wait_for(run.run(), budget)
        except TimeoutError:
            # a watchdog, not a verdict about the SUT: every single wait has its own bound
            result = run.interrupted(
                f"the case exceeded its total budget of {budget:.3g} s (the sum of its bounds)"
            )
        except asyncio.CancelledError:
            self.last_partial = self.redactor.redact(run.interrupted("interrupted (Ctrl-C)"))
            raise
        if not self.session.connections and result["verdict"] == Verdict.ERROR.value:
            self._never_connected_after = self.timing.upper("connect")
        self.session.log.discard_through(run.seq0)
        return self.redactor.redact(result)

    async def run_function(
        self, scenario: Scenario, fn: Callable[[CaseEnv], Any]
    ) -> dict[str, Any]:
        """Run a case written in Python (``fn(env)`` is its main part); result redacted."""
        run = CaseRun(scenario, self.env())
        budget = case_budget(scenario, self.timing)
        try:
            result = await asyncio.wait_for(run.run_function(fn), budget)
        except TimeoutError:
            result = run.interrupted(f"the case exceeded its total budget of {budget:.3g} s")
        self.session.log.discard_through(run.seq0)
        return self.redactor.redact(result)


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
        self._own_pki: TestPki | None = None
        self._install: tuple[str, dict[str, str]] | None = None
        station_id = self.device.station_id
        # certificates are made when a case asks for them (a CSR is signed after it came)
        self.run_values: dict[str, Any] = {
            "new_authorization_key": self.security.new_password,
            # a CA of its own, never the one the station trusts for the suite's TLS (the
            # certificate cases delete what they install)
            "ca_certificate": lambda: self._install_ca()[0],
            "ca_certificate_hash": lambda: self._install_ca()[1],
            # where the station reaches the mock CSMS (without its identity): as served now,
            # and over TLS on the same port (a security-profile upgrade's new slot)
            "csms_url": lambda: self.server.url,
            "csms_url_tls": lambda: "wss" + self.server.url.removeprefix("wss").removeprefix("ws"),
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
            self.actuator = self.actuator or ReferenceActuator(self.sut)
        elif self.actuator is None:
            self.actuator = self.lab_actuator()

    async def stop(self) -> None:
        if self.sut is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.sut.stop(), 10.0)
        with contextlib.suppress(Exception):
            await self.session.close(1001, "test run finished")
        await self.server.stop()
        self.security.cleanup()
        if self._own_pki is not None:
            self._own_pki.cleanup()
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


def load_reference_run(
    profile_id: str, root: ContentRoot | None = None
) -> tuple[Profile, list[Scenario], Device]:
    """A profile, its cases in order, and its reference device (for self-tests, benchmarks)."""
    root = root or find_root()
    profile = load_profile(root.profile_path(profile_id))
    library = CaseLibrary(root.conformance)
    check_known(profile, set(library.ids()))
    device = load_device(root.resolve(profile.reference_device or ""))
    return profile, [library.get(c) for c in profile.cases], device


class Report:
    """The report folder: streamed as cases end, so a crash or Ctrl-C loses nothing."""

    def __init__(
        self, out_dir: Path, campaign: CampaignBase, planned: list[Scenario] | None = None
    ) -> None:
        self.out_dir = out_dir
        self.campaign = campaign
        #: every case of the profile, to list those that did not run as ``skipped``
        self.planned = planned or []
        out_dir.mkdir(parents=True, exist_ok=True)
        self.stream = ResultsStream(out_dir)
        self.cases: list[dict[str, Any]] = []
        self.started = utc_iso()
        self.t0 = time.monotonic()

    def run_dict(self, *, finished: bool, interrupted: bool = False) -> dict[str, Any]:
        profile = self.campaign.profile
        return {
            "suite": "pile-interop",
            "version": __version__,
            "profile": profile.id,
            "profile_title": profile.title,
            "profile_verdict": profile_verdict(self.cases, profile.title),
            "sut": self.campaign.sut_info(),
            "against": self.campaign.target.describe(),
            "time_scale": self.campaign.target.time_scale,
            "started": self.started,
            "finished": utc_iso() if finished else None,
            "duration_s": round(time.monotonic() - self.t0, 3),
            "interrupted": interrupted,
            "summary": summarize(self.cases),
            "cases": self.cases,
        }

    def _skipped(self, scenario: Scenario, why: str) -> dict[str, Any]:
        return {
            **case_identity(scenario, self.campaign.profile),
            "verdict": Verdict.SKIPPED.value,
            "reason": why,
            "started": None,
            "finished": None,
            "duration_s": 0.0,
            "required_wait_s": 0.0,
            "steps": [],
            "frames": [],
            "findings": [],
        }

    def add(self, case: dict[str, Any]) -> None:
        self.cases.append(case)
        self.stream.write_case(case)
        write_results_json(
            self.out_dir, self.campaign.redactor.redact(self.run_dict(finished=False))
        )

    def finish(
        self, *, interrupted: bool = False, selected: set[str] | None = None
    ) -> dict[str, Any]:
        ran = {c["id"] for c in self.cases}
        for scenario in self.planned:
            if scenario.id not in ran:
                why = "interrupted before it ran" if interrupted else "not selected"
                if selected is not None and scenario.id not in selected:
                    why = "not selected (--case)"
                self.cases.append(self._skipped(scenario, why))
        run = self.campaign.redactor.redact(self.run_dict(finished=True, interrupted=interrupted))
        write_all(self.out_dir, run)
        return run


async def run_profile(
    campaign: CampaignBase,
    scenarios: list[Scenario],
    report: Report,
    progress: Any = None,
) -> dict[str, Any]:
    """Run ``scenarios`` in order; the report is written whatever happens."""
    interrupted = False
    try:
        if progress is not None:
            progress.run_started(report.run_dict(finished=False))
        for scenario in scenarios:
            if progress is not None:
                progress.case_started(scenario.id, scenario.title)
            try:
                result = await campaign.run_case(scenario)
            except asyncio.CancelledError:
                interrupted = True
                if campaign.last_partial is not None:
                    report.add(campaign.last_partial)
                    if progress is not None:
                        progress.case_finished(campaign.last_partial)
                raise
            report.add(result)
            if progress is not None:
                progress.case_finished(result)
    except BaseException:
        interrupted = True
        raise
    finally:
        run = report.finish(interrupted=interrupted, selected={s.id for s in scenarios})
        if progress is not None:
            progress.run_finished(run, report.out_dir)
    return run
