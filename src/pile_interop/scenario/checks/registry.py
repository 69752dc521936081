"""The check registry, and what a check may read of the case being run.

A check is a small named function a case switches on with ``check: <name>``. It reads what the
case has seen so far through a :class:`CheckContext` (the frame log, where the case began, the
saved exchanges, the time scale) and raises :class:`~pile_interop.core.verdicts.Failure` when
the SUT broke the rule. It returns a short text of what it observed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pile_interop.core.frames import EVENT, FrameLog
from pile_interop.core.verdicts import HarnessError


class FrameSource(Protocol):
    """The link to the SUT, as far as a check reads it."""

    @property
    def log(self) -> FrameLog: ...


class Scaled(Protocol):
    """The case's timing, as far as a check reads it."""

    @property
    def scale(self) -> float: ...


class CheckContext(Protocol):
    """What a check reads of the case being run (the scenario runner's run satisfies it)."""

    #: the link whose frame log holds what the SUT sent
    @property
    def session(self) -> FrameSource: ...

    #: the frame log's sequence number when the case began
    @property
    def seq0(self) -> int: ...

    #: the sequence number of each exchange saved with ``as:``
    @property
    def alias_seq(self) -> Mapping[str, int]: ...

    #: the time scale of the SUT's clock (protocol time → real time)
    @property
    def timing(self) -> Scaled: ...


CheckFn = Callable[[CheckContext, dict[str, Any]], str]


@dataclass(frozen=True)
class Check:
    name: str
    fn: CheckFn
    summary: str

    def describe(self, args: dict[str, Any]) -> str:
        try:
            return self.summary.format(**args)
        except (KeyError, IndexError):
            return self.summary

    def run(self, case: CheckContext, args: dict[str, Any]) -> str:
        return self.fn(case, args)


_REGISTRY: dict[str, Check] = {}


def register(name: str, summary: str) -> Callable[[CheckFn], CheckFn]:
    def decorate(fn: CheckFn) -> CheckFn:
        _REGISTRY[name] = Check(name, fn, summary)
        return fn

    return decorate


def names() -> list[str]:
    return sorted(_REGISTRY)


def get(name: str) -> Check:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise HarnessError(f"no check named {name!r} (known: {', '.join(names())})") from None


def seq_of(case: CheckContext, alias: str) -> int:
    """The sequence number of the exchange saved as ``alias``."""
    try:
        return case.alias_seq[alias]
    except KeyError:
        raise HarnessError(f"no exchange saved as {alias!r} before this check") from None


def window_start(case: CheckContext, args: dict[str, Any]) -> int:
    """Where a check's window starts: the exchange ``args.since`` names, or the case's start."""
    return seq_of(case, args["since"]) if "since" in args else case.seq0


def events(case: CheckContext, args: dict[str, Any], prefix: str) -> list[str]:
    """The connection events since the case began (or ``since``) that start with ``prefix``."""
    return [
        f.raw
        for f in case.session.log.since(window_start(case, args))
        if f.type == EVENT and isinstance(f.raw, str) and f.raw.startswith(prefix)
    ]
