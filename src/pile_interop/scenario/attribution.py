"""Whose fault, which case: a broken template named as the case's (file and step), and the
late answers a case takes from its link at its end (its own, and those of earlier cases that
came while it ran)."""

from __future__ import annotations

from typing import Any

from pile_interop.core.link import Link, RequestLink
from pile_interop.core.verdicts import HarnessError
from pile_interop.scenario.model import Scenario, Step


def case_fault(scenario: Scenario, step: Step, i: int, title: str, exc: Exception) -> str:
    """Where in the case a template or match pattern broke (``step``, at position ``i`` of
    the before-state's steps followed by the case's, or of the after-steps): the case file,
    the step's number in its part, its title and source line, and what broke."""
    before = len(scenario.before_steps)
    if step.phase == "before":
        where = f"before-state {scenario.before.state!r} step {i + 1}"
    elif step.phase == "after":
        where = f"after-step {i + 1}"
    else:
        where = f"step {i - before + 1}"
    text = exc.reason if isinstance(exc, HarnessError) else f"case template: {exc}"
    return (
        f"harness error (the case, not the SUT): {scenario.path}: {where} {title!r} "
        f"({step.source}): {text}"
    )


def late_answers(link: Link, case_id: str) -> dict[str, Any]:
    """The result fields of the answers to CALLs the suite stopped waiting for that came by
    now: the case's own (``late_responses``; its verdict was decided by the step that timed
    out) and those of earlier cases (``late_for_other_cases``, each naming its ``case``; the
    report attaches them to that case). Neither judges the case."""
    if not isinstance(link, RequestLink):
        return {}
    own, others = [], []
    for answer in link.take_late_answers():
        if answer.case == case_id:
            own.append(answer.to_dict())
        else:
            others.append({"case": answer.case, **answer.to_dict()})
    return {
        **({"late_responses": own} if own else {}),
        **({"late_for_other_cases": others} if others else {}),
    }
