"""Steps that neither stimulate the SUT nor await one of its messages: ``wait`` (a named
time passes) and ``check`` (a registered check judges what the case has seen so far)."""

from __future__ import annotations

import asyncio

from pile_interop.scenario import checks
from pile_interop.scenario.env import StepRecord
from pile_interop.scenario.model import Step
from pile_interop.scenario.steps.registry import StepContext, no_time, register
from pile_interop.scenario.timing import Timing


def _window(step: Step, timing: Timing) -> float:
    return timing.lower(step.subject)


@register("wait", _window)
async def wait(run: StepContext, step: Step, i: int, record: StepRecord) -> None:
    name = step.subject
    seconds = run.timing.lower(name)
    record.expected = f"{run.timing.describe(name, upper=False)} pass"
    run.required_wait += seconds
    await asyncio.sleep(seconds)  # a named wait: timeouts.<name>
    record.observed = f"waited {seconds:.3g} s"


@register("check", no_time)
async def check(run: StepContext, step: Step, i: int, record: StepRecord) -> None:
    registered = checks.get(step.subject)
    args = run.render(step.get("args", {}))
    record.expected = registered.describe(args)
    record.observed = registered.run(run, args) or "as expected"
