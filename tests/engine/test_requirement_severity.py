"""Every case grades a step by the keyword of the requirement it cites: a requirement whose
quoted text says SHALL or MUST is graded ``fail`` (the default severity); one that says SHOULD
(and neither SHALL nor MUST) is graded ``warn`` (``severity: should`` on every step citing it).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pile_interop.scenario.loader import is_case_file, load_scenario
from pile_interop.scenario.model import Scenario

ROOT = Path(__file__).resolve().parents[2]
CASE_FILES = sorted(p for p in (ROOT / "conformance").rglob("*.yaml") if is_case_file(p))
_MUST = re.compile(r"\b(SHALL|MUST)\b")
_SHOULD = re.compile(r"\bSHOULD\b")


def grade(text: str) -> str | None:
    """``must`` (SHALL / MUST), ``should`` (SHOULD only) or None (no RFC 2119 keyword)."""
    if _MUST.search(text):
        return "must"
    if _SHOULD.search(text):
        return "should"
    return None


def misgraded(scenario: Scenario) -> list[str]:
    """The steps of ``scenario`` whose severity disagrees with the requirement they cite."""
    grades = {r.id: grade(r.text) for r in scenario.requirements}
    wrong = []
    for step in (*scenario.steps, *scenario.after):
        wanted = grades.get(step.requirement or "")
        severity = "should" if step.should else "must"
        if wanted is not None and severity != wanted:
            wrong.append(
                f"{step.source}: cites {step.requirement} ({wanted.upper()}) "
                f"with severity {severity}"
            )
    return wrong


def test_the_grading_reads_the_keywords():
    assert grade("The Charge Point SHALL reply") == "must"
    assert grade("it MUST keep the connection; it SHOULD answer") == "must"
    assert grade("the station SHOULD send SuspendedEV") == "should"
    assert grade("the station should and shall (lower case is prose)") is None


def test_there_are_case_files():
    assert len(CASE_FILES) > 300


@pytest.mark.parametrize(
    "path", CASE_FILES, ids=[str(p.relative_to(ROOT / "conformance")) for p in CASE_FILES]
)
def test_steps_are_graded_by_the_requirement_they_cite(path):
    assert misgraded(load_scenario(path)) == []
