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
   malformed frame) fails the case: a protocol error is never swallowed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from hypothesis import HealthCheck, Phase, find
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import NoSuchExample

from pile_interop.actuators.base import Actuator, ActuatorError
from pile_interop.core.case import Role, link_resets
from pile_interop.core.clock import utc_iso
from pile_interop.core.config import Device, Profile
from pile_interop.core.frames import CALLERROR, EVENT, IN, OUT, Frame, compact, is_message
from pile_interop.core.link import (
    CallTimeout,
    Disconnected,
    Exchange,
    Expectation,
    Link,
    Reply,
    RequestLink,
)
from pile_interop.core.verdicts import Failure, HarnessError, NotApplicable, Verdict, worst
from pile_interop.scenario import checks, negative
from pile_interop.scenario.model import Scenario, Step
from pile_interop.scenario.timing import Timing
from pile_interop.scenario.values import TemplateError, mismatches, render

log = logging.getLogger(__name__)

#: How far back ``{earlier}`` lies (minutes).
EARLIER_MIN = 10
_NOT_ARGS = {"act", "title", "requirement", "severity", "note", "prompt"}
#: expectation keys of after-steps start here (main steps use their position)
_AFTER = 100_000


@dataclass
class CaseEnv:
    """Everything a case runs against (the same for every case of a campaign)."""

    session: Link  # the link to the SUT (an OCPP session, a CAN link)
    role: Role  # what the suite plays: prepares and restores the SUT around each case
    actuator: Actuator
    timing: Timing
    device: Device
    profile: Profile
    tokens: dict[str, str]
    params: dict[str, Any]
    secrets: list[str] = field(default_factory=list)
    #: --strict: a broken SHOULD fails the case instead of warning
    strict: bool = False
    #: values of this run a case may use as ``{run.…}`` (e.g. a generated AuthorizationKey;
    #: the campaign's redactor knows the secret ones)
    run_values: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepRecord:
    index: int
    phase: str
    kind: str
    title: str
    requirement: str | None
    t_start: float
    verdict: str = Verdict.SKIPPED.value
    expected: str = ""
    observed: str = ""
    duration_s: float = 0.0
    frames: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "phase": self.phase,
            "kind": self.kind,
            "title": self.title,
            "verdict": self.verdict,
            "requirement": self.requirement,
            "expected": self.expected,
            "observed": self.observed,
            "t_start": round(self.t_start, 6),
            "duration_s": round(self.duration_s, 6),
            "frames": self.frames,
        }


class _Skip(Exception):
    """A step whose ``when:`` is false."""


#: A step record's verdict when a ``quirk:`` step failed (conformance unaffected).
QUIRK = "quirk"
#: The profile parameter with the number of frames a ``negative:`` step draws.
NEGATIVE_PARAM = "negative_examples"
#: Extra probes a ``negative:`` step may spend shrinking a failing frame.
SHRINK_PROBES = 30
#: Slack on top of the response bound for one probe handed across threads.
PROBE_SLACK_S = 5.0


@dataclass
class _Probe:
    """One invalid frame sent by a ``negative:`` step and how it was answered."""

    payload: dict[str, Any]
    text: str
    seq: int
    answer: str
    ok: bool = False
    lost: bool = False  # no answer at all: the search ends here


def requests(link: Link, what: str) -> RequestLink:
    """``link`` as a link with requests and answers, which ``what`` needs."""
    if not isinstance(link, RequestLink):
        raise HarnessError(
            f"{what} needs a link with requests and answers (OCPP): {type(link).__name__} has none"
        )
    return link


def _merge(base: Any, override: Any) -> Any:
    """``override`` deep-merged over ``base`` (mappings merge, anything else replaces)."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value)
        return merged
    return override


class CaseRun:
    """One execution of one scenario."""

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
            "now": utc_iso,
            # a time stamp in the past, for messages a station queued while offline
            "earlier": lambda: utc_iso(datetime.now(UTC) - timedelta(minutes=EARLIER_MIN)),
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
        #: what the role changed before the case and puts back after it (e.g. config keys)
        self.restore: dict[str, str] = {}
        #: ``quirk:`` steps that failed: the official tool would fail the case, the spec not
        self.quirks: list[dict[str, Any]] = []
        self.t0 = time.monotonic()
        self.started = utc_iso()
        self.seq0 = self.session.log.last_seq
        self.stimulus_seq = self.seq0
        self.stimulus_mono = self.t0

    # -- helpers ------------------------------------------------------------------------

    def _t(self, mono: float | None = None) -> float:
        return (mono if mono is not None else time.monotonic()) - self.t0

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
            t_start=self._t(),
        )
        self.records.append(record)
        return record

    def _render(self, value: Any) -> Any:
        try:
            return render(value, self.scope)
        except TemplateError as exc:
            raise HarnessError(f"case template: {exc}") from None

    def _origin(self, step: Step, default: float) -> float:
        alias = step.get("since")
        if alias is None:
            return default
        if alias not in self.alias_time:
            raise HarnessError(f"since: {alias!r} names no exchange that happened before")
        return self.alias_time[alias]

    def _save(
        self, alias: str | None, exchange_like: dict[str, Any], mono: float, seq: int
    ) -> None:
        if alias:
            self.scope[alias] = exchange_like
            self.alias_time[alias] = mono
            self.alias_seq[alias] = seq

    def _frames_since(self, seq: int) -> list[Frame]:
        return self.session.log.since(seq)

    def _observed_instead(self, action: str, pattern: Any, since_seq: int) -> str:
        claimed = set(self.claimed_any)
        frames = [
            f
            for f in self._frames_since(since_seq)
            if (f.direction == IN or f.type == EVENT) and f.seq not in claimed
        ]
        lines = []
        for f in [f for f in frames if is_message(f) and f.action == action][:5]:
            why = "; ".join(mismatches(pattern, f.payload)) if pattern else ""
            lines.append(
                f"{f.action} at +{self._t(f.mono):.3f} s ({why or 'came after the bound'})"
            )
        others = Counter(
            f.action or f.type for f in frames if f.type != EVENT and f.action != action
        )
        if others:
            lines.append(
                "other frames: " + ", ".join(f"{name} ×{n}" for name, n in others.most_common(8))
            )
        events = [f.raw for f in frames if f.type == EVENT]
        if events:
            lines.append("connection: " + "; ".join(events[-3:]))
        if not self.session.is_connected and not events:
            lines.append("the SUT is not connected")
        return "; ".join(lines) if lines else "nothing from the SUT"

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
        value = self._render(step.data["when"])
        wanted = value is True or (isinstance(value, str) and value.strip().lower() == "true")
        if not wanted:
            self.skipped[key] = f"when: {step.data['when']} is {value!r}"
        return wanted

    def _arm(self, step: Step, index: int) -> Expectation:
        match = step.get("match")
        alias = step.get("as")

        def predicate(frame: Frame) -> bool:
            if match is None:
                return True
            try:
                return not mismatches(render(match, self.scope), frame.payload)
            except (TemplateError, ValueError) as exc:
                self.template_errors.append(f"{step.source}: {exc}")
                return False

        def reply(frame: Frame) -> Reply | None:
            if "reply_error" in step.data:
                spec = render(step.data["reply_error"], self.scope)
                return Reply.call_error(
                    spec["code"], spec.get("description", ""), spec.get("details", {})
                )
            if "reply" in step.data:
                default = requests(self.session, "an expect step's reply").responder.reply(frame)
                return Reply.result(
                    _merge(default.payload or {}, render(step.data["reply"], self.scope))
                )
            return None

        def on_claim(exchange: Exchange) -> None:
            answer = exchange.reply
            self._save(
                alias,
                {
                    "request": exchange.call.payload,
                    "reply": answer.payload if answer is not None else None,
                },
                answer.mono if answer is not None else exchange.call.mono,
                exchange.call.seq,
            )

        self.arm_seq[index] = self.session.log.last_seq
        self.armed_steps[index] = step
        return self.session.arm(step.subject, predicate, reply, step.title(), on_claim)

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
        except HarnessError as exc:
            verdict, reason = Verdict.ERROR, exc.reason
        finally:
            self._disarm()
        await self._after()
        verdict, reason = self._judge_findings(verdict, reason)
        return self.result(verdict, reason)

    async def run_function(self, fn: Callable[[CaseEnv], Awaitable[None]]) -> dict[str, Any]:
        """A case written in Python: the same before-phase and verdicts, ``fn`` as the steps.

        An ``AssertionError`` from ``fn`` is a ``fail`` (a :class:`Failure` keeps its
        requirement and severity), a :class:`HarnessError` an ``error``."""
        verdict, reason = Verdict.PASS, ""
        record = StepRecord(1, "main", "python", self.scenario.title, None, 0.0)
        try:
            self._check_needs()
            await self.env.role.prepare(self)
            record.t_start = self._t()
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
                record.duration_s = self._t() - record.t_start
        except NotApplicable as exc:
            verdict, reason = Verdict.NA, exc.reason
        except HarnessError as exc:
            verdict, reason = Verdict.ERROR, exc.reason
        await self._after()
        verdict, reason = self._judge_findings(verdict, reason)
        return self.result(verdict, reason)

    def _check_needs(self) -> None:
        """``needs: [x]``: feature x declared true; ``needs: ["!x"]``: declared false."""
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
            except HarnessError as exc:
                record.verdict = Verdict.ERROR.value
                record.observed = record.observed or exc.reason
                self._skip_rest(steps, i)
                raise
            finally:
                record.duration_s = self._t() - record.t_start
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
                    t_start=self._t(),
                )
            )

    async def _do(self, step: Step, i: int, record: StepRecord) -> None:
        handler: Callable[[Step, int, StepRecord], Awaitable[None]] = getattr(
            self, f"_do_{step.kind}"
        )
        if i in self.skipped or not self._wanted(step, i):
            record.observed = f"not run: {self.skipped[i]}"
            raise _Skip
        try:
            await handler(step, i, record)
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
        record = StepRecord(0, phase, kind, title, None, self._t())
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
            record.duration_s = self._t() - record.t_start

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
                    f"observed: {self._observed_instead('', None, seq)}"
                )
            await changed(min(remaining, 0.25))

    def render(self, value: Any) -> Any:
        return self._render(value)

    def config_values(self) -> dict[str, str]:
        """``before.config`` rendered as OCPP configuration values (text; booleans as
        ``true`` / ``false``)."""
        values = {}
        for key, value in self.scenario.before.config.items():
            rendered = self._render(value)
            if isinstance(rendered, bool):
                rendered = "true" if rendered else "false"
            values[key] = str(rendered)
        return values

    def observed_instead(self, action: str, pattern: Any, since_seq: int) -> str:
        return self._observed_instead(action, pattern, since_seq)

    async def _after(self) -> None:
        steps = list(self.scenario.after)
        for i, step in enumerate(steps):
            if not self.session.is_connected:
                break
            record = self._record(step, i + 1)
            try:
                self._arm_ahead(steps, i, _AFTER)
                await self._do(step, _AFTER + i, record)
                record.verdict = Verdict.PASS.value
            except _Skip:
                record.verdict = Verdict.SKIPPED.value
            except (Failure, HarnessError) as exc:
                record.verdict = getattr(exc, "verdict", Verdict.ERROR).value
                record.observed = record.observed or exc.reason
                break
            finally:
                record.duration_s = self._t() - record.t_start
        self._disarm()
        await self.env.role.restore(self)

    def _disarm(self) -> None:
        for expectation in self.armed.values():
            self.session.disarm(expectation)
        self.armed.clear()

    # -- step kinds ---------------------------------------------------------------------

    async def _do_act(self, step: Step, i: int, record: StepRecord) -> None:
        args = self._render({k: v for k, v in step.data.items() if k not in _NOT_ARGS})
        if "prompt" in step.data:
            args["prompt"] = self._render(step.data["prompt"])
        self.stimulus_seq = self.session.log.last_seq
        self.stimulus_mono = time.monotonic()
        record.expected = f"{step.subject} done within {self.timing.upper('manual'):.3g} s"
        try:
            await self.env.actuator.perform(step.subject, args, self.timing.upper("manual"))
        except ActuatorError as exc:
            raise HarnessError(f"manual action {step.subject}: {exc}") from None
        record.observed = f"{self.env.actuator.name} actuator: done"

    async def _do_expect(self, step: Step, i: int, record: StepRecord) -> None:
        expectation = self.armed[i]
        name = step.get("timeout", "message")
        bound = self.timing.upper(name)
        origin = self._origin(step, time.monotonic())
        pattern = step.get("match")
        shown = f" {compact(self._render(pattern))}" if pattern else ""
        record.expected = (
            f"{step.subject}{shown} within {bound:.3g} s ({self.timing.describe(name)})"
        )
        try:
            exchange = await asyncio.wait_for(
                asyncio.shield(expectation.future), max(0.0, origin + bound - time.monotonic())
            )
        except TimeoutError:
            self.session.disarm(expectation)
            if self.template_errors:
                raise HarnessError("; ".join(self.template_errors)) from None
            rendered = self._render(pattern) if pattern else None
            raise Failure(
                f"No {step.subject}{shown} within {bound:.3g} s",
                expected=record.expected,
                observed=self._observed_instead(step.subject, rendered, self.arm_seq[i]),
            ) from None
        except HarnessError:
            raise
        except Exception as exc:  # the reply could not be built
            raise HarnessError(f"{step.source}: cannot answer {step.subject}: {exc}") from None
        call, answer = exchange.call, exchange.reply
        record.frames = [call.seq] + ([answer.seq] if answer is not None else [])
        record.observed = f"{call.brief()} at +{self._t(call.mono):.3f} s"
        if answer is not None and answer.findings:
            raise HarnessError(f"the case's reply breaks the schema: {'; '.join(answer.findings)}")
        if "not_before" in step.data:
            low_name = step.data["not_before"]
            low = self.timing.lower(low_name)
            elapsed = call.mono - origin
            # the case waits on the SUT's protocol timer: any time in [not_before, timeout]
            # is conformant, so the time it took is required by the protocol, not overhead
            self.required_wait += max(low, elapsed)
            if elapsed < low:
                raise Failure(
                    f"{step.subject} came too early: after {elapsed:.3g} s",
                    expected=(
                        f"not before {low:.3g} s ({self.timing.describe(low_name, upper=False)})"
                    ),
                    observed=record.observed,
                )
        if not step.get("any_order"):
            # steps armed together may be claimed in any order; the case's order is the rule
            previous = [s for j, s in self.claimed_seq.items() if j < i]
            if previous and call.seq < max(previous):
                raise Failure(
                    f"{step.subject} came out of order: before a frame an earlier step expected",
                    expected="the order of the case's steps (any_order not set)",
                    observed=record.observed,
                )
            self.claimed_seq[i] = call.seq
        self.claimed_any.add(call.seq)

    async def _do_expect_none(self, step: Step, i: int, record: StepRecord) -> None:
        name = step.data["during"]
        window = self.timing.lower(name)
        origin = self._origin(step, self.stimulus_mono)
        since_seq = self.stimulus_seq
        pattern = step.get("match")
        rendered = self._render(pattern) if pattern else None
        shown = f" {compact(rendered)}" if rendered else ""
        record.expected = (
            f"no {step.subject}{shown} for {window:.3g} s "
            f"({self.timing.describe(name, upper=False)})"
        )

        def forbidden(frame: Frame) -> bool:
            return (
                frame.direction == IN
                and is_message(frame)
                and frame.action == step.subject
                and (rendered is None or not mismatches(rendered, frame.payload))
            )

        early = next((f for f in self._frames_since(since_seq) if forbidden(f)), None)
        if early is None:
            watcher = self.session.arm(step.subject, forbidden, None, f"no {step.subject}")
            self.required_wait += max(0.0, origin + window - time.monotonic())
            try:
                exchange = await asyncio.wait_for(
                    asyncio.shield(watcher.future), max(0.0, origin + window - time.monotonic())
                )
                early = exchange.call
            except TimeoutError:
                record.observed = f"no {step.subject} in {window:.3g} s"
                return
            finally:
                self.session.disarm(watcher)
        record.frames = [early.seq]
        raise Failure(
            f"{step.subject} sent although the case forbids it",
            expected=record.expected,
            observed=f"{early.brief()} at +{self._t(early.mono):.3f} s",
        )

    async def _do_send(self, step: Step, i: int, record: StepRecord) -> None:
        action = step.subject
        payload = self._render(step.get("payload", {}))
        name = step.get("timeout", "response")
        bound = self.timing.upper(name)
        self.stimulus_seq = self.session.log.last_seq
        self.stimulus_mono = time.monotonic()
        record.title = f"send {action} {compact(payload)}"
        wants_error = "expect_error" in step.data
        pattern = self._render(step.get("expect_error" if wants_error else "expect_result", {}))
        what = "CALLERROR" if wants_error else "CALLRESULT"
        record.expected = f"{what}{' ' + compact(pattern) if pattern else ''} within {bound:.3g} s"
        before = self.session.log.last_seq
        try:
            response = await requests(self.session, "a send step").call(
                action, payload, timeout=bound
            )
        except ValueError as exc:
            raise HarnessError(f"the case's {action} breaks the OCPP schema: {exc}") from None
        except CallTimeout:
            raise Failure(
                f"No response to {action} within {bound:.3g} s",
                expected=f"{record.expected} ({self.timing.describe(name)})",
                observed=self._observed_instead("", None, before),
            ) from None
        except Disconnected as exc:
            raise Failure(
                f"The connection closed while awaiting the response to {action}",
                expected=record.expected,
                observed=str(exc),
            ) from None
        record.frames = [
            f.seq for f in self._frames_since(before) if f.unique_id == response.unique_id
        ]
        record.observed = response.brief()
        if wants_error:
            if response.type != CALLERROR:
                raise Failure(
                    f"{action} answered with a CALLRESULT where a CALLERROR is required",
                    expected=record.expected,
                    observed=record.observed,
                )
            actual = {
                "code": response.error_code,
                "description": response.error_description,
                "details": response.payload,
            }
        else:
            if response.type == CALLERROR:
                raise Failure(
                    f"{action} answered with CALLERROR {response.error_code}",
                    expected=record.expected,
                    observed=record.observed,
                )
            actual = response.payload
        problems = mismatches(pattern, actual) if pattern else []
        if problems:
            raise Failure(
                f"{action} response does not match: {'; '.join(problems)}",
                expected=record.expected,
                observed=record.observed,
            )
        self._save(
            step.get("as"), {"request": payload, "reply": actual}, response.mono, response.seq
        )

    async def _do_negative(self, step: Step, i: int, record: StepRecord) -> None:
        """Invalid CALLs drawn by hypothesis (:mod:`negative`); the first one the SUT answers
        otherwise than with an allowed CALLERROR is shrunk to the smallest such frame."""
        action, mutation = step.subject, step.data["mutation"]
        version = requests(self.session, "a negative step").version.schema_version
        base = self._render(step.get("payload", {}))
        if mutation in negative.RAW_MUTATIONS:
            await self._raw_negative(step, record, action, mutation, base)
            return
        examples = int(self._render(step.get("examples", self.env.params.get(NEGATIVE_PARAM, 10))))
        codes = step.get("codes")
        allowed = frozenset(codes) if codes else negative.allowed_codes(mutation, version)
        try:
            strategy = negative.Mutator(action, version, base).strategy(mutation)
        except negative.NoSuchMutation as exc:
            raise HarnessError(f"{step.source}: {exc}") from None
        name = step.get("timeout", "response")
        bound = self.timing.upper(name)
        shown = " or ".join(sorted(allowed))
        record.expected = f"CALLERROR {shown} within {bound:.3g} s to each of {examples} frames"
        loop = asyncio.get_running_loop()
        probes: list[_Probe] = []

        lost: list[_Probe] = []
        judged: dict[str, bool] = {}  # a frame is sent once: hypothesis replays its verdict

        def misanswered(payload: dict[str, Any]) -> bool:
            key = json.dumps(payload, sort_keys=True)
            if key in judged:
                return judged[key]
            if lost or len(probes) >= examples + SHRINK_PROBES:
                return False  # no answer any more, or enough probes: the search ends
            future = asyncio.run_coroutine_threadsafe(
                self._probe(action, payload, allowed, bound), loop
            )
            probe = future.result(bound + PROBE_SLACK_S)
            probes.append(probe)
            if probe.lost:
                lost.append(probe)
            judged[key] = probe.lost or not probe.ok
            return judged[key]

        search = hypothesis_settings(
            max_examples=examples,
            database=None,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate, Phase.shrink],
        )
        # its own thread: the default executor also serves the event loop's (and the ocpp
        # package's) blocking work, which the probes need while the search waits on them
        searcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="negative")
        try:
            smallest = await loop.run_in_executor(
                searcher, partial(find, strategy, misanswered, settings=search)
            )
        except NoSuchExample:
            smallest = None
        except Exception as exc:  # the search itself broke: not a verdict about the SUT
            raise HarnessError(f"{step.source}: the frame search failed: {exc!r}") from None
        finally:
            searcher.shutdown(wait=False)
        if lost:
            record.frames = [lost[0].seq]
            raise Failure(
                f"{action} with {mutation.replace('_', ' ')}: no CALLERROR",
                expected=f"{record.expected} ({self.timing.describe(name)})",
                observed=f"sent {lost[0].text}; {lost[0].answer}",
            )
        if smallest is None:
            seen = Counter(p.answer for p in probes)
            record.frames = [p.seq for p in probes[:50]]
            record.observed = f"{len(probes)} invalid frames, answered: " + ", ".join(
                f"{answer} ×{n}" for answer, n in seen.most_common(4)
            )
            return
        failing = [p for p in probes if not p.ok]
        probe = next((p for p in reversed(failing) if p.payload == smallest), failing[-1])
        record.frames = [probe.seq]
        raise Failure(
            f"{action} with {mutation.replace('_', ' ')} answered {probe.answer} "
            f"where CALLERROR {shown} is required",
            expected=record.expected,
            observed=f"sent {probe.text} (the smallest of {len(probes)} frames tried); "
            f"got {probe.answer}",
        )

    async def _raw_negative(
        self, step: Step, record: StepRecord, action: str, mutation: str, base: dict[str, Any]
    ) -> None:
        """A frame-level defect (:data:`negative.RAW_MUTATIONS`), then ``action`` with the
        valid ``base`` payload, which must still be answered."""
        name = step.get("timeout", "response")
        bound = self.timing.upper(name)
        link = requests(self.session, "a negative step")
        version = link.version.schema_version
        uid = str(uuid.uuid4())
        if mutation == "unknown_action":
            allowed = negative.allowed_codes(mutation, version)
            text = negative.frame_text(uid, negative.UNKNOWN_ACTION, {})
            record.expected = f"CALLERROR {' or '.join(sorted(allowed))} within {bound:.3g} s"
            probe = await self._probe(negative.UNKNOWN_ACTION, {}, allowed, bound, text, uid)
            record.frames = [probe.seq]
            if not probe.ok:
                raise Failure(
                    f"an unknown action answered {probe.answer}",
                    expected=record.expected,
                    observed=f"sent {text}; got {probe.answer}",
                )
            record.observed = f"sent {text}; got {probe.answer}"
            return
        if mutation == "malformed_json":
            sent = await link.send_raw(negative.malformed_text(uid, action, base))
        elif mutation == "unknown_result_id":
            sent = await link.send_raw(negative.result_text(uid))
        else:  # duplicate_unique_id: the first CALL is answered as usual, then the same id
            first = await self._probe(action, base, frozenset(), bound, None, uid)
            if first.lost:
                raise Failure(
                    f"no answer to a valid {action}",
                    expected=f"a CALLRESULT within {bound:.3g} s",
                    observed=f"sent {first.text}; {first.answer}",
                )
            sent = await link.send_raw(negative.frame_text(uid, action, base))
        record.expected = (
            f"{sent.raw[:120]} survived: the connection stays open and a valid {action} is "
            f"answered within {bound:.3g} s"
        )
        check = await self._probe(action, base, frozenset(), bound)
        record.frames = [sent.seq, check.seq]
        if check.lost or check.answer.startswith("CALLERROR"):
            raise Failure(
                f"after {mutation.replace('_', ' ')} the SUT no longer answers {action}",
                expected=record.expected,
                observed=f"sent {sent.raw[:200]}; then {check.text}: {check.answer}",
            )
        record.observed = f"sent {sent.raw[:200]}; a valid {action} then got {check.answer}"

    async def _probe(
        self,
        action: str,
        payload: dict[str, Any],
        allowed: frozenset[str],
        bound: float,
        text: str | None = None,
        uid: str | None = None,
    ) -> _Probe:
        uid = uid or str(uuid.uuid4())
        text = text or negative.frame_text(uid, action, payload)
        seq = self.session.log.last_seq + 1
        try:
            response = await requests(self.session, "a negative step").call_raw(
                text, uid, timeout=bound
            )
        except CallTimeout:
            return _Probe(payload, text, seq, f"no answer within {bound:.3g} s", lost=True)
        except Disconnected as exc:
            return _Probe(payload, text, seq, f"the connection closed ({exc})", lost=True)
        if response.type == CALLERROR:
            answer = f"CALLERROR {response.error_code}"
            return _Probe(payload, text, seq, answer, ok=response.error_code in allowed)
        return _Probe(payload, text, seq, f"{response.type} {compact(response.payload)}")

    async def _do_peer(self, step: Step, i: int, record: StepRecord) -> None:
        args = self._render(step.get("args", {}))
        self.stimulus_seq = self.session.log.last_seq
        self.stimulus_mono = time.monotonic()
        record.expected = f"the suite's peer: {step.subject}"
        record.observed = await self.env.role.peer(self, step.subject, args)
        if step.subject in link_resets(self.env.role):
            for key, expectation in list(self.armed.items()):
                if key > i and expectation.claimed:  # by a frame of the closed connection
                    self.session.disarm(expectation)
                    self.armed[key] = self._arm(self.armed_steps[key], key)

    async def _do_wait(self, step: Step, i: int, record: StepRecord) -> None:
        name = step.subject
        seconds = self.timing.lower(name)
        record.expected = f"{self.timing.describe(name, upper=False)} pass"
        self.required_wait += seconds
        await asyncio.sleep(seconds)  # a named wait: timeouts.<name>
        record.observed = f"waited {seconds:.3g} s"

    async def _do_check(self, step: Step, i: int, record: StepRecord) -> None:
        check = checks.get(step.subject)
        args = self._render(step.get("args", {}))
        record.expected = check.describe(args)
        record.observed = check.run(self, args) or "as expected"

    # -- verdict ------------------------------------------------------------------------

    def _judge_findings(self, verdict: Verdict, reason: str) -> tuple[Verdict, str]:
        frames = self._frames_since(self.seq0)
        sut = [(f, x) for f in frames if f.direction == IN for x in f.findings]
        ours = [(f, x) for f in frames if f.direction == OUT for x in f.findings]
        if sut and verdict in (Verdict.PASS, Verdict.WARN, Verdict.NA):
            first, finding = sut[0]
            more = f" (and {len(sut) - 1} more)" if len(sut) > 1 else ""
            text = (
                f"[{self.env.role.label}] the SUT sent a frame that breaks the protocol: "
                f"frame #{first.seq} {first.brief()}: {finding}{more}"
            )
            return Verdict.FAIL, text
        if ours and verdict == Verdict.PASS:
            first, finding = ours[0]
            return Verdict.ERROR, f"the suite sent an invalid frame #{first.seq}: {finding}"
        return verdict, reason

    def result(self, verdict: Verdict, reason: str) -> dict[str, Any]:
        frames = self._frames_since(self.seq0)
        findings = [f"#{f.seq} {x}" for f in frames for x in f.findings]
        return {
            **case_identity(self.scenario, self.env.profile),
            "verdict": verdict.value,
            "reason": reason,
            "started": self.started,
            "finished": utc_iso(),
            "duration_s": round(self._t(), 6),
            "required_wait_s": round(self.required_wait, 6),
            "steps": [r.to_dict() for r in self.records],
            "frames": [f.to_dict(self.t0) for f in frames],
            "findings": findings,
            "compatibility": self.compatibility(verdict),
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
        return self.result(Verdict.ERROR, reason)


def case_identity(scenario: Scenario, profile: Profile) -> dict[str, Any]:
    """What every case result starts with: who the case is (docs/results-format.md)."""
    return {
        "id": scenario.id,
        "title": scenario.title,
        "ocpp": scenario.ocpp,
        "protocol": scenario.protocol,
        "sut": scenario.sut,
        "block": scenario.block,
        "profiles": [profile.id],
        "mandatory": profile.is_mandatory(scenario.id),
        "description": scenario.description,
        "requirements": [r.to_dict() for r in scenario.requirements],
    }


def case_budget(scenario: Scenario, timing: Timing) -> float:
    """The most real time a case can take if every wait runs to its bound (a watchdog)."""

    def bound(name: str) -> float:  # a role's bound the profile may not have
        return timing.upper(name) if name in timing.timeouts else 0.0

    total = sum(bound(n) for n in ("connect", "boot", "boot_status", "settle", "settle"))
    total += bound("quiet") + bound("response") * 2 * (len(scenario.before.config) + 1)
    for step in scenario.all_steps():
        if step.kind == "act":
            total += timing.upper("manual")
        elif step.kind == "expect":
            total += timing.upper(step.get("timeout", "message"))
        elif step.kind == "send":
            total += timing.upper(step.get("timeout", "response"))
        elif step.kind == "expect_none":
            total += timing.lower(step.data["during"])
        elif step.kind == "wait":
            total += timing.lower(step.subject)
        elif step.kind == "peer":
            total += bound("manual")
        elif step.kind == "negative":
            examples = step.get("examples", 10)
            per = timing.upper(step.get("timeout", "response"))
            total += per * ((examples if isinstance(examples, int) else 50) + SHRINK_PROBES)
    return total + 5.0


async def run_case(scenario: Scenario, env: CaseEnv) -> dict[str, Any]:
    return await CaseRun(scenario, env).run()
