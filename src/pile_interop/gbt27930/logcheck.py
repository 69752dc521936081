"""Judge a recorded GB/T 27930 session offline: the checks that need no stimulus.

``pile-interop check-log FILE --profile gbt27930/charger`` reads any recording
:mod:`.recording` knows, streams it through a :class:`~.logjudge.LogJudge` (memory bounded by
the message types, not the length) and judges what the SUT (the charger, or the BMS) sent:
each message type's identifier, length (a short message decoded as far as its bytes go, its
length one finding), fill bits, ranges and content; the period of each periodic message (``na``
without usable time stamps); cause and effect across the two sides; the mandatory answers;
the order of the phases; the transfers. The result is one case per check, in the same report
folder as a live run, and a per-message table (:func:`recording_summary`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pile_interop.core.clock import utc_iso
from pile_interop.gbt27930.layout import TITLES, normalise_variant
from pile_interop.gbt27930.logjudge import EXAMPLES, LogJudge
from pile_interop.gbt27930.logperiod import period_verdict
from pile_interop.gbt27930.logrules import CAUSES, MANDATORY
from pile_interop.gbt27930.recording import open_recording

log = logging.getLogger(__name__)


def _case(
    case_id: str,
    title: str,
    verdict: str,
    reason: str,
    requirement: tuple[str, str],
    observed: str,
    block: str,
    profile: str,
) -> dict[str, Any]:
    now = utc_iso()
    return {
        "id": case_id,
        "title": title,
        "ocpp": "",
        "protocol": "GB/T 27930",
        "sut": "",
        "block": block,
        "profiles": [profile],
        "mandatory": True,
        "description": "Judged offline from a recording (no stimulus).",
        "requirements": [{"id": requirement[0], "text": requirement[1]}],
        "verdict": verdict,
        "reason": reason,
        "started": now,
        "finished": now,
        "duration_s": 0.0,
        "required_wait_s": 0.0,
        "steps": [
            {
                "index": 1,
                "phase": "main",
                "kind": "check",
                "title": title,
                "verdict": verdict,
                "requirement": requirement[0],
                "expected": requirement[1],
                "observed": observed,
                "t_start": 0.0,
                "duration_s": 0.0,
                "frames": [],
            }
        ],
        "frames": [],
        "findings": [],
    }


@dataclass
class LogCheck:
    """A recording judged: the cases and what the report shows of the recording."""

    cases: list[dict[str, Any]]
    recording: dict[str, Any]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def recording_summary(judge: LogJudge, fmt: str, path: Path, channel: str | None) -> dict:
    """What the report says about the recording: format, variant, time span, and one row per
    message type (count, mean / p95 / max interval, findings on the SUT's messages)."""
    rows = []
    for name in sorted(judge.stats, key=judge.order.__getitem__):
        stats = judge.stats[name]
        info = judge.pgns_by_name[name]
        rows.append(
            {
                "message": name,
                "direction": info.direction,
                "sut": info.src == judge.address,
                "count": stats.count,
                "short": stats.short,
                "period_ms": info.period_ms or None,
                "mean_ms": _ms(stats.mean()) if judge.timed else None,
                "p95_ms": _ms(stats.p95()) if judge.timed else None,
                "max_ms": _ms(stats.interval_max or None) if judge.timed else None,
                "findings": sum(count for count, _ in stats.findings.values()),
            }
        )
    return {
        "file": str(path),
        "format": fmt,
        "channel": channel,
        "variant": judge.variant,
        "standard": TITLES[judge.variant],
        "frames": judge.frames,
        "span": judge.span(),
        "span_s": round(judge.last_t - judge.first_t, 6) if judge.timed else None,
        "not_in_conversation": judge.foreign_count,
        "messages": rows,
    }


def check_recording(
    path: str | Path, sut: str, variant: str, profile: str, channel: str | None = None
) -> LogCheck:
    """Read, decode and judge the recording at ``path`` (streamed)."""
    variant = normalise_variant(variant)
    recording = open_recording(path, channel)
    judge = LogJudge(sut, variant)
    for frame in recording:
        judge.take(frame)
    judge.finish()
    summary = recording_summary(judge, recording.format, Path(path), channel)
    if recording.other_channels:
        summary["other_channels"] = recording.other_channels
    return LogCheck(cases_of(judge, profile), summary)


def check_log(
    path: str | Path, sut: str, variant: str, profile: str, channel: str | None = None
) -> list[dict[str, Any]]:
    """The cases of :func:`check_recording`."""
    return check_recording(path, sut, variant, profile, channel).cases


_FORMAT = (
    "GBT27930 message format",
    "Identifier (priority, PGN, addresses), data length, fill bits 1, values in range, "
    "content valid (CTS a real BCD time, text fields printable).",
)
_PERIODS = "GBT27930 periods"


def _message_cases(judge: LogJudge, profile: str) -> list[dict[str, Any]]:
    cases = []
    step = 0.0 if math.isinf(judge.resolution) else judge.resolution
    mine = [n for n, st in judge.stats.items() if judge.pgns_by_name[n].src == judge.address]
    for name in sorted(mine, key=judge.order.__getitem__):
        stats = judge.stats[name]
        found = stats.finding_texts()
        count = f"{stats.count} × {name}"
        cases.append(
            _case(
                f"log:{name}.format",
                f"{name}: identifier, length, fill bits, ranges",
                "fail" if found else "pass",
                f"[{_FORMAT[0]}] {found[0]}"
                + (f" (and {len(found) - 1} more kinds)" if len(found) > 1 else "")
                if found
                else "",
                _FORMAT,
                "; ".join(found[:5]) or f"{count}, all conformant",
                "Messages",
                profile,
            )
        )
        info = judge.pgns_by_name[name]
        if not info.period_ms or info.period_ms >= 1000:
            continue
        requirement = (_PERIODS, f"{name} is sent every {info.period_ms} ms.")
        if not judge.timed:
            why = f"no usable time stamps: {judge.untimed_reason()}"
            verdict, reason, observed = "na", f"[{_PERIODS}] {why}", f"{count}; {why}"
        else:
            ok, text = period_verdict(
                stats.bursts, stats.period, step, stats.early, stats.early_more
            )
            # nothing judged is no pass: the report never claims more than was checked
            verdict = "na" if ok is None else "pass" if ok else "fail"
            reason = "" if ok else f"[{_PERIODS}] {text}"
            observed = f"{text} (time resolution {step * 1000:g} ms)"
        cases.append(
            _case(
                f"log:{name}.period",
                f"{name} every {info.period_ms} ms",
                verdict,
                reason,
                requirement,
                observed,
                "Periods",
                profile,
            )
        )
    return cases


def _flow_cases(judge: LogJudge, profile: str) -> list[dict[str, Any]]:
    rules = judge.rules
    wrong, order = rules.order_problems()
    requirement = (
        "GBT27930 phases",
        "Handshake, identification, configuration, charging, stop and end follow each other "
        "in this order (messages of one phase in any order: CTS before or after CML).",
    )
    cases = [
        _case(
            "log:sequence",
            "the phases in order",
            "fail" if wrong else "pass",
            f"[GBT27930 phases] {wrong[0]}" if wrong else "",
            requirement,
            "; ".join(wrong) or " → ".join(order),
            "Sequence",
            profile,
        )
    ]
    problems = rules.cause_problems()
    requirement = (
        "GBT27930 cause and effect",
        "The SUT answers only what the other side said: "
        + "; ".join(f"{e} only after {w}" for e, _, w in CAUSES[judge.sut])
        + ".",
    )
    skipped = (
        f"; {rules.unjudged} messages of a session the recording joins midway not judged"
        if rules.unjudged
        else ""
    )
    cases.append(
        _case(
            "log:causes",
            "cause and effect across the two sides",
            "fail" if problems else "pass",
            f"[GBT27930 cause and effect] {problems[0]}" if problems else "",
            requirement,
            ("; ".join(problems) or f"{rules.sessions} sessions, every answer after its cause")
            + skipped,
            "Sequence",
            profile,
        )
    )
    missing, judged, unjudged = rules.mandatory()
    requirement = (
        "GBT27930 mandatory messages",
        "The SUT sends what the other side's messages call for: "
        + "; ".join(f"{m} after {t}" for m, t, _ in MANDATORY[judge.sut])
        + ".",
    )
    verdict = "fail" if missing else "pass" if judged else "na"
    reason = (
        f"[GBT27930 mandatory messages] {missing[0]}"
        if missing
        else ""
        if judged
        else "[GBT27930 mandatory messages] nothing in the recording calls for an answer"
    )
    cases.append(
        _case(
            "log:mandatory",
            "mandatory messages appear",
            verdict,
            reason,
            requirement,
            "; ".join(missing + judged + unjudged) or "nothing called for an answer",
            "Sequence",
            profile,
        )
    )
    return cases


def _transport_case(judge: LogJudge, profile: str) -> dict[str, Any]:
    requirement = (
        "GBT27930 transport",
        "Multi-packet messages complete (J1939 RTS/CTS): the sender sends every packet "
        "granted, the receiver answers every RTS and ends with EndOfMsgAck.",
    )
    observed = (
        f"{judge.sut_transfers} sent by the SUT, {judge.broken_count} broken off by it; "
        f"{judge.unanswered_count} RTS to it never answered; {judge.unacknowledged_count} "
        "without EndOfMsgAck"
        + "".join(f"; {t}" for t in judge.broken + judge.unanswered + judge.unacknowledged)
        + "".join(f"; {t} (not judged)" for t in judge.quiet)
    )
    problems = judge.broken + judge.unanswered
    verdict = "fail" if problems else "warn" if judge.unacknowledged else "pass"
    reason = (
        f"[GBT27930 transport] {problems[0]}"
        if problems
        else f"[GBT27930 transport] {judge.unacknowledged[0]}"
        if judge.unacknowledged
        else ""
    )
    return _case(
        "log:transport",
        "multi-packet transfers",
        verdict,
        reason,
        requirement,
        observed,
        "Transport",
        profile,
    )


def _frames_case(judge: LogJudge, profile: str) -> dict[str, Any]:
    issues = [str(i) for i in judge.issues]
    counts = ", ".join(f"{n} {st.count}" for n, st in sorted(judge.stats.items()))
    states = ", ".join(f"{n} {s}" for s, n in sorted(judge.transfer_states.items()))
    observed = (
        f"{judge.frames} frames, {judge.understood} understood, messages ({counts}); "
        f"transfers ({states}); {judge.issue_count} not understood"
        + "".join(f"; {i}" for i in issues)
    )
    if judge.foreign_count:
        shown = ", ".join(f"{k} × {n}" for k, n in judge.foreign.most_common(EXAMPLES))
        observed += (
            f"; {judge.foreign_count} frames not part of the conversation (not judged): {shown}"
        )
    requirement = (
        "GBT27930 message format",
        "Every frame between the charger and the BMS is a GB/T 27930 frame.",
    )
    return _case(
        "log:frames",
        "every frame of the conversation understood",
        "fail" if issues else "pass",
        f"[GBT27930 message format] {issues[0]}" if issues else "",
        requirement,
        observed,
        "Messages",
        profile,
    )


def cases_of(judge: LogJudge, profile: str) -> list[dict[str, Any]]:
    """One case per check of a finished :class:`LogJudge`."""
    return [
        *_message_cases(judge, profile),
        *_flow_cases(judge, profile),
        _transport_case(judge, profile),
        _frames_case(judge, profile),
    ]


__all__ = ["LogCheck", "check_log", "check_recording", "recording_summary"]
