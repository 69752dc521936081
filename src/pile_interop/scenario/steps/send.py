"""The ``send`` step: the suite sends a request (an OCPP CALL) and judges the answer
(``expect_result`` or ``expect_error``) within a bound."""

from __future__ import annotations

from pile_interop.core.frames import CALLERROR, compact
from pile_interop.core.link import CallTimeout, Disconnected
from pile_interop.core.verdicts import Failure, HarnessError
from pile_interop.scenario.env import StepRecord
from pile_interop.scenario.model import Step
from pile_interop.scenario.steps.registry import StepContext, register, requests
from pile_interop.scenario.timing import Timing
from pile_interop.scenario.values import mismatches


def _bound(step: Step, timing: Timing) -> float:
    return timing.upper(step.get("timeout", "response"))


@register("send", _bound)
async def send(run: StepContext, step: Step, i: int, record: StepRecord) -> None:
    link = requests(run.session, "a send step")
    action = step.subject
    payload = run.render(step.get("payload", {}))
    name = step.get("timeout", "response")
    bound = run.timing.upper(name)
    run.mark_stimulus()
    record.title = f"send {action} {compact(payload)}"
    wants_error = "expect_error" in step.data
    pattern = run.render(step.get("expect_error" if wants_error else "expect_result", {}))
    what = "CALLERROR" if wants_error else "CALLRESULT"
    record.expected = f"{what}{' ' + compact(pattern) if pattern else ''} within {bound:.3g} s"
    alternative = run.render(step.get("or_error")) if "or_error" in step.data else None
    if alternative is not None:  # either answer is legal
        record.expected += f", or CALLERROR {compact(alternative)}"
    before = link.log.last_seq
    try:
        response = await link.call(action, payload, timeout=bound)
    except ValueError as exc:
        raise HarnessError(f"the case's {action} breaks the OCPP schema: {exc}") from None
    except CallTimeout:
        raise Failure(
            f"No response to {action} within {bound:.3g} s",
            expected=f"{record.expected} ({run.timing.describe(name)})",
            observed=run.observed_instead("", None, before),
        ) from None
    except Disconnected as exc:
        raise Failure(
            f"The connection closed while awaiting the response to {action}",
            expected=record.expected,
            observed=str(exc),
        ) from None
    record.frames = [f.seq for f in run.frames_since(before) if f.unique_id == response.unique_id]
    record.observed = response.brief()
    if alternative is not None and response.type == CALLERROR:
        wants_error, pattern = True, alternative
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
    run.save(step.get("as"), {"request": payload, "reply": actual}, response.mono, response.seq)
