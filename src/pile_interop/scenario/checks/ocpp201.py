"""OCPP 2.0.1 checks: the sequence numbers of a transaction's TransactionEvents and the parts of
a NotifyReport."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from pile_interop.core.frames import CALL, IN, is_message
from pile_interop.core.verdicts import Failure
from pile_interop.scenario.checks.registry import CheckContext, register
from pile_interop.scenario.values import mismatches


def _sent(case: CheckContext, action: str, since: int | None = None) -> list[dict[str, Any]]:
    """The payloads of ``action`` CALLs the SUT sent since the case began (or ``since``)."""
    start = case.seq0 if since is None else since
    return [
        f.payload or {}
        for f in case.session.log.since(start)
        if f.direction == IN and is_message(f) and f.action == action and f.type == CALL
    ]


@register(
    "seq_no",
    "the TransactionEvents of transaction {transaction}: seqNo +1 each, Started first, Ended last",
)
def seq_no(case: CheckContext, args: dict[str, Any]) -> str:
    """OCPP 2.0.1 E: the TransactionEvents of one transaction (those the SUT sent since the
    case began) are numbered without gaps or repeats (each seqNo one more than the one
    before), a Started event comes first (with seqNo ``args.first`` when given), at most one
    Ended comes, and it is the last."""
    tx = str(args["transaction"])
    events = [
        p
        for p in _sent(case, "TransactionEvent")
        if str((p.get("transactionInfo") or {}).get("transactionId")) == tx
    ]
    if not events:
        raise Failure(
            f"no TransactionEvent for transaction {tx}",
            expected=f"the TransactionEvents of transaction {tx}",
            observed="none since the case began",
        )
    shown = ", ".join(f"{p.get('eventType')}#{p.get('seqNo')}" for p in events)
    numbers = [p.get("seqNo") for p in events]
    kinds = [p.get("eventType") for p in events]
    problems = []
    for a, b in pairwise(numbers):
        if not (isinstance(a, int) and isinstance(b, int) and b == a + 1):
            problems.append(f"seqNo {b} after {a} (wanted {a + 1 if isinstance(a, int) else '?'})")
            break
    if "Started" in kinds and kinds[0] != "Started":
        problems.append("an event before Started")
    if "first" in args and kinds[0] == "Started" and numbers[0] != int(args["first"]):
        problems.append(f"Started has seqNo {numbers[0]}, wanted {args['first']}")
    if kinds.count("Ended") > 1 or ("Ended" in kinds and kinds[-1] != "Ended"):
        problems.append("an event after Ended, or Ended twice")
    if problems:
        raise Failure(
            "; ".join(problems),
            expected="seqNo one more for every event of the transaction, Started first, Ended last",
            observed=shown,
        )
    return shown


@register(
    "report_parts",
    "the NotifyReport parts of request {request_id}: seqNo 0..n, tbc on all but the last "
    "(and their entries as the case says)",
)
def report_parts(case: CheckContext, args: dict[str, Any]) -> str:
    """OCPP 2.0.1 B07/B08: a report comes in NotifyReport parts with the request's
    ``requestId``, numbered seqNo 0, 1, … in order, ``tbc`` true on every part but the last and
    false (or absent) on the last; ``args.min_items``: the parts together hold at least that
    many reportData entries."""
    request_id = int(args["request_id"])
    parts = [p for p in _sent(case, "NotifyReport") if p.get("requestId") == request_id]
    if not parts:
        raise Failure(
            f"no NotifyReport for requestId {request_id}",
            expected=f"NotifyReport parts with requestId {request_id}",
            observed="none since the case began",
        )
    shown = ", ".join(
        f"#{p.get('seqNo')}{' tbc' if p.get('tbc') else ''} ({len(p.get('reportData') or [])})"
        for p in parts
    )
    numbers = [p.get("seqNo") for p in parts]
    problems = []
    if numbers != list(range(len(parts))):
        problems.append(f"seqNo {numbers}, wanted {list(range(len(parts)))}")
    unfinished = [p.get("seqNo") for p in parts[:-1] if p.get("tbc") is not True]
    if unfinished:
        problems.append(f"tbc not true on part(s) {unfinished} though more parts followed")
    if parts[-1].get("tbc") is True:
        problems.append("the last part says tbc: true (more to come) and nothing came")
    entries = [e for p in parts for e in (p.get("reportData") or [])]
    items = len(entries)
    if items < int(args.get("min_items", 0)):
        problems.append(f"{items} reportData entries, wanted at least {args['min_items']}")
    problems += _report_content(entries, args)
    if problems:
        raise Failure(
            "; ".join(problems),
            expected="NotifyReport parts seqNo 0..n, tbc true on all but the last",
            observed=shown,
        )
    return f"{len(parts)} part(s), {items} entries: {shown}"


def _report_content(entries: list[dict[str, Any]], args: dict[str, Any]) -> list[str]:
    """``args.contains``: patterns some reportData entry must match each (e.g. a component
    and variable); ``args.each``: a pattern every entry must match."""
    problems = []
    for pattern in args.get("contains") or []:
        if not any(not mismatches(pattern, e) for e in entries):
            problems.append(f"no reportData entry matches {pattern}")
    if "each" in args:
        for entry in entries:
            wrong = mismatches(args["each"], entry)
            if wrong:
                where = f"{_name_of(entry)}: {'; '.join(wrong)}"
                problems.append(
                    f"a reportData entry breaks the rule every entry must follow ({where})"
                )
                break
    return problems


def _name_of(entry: dict[str, Any]) -> str:
    component = (entry.get("component") or {}).get("name", "?")
    variable = (entry.get("variable") or {}).get("name", "?")
    return f"{component}.{variable}"
