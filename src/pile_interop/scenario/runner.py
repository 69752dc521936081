"""Run one scenario against a live session and turn what happened into a case result.

Order of a case:

1. ``na`` if the device descriptor declares a needed feature absent.
2. *before*: the station is connected and registered (``timeouts.connect`` / ``boot``), idle
   (else the actuator settles it, ``timeouts.settle``), the ``before.config`` keys are set
   (old values remembered), then the before-state's steps run. A problem here is an ``error``:
   the case could not start from the state the OCA document names.
3. *main*: the steps. ``expect`` steps are armed before the stimulus that precedes them, so a
   frame that arrives while a manual action is still going on is answered at once with the
   step's reply. The first broken MUST ends the main steps (the rest are ``skipped``); a broken
   SHOULD is a ``warn`` and the steps go on.
4. *after*: the case's own clean-up steps and the configuration restore; they are recorded but
   never change the verdict.
5. Any finding on a frame the SUT sent during the case (schema violation, unknown unique id,
   malformed frame) fails the case: a protocol error is never swallowed. An answer to a CALL
   the suite stopped waiting for is no finding: it belongs to the case that sent the CALL
   (``late_responses``; ``late_for_other_cases`` when it came in a later case).

Each step kind is a handler (:mod:`pile_interop.scenario.steps`); the run drives the SUT's link
through :class:`pile_interop.core.link.Link`, the same for an OCPP session and a CAN link.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from pile_interop.actuators.base import restored_by
from pile_interop.core.clock import utc_iso
from pile_interop.core.frames import EVENT, IN, INVARIANT_PREFIX, OUT, Frame, is_message
from pile_interop.core.link import CallTimeout, Disconnected, Expectation, RequestLink
from pile_interop.core.verdicts import (
    BeforeStateNotReached,
    Failure,
    HarnessError,
    NotApplicable,
    Verdict,
    worst,
)
from pile_interop.scenario import steps as step_kinds
from pile_interop.scenario.attribution import case_fault, late_answers
from pile_interop.scenario.case_info import case_identity
from pile_interop.scenario.env import CaseEnv, StepRecord
from pile_interop.scenario.model import Scenario, Step
from pile_interop.scenario.steps.expect import hooks
from pile_interop.scenario.values import (
    FutureTimes,
    TemplateError,
    TemplateFault,
    mismatches,
    render,
)

__all__ = [
    "QUIRK",
    "CaseEnv",
    "CaseRun",
    "StepRecord",
    "run_case",
]

log = logging.getLogger(__name__)

#: How far back ``{earlier}`` lies (minutes).
EARLIER_MIN = 10
#: expectation keys of after-steps start here (main steps use their position)
_AFTER = 100_000
#: A step record's verdict when a ``quirk:`` step failed (conformance unaffected).
QUIRK = "quirk"


class _Skip(Exception):
    """A step whose ``when:`` is false."""


class CaseRun:
    """One execution of one scenario: the case's lifecycle (before, main and after steps,
    arming, records, verdict). Each step goes to the handler of its kind
    (:mod:`pile_interop.scenario.steps`), which gets this run as its
    :class:`~pile_interop.scenario.steps.StepContext`."""

    def __init__(self, scenario: Scenario, env: CaseEnv) -> None:
        self.scenario = scenario
        self.env = env
        self.session = env.session
        self.timing = env.timing
        device = env.device.public()
        self.scope: dict[str, Any] = {
            "tokens": env.tokens,
            "params": env.params,
            "device": device,
            "vars": dict(scenario.vars),
            "run": env.run_values,
            "config": dict(scenario.before.config),
            "now": lambda: env.date_time(None),
            # a time stamp in the past, for messages a station queued while offline
            "earlier": lambda: env.date_time(datetime.now(UTC) - timedelta(minutes=EARLIER_MIN)),
            # {in_seconds.N}: N seconds from now (a reservation's expiry date …)
            "in_seconds": FutureTimes(env.date_time),
        }
        self.scope["connector"] = render(scenario.before.connector, self.scope)
        self.scope["evse"] = render(scenario.before.evse, self.scope)
        self.records: list[StepRecord] = []
        self.required_wait = 0.0
        self.armed: dict[int, Expectation] = {}
        self.arm_seq: dict[int, int] = {}
        self.claimed_seq: dict[int, int] = {}
        self.claimed_any: set[int] = set()  # frames some step already took
        self.armed_steps: dict[int, Step] = {}
        self.alias_time: dict[str, float] = {}
        self.alias_seq: dict[str, int] = {}
        self.skipped: dict[int, str] = {}
        self.template_errors: list[str] = []
        #: the ``act`` actions performed (or attempted) so far: an after-step that undoes one
        #: that never happened is not run (nor prompted)
        self.acted: set[str] = set()
        #: what the role changed before the case and puts back after it (e.g. config keys)
        self.restore: dict[str, str] = {}
        #: ``quirk:`` steps that failed: the official tool would fail the case, the spec not
        self.quirks: list[dict[str, Any]] = []
        #: the reason when the before-state was not reached (the engine counts these in a row)
        self.unreached: str | None = None
        self.t0 = time.monotonic()
        self.started = utc_iso()
        self.seq0 = self.session.log.last_seq
        if isinstance(self.session, RequestLink):
            # the CALLs of this case (before-phase included) are its own: a late answer to
            # one of them belongs here, whenever it comes
            self.session.case_tag = scenario.id
        self.stimulus_seq = self.seq0
        self.stimulus_mono = self.t0

    # -- helpers ------------------------------------------------------------------------

    def elapsed(self, mono: float | None = None) -> float:
        """Seconds since the case began (at ``mono``, or now)."""
        return (mono if mono is not None else time.monotonic()) - self.t0

    def _t(self, mono: float | None = None) -> float:
        """:meth:`elapsed`, by the name roles use (:class:`~pile_interop.core.case.CaseContext`)."""
        return self.elapsed(mono)

    def _title(self, step: Step) -> str:
        """The step's title with the templates resolved where they can be (for reading)."""
        title = step.title()
        try:
            return str(render(title, self.scope))
        except (TemplateError, ValueError):
            return title

    def _record(self, step: Step, index: int) -> StepRecord:
        record = StepRecord(
            index=index,
            phase=step.phase,
            kind=step.kind,
            title=self._title(step),
            requirement=step.requirement,
            t_start=self.elapsed(),
        )
        self.records.append(record)
        return record

    def render(self, value: Any) -> Any:
        """``value`` with its templates resolved; a broken template is a HarnessError."""
        try:
            return render(value, self.scope)
        except TemplateError as exc:
            raise TemplateFault(f"case template: {exc}") from None

    def origin(self, step: Step, default: float) -> float:
        """When the exchange the step's ``since:`` names happened, else ``default``."""
        alias = step.get("since")
        if alias is None:
            return default
        if alias not in self.alias_time:
            raise HarnessError(f"since: {alias!r} names no exchange that happened before")
        return self.alias_time[alias]

    def save(self, alias: str | None, exchange_like: dict[str, Any], mono: float, seq: int) -> None:
        """Remember an exchange as ``alias`` (``as:``) for templates, checks and ``since:``."""
        if alias:
            self.scope[alias] = exchange_like
            self.alias_time[alias] = mono
            self.alias_seq[alias] = seq

    def frames_since(self, seq: int) -> list[Frame]:
        return self.session.log.since(seq)

    def mark_stimulus(self) -> None:
        """A stimulus begins now: windows of ``expect_none`` steps start here."""
        self.stimulus_seq = self.session.log.last_seq
        self.stimulus_mono = time.monotonic()

    def observed_instead(self, action: str, pattern: Any, since_seq: int) -> str:
        """What the SUT sent since ``since_seq`` instead of ``action`` matching ``pattern``
        (the frames no step took), for the reason of a step that awaited in vain."""
        claimed = set(self.claimed_any)
        frames = [
            f
            for f in self.frames_since(since_seq)
            if (f.direction == IN or f.type == EVENT) and f.seq not in claimed
        ]
        lines = []
        for f in [f for f in frames if is_message(f) and f.action == action][:5]:
            why = "; ".join(mismatches(pattern, f.payload)) if pattern else ""
            lines.append(
                f"{f.action} at +{self.elapsed(f.mono):.3f} s ({why or 'came after the bound'})"
            )
        others = Counter(
            f.action or f.type for f in frames if f.type != EVENT and f.action != action
        )
        if others:
            lines.append(
                "other frames: " + ", ".join(f"{name} ×{n}" for name, n in others.most_common(8))
            )
        events = [f.raw for f in frames if f.type == EVENT]
        storm = self.storm()
        if storm:  # what it is, not the last few of its hundreds of connection events
            lines.append(storm)
        elif events:
            lines.append("connection: " + "; ".join(events[-3:]))
        if not self.session.is_connected and not events and not storm:
            lines.append("the SUT is not connected")
        return "; ".join(lines) if lines else "nothing from the SUT"

    def storm(self) -> str:
        """The reconnect storm of this case so far (the link's ``churn``), or ""."""
        churn = getattr(self.session, "churn", None)
        return str(churn.storm()) if churn is not None else ""

    # -- arming -------------------------------------------------------------------------

    def _arm_ahead(self, steps: list[Step], i: int, offset: int = 0) -> None:
        """Arm the run of ``expect`` steps that starts at (or right after) step ``i``."""
        j = i if steps[i].kind == "expect" else i + 1
        while j < len(steps) and steps[j].kind == "expect":
            key = offset + j
            if key not in self.armed and key not in self.skipped and self._wanted(steps[j], key):
                self.armed[key] = self._arm(steps[j], key)
            j += 1

    def _wanted(self, step: Step, key: int) -> bool:
        """Evaluate ``when:``; a step whose condition is false is skipped (decided once)."""
        if "when" not in step.data:
            return True
        value = self.render(step.data["when"])
        wanted = value is True or (isinstance(value, str) and value.strip().lower() == "true")
        if not wanted:
            self.skipped[key] = f"when: {step.data['when']} is {value!r}"
        return wanted

    def _arm(self, step: Step, index: int) -> Expectation:
        predicate, reply, on_claim = hooks(self, step)
        self.arm_seq[index] = self.session.log.last_seq
        self.armed_steps[index] = step
        return self.session.arm(step.subject, predicate, reply, step.title(), on_claim)

    def rearm_claimed(self, after: int) -> None:
        """Arm again the expectations of the steps after key ``after`` that a frame claimed
        (the connection closed: those frames were of the old one)."""
        for key, expectation in list(self.armed.items()):
            if key > after and expectation.claimed:  # by a frame of the closed connection
                self.session.disarm(expectation)
                self.armed[key] = self._arm(self.armed_steps[key], key)

    def _disarm(self) -> None:
        for expectation in self.armed.values():
            self.session.disarm(expectation)
        self.armed.clear()

    # -- the case -----------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        verdict = Verdict.PASS
        reason = ""
        try:
            self._check_needs()
            await self.env.role.prepare(self)
            steps = list(self.scenario.before_steps) + list(self.scenario.steps)
            verdict, reason = await self._run_steps(steps)
        except NotApplicable as exc:
            verdict, reason = Verdict.NA, exc.reason
        except Failure as failure:  # the before-phase found a broken MUST (a Required key)
            verdict, reason = failure.verdict, failure.reason
        except HarnessError as exc:
            verdict, reason = Verdict.ERROR, exc.reason
            self.unreached = exc.reason if isinstance(exc, BeforeStateNotReached) else None
        finally:
            self._disarm()
        await self._after()
        verdict, reason = self._judge_findings(verdict, reason)
        return self.result(verdict, self._with_storm(verdict, reason))

    def _with_storm(self, verdict: Verdict, reason: str) -> str:
        """A case that failed or erred during a reconnect storm says so first: its waits ran
        out because the station would not stay connected."""
        storm = self.storm()
        if not storm or verdict not in (Verdict.FAIL, Verdict.ERROR) or storm in reason:
            return reason
        return f"{storm}; {reason}" if reason else storm

    async def run_function(self, fn: Callable[[CaseEnv], Awaitable[None]]) -> dict[str, Any]:
        """A case written in Python: the same before-phase and verdicts, ``fn`` as the steps.

        An ``AssertionError`` from ``fn`` is a ``fail`` (a :class:`Failure` keeps its
        requirement and severity), a :class:`HarnessError` an ``error``."""
        verdict, reason = Verdict.PASS, ""
        record = StepRecord(1, "main", "python", self.scenario.title, None, 0.0)
        try:
            self._check_needs()
            await self.env.role.prepare(self)
            record.t_start = self.elapsed()
            self.records.append(record)
            try:
                await fn(self.env)
                record.verdict = Verdict.PASS.value
            except Failure as failure:
                failure.requirement = failure.requirement or self.scenario.requirements[0].id
                verdict, reason = failure.verdict, failure.reason
            except AssertionError as exc:
                requirement = self.scenario.requirements[0].id
                verdict, reason = Verdict.FAIL, f"[{requirement}] {exc}".strip()
            except (CallTimeout, Disconnected) as exc:
                verdict, reason = Verdict.FAIL, f"[{self.scenario.requirements[0].id}] {exc}"
            finally:
                record.verdict = record.verdict if verdict == Verdict.PASS else verdict.value
                record.observed = reason
                record.duration_s = self.elapsed() - record.t_start
        except NotApplicable as exc:
            verdict, reason = Verdict.NA, exc.reason
        except Failure as failure:
            verdict, reason = failure.verdict, failure.reason
        except HarnessError as exc:
            verdict, reason = Verdict.ERROR, exc.reason
            self.unreached = exc.reason if isinstance(exc, BeforeStateNotReached) else None
        await self._after()
        verdict, reason = self._judge_findings(verdict, reason)
        return self.result(verdict, self._with_storm(verdict, reason))

    def _check_needs(self) -> None:
        """``needs: [x]``: feature x declared true; ``needs: ["!x"]``: declared false; and no
        ``act`` step uses an action the descriptor's ``actuator.unsupported`` lists."""
        cannot = set(self.env.device.actuator.unsupported)
        used = [s.subject for s in self.scenario.all_steps() if s.kind == "act"]
        missing = list(dict.fromkeys(a for a in used if a in cannot))
        if missing:
            raise NotApplicable(
                f"the bench cannot {', '.join(missing)} (device descriptor: actuator.unsupported)"
            )
        problems = []
        for need in self.scenario.needs:
            name, want = (need[1:], False) if need.startswith("!") else (need, True)
            declared = self.env.device.supports(name)
            if declared is not want:
                said = "not declared" if declared is None else f"declared {declared}".lower()
                problems.append(f"{name} {said}, the case needs {str(want).lower()}")
        if problems:
            raise NotApplicable(f"device descriptor: {'; '.join(problems)}")

    async def _run_steps(self, steps: list[Step]) -> tuple[Verdict, str]:
        verdict, reason = Verdict.PASS, ""
        for i, step in enumerate(steps):
            record = self._record(step, i + 1)
            try:
                self._arm_ahead(steps, i)
                await self._do(step, i, record)
                record.verdict = Verdict.PASS.value
            except _Skip:
                record.verdict = Verdict.SKIPPED.value
            except Failure as failure:
                record.verdict = failure.verdict.value
                record.expected = record.expected or failure.expected
                record.observed = failure.observed or record.observed
                if step.quirk and step.phase != "before":
                    # the spec allows it; only the official test tool's known quirk rejects it
                    record.verdict = QUIRK
                    self.quirks.append(
                        {
                            "step": i + 1,
                            "title": record.title,
                            "quirk": step.quirk,
                            "reason": failure.reason,
                        }
                    )
                    continue
                if step.phase == "before":
                    self._skip_rest(steps, i)
                    state = self.scenario.before.state
                    raise HarnessError(
                        f"could not reach the before-state {state!r}: {failure.reason}"
                    ) from None
                if failure.verdict == Verdict.WARN:
                    verdict = worst(verdict, Verdict.WARN)
                    reason = reason or failure.reason
                    continue
                self._skip_rest(steps, i)
                return Verdict.FAIL, failure.reason
            except (TemplateFault, TemplateError, ValueError) as exc:
                # the case's template or pattern, not the SUT: an error naming file and step
                record.verdict = Verdict.ERROR.value
                record.observed = case_fault(self.scenario, steps[i], i, self._title(steps[i]), exc)
                self._skip_rest(steps, i)
                raise HarnessError(record.observed) from None
            except HarnessError as exc:
                record.verdict = Verdict.ERROR.value
                record.observed = record.observed or exc.reason
                self._skip_rest(steps, i)
                raise
            finally:
                record.duration_s = self.elapsed() - record.t_start
        return verdict, reason

    def _skip_rest(self, steps: list[Step], i: int) -> None:
        for j in range(i + 1, len(steps)):
            self.records.append(
                StepRecord(
                    index=j + 1,
                    phase=steps[j].phase,
                    kind=steps[j].kind,
                    title=self._title(steps[j]),
                    requirement=steps[j].requirement,
                    t_start=self.elapsed(),
                )
            )

    async def _do(self, step: Step, i: int, record: StepRecord) -> None:
        kind = step_kinds.get(step.kind)
        if i in self.skipped or not self._wanted(step, i):
            record.observed = f"not run: {self.skipped[i]}"
            raise _Skip
        try:
            await kind.run(self, step, i, record)
        except Failure as failure:
            if step.should and not failure.should:
                failure.should = True
            if failure.requirement is None:
                failure.requirement = step.requirement or self.scenario.requirements[0].id
            if failure.should and self.env.strict:
                failure.should = False
                failure.title = f"{failure.title} (a SHOULD, failed under --strict)"
            raise

    # -- before / after -----------------------------------------------------------------

    def new_record(self, phase: str, kind: str, title: str) -> StepRecord:
        """A record of something the runner or the role does (index 0: not a case step)."""
        record = StepRecord(0, phase, kind, title, None, self.elapsed())
        self.records.append(record)
        return record

    @contextlib.contextmanager
    def before_record(self, title: str, kind: str = "connect") -> Iterator[StepRecord]:
        """The record of a role's before-phase work: ``pass`` when the block ends, ``error``
        with the reason of a :class:`HarnessError` it raises (re-raised)."""
        record = self.new_record("before", kind, title)
        try:
            yield record
            record.verdict = Verdict.PASS.value
        except HarnessError as exc:
            record.verdict = Verdict.ERROR.value
            record.observed = exc.reason
            raise
        finally:
            record.duration_s = self.elapsed() - record.t_start

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        bound_name: str,
        what: str,
        changed: Callable[[float], Awaitable[None]],
    ) -> None:
        """Wait for ``predicate`` within the named bound (``changed(t)`` returns when the state
        may have changed, or after t s); :class:`HarnessError` saying what was awaited."""
        bound = self.timing.upper(bound_name)
        deadline = time.monotonic() + bound
        seq = self.session.log.last_seq
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise HarnessError(
                    f"awaited {what} for {bound:.3g} s ({self.timing.describe(bound_name)}); "
                    f"observed: {self.observed_instead('', None, seq)}"
                )
            await changed(min(remaining, 0.25))

    def config_values(self) -> dict[str, str]:
        """``before.config`` rendered as OCPP configuration values (text; booleans as
        ``true`` / ``false``)."""
        values = {}
        for key, value in self.scenario.before.config.items():
            try:
                rendered = self.render(value)
            except TemplateFault as exc:
                where = f"{self.scenario.path}: before.config {key}"
                raise TemplateFault(
                    f"harness error (the case, not the SUT): {where}: {exc}"
                ) from None
            if isinstance(rendered, bool):
                rendered = "true" if rendered else "false"
            values[key] = str(rendered)
        return values

    async def _after(self) -> None:
        steps = list(self.scenario.after)
        for i, step in enumerate(steps):
            if not self.session.is_connected and step.kind != "act":
                continue  # an operator action (set_registration …) needs no connection
            record = self._record(step, i + 1)
            undoes = self._undoes(step)
            if undoes and not self.acted.intersection(undoes):
                record.observed = f"not run: {' or '.join(undoes)} never happened in this case"
                record.verdict = Verdict.SKIPPED.value
                continue
            try:
                self._arm_ahead(steps, i, _AFTER)
                await self._do(step, _AFTER + i, record)
                record.verdict = Verdict.PASS.value
            except _Skip:
                record.verdict = Verdict.SKIPPED.value
            except (TemplateFault, TemplateError, ValueError) as exc:
                record.verdict = Verdict.ERROR.value
                record.observed = case_fault(self.scenario, steps[i], i, self._title(steps[i]), exc)
                break
            except (Failure, HarnessError, NotApplicable) as exc:
                record.verdict = getattr(exc, "verdict", Verdict.ERROR).value
                record.observed = record.observed or exc.reason
                break
            finally:
                record.duration_s = self.elapsed() - record.t_start
        self._disarm()
        await self.env.role.restore(self)

    def _undoes(self, step: Step) -> list[str]:
        """The case's own before / main ``act`` actions the after-step ``step`` undoes (none:
        it undoes what the before-state did, and always runs)."""
        if step.kind != "act":
            return []
        mains = self.scenario.before_steps + self.scenario.steps
        own = {s.subject for s in mains if s.kind == "act"}
        return [a for a in restored_by(step.subject) if a in own]

    # -- verdict ------------------------------------------------------------------------

    def _judge_findings(self, verdict: Verdict, reason: str) -> tuple[Verdict, str]:
        """A finding on a frame the SUT sent fails a case that would pass (or be na); a
        warning (a broken SHOULD-invariant) makes a passing case warn; a finding on our own
        frame is a harness error."""
        frames = self.frames_since(self.seq0)
        sut = [(f, x) for f in frames if f.direction == IN for x in f.findings]
        ours = [(f, x) for f in frames if f.direction == OUT for x in f.findings]
        if sut and verdict in (Verdict.PASS, Verdict.WARN, Verdict.NA):
            first, finding = sut[0]
            more = f" (and {len(sut) - 1} more)" if len(sut) > 1 else ""
            what = (
                "broke a run-wide protocol invariant"
                if finding.startswith(INVARIANT_PREFIX)
                else "sent a frame that breaks the protocol"
            )
            text = (
                f"[{self.env.role.label}] the SUT {what}: "
                f"frame #{first.seq} {first.brief()}: {finding}{more}"
            )
            return Verdict.FAIL, text
        if ours and verdict == Verdict.PASS:
            first, finding = ours[0]
            return Verdict.ERROR, f"the suite sent an invalid frame #{first.seq}: {finding}"
        should = [(f, x) for f in frames if f.direction == IN for x in f.warnings]
        if should and verdict == Verdict.PASS:
            first, warning = should[0]
            more = f" (and {len(should) - 1} more)" if len(should) > 1 else ""
            text = (
                f"[{self.env.role.label}] the SUT does not follow a recommendation: "
                f"frame #{first.seq} {first.brief()}: {warning}{more}"
            )
            return Verdict.WARN, text
        return verdict, reason

    def result(self, verdict: Verdict, reason: str) -> dict[str, Any]:
        frames = self.frames_since(self.seq0)
        findings = [f"#{f.seq} {x}" for f in frames for x in f.findings]
        findings += [f"#{f.seq} warning: {x}" for f in frames for x in f.warnings]
        dropped = self.session.log.dropped
        return {
            **case_identity(self.scenario, self.env.profile),
            "verdict": verdict.value,
            "reason": reason,
            "started": self.started,
            "finished": utc_iso(),
            "duration_s": round(self.elapsed(), 6),
            "required_wait_s": round(self.required_wait, 6),
            "steps": [r.to_dict() for r in self.records],
            "frames": [f.to_dict(self.t0) for f in frames],
            # the log's per-case bound was hit: these frames were handled but not kept
            **({"frames_dropped": dropped} if dropped else {}),
            "findings": findings,
            "compatibility": self.compatibility(verdict),
            **late_answers(self.session, self.scenario.id),
        }

    def compatibility(self, verdict: Verdict) -> dict[str, Any]:
        """The verdict of the official test tool as far as its known quirks go: the case's
        (conformance) verdict, or ``fail`` when a ``quirk:`` step failed."""
        if not self.quirks or verdict in (Verdict.FAIL, Verdict.ERROR):
            return {"verdict": verdict.value, "quirks": list(self.quirks)}
        return {"verdict": Verdict.FAIL.value, "quirks": list(self.quirks)}

    def interrupted(self, reason: str) -> dict[str, Any]:
        """The result of a case cut short (Ctrl-C, crash): what happened so far, as ``error``."""
        with contextlib.suppress(Exception):
            self._disarm()
        return self.result(Verdict.ERROR, self._with_storm(Verdict.ERROR, reason))


async def run_case(scenario: Scenario, env: CaseEnv) -> dict[str, Any]:
    return await CaseRun(scenario, env).run()
