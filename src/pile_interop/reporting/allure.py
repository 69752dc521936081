"""``allure-results/`` for runs made with the CLI (pytest runs use allure-pytest itself).

Built with ``allure_commons`` (model objects written by its ``AllureFileLogger``), never by
hand: one test result per case, its steps as Allure steps, the wire log as a JSON attachment,
links to its official id and requirements (:mod:`~pile_interop.reporting.allure_labels`).
Beside them: ``environment.properties`` (the SUT and the suite, for the Environment widget),
``categories.json`` (SUT failures, harness errors, ``na``, not run), ``executor.json`` (the
report named after the profile, Allure 2); :func:`write_allure_config` writes an
``allurerc.json`` with the same name and categories for Allure 3, run in the report folder.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import (
    ATTACHMENT_PATTERN,
    Attachment,
    Label,
    Link,
    Parameter,
    Status,
    StatusDetails,
    TestResult,
    TestStepResult,
)
from allure_commons.types import AttachmentType
from allure_commons.utils import md5, uuid4

from pile_interop.reporting.allure_labels import (
    CATEGORIES,
    NA_PREFIX,
    labels,
    links,
    report_name,
)
from pile_interop.reporting.common import (
    as_float,
    atomic_write_bytes,
    epoch_ms,
    printable,
    requirement_list,
    scrub,
    step_details,
    utf8,
)
from pile_interop.reporting.redact import Redactor, resolve

logger = logging.getLogger(__name__)

ALLURE_DIR = "allure-results"

STATUS = {
    "pass": Status.PASSED,
    "warn": Status.PASSED,
    "quirk": Status.PASSED,  # a step only the official tool's quirk fails: conformance stands
    "fail": Status.FAILED,
    "error": Status.BROKEN,
    "na": Status.SKIPPED,
    "skipped": Status.SKIPPED,
    "not_run": Status.SKIPPED,
}

_OWN_FILES = (
    "*-result.json",
    "*-container.json",
    "*-attachment.*",
    "environment.properties",
    "categories.json",
    "executor.json",
)
#: Allure 3's configuration file, written in the report folder (``npx allure generate
#: allure-results`` run there finds it).
ALLURE_CONFIG = "allurerc.json"


def _status(verdict: Any) -> str:
    return STATUS.get(str(verdict), Status.BROKEN)


def _labels(run: Mapping[str, Any], case: Mapping[str, Any]) -> list[Label]:
    return [Label(name=name, value=value) for name, value in labels(case, run)]


def _step(step: Mapping[str, Any], case_start: int | None) -> TestStepResult:
    verdict = step.get("verdict")
    title = str(step.get("title") or step.get("kind") or f"step {step.get('index', '?')}")
    phase = step.get("phase")
    name = f"{phase}: {title}" if phase and phase != "main" else title
    result = TestStepResult(name=printable(name), status=_status(verdict), stage="finished")
    params = [
        Parameter(name=key, value=printable(step[key]))
        for key in ("requirement", "expected", "observed")
        if step.get(key)
    ]
    if step.get("frames"):
        params.append(Parameter(name="frames", value=", ".join(str(s) for s in step["frames"])))
    result.parameters = params
    if verdict in ("fail", "error", "warn"):
        message = "\n".join(
            f"{key}: {step[key]}"
            for key in ("requirement", "expected", "observed")
            if step.get(key)
        )
        if verdict == "warn":
            message = "warning (SHOULD not met)\n" + message
        result.statusDetails = StatusDetails(message=printable(message.strip()) or None)
    if case_start is not None:
        result.start = case_start + round(as_float(step.get("t_start")) * 1000)
        result.stop = result.start + round(as_float(step.get("duration_s")) * 1000)
    return result


def _description(case: Mapping[str, Any]) -> str:
    parts = [str(case.get("description") or "").strip()]
    reqs = requirement_list(case)
    if reqs:
        lines = [f"- **{r['id']}** {r['text']}".rstrip() for r in reqs]
        parts.append("Requirements:\n\n" + "\n".join(lines))
    findings = case.get("findings") or []
    if findings:
        parts.append("Findings:\n\n" + "\n".join(f"- {f}" for f in findings))
    return printable("\n\n".join(p for p in parts if p))


def _test_result(
    run: Mapping[str, Any], case: Mapping[str, Any], file_logger: AllureFileLogger
) -> TestResult:
    profile = str(run.get("profile") or "")
    case_id = str(case.get("id") or "?")
    verdict = case.get("verdict")
    start = epoch_ms(case.get("started"))
    if start is None:
        start = epoch_ms(run.get("started"))
    result = TestResult(
        uuid=uuid4(),
        name=printable(f"{case_id} {case.get('title') or ''}".strip()),
        fullName=printable(f"{profile}.{case_id}"),
        historyId=md5(profile, case_id),
        testCaseId=case_id,
        status=_status(verdict),
        stage="finished",
        description=_description(case) or None,
        labels=_labels(run, case),
        links=[Link(type=kind, name=name, url=url) for kind, name, url in links(case)],
        titlePath=[p for p in (profile, str(case.get("block") or "")) if p],
    )
    sut = run.get("sut") or {}
    identity = " ".join(str(sut[k]) for k in ("vendor", "model", "firmware") if sut.get(k))
    result.parameters = [
        Parameter(name=name, value=printable(value))
        for name, value in (("SUT", identity), ("time scale", run.get("time_scale")))
        if value not in (None, "")
    ]
    reason = str(case.get("reason") or "")
    if verdict == "na" and not reason.startswith(NA_PREFIX):
        reason = NA_PREFIX + reason  # the "na" category of categories.json
    if verdict == "warn":
        reason = f"warning (SHOULD not met): {reason}" if reason else "warning (SHOULD not met)"
    if reason:
        trace = step_details(case.get("steps") or [], {"fail", "error", "warn"})
        result.statusDetails = StatusDetails(
            message=printable(reason), trace=printable(trace) or None
        )
    if start is not None:
        result.start = start
        result.stop = start + round(as_float(case.get("duration_s")) * 1000)
    result.steps = [_step(step, start) for step in case.get("steps") or []]
    frames = case.get("frames") or []
    if frames:
        result.attachments.append(
            _attach(
                file_logger,
                "wire log",
                json.dumps(frames, indent=2, ensure_ascii=False, default=str),
            )
        )
    return result


def _attach(file_logger: AllureFileLogger, name: str, body: str) -> Attachment:
    """Write ``body`` as a JSON attachment file through the logger and describe it."""
    kind = AttachmentType.JSON
    file_name = ATTACHMENT_PATTERN.format(prefix=uuid4(), ext=kind.extension)
    file_logger.report_attached_data(body=utf8(body), file_name=file_name)
    return Attachment(name=name, source=file_name, type=kind.mime_type)


def environment_properties(run: Mapping[str, Any]) -> str:
    """``environment.properties`` of ``run``: the suite, the profile and its verdict, how the
    SUT was reached, the SUT's identity (the CLI writer and the pytest plugin alike)."""
    sut = run.get("sut") or {}
    pairs: list[tuple[str, Any]] = [
        ("suite", f"{run.get('suite') or 'pile-interop'} {run.get('version') or ''}".strip()),
        ("profile", run.get("profile")),
        ("profile.verdict", (run.get("profile_verdict") or {}).get("text")),
        ("against", run.get("against")),
        ("time.scale", run.get("time_scale")),
    ]
    pairs += [(f"sut.{key}", value) for key, value in sut.items()]
    lines = []
    for key, value in pairs:
        if value in (None, ""):
            continue
        text = printable(value).replace("\\", "\\\\").replace("\n", "\\n")
        lines.append(f"{key}={text}")
    return "\n".join(lines) + "\n"


def _clean(out_dir: Path) -> None:
    for pattern in _OWN_FILES:
        for old in out_dir.glob(pattern):
            if old.is_file():
                old.unlink()


def write_allure(
    out_dir: Path,
    run: Mapping[str, Any],
    *,
    redactor: Redactor | None = None,
    clean: bool = True,
) -> Path:
    """Write Allure results for ``run`` into the folder ``out_dir`` (e.g. ``…/allure-results``).

    ``clean`` removes the result, container and attachment files of an earlier write first, so
    regenerating a report does not show every case twice. Returns ``out_dir``.
    """
    out_dir = Path(out_dir)
    run = scrub(resolve(redactor).redact(run))
    out_dir.mkdir(parents=True, exist_ok=True)
    if clean:
        _clean(out_dir)
    file_logger = AllureFileLogger(str(out_dir))
    for case in run.get("cases") or []:
        file_logger.report_result(_test_result(run, case, file_logger))
    write_run_files(out_dir, run)
    logger.debug("wrote Allure results to %s", out_dir)
    return out_dir


def _json(data: Any) -> bytes:
    return utf8(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_run_files(out_dir: Path, run: Mapping[str, Any]) -> None:
    """The files of ``allure-results/`` about the whole run: ``environment.properties``,
    ``categories.json`` and ``executor.json`` (its ``reportName``: the profile)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out_dir / "environment.properties", utf8(environment_properties(run)))
    atomic_write_bytes(out_dir / "categories.json", _json(CATEGORIES))
    executor = {"name": "pile-interop", "type": "pile-interop", "reportName": report_name(run)}
    atomic_write_bytes(out_dir / "executor.json", _json(executor))


def write_allure_config(folder: Path, run: Mapping[str, Any]) -> Path:
    """``allurerc.json`` in the report ``folder``: the report named after the profile and the
    categories, for Allure 3 run there (``npx allure generate allure-results``)."""
    path = Path(folder) / ALLURE_CONFIG
    atomic_write_bytes(path, _json({"name": report_name(run), "categories": CATEGORIES}))
    return path
