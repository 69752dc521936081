"""``index.html``: the certification report a partner reads, in one self-contained file.

:func:`build_view` turns the run dict into a view model (display-ready strings, lists, dicts
and pre-built inline SVG); the Jinja2 template ``templates/index.html.j2`` only lays it out,
with autoescape on. The page has inline CSS (``templates/report.css``), inline SVG and one
small inline script (``templates/report.js.j2``: verdict filters, search, opening a case when
its link is followed); a Content-Security-Policy forbids everything else, so the page opens
from disk and makes no network request. With scripts off every case is still there (failed
cases open, the others in ``<details>``); printed (A4) every case is expanded.

The footer carries the SHA-256 of ``results.json`` (``write_all`` passes it) so a reader can
check that the evidence next to the page is the evidence the page shows.

The sequence diagrams and the verdict bar come from :mod:`.svg`; what this page shares with
the comparison page (:func:`write_merge_html`, view model in :mod:`.merge`) is in :mod:`.page`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from markupsafe import Markup

from pile_interop.reporting.common import (
    ALL_VERDICTS,
    arrow,
    as_float,
    atomic_write_bytes,
    late_lines,
    one_line,
    requirement_list,
    shown_verdicts,
)
from pile_interop.reporting.evidence import canonical_json, evidence_sha256
from pile_interop.reporting.invariants import invariants_view
from pile_interop.reporting.merge import MERGE_TEMPLATE, build_merge_view
from pile_interop.reporting.origin import continues_text, origin_text, signature_view
from pile_interop.reporting.page import (
    VERDICT_MEANING,
    assets,
    case_anchors,
    clock,
    duration,
    environment,
    mapping,
    slug,
    text,
    when,
)
from pile_interop.reporting.recording import recording_view
from pile_interop.reporting.redact import Redactor, resolve
from pile_interop.reporting.results_json import run_verdict, summarize
from pile_interop.reporting.svg import Failure, lifeline_names, sequence_diagram, summary_bar

logger = logging.getLogger(__name__)

HTML_NAME = "index.html"
TEMPLATE = "index.html.j2"
RESULTS_FILE = "results.json"

#: Verdicts of the steps that explain a case's verdict.
_PROBLEM_STEPS: Mapping[str, tuple[str, ...]] = {
    "fail": ("fail", "error"),
    "error": ("error", "fail"),
    "warn": ("warn",),
}
_OUTCOME = {"fail": "failed", "error": "could not be decided", "warn": "warned"}
_CASE_OUTCOME = {
    "fail": "The case failed",
    "error": "The suite could not decide this case",
    "warn": "A recommendation was not met",
}
#: Frames the SUT sent during a failing step, shown under Expected / Actual.
SENT_LIMIT = 5

# "device descriptor: fixed_cable declared true, the case needs false"
_NA_FEATURE = re.compile(r"device descriptor:\s*(?P<name>[\w.-]+)\s+(?:not declared|declared\b)")
_REASON_REQ = re.compile(r"^\s*\[(?P<req>[^\]]+)\]\s*")


# -- pieces of the view ----------------------------------------------------------------------


def _role_text(role: Any) -> str:
    if role == "cs":
        return "charging station (the suite plays the CSMS)"
    if role == "csms":
        return "CSMS (the suite plays the charging station)"
    return text(role or "")


def _sut_rows(sut: Mapping[str, Any]) -> list[dict[str, str]]:
    """Identity rows; where the SUT reported (BootNotification) something other than the
    descriptor declares, both are shown."""
    declared = mapping(sut.get("declared"))
    csms = sut.get("role") == "csms"
    rows = []
    for label, key in (
        ("Vendor", "vendor"),
        ("Model", "model"),
        ("Serial number", "serial"),
        ("Firmware", "firmware"),
        ("Endpoint", "url"),
        ("Suite connected as station" if csms else "Station id", "station_id"),
        ("OCPP", "ocpp"),
        ("Role", "role"),
    ):
        value = sut.get(key)
        if value in (None, ""):
            continue
        shown = _role_text(value) if key == "role" else text(value)
        note = ""
        said = declared.get(key) if declared else None
        identity = key in ("vendor", "model", "serial", "firmware")
        if identity and said not in (None, "") and str(said) != str(value):
            note = f"the device descriptor says {said}"
        rows.append({"label": label, "value": shown, "note": text(note)})
    return rows


def _declared_view(
    sut: Mapping[str, Any], cases: Sequence[Mapping[str, Any]], anchors: Sequence[str]
) -> dict[str, Any] | None:
    declared = mapping(sut.get("declared"))
    features = mapping(declared.get("features"))
    made_na: dict[str, list[dict[str, str]]] = {}
    other_na: list[dict[str, str]] = []
    for case, anchor in zip(cases, anchors, strict=True):
        if case.get("verdict") != "na":
            continue
        ref = {
            "id": text(case.get("id") or "?"),
            "anchor": anchor,
            "reason": text(case.get("reason") or ""),
        }
        match = _NA_FEATURE.search(str(case.get("reason") or ""))
        if match:
            made_na.setdefault(match.group("name"), []).append(ref)
        else:
            other_na.append(ref)
    if not declared and not made_na and not other_na:
        return None
    rows = []
    for name in [*features, *(n for n in made_na if n not in features)]:
        value = features.get(name)
        rows.append(
            {
                "name": text(name),
                "declared": "not declared" if value is None else ("yes" if value else "no"),
                "value_class": "none" if value is None else ("yes" if value else "no"),
                "na_cases": made_na.get(name, []),
            }
        )
    info = [
        (label, text(declared.get(key)))
        for label, key in (
            ("Name", "name"),
            ("Connectors", "connectors"),
            ("Security profile", "security_profile"),
            ("Manual actions by", "actuator"),
            ("Descriptor file", "path"),
        )
        if declared.get(key) not in (None, "")
    ]
    if not any(label == "Descriptor file" for label, _ in info) and sut.get("device"):
        info.append(("Descriptor file", text(sut["device"])))
    return {"info": info, "features": rows, "other_na": other_na}


def _frame_view(frame: Mapping[str, Any], suite: str, sut: str, marked: set[int]) -> dict[str, Any]:
    direction = str(frame.get("dir") or "")
    who = {"out": f"{suite} → {sut}", "in": f"{sut} → {suite}"}.get(direction, "event")
    seq = frame.get("seq")
    return {
        "seq": text(seq if seq is not None else ""),
        "t": f"+{as_float(frame.get('t')):.3f}",
        "time": clock(frame.get("time")),
        "iso": text(frame.get("time") or ""),
        "dir": text(direction),
        "who": text(who),
        "dir_text": {"out": "to SUT", "in": "from SUT"}.get(direction, text(direction)),
        "arrow": arrow(direction),
        "dir_class": slug(direction),
        "type": text(frame.get("type") or ""),
        "type_class": slug(frame.get("type")),
        "action": text(frame.get("action") or ""),
        "unique_id": text(frame.get("unique_id") or ""),
        "raw": text(frame.get("raw") or ""),
        "findings": [text(f) for f in frame.get("findings") or []]
        + [text(f"warning: {w}") for w in frame.get("warnings") or []],
        "notes": [text(n) for n in frame.get("notes") or []],
        "marked": isinstance(seq, int) and seq in marked,
    }


def _step_frames(step: Mapping[str, Any], frames: Sequence[Mapping[str, Any]]) -> list[Any]:
    """Frames a step consumed or sent; if it names none (a wait that timed out), the frames
    of its time window."""
    named = {s for s in step.get("frames") or [] if isinstance(s, int)}
    if named:
        return [f for f in frames if f.get("seq") in named]
    start = as_float(step.get("t_start"))
    end = start + as_float(step.get("duration_s"))
    return [f for f in frames if start <= as_float(f.get("t")) <= end]


def _split_reason(reason: str) -> tuple[str, str, str]:
    """(requirement, expected, observed) from a reason like ``[REQ] … Expected: … Observed: …``."""
    req = ""
    match = _REASON_REQ.match(reason)
    if match:
        req = match.group("req")
    expected = observed = ""
    if "Expected:" in reason:
        after = reason.split("Expected:", 1)[1]
        expected, _, observed = after.partition("Observed:")
        expected = expected.strip().rstrip(".")
        observed = observed.strip()
    elif "Observed:" in reason:
        observed = reason.split("Observed:", 1)[1].strip()
    return req, expected, observed


def _problems(
    case: Mapping[str, Any],
    steps: Sequence[Mapping[str, Any]],
    step_anchors: Sequence[str],
    frames: Sequence[Mapping[str, Any]],
    req_text: Mapping[str, str],
    suite: str,
    sut: str,
) -> tuple[list[dict[str, Any]], set[int], list[Failure]]:
    """The steps that explain a fail / error / warn (h2spec style: requirement, Expected,
    Actual, and what the SUT sent meanwhile); the frames to highlight; the diagram notes."""
    verdict = str(case.get("verdict") or "")
    wanted = _PROBLEM_STEPS.get(verdict)
    if not wanted:
        return [], set(), []
    problems: list[dict[str, Any]] = []
    marked: set[int] = set()
    notes: list[Failure] = []
    symbol = "⚠" if verdict == "warn" else "✗"
    for step, step_anchor in zip(steps, step_anchors, strict=True):
        if step.get("verdict") not in wanted:
            continue
        in_step = _step_frames(step, frames)
        marked.update(f["seq"] for f in in_step if isinstance(f.get("seq"), int))
        sent = [f for f in in_step if f.get("dir") == "in"]
        req = str(step.get("requirement") or "")
        start = as_float(step.get("t_start"))
        end = start + as_float(step.get("duration_s"))
        problems.append(
            {
                "head": text(
                    f"Step {step.get('index', '?')} {_OUTCOME.get(str(step.get('verdict')), '')}"
                    + (f" ({step['phase']})" if step.get("phase") not in (None, "", "main") else "")
                    + f": {step.get('title') or step.get('kind') or ''}"
                ),
                "step": text(step.get("index", "")),
                "anchor": step_anchor,
                "verdict": text(step.get("verdict") or ""),
                "title": text(step.get("title") or step.get("kind") or ""),
                "phase": text(step.get("phase") or ""),
                "requirement": text(req),
                "requirement_text": text(req_text.get(req, "")),
                "expected": text(step.get("expected") or ""),
                "observed": text(step.get("observed") or ""),
                "window": f"+{start:.3f} s … +{end:.3f} s",
                "sent": [_frame_view(f, suite, sut, set()) for f in sent[:SENT_LIMIT]],
                "sent_more": max(0, len(sent) - SENT_LIMIT),
            }
        )
        what = step.get("title") or step.get("expected") or ""
        outcome = _OUTCOME.get(str(step.get("verdict")), str(step.get("verdict")))
        notes.append(
            Failure(
                t=end,
                text=f"{symbol} step {step.get('index', '?')} {outcome} at +{end:.3f} s: "
                f"{one_line(what)}",
                second=f"observed: {one_line(step['observed'])}" if step.get("observed") else "",
                detail="\n".join(
                    f"{k}: {step[k]}"
                    for k in ("requirement", "expected", "observed")
                    if step.get(k)
                ),
            )
        )
    reason = str(case.get("reason") or "")
    if not problems and reason:
        req, expected, observed = _split_reason(reason)
        problems.append(
            {
                "head": text(_CASE_OUTCOME.get(verdict, verdict)),
                "step": "",
                "anchor": "",
                "verdict": text(verdict),
                "title": "",
                "phase": "",
                "requirement": text(req),
                "requirement_text": text(req_text.get(req, "")),
                "expected": text(expected),
                "observed": text(observed or ("" if expected else reason)),
                "window": "",
                "sent": [],
                "sent_more": 0,
            }
        )
    return problems, marked, notes


def _why(verdict: str, problems: Sequence[Mapping[str, Any]], case: Mapping[str, Any]) -> str:
    """The matrix's one-line explanation: what was observed instead, or the reason."""
    if verdict == "pass":
        return ""
    observed = next((p["observed"] for p in problems if p.get("step") and p["observed"]), "")
    if observed:
        return one_line(f"observed: {observed}", 160)
    return one_line(case.get("reason") or "", 160)


def _search_text(case: Mapping[str, Any], reqs: Iterable[Mapping[str, str]]) -> str:
    parts = [
        case.get("id"),
        case.get("title"),
        case.get("block"),
        case.get("verdict"),
        case.get("reason"),
        *(r["id"] for r in reqs),
    ]
    return one_line(" ".join(str(p) for p in parts if p)).lower()


def _case_view(
    case: Mapping[str, Any],
    anchor: str,
    *,
    suite: str,
    sut: str,
    reply_suffix: str,
) -> dict[str, Any]:
    verdict = str(case.get("verdict") or "")
    verdict_class = verdict if verdict in ALL_VERDICTS else "error"
    reqs = requirement_list(case)
    req_text = {r["id"]: r["text"] for r in reqs}
    steps = [s for s in case.get("steps") or [] if isinstance(s, Mapping)]
    frames = [f for f in case.get("frames") or [] if isinstance(f, Mapping)]
    step_anchors = [f"{anchor}-step-{i}" for i in range(1, len(steps) + 1)]
    problems, marked, notes = _problems(case, steps, step_anchors, frames, req_text, suite, sut)
    broken = {p["requirement"] for p in problems if p["requirement"]}
    diagram = sequence_diagram(
        frames,
        suite=suite,
        sut=sut,
        highlight=marked,
        failure=notes[0] if notes else None,
        reply_suffix=reply_suffix,
    )
    problem_steps = {p["anchor"] for p in problems}
    return {
        "anchor": anchor,
        "id": text(case.get("id") or "?"),
        "title": text(case.get("title") or ""),
        "verdict": text(verdict),
        "verdict_class": verdict_class,
        "open": verdict_class in ("fail", "error", "warn"),
        "mandatory": bool(case.get("mandatory")),
        "block": text(case.get("block") or "other"),
        "ocpp": text(case.get("ocpp") or ""),
        "description": text(case.get("description") or ""),
        "duration": duration(case.get("duration_s")),
        "started": when(case.get("started")) if case.get("started") else "",
        "required_wait": (
            duration(case.get("required_wait_s")) if as_float(case.get("required_wait_s")) else ""
        ),
        "reason": text(case.get("reason") or ""),
        "short_reason": one_line(case.get("reason") or "", 160),
        "origin": origin_text(case.get("origin")),
        "why": _why(verdict_class, problems, case),
        "requirements": [
            {"id": text(r["id"]), "text": text(r["text"]), "broken": r["id"] in broken}
            for r in reqs
        ],
        "broken": sorted(text(b) for b in broken),
        "problems": problems,
        "steps": [
            {
                "anchor": step_anchor,
                "index": text(step.get("index", "")),
                "phase": text(step.get("phase") or ""),
                "kind": text(step.get("kind") or ""),
                "title": text(step.get("title") or ""),
                "verdict": text(step.get("verdict") or ""),
                "verdict_class": slug(step.get("verdict")),
                "requirement": text(step.get("requirement") or ""),
                "requirement_text": text(req_text.get(str(step.get("requirement") or ""), "")),
                "expected": text(step.get("expected") or ""),
                "observed": text(step.get("observed") or ""),
                "t_start": f"+{as_float(step.get('t_start')):.3f}",
                "duration": duration(step.get("duration_s")),
                "frames": ", ".join(text(s) for s in step.get("frames") or []),
                "problem": step_anchor in problem_steps,
            }
            for step, step_anchor in zip(steps, step_anchors, strict=True)
        ],
        "diagram": Markup(diagram),
        "frames": [_frame_view(f, suite, sut, marked) for f in frames],
        "findings": [text(f) for f in case.get("findings") or []],
        "late": [text(line) for line in late_lines(case)],
        "search": _search_text(case, reqs),
        "quirks": _quirks(case),
    }


def _quirks(case: Mapping[str, Any]) -> list[dict[str, str]]:
    """The official-tool quirks this case's SUT would trip (its conformance verdict stands)."""
    compatibility = mapping(case.get("compatibility"))
    return [
        {
            "title": text(q.get("title") or ""),
            "quirk": text(q.get("quirk") or ""),
            "reason": text(q.get("reason") or ""),
        }
        for q in compatibility.get("quirks") or []
        if isinstance(q, Mapping)
    ]


def _blocks(cases: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cases grouped by functional block, blocks in order of first appearance."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        groups.setdefault(case["block"], []).append(case)
    blocks = []
    for name, members in groups.items():
        counts = summarize({"verdict": c["verdict"]} for c in members)
        blocks.append(
            {
                "name": name,
                "slug": slug(name),
                "cases": members,
                "counts": ", ".join(f"{n} {v}" for v, n in counts.items() if n),
            }
        )
    return blocks


def build_view(
    run: Mapping[str, Any],
    *,
    results_sha256: str | None = None,
) -> dict[str, Any]:
    """The view model of ``run`` (already redacted) for the HTML template.

    Missing ``summary`` or ``profile_verdict`` fields are computed from the cases.
    ``results_sha256``: the SHA-256 of the ``results.json`` written with this page; without
    it the footer gives the SHA-256 of the run as canonical JSON and says so.
    """
    cases = [c for c in run.get("cases") or [] if isinstance(c, Mapping)]
    summary = run.get("summary") or summarize(cases)
    title = str(run.get("profile_title") or run.get("profile") or "")
    verdict = run.get("profile_verdict") or run_verdict(run)
    sut = mapping(run.get("sut"))
    ocpp = str(sut.get("ocpp") or next((c.get("ocpp") for c in cases if c.get("ocpp")), ""))
    suite_name, sut_name = lifeline_names(sut, ocpp)
    reply_suffix = ".conf" if ocpp.startswith("1.") or not ocpp else "Response"
    anchors = case_anchors(cases)
    case_views = [
        _case_view(case, anchor, suite=suite_name, sut=sut_name, reply_suffix=reply_suffix)
        for case, anchor in zip(cases, anchors, strict=True)
    ]
    suite_text = f"{run.get('suite') or 'pile-interop'} {run.get('version') or ''}".strip()
    run_rows = [
        (label, text(value))
        for label, value in (
            ("Profile", run.get("profile")),
            ("Test suite", suite_text),
            ("Date", when(run.get("started")) if run.get("started") else ""),
            (
                "Duration",
                duration(run.get("duration_s")) if run.get("duration_s") is not None else "",
            ),
            ("Finished", "" if run.get("finished") else "no (interrupted)"),
            ("SUT reached by", run.get("against")),
            ("Time scale", run.get("time_scale")),
            ("Variation seed (--seed)", mapping(run.get("variation")).get("seed")),
            ("Continues", continues_text(run.get("continues"))),
        )
        if value not in (None, "")
    ]
    counts = {v: int(summary.get(v, 0) or 0) for v in shown_verdicts(summary)}
    if results_sha256:
        evidence = {"sha256": text(results_sha256), "of": RESULTS_FILE}
    else:
        digest = evidence_sha256(canonical_json(run))
        evidence = {"sha256": digest, "of": ""}
    attention = [
        c for c in case_views if c["verdict_class"] in ("fail", "error") and c["mandatory"]
    ] + [c for c in case_views if c["verdict_class"] in ("fail", "error") and not c["mandatory"]]
    return {
        "generator": text(suite_text),
        "signature": signature_view(run.get("signature")),
        "title": text(f"{title or 'pile-interop'} - conformance report"),
        "profile": text(run.get("profile") or ""),
        "profile_title": text(title),
        "profile_verdict": {
            "met": bool(verdict.get("met")),
            "text": text(verdict.get("text") or ""),
        },
        "interrupted": bool(run.get("interrupted")),
        "not_run": counts.get("not_run", 0),
        "sut_name": text(sut_name),
        "suite_name": text(suite_name),
        "sut_rows": _sut_rows(sut),
        "run_rows": run_rows,
        "declared": _declared_view(sut, cases, anchors),
        "summary": [
            {"verdict": v, "count": counts[v], "meaning": VERDICT_MEANING[v]} for v in counts
        ],
        "bar": Markup(summary_bar(counts)),
        "total": len(cases),
        "attention": attention,
        "quirky": [c for c in case_views if c["quirks"] and c["verdict_class"] in ("pass", "warn")],
        "blocks": _blocks(case_views),
        "cases": case_views,
        "evidence": evidence,
        "invariants": invariants_view(run),
        "recording": recording_view(run),
    }


# -- rendering -------------------------------------------------------------------------------


def render_html(
    run: Mapping[str, Any],
    *,
    redactor: Redactor | None = None,
    results_sha256: str | None = None,
) -> str:
    """The HTML report for ``run`` as a string (redacted with ``redactor`` first)."""
    view = build_view(resolve(redactor).redact(run), results_sha256=results_sha256)
    env = environment()
    return env.get_template(TEMPLATE).render(view=view, assets=assets(env))


def write_html(
    path: Path,
    run: Mapping[str, Any],
    *,
    redactor: Redactor | None = None,
    results_sha256: str | None = None,
) -> Path:
    """Write the self-contained HTML report of ``run`` to ``path`` (atomically); return it.

    ``results_sha256``: the SHA-256 (hex) of the ``results.json`` beside it, shown in the
    footer; without it the footer gives the SHA-256 of the run as canonical JSON.
    """
    html = render_html(run, redactor=redactor, results_sha256=results_sha256)
    path = atomic_write_bytes(Path(path), html.encode("utf-8"))
    logger.debug("wrote %s", path)
    return path


def render_merge_html(
    runs: Sequence[Mapping[str, Any]],
    labels: Sequence[str],
    *,
    links: Sequence[str | None] | None = None,
    redactor: Redactor | None = None,
) -> str:
    """The comparison page of ``runs`` as a string (see :mod:`.merge`)."""
    redact = resolve(redactor).redact
    view = build_merge_view([redact(run) for run in runs], [redact(x) for x in labels], links)
    env = environment()
    return env.get_template(MERGE_TEMPLATE).render(view=view, assets=assets(env))


def write_merge_html(
    path: Path,
    runs: Sequence[Mapping[str, Any]],
    labels: Sequence[str],
    *,
    links: Sequence[str | None] | None = None,
    redactor: Redactor | None = None,
) -> Path:
    """Write the self-contained comparison page of several runs to ``path``; return it.

    One column per run (titled by ``labels``), one row per case ID (the union of all runs,
    grouped by functional block). ``links``: for each run, the relative path from ``path`` to
    that run's ``index.html``; cells then link to ``<link>#case-<id>``.
    """
    html = render_merge_html(runs, labels, links=links, redactor=redactor)
    path = atomic_write_bytes(Path(path), html.encode("utf-8"))
    logger.debug("wrote %s", path)
    return path
