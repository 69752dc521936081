"""What every campaign is: one profile run against one SUT, whatever the protocol.

:class:`Target` says which SUT and how it is reached (built by
:func:`pile_interop.engine.targets.resolve_target`); :class:`CampaignBase` runs a case against
it. The campaigns are named by their SUT: :class:`~pile_interop.engine.station_campaign.
StationCampaign` (a charging station), :class:`~pile_interop.engine.csms_campaign.CsmsCampaign`
(a CSMS) and :class:`~pile_interop.engine.can_campaign.GbtCampaign` (a GB/T 27930 charger or
BMS).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pile_interop.actuators.base import Actuator
from pile_interop.actuators.webhook import WebhookActuator
from pile_interop.core.config import Device, Profile
from pile_interop.core.verdicts import Verdict
from pile_interop.engine.reference import reference_station
from pile_interop.ocpp.invariants import Invariant, InvariantMonitor
from pile_interop.ocpp.variation import Variation
from pile_interop.reporting.redact import Redactor
from pile_interop.scenario.case_info import case_budget
from pile_interop.scenario.model import Scenario
from pile_interop.scenario.runner import CaseEnv, CaseRun
from pile_interop.scenario.timing import Timing

#: Makes the reference SUT (or a mutant of it): (csms_url, device, time_scale) → SUT object.
SutFactory = Callable[[str, Device, float], Any]


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
    #: the seed of the forms the suite varies (date-times, message ids); None: drawn anew
    seed: int | None = None

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
    #: the last case's reason when its before-state was not reached (else None)
    unreached: str | None = None
    #: the run-wide protocol invariants watching the session (None: the protocol has none)
    monitor: InvariantMonitor | None = None
    #: the forms the suite varies, seeded (None: the protocol varies nothing)
    variation: Variation | None = None
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

    def watch_invariants(self, invariants: Iterable[Callable[[], Invariant]], sut: str) -> None:
        """Check ``invariants`` (those judging the role ``sut``) on every frame of the run."""
        self.monitor = InvariantMonitor.for_run(
            invariants,
            sut,
            case_of=lambda: str(self.session.case_tag),
            time_scale=self.target.time_scale,
        )
        self.session.log.observers.append(self.monitor.observe)

    def vary(self, responder: Any) -> None:
        """Vary the forms the suite writes (date-times of the mock and the cases, message ids
        of its CALLs), seeded by the target's seed."""
        self.variation = Variation(self.target.seed)
        self.session.message_id = self.variation.message_id
        responder.date_time = self.variation.date_time

    def invariants_summary(self, *, finished: bool) -> dict[str, Any] | None:
        """The run's invariants and violations for the report (at the end of the run, with
        what only the whole run shows)."""
        if self.monitor is None:
            return None
        if finished:
            self.monitor.finish()
        return self.monitor.summary()

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
            **({"date_time": self.variation.date_time} if self.variation else {}),
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

    def budget_extra(self, scenario: Scenario) -> float:
        """Real seconds a case may take beyond the sum of its profile bounds (a device's own
        waits, e.g. the pause a CSMS needs before a reconnect)."""
        return 0.0

    async def run_case(self, scenario: Scenario) -> dict[str, Any]:
        """Run one case; the result is already redacted. Cancellation propagates, after
        the partial result is stored in ``self.last_partial``."""
        if isinstance(self.actuator, WebhookActuator):
            self.actuator.case_id = scenario.id
        self._new_window()
        run = CaseRun(scenario, self.env())
        self.last_partial: dict[str, Any] | None = None
        self.unreached = None
        if self._never_connected_after is not None and not self.session.connections:
            state = scenario.before.state or "booted"
            self.unreached = f"before-state {state} not reached: {self.never_connected_reason()}"
            result = run.result(Verdict.ERROR, self.unreached)
            return self.redactor.redact(result)
        budget = case_budget(scenario, self.timing) + self.budget_extra(scenario)
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
        if result["verdict"] == Verdict.ERROR.value:
            self.unreached = run.unreached
        self.session.log.clear()  # the result holds the case's frames: release them
        return self.redactor.redact(result)

    async def run_function(
        self, scenario: Scenario, fn: Callable[[CaseEnv], Any]
    ) -> dict[str, Any]:
        """Run a case written in Python (``fn(env)`` is its main part); result redacted."""
        self._new_window()
        run = CaseRun(scenario, self.env())
        budget = case_budget(scenario, self.timing) + self.budget_extra(scenario)
        try:
            result = await asyncio.wait_for(run.run_function(fn), budget)
        except TimeoutError:
            result = run.interrupted(f"the case exceeded its total budget of {budget:.3g} s")
        self.session.log.clear()
        return self.redactor.redact(result)

    def _new_window(self) -> None:
        """A case starts: its own frame log bound (what came between cases is no case's
        evidence) and its own count of connections (a reconnect storm is the case's)."""
        self.session.log.clear()
        churn = getattr(self.session, "churn", None)
        if churn is not None:
            churn.restart()
