"""The scenario model: what a YAML case says, typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = ("act", "expect", "expect_none", "send", "wait", "check", "peer", "negative")


@dataclass(frozen=True)
class Requirement:
    id: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "text": self.text}


@dataclass(frozen=True)
class Step:
    """One step; ``data`` is the YAML mapping as written (wire names, templates unresolved)."""

    kind: str
    data: dict[str, Any]
    phase: str = "main"  # before | main | after
    source: str = ""  # file:line, for messages
    origin: str = ""  # which state or case the step comes from

    @property
    def subject(self) -> str:
        """The action, check or bound the step is about."""
        return str(self.data[self.kind])

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    @property
    def requirement(self) -> str | None:
        return self.data.get("requirement")

    @property
    def should(self) -> bool:
        return self.data.get("severity") == "should"

    @property
    def quirk(self) -> str | None:
        """What the official test tool does that the specification does not require: a
        failure of this step changes the compatibility verdict, not the conformance one."""
        quirk = self.data.get("quirk")
        return str(quirk) if quirk else None

    def title(self) -> str:
        if "title" in self.data:
            return str(self.data["title"])
        subject = self.subject
        if self.kind == "act":
            args = {k: v for k, v in self.data.items() if k not in _COMMON and k != "act"}
            return f"act {subject}" + (f" {_flow(args)}" if args else "")
        if self.kind == "expect":
            match = self.data.get("match")
            return f"expect {subject}" + (f" {_flow(match)}" if match else "")
        if self.kind == "expect_none":
            return f"expect no {subject} during {self.data['during']}"
        if self.kind == "send":
            return f"send {subject}"
        if self.kind == "negative":
            return f"send invalid {subject} ({self.data['mutation'].replace('_', ' ')})"
        if self.kind == "wait":
            return f"wait {subject}"
        if self.kind == "peer":
            peer_args = self.data.get("args")
            return f"peer {subject}" + (f" {_flow(peer_args)}" if peer_args else "")
        return f"check {subject}"


_COMMON = {"title", "requirement", "severity", "note", "quirk"}


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return str(value)


@dataclass(frozen=True)
class Before:
    state: str = "booted"
    connector: int | str = 1
    #: OCPP 2.0.1: the EVSE the case uses (``{evse}``)
    evse: int | str = 1
    config: dict[str, str] = field(default_factory=dict)
    #: False: do not wait for the SUT to be connected and registered before the steps
    connected: bool = True


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    ocpp: str  # "" for a GB/T 27930 case
    sut: str
    requirements: tuple[Requirement, ...]
    steps: tuple[Step, ...]
    path: str
    block: str = "Core"
    profiles: tuple[str, ...] = ()
    description: str = ""
    needs: tuple[str, ...] = ()
    vars: dict[str, Any] = field(default_factory=dict)
    before: Before = field(default_factory=Before)
    before_steps: tuple[Step, ...] = ()  # the before-state's steps, resolved
    after: tuple[Step, ...] = ()
    gbt27930: str = ""  # the GB/T 27930 edition of a GB/T case

    @property
    def protocol(self) -> str:
        return f"OCPP {self.ocpp}" if self.ocpp else f"GB/T 27930-{self.gbt27930}"

    def all_steps(self) -> tuple[Step, ...]:
        return self.before_steps + self.steps + self.after

    def requirement_text(self, requirement_id: str | None) -> str | None:
        for r in self.requirements:
            if r.id == requirement_id:
                return r.text
        return None


@dataclass(frozen=True)
class State:
    name: str
    description: str
    steps: tuple[Step, ...]
