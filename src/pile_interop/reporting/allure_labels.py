"""The Allure labels of a case result: the one mapping behind both ways into Allure.

The CLI's ``allure-results/`` writer (:mod:`pile_interop.reporting.allure`) and the pytest
plugin (through allure-pytest's ``allure.dynamic.label``) label a case the same way: the suite
as parent suite, the profile as suite, the functional block as feature and sub-suite, the
case id as Allure id, severity from ``mandatory``, the OCPP version as epic and tag, the SUT
role and mandatory/optional as tags, one story per requirement.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from allure_commons.types import LabelType, Severity

from pile_interop.reporting.common import requirement_list


def labels(case: Mapping[str, Any], run: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """``(name, value)`` pairs, in order, for ``case``. ``run`` (the run dict) names the
    suite, the profile and the SUT's OCPP version; without it (a pytest item: no run dict)
    they come from the case: its first profile, its own OCPP version."""
    if run is None:
        profiles = case.get("profiles") or []
        run = {"profile": profiles[0] if profiles else ""}
    profile = str(run.get("profile") or "")
    ocpp = case.get("ocpp") or (run.get("sut") or {}).get("ocpp")
    mandatory = bool(case.get("mandatory"))
    pairs = [
        (LabelType.PARENT_SUITE, str(run.get("suite") or "pile-interop")),
        (LabelType.SUITE, profile),
        (LabelType.SEVERITY, (Severity.CRITICAL if mandatory else Severity.NORMAL).value),
        (LabelType.ID, str(case.get("id") or "")),
        (LabelType.FRAMEWORK, "pile-interop"),
    ]
    if ocpp:
        pairs.append((LabelType.EPIC, f"OCPP {ocpp}"))
        pairs.append((LabelType.TAG, f"ocpp{ocpp}"))
    if case.get("block"):
        pairs.append((LabelType.FEATURE, str(case["block"])))
        pairs.append((LabelType.SUB_SUITE, str(case["block"])))
    if case.get("sut"):
        pairs.append((LabelType.TAG, f"sut:{case['sut']}"))
    pairs.append((LabelType.TAG, "mandatory" if mandatory else "optional"))
    pairs.extend((LabelType.STORY, req["id"]) for req in requirement_list(case))
    return [(str(name), value) for name, value in pairs]
