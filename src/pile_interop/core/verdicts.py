"""Verdicts and the exceptions that carry them.

A :class:`Failure` is data and an assertion at once (the schemathesis idea): it works as a
pytest assertion and as a report record, and it carries the requirement, what was expected and
what was observed, so every failing case can say *why* in one paragraph.
"""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    NA = "na"
    ERROR = "error"
    SKIPPED = "skipped"
    #: planned and selected, but the run ended (interrupted, killed) before the case did
    NOT_RUN = "not_run"


#: Which verdict wins when a case collects several (a broken MUST outranks a harness problem,
#: because it is a finding about the SUT that stands whatever else went wrong).
_RANK = {
    Verdict.SKIPPED: 0,
    Verdict.NOT_RUN: 0,
    Verdict.PASS: 1,
    Verdict.NA: 2,
    Verdict.WARN: 3,
    Verdict.ERROR: 4,
    Verdict.FAIL: 5,
}


def worst(*verdicts: Verdict) -> Verdict:
    """The verdict that decides a case made of steps with ``verdicts``."""
    return max(verdicts, key=_RANK.__getitem__, default=Verdict.PASS)


#: Verdicts under which a mandatory case still counts as met.
MEETS = frozenset({Verdict.PASS, Verdict.WARN, Verdict.NA})


class Failure(AssertionError):
    """The SUT broke a requirement (MUST → ``fail``, SHOULD → ``warn``)."""

    def __init__(
        self,
        title: str,
        *,
        requirement: str | None = None,
        expected: str = "",
        observed: str = "",
        should: bool = False,
    ) -> None:
        self.title = title
        self.requirement = requirement
        self.expected = expected
        self.observed = observed
        self.should = should
        super().__init__(self.reason)

    @property
    def verdict(self) -> Verdict:
        return Verdict.WARN if self.should else Verdict.FAIL

    @property
    def reason(self) -> str:
        parts = [f"[{self.requirement}] {self.title}" if self.requirement else self.title]
        if self.expected:
            parts.append(f"Expected: {self.expected}")
        if self.observed:
            parts.append(f"Observed: {self.observed}")
        return ". ".join(p.rstrip(".") for p in parts) + "."


class HarnessError(Exception):
    """The harness could not decide (SUT unreachable, configuration wrong): ``error``."""

    verdict = Verdict.ERROR

    @property
    def reason(self) -> str:
        return str(self)


class BeforeStateNotReached(HarnessError):
    """The case's before-state could not be reached, even after the recovery step (re-register,
    power cycle, stop a transaction, connectors back to Available): ``error`` with the reason
    "before-state <name> not reached: <what is still wrong>". The engine counts these cases in
    a row and stops the run after a configurable number of them."""

    def __init__(self, state: str, wrong: str) -> None:
        self.state = state
        self.wrong = wrong
        super().__init__(f"before-state {state} not reached: {wrong}")


class NotApplicable(Exception):
    """The device descriptor says the feature a case needs is absent: ``na``."""

    verdict = Verdict.NA

    @property
    def reason(self) -> str:
        return str(self)
