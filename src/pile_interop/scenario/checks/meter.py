"""The ``meter_values`` check: periodic and clock-aligned meter values judged by their own
timestamps (OCPP 1.6 MeterValues; OCPP 2.0.1 MeterValues and TransactionEvents)."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from pile_interop.core.clock import parse_iso, utc_iso
from pile_interop.core.frames import IN, is_message
from pile_interop.core.verdicts import Failure
from pile_interop.scenario.checks.registry import CheckContext, register, window_start

#: A reading: its timestamp and its sampled values in the context.
Reading = tuple[datetime, list[dict[str, Any]]]
#: The measurand a SampledValue without one reports (OCPP 1.6 §7.31 SampledValue.measurand).
DEFAULT_MEASURAND = "Energy.Active.Import.Register"
#: SampledValue.context when it is absent (§7.31).
DEFAULT_CONTEXT = "Sample.Periodic"


def _readings(
    case: CheckContext, args: dict[str, Any]
) -> list[tuple[datetime, list[dict[str, Any]]]]:
    """(timestamp, sampled values in the context) of every meterValue the SUT sent since
    ``since`` (or the case's start), in wire order: OCPP 1.6 MeterValues of ``connector``;
    OCPP 2.0.1 MeterValues of ``evse`` and the TransactionEvents of ``transaction`` (or, without
    one, those naming ``evse``)."""
    since = window_start(case, args)
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
def meter_values(case: CheckContext, args: dict[str, Any]) -> str:
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
