"""``junit.xml`` for CI: one ``<testsuite>`` per run (the profile), one ``<testcase>`` per case.

Verdicts map to JUnit as: fail → ``<failure>`` (text: the failing steps' expected vs observed),
error → ``<error>``, na, skipped and not_run → ``<skipped>`` (the message says which), warn →
passes with a ``<system-err>`` note. The wire log is the test case's ``<system-out>``. Every
string goes through :func:`~pile_interop.reporting.common.printable`, so control characters from
raw frames cannot break the XML.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pile_interop.reporting.common import (
    WIRE_LOG_LEGEND,
    as_float,
    atomic_write_bytes,
    frame_line,
    late_lines,
    printable,
    requirement_ids,
    requirement_list,
    step_details,
)
from pile_interop.reporting.redact import Redactor, resolve
from pile_interop.reporting.results_json import summarize

logger = logging.getLogger(__name__)

JUNIT_NAME = "junit.xml"


def _attr(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else printable(value)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: Any) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _attr(v) for k, v in attrs.items()})
    if text:
        element.text = printable(text)
    return element


def _seconds(value: Any) -> str:
    return f"{as_float(value):.3f}"


def _timestamp(text: Any) -> str:
    # JUnit's schema wants a timestamp without a zone; the contract's times are UTC.
    return str(text or "").removesuffix("Z")


def _suite_properties(suite: ET.Element, run: Mapping[str, Any]) -> None:
    props = _sub(suite, "properties")
    sut = run.get("sut") or {}
    pairs: list[tuple[str, Any]] = [
        ("suite", run.get("suite")),
        ("suite.version", run.get("version")),
        ("profile.title", run.get("profile_title")),
        ("profile.verdict", (run.get("profile_verdict") or {}).get("text")),
        ("against", run.get("against")),
        ("time_scale", run.get("time_scale")),
        ("interrupted", run.get("interrupted")),
    ]
    pairs += [(f"sut.{key}", value) for key, value in sut.items()]
    for name, value in pairs:
        if value not in (None, ""):
            _sub(props, "property", name=name, value=value)


def _testcase(suite: ET.Element, profile: str, case: Mapping[str, Any]) -> None:
    block = case.get("block")
    classname = f"{profile}.{block}" if block else profile
    element = _sub(
        suite,
        "testcase",
        classname=classname,
        name=case.get("id") or "?",
        time=_seconds(case.get("duration_s")),
    )
    props = _sub(element, "properties")
    for rid in requirement_ids(case):
        _sub(props, "property", name="requirement", value=rid)
    _sub(props, "property", name="verdict", value=case.get("verdict") or "")
    compatibility = case.get("compatibility")
    if isinstance(compatibility, Mapping) and compatibility.get("quirks"):
        _sub(props, "property", name="compatibility", value=compatibility.get("verdict") or "")
    if case.get("title"):
        _sub(props, "property", name="title", value=case["title"])
    _sub(props, "property", name="mandatory", value=bool(case.get("mandatory")))

    verdict = case.get("verdict")
    reason = str(case.get("reason") or "")
    steps = case.get("steps") or []
    texts = {req["id"]: req["text"] for req in requirement_list(case)}
    findings = "\n".join(f"finding: {f}" for f in case.get("findings") or [])
    if verdict == "fail":
        details = step_details(steps, {"fail"}, texts) or reason
        _sub(
            element,
            "failure",
            "\n".join(filter(None, [details, findings])),
            message=reason,
            type="fail",
        )
    elif verdict == "error" or verdict not in ("pass", "warn", "na", "skipped", "not_run"):
        details = step_details(steps, {"error", "fail"}, texts) or reason
        _sub(
            element,
            "error",
            "\n".join(filter(None, [details, findings])),
            message=reason,
            type="error",
        )
    elif verdict == "na":
        _sub(
            element, "skipped", message=f"not applicable: {reason}" if reason else "not applicable"
        )
    elif verdict == "skipped":
        _sub(element, "skipped", message=f"not selected: {reason}" if reason else "not selected")
    elif verdict == "not_run":
        _sub(element, "skipped", message=f"not run: {reason}" if reason else "not run")
    elif verdict == "warn":
        details = step_details(steps, {"warn"}, texts)
        note = "\n".join(filter(None, [f"warning (SHOULD not met): {reason}", details, findings]))
        _sub(element, "system-err", note)

    frames = case.get("frames") or []
    late = late_lines(case)
    if frames or late:
        lines = [*late, WIRE_LOG_LEGEND, *(frame_line(frame) for frame in frames)]
        _sub(element, "system-out", "\n".join(lines))


def build_junit(run: Mapping[str, Any]) -> ET.Element:
    """The JUnit ``<testsuites>`` element for ``run`` (already redacted)."""
    cases = list(run.get("cases") or [])
    counts = summarize(cases)
    profile = str(run.get("profile") or "pile-interop")
    totals: dict[str, Any] = {
        "tests": len(cases),
        "failures": counts["fail"],
        "errors": counts["error"],
        "skipped": counts["na"] + counts["skipped"] + counts.get("not_run", 0),
        "time": _seconds(
            run.get("duration_s") or sum(as_float(c.get("duration_s")) for c in cases)
        ),
    }
    root = ET.Element("testsuites", {"name": printable(run.get("suite") or "pile-interop")})
    for key, value in totals.items():
        root.set(key, printable(value))
    suite = _sub(root, "testsuite", name=profile, **totals)
    if run.get("started"):
        suite.set("timestamp", printable(_timestamp(run["started"])))
    _suite_properties(suite, run)
    for case in cases:
        _testcase(suite, profile, case)
    return root


def write_junit(path: Path, run: Mapping[str, Any], *, redactor: Redactor | None = None) -> Path:
    """Write ``run`` as JUnit XML to ``path`` (atomically); return ``path``."""
    root = build_junit(resolve(redactor).redact(run))
    ET.indent(root)
    data = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    path = atomic_write_bytes(Path(path), data + b"\n")
    logger.debug("wrote %s", path)
    return path
