"""Every step kind of the scenario model has a registered handler (the layering itself is
import-linter's job: the contracts in pyproject.toml, run by ``tox -e lint``)."""

from __future__ import annotations

from pile_interop.scenario import steps
from pile_interop.scenario.model import KINDS


def test_every_step_kind_has_a_handler():
    assert sorted(KINDS) == steps.kinds()
