"""Collects the mutant outcomes (also from xdist workers: this conftest loads in the
controller) and prints the mutation score at the end of the run."""

from __future__ import annotations

import pytest

_SEEN: dict[str, bool] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    props = dict(report.user_properties)
    if "mutant" in props:
        _SEEN[str(props["mutant"])] = report.passed


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _SEEN:
        caught = sum(_SEEN.values())
        missed = sorted(name for name, ok in _SEEN.items() if not ok)
        line = f"mutants caught {caught}/{len(_SEEN)}"
        if missed:
            line += f" (missed: {', '.join(missed)})"
        terminalreporter.write_sep("=", line)
