"""The step-kind registry, and what a step handler may use of the case being run.

Each step kind (``act``, ``expect``, ``send`` …) is a handler registered by name with
:func:`register`, together with its *budget*: the most real time one step of that kind can take
when every wait runs to its bound (the case's watchdog adds them up). A handler gets the case
being run as a :class:`StepContext`, the step, its key among the case's steps (main steps use
their position, after-steps start at a large offset) and its record, whose ``expected`` and
``observed`` it fills in; it raises :class:`~pile_interop.core.verdicts.Failure` when the SUT
broke the step's rule and :class:`~pile_interop.core.verdicts.HarnessError` when the step could
not be carried out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pile_interop.core.case import CaseContext
from pile_interop.core.frames import Frame
from pile_interop.core.link import Expectation, Link, RequestLink
from pile_interop.core.verdicts import HarnessError
from pile_interop.scenario.env import CaseEnv, StepRecord
from pile_interop.scenario.model import Step
from pile_interop.scenario.timing import Timing


class StepContext(CaseContext, Protocol):
    """The case being run, as a step handler sees it (the runner's ``CaseRun``)."""

    env: CaseEnv
    #: the link to the SUT
    session: Link
    #: what templates may name: ``tokens``, ``params``, the saved exchanges (``as:``) …
    scope: dict[str, Any]
    #: the frame sequence number of each exchange saved with ``as:``
    alias_seq: dict[str, int]
    #: the time the protocol requires the case to wait (not overhead), added up
    required_wait: float
    #: where the last stimulus (an ``act``, ``send`` or ``peer`` step) began: the frame log's
    #: sequence number and the monotonic time
    stimulus_seq: int
    stimulus_mono: float
    #: the armed expectations of the ``expect`` steps, by step key
    armed: dict[int, Expectation]
    #: the frame log's sequence number when each expectation was armed
    arm_seq: dict[int, int]
    #: the frame each ``expect`` step (not ``any_order``) claimed, by step key
    claimed_seq: dict[int, int]
    #: the frames some step already took
    claimed_any: set[int]
    #: templates of armed expectations that failed to render
    template_errors: list[str]
    #: the ``act`` actions performed (or attempted) so far in the case
    acted: set[str]

    @property
    def timing(self) -> Timing: ...

    def elapsed(self, mono: float | None = None) -> float:
        """Seconds since the case began (at ``mono``, or now)."""
        ...

    def render(self, value: Any) -> Any:
        """``value`` with its templates resolved; a broken template is a HarnessError."""
        ...

    def origin(self, step: Step, default: float) -> float:
        """When the exchange the step's ``since:`` names happened, else ``default``."""
        ...

    def save(self, alias: str | None, exchange_like: dict[str, Any], mono: float, seq: int) -> None:
        """Remember an exchange as ``alias`` (``as:``) for templates, checks and ``since:``."""
        ...

    def frames_since(self, seq: int) -> list[Frame]: ...

    def mark_stimulus(self) -> None:
        """A stimulus begins now: windows of ``expect_none`` steps start here."""
        ...

    def rearm_claimed(self, after: int) -> None:
        """Arm again the expectations of the steps after key ``after`` that a frame claimed
        (the connection closed: those frames were of the old one)."""
        ...


Handler = Callable[[StepContext, Step, int, StepRecord], Awaitable[None]]
#: The most real time a step can take (seconds), from the step and the profile's bounds.
Budget = Callable[[Step, Timing], float]


@dataclass(frozen=True)
class StepKind:
    name: str
    run: Handler
    budget: Budget


_KINDS: dict[str, StepKind] = {}


def register(kind: str, budget: Budget) -> Callable[[Handler], Handler]:
    """Register the decorated handler for the step kind ``kind``."""

    def decorate(handler: Handler) -> Handler:
        _KINDS[kind] = StepKind(kind, handler, budget)
        return handler

    return decorate


def kinds() -> list[str]:
    return sorted(_KINDS)


def get(kind: str) -> StepKind:
    try:
        return _KINDS[kind]
    except KeyError:
        raise HarnessError(f"no step kind {kind!r} (known: {', '.join(kinds())})") from None


def bound(timing: Timing, name: str) -> float:
    """The upper bound ``name``, or 0 if the profile has none (a role's bound)."""
    return timing.upper(name) if name in timing.timeouts else 0.0


def no_time(step: Step, timing: Timing) -> float:
    """The budget of a step that does not wait."""
    return 0.0


def requests(link: Link, what: str) -> RequestLink:
    """``link`` as a link with requests and answers, which ``what`` needs."""
    if not isinstance(link, RequestLink):
        raise HarnessError(
            f"{what} needs a link with requests and answers (OCPP): {type(link).__name__} has none"
        )
    return link
