"""Load scenarios and before-states from YAML, checked by JSON Schema, errors naming file:line."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from pile_interop.core.errors import ConfigError
from pile_interop.core.yamlfile import YamlDocument, load_checked, schema_validator
from pile_interop.scenario import checks
from pile_interop.scenario.charging_profiles import step_profile_problems
from pile_interop.scenario.model import KINDS, Before, Requirement, Scenario, State, Step
from pile_interop.scenario.profile_payloads import check_steps
from pile_interop.scenario.values import KNOWN_OPERATORS, operators_in, template_roots

log = logging.getLogger(__name__)

PACKAGE = "pile_interop.scenario"
STATES_FILE = "_states.yaml"
#: Names every template may use besides the aliases (``as:``) the steps define.
ROOT_NAMES = frozenset(
    {
        *("tokens", "params", "device", "connector", "evse", "now", "earlier", "later", "i"),
        *("vars", "config", "run"),
    }
)


@cache
def _step_validator() -> Draft202012Validator:
    schema = schema_validator(PACKAGE, "scenario.schema.json").schema
    return Draft202012Validator({"$ref": "#/$defs/step", "$defs": schema["$defs"]})


def _kind(data: dict[str, Any]) -> str:
    return next(k for k in KINDS if k in data)


def _steps(doc: YamlDocument, items: list[Any], phase: str, origin: str, *path: Any) -> list[Step]:
    steps = []
    for index, data in enumerate(items):
        source = f"{doc.path}:{doc.line(*path, index) or '?'}"
        step = Step(_kind(data), data, phase=phase, source=source, origin=origin)
        steps.append(step)
        if step.kind == "check" and step.subject not in checks.names():
            raise doc.error(
                f"unknown check {step.subject!r} (known: {', '.join(checks.names())})",
                *path,
                index,
                "check",
            )
        for op in operators_in(data.get("match")) if data.get("match") else ():
            if op not in KNOWN_OPERATORS:
                raise doc.error(f"unknown match operator {op!r}", *path, index, "match")
        for op in operators_in(data.get("expect_result")) if data.get("expect_result") else ():
            if op not in KNOWN_OPERATORS:
                raise doc.error(f"unknown match operator {op!r}", *path, index, "expect_result")
    return steps


def load_states(path: Path) -> dict[str, State]:
    """The reusable before-states of one folder (``_states.yaml``), ``extends`` resolved."""
    doc = load_checked(path, PACKAGE, "states.schema.json", "states file")
    raw: dict[str, dict[str, Any]] = doc.data["states"]
    for name, body in raw.items():
        for index, step in enumerate(body.get("steps", [])):
            error = next(iter(_step_validator().iter_errors(step)), None)
            if error is not None:
                where = (name, "steps", index, *error.absolute_path)
                raise doc.error(
                    f"invalid step in state {name!r}: {error.message}", "states", *where
                )

    resolved: dict[str, State] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> State:
        if name in resolved:
            return resolved[name]
        if name in chain:
            raise doc.error(f"state {name!r} extends itself ({' → '.join((*chain, name))})")
        if name not in raw:
            raise doc.error(f"unknown state {name!r}", "states", chain[-1] if chain else name)
        body = raw[name]
        inherited: tuple[Step, ...] = ()
        if "extends" in body:
            inherited = resolve(body["extends"], (*chain, name)).steps
        own = _steps(doc, body.get("steps", []), "before", f"state {name}", "states", name, "steps")
        state = State(name, body.get("description", ""), inherited + tuple(own))
        resolved[name] = state
        return state

    for name in raw:
        resolve(name, ())
    return resolved


def _aliases(steps: Iterable[Step]) -> set[str]:
    return {s.data["as"] for s in steps if "as" in s.data}


def load_scenario(path: Path, states: dict[str, State] | None = None) -> Scenario:
    """One case. ``states`` are the folder's before-states (loaded if not given)."""
    doc = load_checked(path, PACKAGE, "scenario.schema.json", "scenario")
    d = doc.data
    if d["id"] != path.stem:
        raise doc.error(f"id {d['id']!r} differs from the file name {path.stem!r}", "id")
    if states is None:
        states = find_states(path)
    before_raw = d.get("before", {})
    before = Before(
        state=before_raw.get("state", "booted"),
        connector=before_raw.get("connector", 1),
        evse=before_raw.get("evse", 1),
        config={k: _config_text(v) for k, v in before_raw.get("config", {}).items()},
        connected=before_raw.get("connected", True),
    )
    if not before.connected and (before.config or before.state != "booted"):
        raise doc.error("before.connected: false takes no state and no config", "before")
    if before.state not in states:
        known = ", ".join(sorted(states)) or "none"
        raise doc.error(f"unknown before-state {before.state!r} (known: {known})", "before")
    state_steps = states[before.state].steps
    steps = _steps(doc, d["steps"], "main", "case", "steps")
    after = _steps(doc, d.get("after", []), "after", "case", "after")
    if "gbt27930" in d:
        for section in ("steps", "after"):
            for index, step in enumerate(d.get(section, [])):
                if "send" in step or "reply" in step or "reply_error" in step:
                    raise doc.error(
                        "a GB/T 27930 case has no send / reply: use peer steps", section, index
                    )
    for section in ("steps", "after"):  # a charging profile a step sends is well formed:
        # first by the message's JSON schema, then by the rules a schema cannot say
        check_steps(doc, d.get("ocpp", ""), section, d.get(section, []))
        for index, raw in enumerate(d.get(section, [])):
            for problem, where in step_profile_problems(raw):
                raise doc.error(f"charging profile: {problem}", section, index, *where)
    names = ROOT_NAMES | _aliases(state_steps) | _aliases(steps) | _aliases(after)
    for index, step in enumerate(steps + after):
        unknown = template_roots(step.data) - names
        if unknown:
            section = "steps" if index < len(steps) else "after"
            position = index if index < len(steps) else index - len(steps)
            raise doc.error(
                f"template names unknown value(s) {sorted(unknown)}; known: {sorted(names)}",
                section,
                position,
            )
    return Scenario(
        id=d["id"],
        title=d["title"],
        ocpp=d.get("ocpp", ""),
        gbt27930=d.get("gbt27930", ""),
        sut=d["sut"],
        requirements=tuple(Requirement(r["id"], r["text"]) for r in d["requirements"]),
        steps=tuple(steps),
        path=str(path),
        block=d.get("block", "Core"),
        profiles=tuple(d.get("profiles", [])),
        description=d.get("description", "").strip(),
        needs=tuple(d.get("needs", [])),
        vars=dict(d.get("vars", {})),
        before=before,
        before_steps=state_steps,
        after=tuple(after),
    )


def _config_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def find_states(case_path: Path) -> dict[str, State]:
    """The ``_states.yaml`` next to the case (or in a parent folder); none → only ``booted``."""
    for folder in (case_path.parent, *case_path.parent.parents):
        candidate = folder / STATES_FILE
        if candidate.is_file():
            return _states_cached(candidate.resolve())
        if folder.name == "conformance":
            break
    return {"booted": State("booted", "connected and registered", ())}


@cache
def _states_cached(path: Path) -> dict[str, State]:
    return load_states(path)


def is_case_file(path: Path) -> bool:
    return path.suffix in (".yaml", ".yml") and not path.name.startswith("_")


class CaseLibrary:
    """Every case under one or more ``conformance/`` folders (the suite's, then a vendor's
    content folders: ``ContentRoot.case_folders``), by ID; an ID defined twice is an error."""

    def __init__(self, root: Path, *more: Path) -> None:
        self.root = root
        self.paths: dict[str, Path] = {}
        for folder in (root, *more):
            for path in sorted(folder.rglob("*.y*ml")):
                if not is_case_file(path):
                    continue
                if path.stem in self.paths:
                    raise ConfigError(
                        path, f"case {path.stem} also defined in {self.paths[path.stem]}"
                    )
                self.paths[path.stem] = path
        self._loaded: dict[str, Scenario] = {}

    def ids(self) -> list[str]:
        return sorted(self.paths)

    def get(self, case_id: str) -> Scenario:
        if case_id not in self._loaded:
            try:
                path = self.paths[case_id]
            except KeyError:
                raise ConfigError(self.root, f"no case {case_id!r}") from None
            self._loaded[case_id] = load_scenario(path)
        return self._loaded[case_id]

    def load_all(self) -> list[Scenario]:
        return [self.get(i) for i in self.ids()]
