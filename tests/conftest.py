"""Collects the mutant outcomes (also from xdist workers: this conftest loads in the
controller) and prints the mutation score at the end of the run."""

from __future__ import annotations

import pytest

_SEEN: dict[str, bool] = {}
#: each mutant's defect class (``case``, ``invariant`` …)
_CLASS: dict[str, str] = {}
#: the mutants re-run alone after a miss among the other campaigns
_ALONE: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    props = dict(report.user_properties)
    if "mutant" in props:
        _SEEN[str(props["mutant"])] = report.passed
        _CLASS[str(props["mutant"])] = str(props.get("defect_class", "case"))
        if props.get("crowded"):
            _ALONE.append(str(props["mutant"]))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _SEEN:
        caught = sum(_SEEN.values())
        missed = sorted(name for name, ok in _SEEN.items() if not ok)
        line = f"mutants caught {caught}/{len(_SEEN)}"
        if missed:
            line += f" (missed: {', '.join(missed)})"
        if _ALONE:
            line += f" ({len(_ALONE)} re-run alone: {', '.join(sorted(_ALONE))})"
        terminalreporter.write_sep("=", line)
        terminalreporter.write_sep("=", "by defect class: " + by_class(_SEEN, _CLASS))


def by_class(seen: dict[str, bool], classes: dict[str, str]) -> str:
    """``case 325/325, invariant 12/12 …``: caught per defect class (``case``: mutants written
    for the case that catches them; the others written per class, without a case in mind)."""
    names: dict[str, list[str]] = {}
    for name in seen:
        names.setdefault(classes.get(name, "case"), []).append(name)
    order = sorted(names, key=lambda c: (c != "case", c))
    return ", ".join(f"{c} {sum(seen[n] for n in names[c])}/{len(names[c])}" for c in order)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # tox runs the tests in two phases split by ``-m``; a phase the paths given select
    # nothing of (``tox -- tests/engine``: no ``timing`` test there) is not a failure
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and session.config.option.markexpr:
        session.exitstatus = pytest.ExitCode.OK
