"""The scenario runner's layering: ``scenario/`` imports no protocol engine, ``core/`` nothing of
``scenario/``, no import cycle among them (imports under ``TYPE_CHECKING`` and inside functions
count too), and every step kind of the scenario model has a handler."""

from __future__ import annotations

import ast
from pathlib import Path

import pile_interop
from pile_interop.scenario import steps
from pile_interop.scenario.model import KINDS

ROOT = Path(pile_interop.__file__).parent
#: what ``scenario/`` must not import: the protocol engines, roles, reference SUTs, campaigns
ENGINES = ("ocpp", "gbt27930", "roles", "reference", "campaign", "campaign_csms", "campaign_gbt")


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(*packages: str) -> dict[str, Path]:
    return {_module(p): p for pkg in packages for p in sorted((ROOT / pkg).rglob("*.py"))}


def _imports(path: Path, known: set[str]) -> set[str]:
    """Every ``pile_interop`` module ``path`` imports (``from a import b``: ``a.b`` if that is a
    module of ``known``, else ``a``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
    return {name for name in found if name.split(".")[0] == "pile_interop"}


def test_scenario_imports_no_protocol_engine():
    modules = _modules("scenario")
    wrong = [
        f"{name} imports {imported}"
        for name, path in modules.items()
        for imported in _imports(path, set(modules))
        if imported.split(".")[1] in ENGINES
    ]
    assert not wrong


def test_core_imports_nothing_of_scenario():
    modules = _modules("core")
    wrong = [
        f"{name} imports {imported}"
        for name, path in modules.items()
        for imported in _imports(path, set(modules))
        if imported.split(".")[1] == "scenario"
    ]
    assert not wrong


def test_no_import_cycle_in_scenario_and_core():
    modules = _modules("scenario", "core")
    graph = {name: _imports(path, set(modules)) & set(modules) for name, path in modules.items()}
    cycles = []
    state: dict[str, str] = {}  # "open" while on the path, "done" after

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for imported in sorted(graph[name]):
            if state.get(imported) == "open":
                cycles.append(" → ".join([*path[path.index(imported) :], imported]))
            elif imported not in state:
                visit(imported, [*path, imported])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles


def test_every_step_kind_has_a_handler():
    assert sorted(KINDS) == steps.kinds()
