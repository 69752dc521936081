"""The typed event stream of a run: what the run loop tells whoever reports on it.

The engine's :class:`~pile_interop.engine.report.Report` emits, in order, :class:`RunStarted`,
then per case :class:`CaseStarted` and :class:`CaseFinished`, and last :class:`RunFinished`
(also after an interruption). The reporting layer's subscribers turn the events into output:
:class:`~pile_interop.reporting.folder.ReportFolder` (``results.jsonl`` and ``results.json``
as cases end; ``results.json``, ``junit.xml``, ``allure-results/`` and ``index.html`` at the
end) and :class:`~pile_interop.reporting.console.Progress` (the console lines). The events
live in ``core`` so that the engine (which emits them) and ``reporting`` (which consumes them)
both depend on them and not on each other's internals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class RunStarted:
    """The run began: ``run`` is the run dict before any case (profile, SUT, target)."""

    run: dict[str, Any]


@dataclass(frozen=True)
class CaseStarted:
    """A case is about to run."""

    case_id: str
    title: str


@dataclass(frozen=True)
class CaseFinished:
    """A case ended (or was interrupted): ``result`` is its redacted case result, ``run`` the
    redacted run so far (unfinished, this case included)."""

    result: dict[str, Any]
    run: dict[str, Any]


@dataclass(frozen=True)
class RunFinished:
    """The run ended: ``run`` is the finished, redacted run dict (the cases that did not run
    listed as skipped); the report folder is ``out_dir``."""

    run: dict[str, Any]
    out_dir: Path


Event = RunStarted | CaseStarted | CaseFinished | RunFinished


class Subscriber(Protocol):
    """Consumes a run's events, in the order they are emitted."""

    def handle(self, event: Event) -> None: ...


class EventStream:
    """Hands each event to every subscriber in turn, in the order they subscribed. A
    subscriber's exception propagates to the emitter (the run loop): a report that cannot be
    written stops the run."""

    def __init__(self, subscribers: Iterable[Subscriber] = ()) -> None:
        self._subscribers = list(subscribers)

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def emit(self, event: Event) -> None:
        for subscriber in self._subscribers:
            subscriber.handle(event)
