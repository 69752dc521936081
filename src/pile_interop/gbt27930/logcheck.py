"""Judge a recorded GB/T 27930 session offline: the checks that need no stimulus.

``pile-interop check-log FILE --profile gbt27930/charger`` reads the analyser CSV of the shared
capture or a candump log, reassembles and decodes every message, and judges what the SUT (the
charger, or the BMS) sent: each message's identifier, length, fill bits and ranges; the
period of each periodic message; the order of the phases; the transfers it sent. The result
is one case per check, in the same report folder as a live run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from itertools import pairwise
from pathlib import Path
from typing import Any

from pile_interop.core.clock import utc_iso
from pile_interop.gbt27930 import codec
from pile_interop.gbt27930.capture import DecodedMessage, LogDecode, decode_log
from pile_interop.gbt27930.conformance import message_findings
from pile_interop.gbt27930.ids import BMS_ADDRESS, CHARGER_ADDRESS

log = logging.getLogger(__name__)

#: The order in which each side's messages first appear in a normal session.
SEQUENCE = {
    "charger": ["CHM", "CRM", "CTS", "CML", "CRO", "CCS", "CST", "CSD"],
    "bms": ["BHM", "BRM", "BCP", "BRO", "BCL", "BCS", "BSM", "BST", "BSD"],
}
#: A gap over this many periods ends a burst (the message stopped and started again).
BURST_GAP = 4.0
#: Period tolerance (fraction of the period), before the recording's time resolution.
TOLERANCE = 0.1

_ADDRESS = {"charger": CHARGER_ADDRESS, "bms": BMS_ADDRESS}


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


def resolution(decoded: LogDecode) -> float:
    """The recording's time resolution: the smallest positive step between frame times."""
    times = sorted({f.t for f in decoded.frames})
    steps = [b - a for a, b in pairwise(times) if b > a]
    return min(steps) if steps else 0.0


def _bursts(times: list[float], period: float) -> list[list[float]]:
    bursts: list[list[float]] = [[times[0]]] if times else []
    for t in times[1:]:
        if t - bursts[-1][-1] > BURST_GAP * period:
            bursts.append([t])
        else:
            bursts[-1].append(t)
    return bursts


def period_verdict(times: list[float], period: float, step: float) -> tuple[bool, str]:
    """Each burst's mean interval within the tolerance, widened by the time resolution over
    the burst; a burst's leading equal timestamps (an analyser's buffer) are left out."""
    problems, shown = [], []
    for burst in _bursts(times, period):
        while len(burst) > 2 and burst[1] == burst[0]:
            burst = burst[1:]
        if len(burst) < 3:
            continue
        average = (burst[-1] - burst[0]) / (len(burst) - 1)
        allowed = TOLERANCE * period + step / (len(burst) - 1)
        shown.append(f"{len(burst)} in a row, mean {average * 1000:.1f} ms")
        if abs(average - period) > allowed:
            problems.append(
                f"mean {average * 1000:.1f} ms over {len(burst)} messages (allowed "
                f"{period * 1000:.0f} ± {allowed * 1000:.1f} ms)"
            )
    return not problems, "; ".join(problems or shown) or "too few in a row to judge"


def check_log(path: str | Path, sut: str, variant: str, profile: str) -> list[dict[str, Any]]:
    decoded = decode_log(path, variant)
    address = _ADDRESS[sut]
    step = resolution(decoded)
    frames = {f.index: f for f in decoded.frames}
    mine: dict[str, list[DecodedMessage]] = defaultdict(list)
    for message in decoded.messages:
        if message.src == address:
            mine[message.name].append(message)
    cases = []
    fmt = (
        "GBT27930 message format",
        "Identifier (priority, PGN, addresses), data length, fill bits 1, values in range.",
    )
    for name in sorted(mine, key=lambda n: codec.message_info(n, variant).pgn):
        found = [
            x
            for m in mine[name]
            for x in message_findings(m, [frames[i] for i in m.frames if i in frames], variant)
        ]
        verdict = "fail" if found else "pass"
        count = f"{len(mine[name])} × {name}"
        reason = f"[{fmt[0]}] {found[0]} (and {len(found) - 1} more)" if found else ""
        cases.append(
            _case(
                f"log:{name}.format",
                f"{name}: identifier, length, fill bits, ranges",
                verdict,
                reason,
                fmt,
                "; ".join(found[:5]) or f"{count}, all conformant",
                "Messages",
                profile,
            )
        )
        info = codec.message_info(name, variant)
        if info.period_ms and info.period_ms < 1000:
            ok, text = period_verdict([m.t for m in mine[name]], info.period_ms / 1000, step)
            requirement = ("GBT27930 periods", f"{name} is sent every {info.period_ms} ms.")
            cases.append(
                _case(
                    f"log:{name}.period",
                    f"{name} every {info.period_ms} ms",
                    "pass" if ok else "fail",
                    "" if ok else f"[GBT27930 periods] {text}",
                    requirement,
                    f"{text} (time resolution {step * 1000:.0f} ms)",
                    "Periods",
                    profile,
                )
            )
    order = [n for n in SEQUENCE[sut] if n in mine]
    firsts = [min(m.t for m in mine[n]) for n in order]
    wrong = [
        f"{a} first at {ta:.2f} s after {b} at {tb:.2f} s"
        for (a, ta), (b, tb) in zip(
            zip(order, firsts, strict=True), list(zip(order, firsts, strict=True))[1:], strict=False
        )
        if ta > tb
    ]
    requirement = (
        "GBT27930 phases",
        "Handshake, identification, configuration, charging, "
        "stop and end follow each other in this order.",
    )
    cases.append(
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
    )
    sent = [t for t in decoded.transfers if t.src == address]

    # the sender's fault: it was granted packets (CTS) and did not send them all, or aborted
    def by_sender(t: Any) -> bool:
        return t.abort is None or decoded.frames[t.abort[0]].src == t.src

    broken = [t for t in sent if t.cts and not t.complete and by_sender(t)]
    # the receiver's: an RTS never answered, or no EndOfMsgAck (a warning: a recording may
    # end mid-transfer or an analyser miss a frame)
    unanswered = [t for t in decoded.transfers if t.dst == address and not t.acknowledged]
    requirement = (
        "GBT27930 transport",
        "Multi-packet messages complete (J1939 RTS/CTS): the "
        "sender sends every packet granted, the receiver answers RTS and ends "
        "with EndOfMsgAck.",
    )
    observed = (
        f"{len(sent)} sent by the SUT, {len(broken)} broken off by it; "
        f"{len(unanswered)} sent to it not acknowledged"
        + (f" ({', '.join(t.state for t in unanswered)})" if unanswered else "")
    )
    verdict = "fail" if broken else "warn" if unanswered else "pass"
    reason = (
        f"[GBT27930 transport] {broken[0].state}"
        if broken
        else f"[GBT27930 transport] {unanswered[0].state}"
        if unanswered
        else ""
    )
    cases.append(
        _case(
            "log:transport",
            "multi-packet transfers",
            verdict,
            reason,
            requirement,
            observed,
            "Transport",
            profile,
        )
    )
    issues = [str(i) for i in decoded.issues]
    requirement = ("GBT27930 message format", "Every frame is a GB/T 27930 frame.")
    cases.append(
        _case(
            "log:frames",
            "every frame understood",
            "fail" if issues else "pass",
            f"[GBT27930 message format] {issues[0]}" if issues else "",
            requirement,
            decoded.summary(),
            "Messages",
            profile,
        )
    )
    return cases
