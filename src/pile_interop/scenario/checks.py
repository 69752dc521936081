"""Registered checks: small named functions a case switches on with ``check: <name>``.

A check reads what the case has seen so far (the frame log, the saved exchanges, what the
mock learned about the SUT) and raises :class:`~pile_interop.core.verdicts.Failure` when the
SUT broke the rule. It returns a short text of what it observed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from statistics import mean
from typing import TYPE_CHECKING, Any

from pile_interop.core.clock import parse_iso, utc_iso
from pile_interop.core.frames import CALL, EVENT, IN, is_message
from pile_interop.core.verdicts import Failure, HarnessError

if TYPE_CHECKING:
    from pile_interop.scenario.runner import CaseRun

CheckFn = Callable[["CaseRun", dict[str, Any]], str]


@dataclass(frozen=True)
class Check:
    name: str
    fn: CheckFn
    summary: str

    def describe(self, args: dict[str, Any]) -> str:
        try:
            return self.summary.format(**args)
        except (KeyError, IndexError):
            return self.summary

    def run(self, case: CaseRun, args: dict[str, Any]) -> str:
        return self.fn(case, args)


_REGISTRY: dict[str, Check] = {}


def register(name: str, summary: str) -> Callable[[CheckFn], CheckFn]:
    def decorate(fn: CheckFn) -> CheckFn:
        _REGISTRY[name] = Check(name, fn, summary)
        return fn

    return decorate


def names() -> list[str]:
    return sorted(_REGISTRY)


def get(name: str) -> Check:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise HarnessError(f"no check named {name!r} (known: {', '.join(names())})") from None


@register("count", "{action} sent {min}..{max} times since the case began (or since {since})")
def count(case: CaseRun, args: dict[str, Any]) -> str:
    """How often the SUT sent ``action`` since the case began, or since the exchange saved as
    ``since`` (that exchange itself not counted)."""
    action = args["action"]
    low, high = int(args.get("min", 0)), int(args.get("max", 1 << 30))
    start = _alias_seq(case, args["since"]) if "since" in args else case.seq0
    n = sum(
        1
        for f in case.session.log.since(start)
        if f.direction == IN and is_message(f) and f.action == action and f.seq != start
    )
    if not low <= n <= high:
        raise Failure(
            f"{action} sent {n} times",
            expected=f"between {low} and {high} {action}",
            observed=f"{n}",
        )
    return f"{n} × {action}"


@register("match", "{value} matches {pattern}")
def match(case: CaseRun, args: dict[str, Any]) -> str:
    """A value saved earlier (rendered from a template) matches a pattern."""
    from pile_interop.scenario.values import mismatches

    problems = mismatches(args["pattern"], args["value"])
    if problems:
        raise Failure(
            f"{'; '.join(problems)}",
            expected=f"{args['pattern']}",
            observed=f"{args['value']!r}",
        )
    return repr(args["value"])


def _alias_seq(case: CaseRun, alias: str) -> int:
    try:
        return case.alias_seq[alias]
    except KeyError:
        raise HarnessError(f"no exchange saved as {alias!r} before this check") from None


@register("silent_between", "the SUT sent no request between {from} and {to} (except {except})")
def silent_between(case: CaseRun, args: dict[str, Any]) -> str:
    """No request or message from the SUT strictly between two saved exchanges (e.g. while
    Rejected)."""
    start, end = _alias_seq(case, args["from"]), _alias_seq(case, args["to"])
    allowed = set(args.get("except", []))
    sent = [
        f
        for f in case.session.log.since(start)
        if f.seq < end and f.direction == IN and is_message(f) and f.action not in allowed
    ]
    if sent:
        raise Failure(
            f"{len(sent)} request(s) sent between {args['from']} and {args['to']}",
            expected=f"no request other than {sorted(allowed) or 'none'}",
            observed="; ".join(f"#{f.seq} {f.brief()}" for f in sent[:5]),
        )
    return "silent"


@register(
    "statuses_reported",
    "after {since}: StatusNotification {status} for connector 0 and each of {connectors}",
)
def statuses_reported(case: CaseRun, args: dict[str, Any]) -> str:
    """After a boot the station reports every connector (and connector 0)."""
    since = _alias_seq(case, args["since"])
    want = args["status"]
    overrides = {int(k): v for k, v in (args.get("except") or {}).items()}
    connectors = range(int(args["connectors"]) + 1)
    seen: dict[int, list[str]] = {}
    for f in case.session.log.since(since):
        if f.direction == IN and is_message(f) and f.action == "StatusNotification":
            connector = (f.payload or {}).get("connectorId")
            if isinstance(connector, int):
                seen.setdefault(connector, []).append(str(f.payload.get("status")))
    missing = [
        f"{c}: wanted {overrides.get(c, want)}, got {seen.get(c) or 'nothing'}"
        for c in connectors
        if overrides.get(c, want) not in seen.get(c, [])
    ]
    if missing:
        raise Failure(
            "not every connector reported its status",
            expected=f"StatusNotification {want} for connectors 0..{connectors[-1]}",
            observed="; ".join(missing),
        )
    return ", ".join(f"{c}: {seen[c][-1]}" for c in connectors)


#: Which share of a periodic message's intervals must be within the gap bound: the rest are
#: allowed to be longer, because one interval stretched by the machine the suite runs on (a
#: scheduler stall, see docs/benchmarks.md (c)) must not fail a SUT; a SUT that misses
#: messages regularly fails the mean or this quantile.
GAP_QUANTILE = 0.95


@register(
    "period",
    "{message} every {period_ms} ms (mean within ±{tolerance_pct}%, 95 % of the intervals "
    "under twice the period)",
)
def period(case: CaseRun, args: dict[str, Any]) -> str:
    """The SUT sends a periodic message at its period: the mean interval within the tolerance
    and 95 % of the intervals shorter than ``max_gap_factor`` (2) periods (no missed
    messages). Protocol milliseconds: against a reference SUT on a scaled clock the nominal
    period is scaled too."""
    name = str(args["message"])
    nominal = float(args["period_ms"]) / 1000.0 * case.timing.scale
    tolerance = float(args.get("tolerance_pct", 10)) / 100.0
    since = _alias_seq(case, args["since"]) if "since" in args else case.seq0
    until = _alias_seq(case, args["until"]) if "until" in args else None
    times = [
        f.mono
        for f in case.session.log.since(since)
        if f.direction == IN
        and is_message(f)
        and f.action == name
        and (until is None or f.seq < until)
    ]
    need = int(args.get("min_count", 5))
    if len(times) < need:
        raise Failure(
            f"only {len(times)} {name} to judge its period",
            expected=f"at least {need} {name}",
            observed=f"{len(times)}",
        )
    gaps = sorted(b - a for a, b in pairwise(times))
    average, longest = mean(gaps), gaps[-1]
    typical = gaps[min(len(gaps) - 1, int(GAP_QUANTILE * len(gaps)))]

    def ms(seconds: float) -> str:
        return f"{seconds / case.timing.scale * 1000:.1f} ms"

    shown = (
        f"{len(times)} × {name}: mean {ms(average)}, 95 % of the intervals under {ms(typical)}, "
        f"longest {ms(longest)} (protocol time)"
    )
    factor = float(args.get("max_gap_factor", 2))
    if abs(average - nominal) > tolerance * nominal or typical > factor * nominal:
        raise Failure(
            f"{name} not sent every {args['period_ms']} ms",
            expected=f"mean {args['period_ms']} ms ± {tolerance:.0%}, 95 % of the intervals "
            f"under {factor * float(args['period_ms']):g} ms",
            observed=shown,
        )
    return shown


#: The measurand a SampledValue without one reports (OCPP 1.6 §7.31 SampledValue.measurand).
DEFAULT_MEASURAND = "Energy.Active.Import.Register"
#: SampledValue.context when it is absent (§7.31).
DEFAULT_CONTEXT = "Sample.Periodic"


def _readings(case: CaseRun, args: dict[str, Any]) -> list[tuple[datetime, list[dict[str, Any]]]]:
    """(timestamp, sampled values in the context) of every meterValue the SUT sent since
    ``since`` (or the case's start), in wire order: OCPP 1.6 MeterValues of ``connector``;
    OCPP 2.0.1 MeterValues of ``evse`` and the TransactionEvents of ``transaction`` (or, without
    one, those naming ``evse``)."""
    since = _alias_seq(case, args["since"]) if "since" in args else case.seq0
    context = str(args["context"])
    found = []
    for f in case.session.log.since(since):
        if not (f.direction == IN and is_message(f) and _meter_source(f.action, f.payload, args)):
            continue
        payload = f.payload or {}
        for value in payload.get("meterValue") or []:
            sampled = [
                s
                for s in value.get("sampledValue") or []
                if s.get("context", DEFAULT_CONTEXT) == context
            ]
            if not sampled:
                continue
            try:
                when = parse_iso(str(value.get("timestamp")))
            except ValueError:
                raise Failure(
                    "a MeterValue timestamp is not a date-time",
                    expected="an RFC 3339 timestamp",
                    observed=f"#{f.seq} {value.get('timestamp')!r}",
                ) from None
            found.append((when, sampled))
    return found


def _meter_source(action: str | None, payload: Any, args: dict[str, Any]) -> bool:
    """Whether a CALL carries the meter values a ``meter_values`` check judges."""
    payload = payload or {}
    evse, tx = args.get("evse"), args.get("transaction")
    if action == "MeterValues":
        if evse is None:
            return payload.get("connectorId") == int(args["connector"])
        return payload.get("evseId") == int(evse)
    if action == "TransactionEvent" and (evse is not None or tx is not None):
        if tx is not None:
            return str((payload.get("transactionInfo") or {}).get("transactionId")) == str(tx)
        return (payload.get("evse") or {}).get("id") == int(evse)  # type: ignore[arg-type]
    return False


def _measurand_items(sampled: list[dict[str, Any]]) -> set[str]:
    items = set()
    for s in sampled:
        measurand = s.get("measurand", DEFAULT_MEASURAND)
        items.add(measurand)
        if s.get("phase"):
            items.add(f"{measurand}.{s['phase']}")
    return items


@register(
    "meter_values",
    "meter values in context {context}: every {interval} s (± {tolerance} s), each configured "
    "measurand",
)
def meter_values(case: CaseRun, args: dict[str, Any]) -> str:
    """Periodic MeterValues (OCPP 1.6 §4.7, §9.1.5, §9.1.19) judged by their own timestamps:

    * at least ``min_count`` (3) readings of the connector in ``context``;
    * each one has a SampledValue for every item of ``measurands`` (a configuration CSL such
      as ``"Energy.Active.Import.Register,Voltage.L1"``; empty means the default measurand);
    * no SampledValue has location ``EV`` unless it is the SoC;
    * OCPP 2.0.1: ``evse`` instead of ``connector`` (MeterValues by evseId), and ``transaction``
      adds the meterValues of that transaction's TransactionEvents;
    * consecutive timestamps are ``interval`` s apart, within ``tolerance`` s;
    * with ``aligned: true``, each timestamp is on a clock-aligned boundary (a multiple of the
      interval since midnight UTC), within ``tolerance`` s.

    The timestamps are the SUT's own clock, so no time scale applies to them."""
    readings = _readings(case, args)
    interval = float(args["interval"])
    tolerance = float(args.get("tolerance", 0))
    need = int(args.get("min_count", 3))
    context = args["context"]
    if len(readings) < need:
        raise Failure(
            f"only {len(readings)} MeterValues reading(s) with context {context}",
            expected=f"at least {need} for "
            + (f"EVSE {args['evse']}" if "evse" in args else f"connector {args.get('connector')}"),
            observed=f"{len(readings)}",
        )
    wanted = [m.strip() for m in str(args.get("measurands") or "").split(",") if m.strip()]
    wanted = wanted or [DEFAULT_MEASURAND]
    for when, sampled in readings:
        missing = [m for m in wanted if m not in _measurand_items(sampled)]
        if missing:
            raise Failure(
                f"the reading of {utc_iso(when)} lacks measurand(s) {missing}",
                expected=f"a SampledValue for each of {wanted}",
                observed=f"{sorted(_measurand_items(sampled))}",
            )
        ev = [s for s in sampled if s.get("location") == "EV" and s.get("measurand") != "SoC"]
        if ev:
            raise Failure(
                f"the reading of {utc_iso(when)} has location EV for {ev[0].get('measurand')}",
                expected="location EV only for the SoC",
                observed=f"{ev[0]}",
            )
    times = [when for when, _ in readings]
    for a, b in pairwise(times):
        gap = (b - a).total_seconds()
        if abs(gap - interval) > tolerance:
            raise Failure(
                f"readings {utc_iso(a)} and {utc_iso(b)} are {gap:g} s apart",
                expected=f"{interval:g} s ± {tolerance:g} s",
                observed=", ".join(utc_iso(t) for t in times),
            )
    if args.get("aligned"):
        for when in times:
            midnight = when.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            offset = (when - midnight).total_seconds() % interval
            off = min(offset, interval - offset)
            if off > tolerance:
                raise Failure(
                    f"the reading of {utc_iso(when)} is {off:.3g} s off the clock-aligned boundary",
                    expected=f"a multiple of {interval:g} s since midnight UTC, ± {tolerance:g} s",
                    observed=", ".join(utc_iso(t) for t in times),
                )
    return f"{len(times)} readings: " + ", ".join(utc_iso(t) for t in times)


def _events(case: CaseRun, args: dict[str, Any], prefix: str) -> list[str]:
    since = _alias_seq(case, args["since"]) if "since" in args else case.seq0
    return [
        f.raw
        for f in case.session.log.since(since)
        if f.type == EVENT and isinstance(f.raw, str) and f.raw.startswith(prefix)
    ]


@register("connection", "the SUT's last connection: {matches}")
def connection(case: CaseRun, args: dict[str, Any]) -> str:
    """The description of the last connection the SUT opened during the case (transport, TLS
    version, client certificate, Basic auth user…) matches every regular expression of
    ``matches``."""
    opened = _events(case, args, "connected: ")
    if not opened:
        raise Failure(
            "the SUT opened no connection during the case",
            expected=f"a connection matching {args.get('matches', [])}",
            observed="no connection",
        )
    last = opened[-1]
    for pattern in args.get("matches", []):
        if not re.search(pattern, last):
            raise Failure(
                f"the connection does not match {pattern!r}",
                expected=f"a connection matching {pattern!r}",
                observed=last,
            )
    return last


@register("refused", "the suite refused a connection attempt of the SUT matching {matching}")
def refused(case: CaseRun, args: dict[str, Any]) -> str:
    """The SUT did try to connect during the case and the suite (or a failed TLS handshake)
    refused it: without an attempt, a case that forbids the connection cannot decide."""
    pattern = args.get("matching", "")
    attempts = [e for e in _events(case, args, "refused ") if re.search(pattern, e)]
    if not attempts:
        others = _events(case, args, "") or ["none"]
        raise HarnessError(
            f"the SUT made no connection attempt the suite refused ({pattern!r}); "
            f"connection events: {'; '.join(others[-3:])}"
        )
    return f"{len(attempts)} refused: {attempts[-1]}"


# -- OCPP 2.0.1 -----------------------------------------------------------------------------


def _sent(case: CaseRun, action: str, since: int | None = None) -> list[dict[str, Any]]:
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
def seq_no(case: CaseRun, args: dict[str, Any]) -> str:
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
def report_parts(case: CaseRun, args: dict[str, Any]) -> str:
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
    from pile_interop.scenario.values import mismatches

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
