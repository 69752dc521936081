"""Steps that act on the SUT from the suite's side: ``act`` (a manual action the actuator
performs: plug in, present a card …) and ``peer`` (change how the suite's mock peer behaves).
Both are stimuli: the windows of later ``expect_none`` steps start when they begin.

An actuator error is an ``error`` (the harness could not do its part); a bench that says it
cannot do the action at all (``ActionUnsupported``: HTTP 501 or ``"unsupported"``) makes the
case ``na``: "the bench cannot <action>: …"."""

from __future__ import annotations

from pile_interop.actuators.base import ActionUnsupported, ActuatorError
from pile_interop.core.case import link_resets
from pile_interop.core.verdicts import HarnessError, NotApplicable
from pile_interop.scenario.env import StepRecord
from pile_interop.scenario.model import Step
from pile_interop.scenario.steps.registry import StepContext, bound, register
from pile_interop.scenario.timing import Timing

#: Keys of an ``act`` step that are not arguments of the action.
NOT_ARGS = {"act", "title", "requirement", "severity", "note", "prompt"}


def _manual(step: Step, timing: Timing) -> float:
    return timing.upper("manual")


def _peer_budget(step: Step, timing: Timing) -> float:
    return bound(timing, "manual")


@register("act", _manual)
async def act(run: StepContext, step: Step, i: int, record: StepRecord) -> None:
    args = run.render({k: v for k, v in step.data.items() if k not in NOT_ARGS})
    if "prompt" in step.data:
        args["prompt"] = run.render(step.data["prompt"])
    args["step"], args["phase"] = record.index, record.phase
    run.mark_stimulus()
    record.expected = f"{step.subject} done within {run.timing.upper('manual'):.3g} s"
    try:
        await run.env.actuator.perform(step.subject, args, run.timing.upper("manual"))
    except ActionUnsupported as exc:
        record.observed = f"the bench cannot {step.subject}: {exc}"
        raise NotApplicable(record.observed) from None
    except ActuatorError as exc:
        run.acted.add(step.subject)  # it may have happened: the after-steps undo it
        raise HarnessError(f"manual action {step.subject}: {exc}") from None
    run.acted.add(step.subject)
    record.observed = f"{run.env.actuator.name} actuator: done"


@register("peer", _peer_budget)
async def peer(run: StepContext, step: Step, i: int, record: StepRecord) -> None:
    args = run.render(step.get("args", {}))
    run.mark_stimulus()
    record.expected = f"the suite's peer: {step.subject}"
    record.observed = await run.env.role.peer(run, step.subject, args)
    if step.subject in link_resets(run.env.role):
        run.rearm_claimed(after=i)
