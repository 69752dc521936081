"""The Allure labels, links and categories of a case result: the one mapping behind both
ways into Allure.

The CLI's ``allure-results/`` writer (:mod:`pile_interop.reporting.allure`) and the pytest
plugin (through allure-pytest's ``allure.dynamic.label``) label a case the same way: the suite
as parent suite, the profile as suite, the functional block as feature and sub-suite, the
case id as Allure id, severity from ``mandatory``, the OCPP version as epic and tag, the SUT
role and mandatory/optional as tags, one story per requirement.

Links: the official case id (type ``tms``) and each requirement with its text (type
``requirement``), to the case's section of the run's ``index.html`` and to the requirement's
item there, where its text stands: ``../index.html#case-<id>`` and ``…-req-<n>`` (an Allure
report generated inside the report folder, e.g. ``DIR/allure-report``), or under
``$PILE_INTEROP_REPORT_URL`` (where CI publishes the HTML report). :data:`CATEGORIES`
(``categories.json``) tells SUT failures, harness errors, ``na`` and cases that did not run
apart.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from allure_commons.types import LabelType, Severity

from pile_interop.reporting.common import one_line, requirement_list
from pile_interop.reporting.page import case_anchors

#: Where the HTML report is published (its ``index.html`` URL); default: beside the Allure
#: report generated in the report folder.
REPORT_URL_ENV = "PILE_INTEROP_REPORT_URL"
DEFAULT_REPORT_URL = "../index.html"
#: The link type of a requirement (Allure shows any type; ``tms`` is the official case id).
REQUIREMENT_LINK = "requirement"
#: How long a requirement's text may be in its link's name.
LINK_TEXT_LIMIT = 120
#: The message that starts a not-applicable case's status (CLI writer and pytest skip alike).
NA_PREFIX = "not applicable: "

#: ``categories.json``: Allure 2 format (Allure 3 reads it too); a regex must match the whole
#: message (Allure 2) and be valid JavaScript (Allure 3): no inline flags.
CATEGORIES: list[dict[str, Any]] = [
    {
        "name": "SUT failures (fail: a MUST of the specification broken)",
        "matchedStatuses": ["failed"],
    },
    {
        "name": "Harness errors (error: no verdict, e.g. the SUT never connected)",
        "matchedStatuses": ["broken"],
    },
    {
        "name": "Not applicable (na: a feature the device declares absent)",
        "matchedStatuses": ["skipped"],
        "messageRegex": "(Skipped: )?not applicable[\\s\\S]*",
    },
    {
        "name": "Not run (interrupted, stopped or not selected)",
        "matchedStatuses": ["skipped"],
        "messageRegex": "(Skipped: )?not (run|selected)[\\s\\S]*",
    },
]


def report_name(run: Mapping[str, Any]) -> str:
    """The Allure report's name: the profile's title and id."""
    profile = str(run.get("profile") or "")
    title = str(run.get("profile_title") or "")
    return f"{title} ({profile})" if title and profile else title or profile or "pile-interop"


def links(case: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """``(type, name, url)`` of ``case``: its official id (``tms``) and one per requirement
    (``requirement``, named by id and text), to its section of the HTML report."""
    base = os.environ.get(REPORT_URL_ENV) or DEFAULT_REPORT_URL
    case_id = str(case.get("id") or "")
    if not case_id:
        return []
    url = f"{base.split('#', 1)[0]}#{case_anchors([case])[0]}"
    pairs = [("tms", case_id, url)]
    for number, req in enumerate(requirement_list(case), 1):
        name = f"{req['id']}: {req['text']}" if req["text"] else req["id"]
        # the requirement's own item in the case's section (allure-pytest keeps one link a URL)
        pairs.append((REQUIREMENT_LINK, one_line(name, LINK_TEXT_LIMIT), f"{url}-req-{number}"))
    return pairs


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
