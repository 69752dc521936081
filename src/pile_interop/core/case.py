"""What a role (the side the suite plays) may use of the case being run.

The scenario runner's ``CaseRun`` satisfies :class:`CaseContext`; a protocol's roles (how a
case reaches its before-state, in ``ocpp/v16``, ``ocpp/v201``, ``gbt27930``) are written
against this protocol, so the protocol packages never import the scenario runner.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol


class Bounds(Protocol):
    """The profile's named bounds (``timeouts.*``)."""

    def upper(self, name: str) -> float: ...

    def lower(self, name: str) -> float: ...

    def describe(self, name: str, *, upper: bool = True) -> str: ...


class CaseContext(Protocol):
    """The case being run, as a role sees it."""

    #: the scenario (``before``: the before-state a role brings the SUT to)
    scenario: Any
    #: the campaign's environment: ``device``, ``actuator``, ``params`` …
    env: Any
    #: the link to the SUT (an OCPP session, a CAN link)
    session: Any

    @property
    def timing(self) -> Bounds: ...

    #: what the role changed before the case and puts back after it (e.g. config keys)
    restore: dict[str, str]
    #: the frame log's sequence number when the case began
    seq0: int

    def _t(self, mono: float | None = None) -> float: ...

    def new_record(self, phase: str, kind: str, title: str) -> Any: ...

    def before_record(self, title: str, kind: str = "connect") -> AbstractContextManager[Any]: ...

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        bound_name: str,
        what: str,
        changed: Callable[[float], Awaitable[None]],
    ) -> None: ...

    def config_values(self) -> dict[str, str]: ...

    def observed_instead(self, action: str, pattern: Any, since_seq: int) -> str: ...


class Role(Protocol):
    """The side the suite plays, for one protocol and SUT role (e.g. the CSMS of an OCPP 1.6
    station): how a case's before-phase reaches the OCA "before" state and what it restores."""

    #: names the protocol in the reason of a protocol finding ("OCPP-J 1.6 RPC framework")
    label: str

    async def prepare(self, run: CaseContext) -> None:
        """Connected, registered, idle, configured: or a HarnessError saying what was not."""
        ...

    async def restore(self, run: CaseContext) -> None:
        """Undo what ``prepare`` changed (recorded, never changes the verdict)."""
        ...

    async def peer(self, run: CaseContext, action: str, args: dict[str, Any]) -> str:
        """A ``peer:`` step: change how the suite's mock peer behaves; returns what it did."""
        ...


def link_resets(role: Role) -> frozenset[str]:
    """The ``peer:`` actions of a role that close the connection."""
    return frozenset(getattr(role, "LINK_RESETS", ()))
