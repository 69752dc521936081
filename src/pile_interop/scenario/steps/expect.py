"""Steps that await the SUT: ``expect`` (a message, answered with the step's reply, within a
bound) and ``expect_none`` (no such message during a window); and the hooks of the
expectation an ``expect`` step arms before the stimulus that precedes it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from pile_interop.core.frames import IN, Frame, compact, is_message
from pile_interop.core.link import Exchange, Predicate, Reply, ReplyFn
from pile_interop.core.verdicts import Failure, HarnessError
from pile_interop.scenario.env import StepRecord
from pile_interop.scenario.model import Step
from pile_interop.scenario.near_miss import near_misses, summary
from pile_interop.scenario.steps.registry import StepContext, register, requests
from pile_interop.scenario.timing import Timing
from pile_interop.scenario.values import TemplateError, TemplateFault, mismatches, render


def _merge(base: Any, override: Any) -> Any:
    """``override`` deep-merged over ``base`` (mappings merge, anything else replaces)."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value)
        return merged
    return override


def hooks(run: StepContext, step: Step) -> tuple[Predicate, ReplyFn, Callable[[Exchange], None]]:
    """What the expectation of an ``expect`` step runs: which frame it takes (``match``), how
    it answers it (``reply`` merged over the default answer, or ``reply_error``) and, once a
    frame claimed it, the exchange saved as the step's ``as``."""
    match = step.get("match")
    alias = step.get("as")

    def predicate(frame: Frame) -> bool:
        if match is None:
            return True
        try:
            return not mismatches(render(match, run.scope), frame.payload)
        except (TemplateError, ValueError) as exc:
            run.template_errors.append(f"{step.source}: {exc}")
            return False

    def reply(frame: Frame) -> Reply | None:
        if "reply_error" in step.data:
            spec = render(step.data["reply_error"], run.scope)
            return Reply.call_error(
                spec["code"], spec.get("description", ""), spec.get("details", {})
            )
        if "reply" in step.data:
            default = requests(run.session, "an expect step's reply").responder.reply(frame)
            return Reply.result(
                _merge(default.payload or {}, render(step.data["reply"], run.scope))
            )
        return None

    def on_claim(exchange: Exchange) -> None:
        answer = exchange.reply
        run.save(
            alias,
            {
                "request": exchange.call.payload,
                "reply": answer.payload if answer is not None else None,
            },
            answer.mono if answer is not None else exchange.call.mono,
            exchange.call.seq,
        )

    return predicate, reply, on_claim


def _bound(step: Step, timing: Timing) -> float:
    return timing.upper(step.get("timeout", "message"))


def _window(step: Step, timing: Timing) -> float:
    return timing.lower(step.data["during"])


@register("expect", _bound)
async def expect(run: StepContext, step: Step, i: int, record: StepRecord) -> None:
    began = time.monotonic()
    expectation = run.armed[i]
    name = step.get("timeout", "message")
    bound = run.timing.upper(name)
    origin = run.origin(step, time.monotonic())
    pattern = step.get("match")
    shown = f" {compact(run.render(pattern))}" if pattern else ""
    record.expected = f"{step.subject}{shown} within {bound:.3g} s ({run.timing.describe(name)})"
    try:
        exchange = await asyncio.wait_for(
            asyncio.shield(expectation.future), max(0.0, origin + bound - time.monotonic())
        )
    except TimeoutError:
        run.session.disarm(expectation)
        if run.template_errors:
            raise TemplateFault("; ".join(run.template_errors)) from None
        rendered = run.render(pattern) if pattern else None
        misses = near_misses(
            run.frames_since(run.seq0), step.subject, rendered, began, _taken(run, i)
        )
        missed = f"; {summary(misses, step.subject)}" if misses else ""
        raise Failure(
            f"No {step.subject}{shown} within {bound:.3g} s{missed}",
            expected=record.expected,
            observed=run.observed_instead(step.subject, rendered, run.arm_seq[i]),
        ) from None
    except HarnessError:
        raise
    except (TemplateError, ValueError) as exc:  # the reply's template
        raise TemplateFault(f"cannot answer {step.subject}: {exc}") from None
    except Exception as exc:  # the reply could not be built
        raise HarnessError(f"{step.source}: cannot answer {step.subject}: {exc}") from None
    call, answer = exchange.call, exchange.reply
    record.frames = [call.seq] + ([answer.seq] if answer is not None else [])
    record.observed = f"{call.brief()} at +{run.elapsed(call.mono):.3f} s"
    if answer is not None and answer.findings:
        raise HarnessError(f"the case's reply breaks the schema: {'; '.join(answer.findings)}")
    if "not_before" in step.data:
        low_name = step.data["not_before"]
        from_frame = step.get("since") is not None
        low = run.timing.lower_since_frame(low_name) if from_frame else run.timing.lower(low_name)
        elapsed = call.mono - origin
        # the case waits on the SUT's protocol timer: any time in [not_before, timeout]
        # is conformant, so the time it took is required by the protocol, not overhead
        run.required_wait += max(low, elapsed)
        if elapsed < low:
            raise Failure(
                f"{step.subject} came too early: after {elapsed:.3g} s",
                expected=(
                    f"not before {low:.3g} s ({run.timing.describe(low_name, upper=False)}"
                    + (
                        f", less {run.timing.receipt_slack:g} s for the read delay of the frame"
                        " it counts from)"
                        if from_frame
                        else ")"
                    )
                ),
                observed=record.observed,
            )
    if not step.get("any_order"):
        # steps armed together may be claimed in any order; the case's order is the rule
        previous = [s for j, s in run.claimed_seq.items() if j < i]
        if previous and call.seq < max(previous):
            raise Failure(
                f"{step.subject} came out of order: before a frame an earlier step expected",
                expected="the order of the case's steps (any_order not set)",
                observed=record.observed,
            )
        run.claimed_seq[i] = call.seq
    run.claimed_any.add(call.seq)


def _taken(run: StepContext, i: int) -> set[int]:
    """The frames other steps took (or their armed expectations claimed): no near miss."""
    taken = set(run.claimed_any)
    for key, expectation in run.armed.items():
        future = expectation.future
        if key != i and future.done() and not future.cancelled() and not future.exception():
            taken.add(future.result().call.seq)
    return taken


@register("expect_none", _window)
async def expect_none(run: StepContext, step: Step, i: int, record: StepRecord) -> None:
    name = step.data["during"]
    window = run.timing.lower(name)
    origin = run.origin(step, run.stimulus_mono)
    since_seq = run.stimulus_seq
    pattern = step.get("match")
    rendered = run.render(pattern) if pattern else None
    shown = f" {compact(rendered)}" if rendered else ""
    record.expected = (
        f"no {step.subject}{shown} for {window:.3g} s ({run.timing.describe(name, upper=False)})"
    )

    def forbidden(frame: Frame) -> bool:
        return (
            frame.direction == IN
            and is_message(frame)
            and frame.action == step.subject
            and (rendered is None or not mismatches(rendered, frame.payload))
        )

    early = next((f for f in run.frames_since(since_seq) if forbidden(f)), None)
    if early is None:
        watcher = run.session.arm(step.subject, forbidden, None, f"no {step.subject}")
        run.required_wait += max(0.0, origin + window - time.monotonic())
        try:
            exchange = await asyncio.wait_for(
                asyncio.shield(watcher.future), max(0.0, origin + window - time.monotonic())
            )
            early = exchange.call
        except TimeoutError:
            record.observed = f"no {step.subject} in {window:.3g} s"
            return
        finally:
            run.session.disarm(watcher)
    record.frames = [early.seq]
    raise Failure(
        f"{step.subject} sent although the case forbids it",
        expected=record.expected,
        observed=f"{early.brief()} at +{run.elapsed(early.mono):.3f} s",
    )
