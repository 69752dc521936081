"""What a case runs against (:class:`CaseEnv`) and the record of each of its steps
(:class:`StepRecord`). Both are importable from :mod:`pile_interop.scenario.runner` too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pile_interop.actuators.base import Actuator
from pile_interop.core.case import Role
from pile_interop.core.clock import utc_iso
from pile_interop.core.config import Device, Profile
from pile_interop.core.link import Link
from pile_interop.core.verdicts import Verdict
from pile_interop.scenario.timing import Timing


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
    #: writes the date-times the case sends (``{now}``, ``{earlier}``): the run's varied forms
    date_time: Callable[[datetime | None], str] = utc_iso


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
