"""Pass / fail thresholds of a fleet run: ``p99 BootNotification < 2s``, ``violations == 0``.

A threshold is ``<statistic> [<action>] <operator> <value>``:

* a latency: ``p50 | p95 | p99 | max`` with an action (``*`` = every action that was sent) and a
  value with unit ``ms`` or ``s`` (a bare number is seconds);
* a counter: ``violations | timeouts | callerrors | count`` with an optional action, or a
  connection figure ``connected | refused | dropped | reconnects``, and a number.

An action that was never sent does not pass a latency threshold silently: it fails, saying so.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

LATENCIES = ("p50", "p95", "p99", "max")
ACTION_COUNTERS = ("violations", "timeouts", "callerrors", "count")
CONNECTION_COUNTERS = ("connected", "refused", "dropped", "reconnects")
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_FORM = re.compile(
    r"^\s*(?P<stat>[a-z0-9]+)\s+(?:(?P<action>[A-Za-z*]+)\s+)?(?P<op><=|>=|==|!=|<|>)\s*"
    r"(?P<value>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>ms|s)?\s*$"
)


@dataclass(frozen=True)
class Threshold:
    text: str
    stat: str
    action: str | None
    op: str
    #: the bound; latencies in milliseconds
    value: float

    def judge(self, figures: Mapping[str, Any]) -> tuple[bool, str]:
        """(holds, what was measured) against :func:`pile_interop.fleet.stats` figures."""
        compare = OPERATORS[self.op]
        if self.stat in CONNECTION_COUNTERS:
            measured = float(figures["connections"].get(self.stat, 0))
            return compare(measured, self.value), f"{self.stat} = {measured:g}"
        actions: Mapping[str, Any] = figures["actions"]
        names = sorted(actions) if self.action in (None, "*") else [self.action]
        if self.stat in ACTION_COUNTERS and self.action is None:
            measured = float(figures["totals"].get(self.stat, 0))
            return compare(measured, self.value), f"{self.stat} = {measured:g}"
        worst: tuple[bool, str] = (True, "")
        seen = []
        for name in names:
            data = actions.get(name)
            if data is None or not data.get("count"):
                return False, f"{name} was never answered, so its {self.stat} is unknown"
            if self.stat in LATENCIES:
                measured = float(data["latency_ms"][self.stat])
                what = f"{self.stat} {name} = {measured:.1f} ms"
            else:
                measured = float(data.get(self.stat, 0))
                what = f"{self.stat} {name} = {measured:g}"
            seen.append(what)
            if not compare(measured, self.value):
                worst = (False, what)
                break
        return (worst[0], worst[1] or "; ".join(seen))


def parse_threshold(text: str) -> Threshold:
    """A :class:`Threshold` from its text; ValueError saying what is wrong."""
    match = _FORM.match(text)
    if match is None:
        raise ValueError(
            "expected '<p50|p95|p99|max> <Action|*> <op> <value>[ms|s]' or "
            "'<violations|timeouts|callerrors|count> [Action] <op> <n>' or "
            "'<connected|refused|dropped|reconnects> <op> <n>'"
        )
    stat, action, op, unit = match["stat"], match["action"], match["op"], match["unit"]
    value = float(match["value"])
    if stat in LATENCIES:
        if action is None:
            raise ValueError(f"{stat} needs an action (or * for every action)")
        value = value if unit == "ms" else value * 1000.0
    elif stat in ACTION_COUNTERS:
        if unit:
            raise ValueError(f"{stat} is a count, it takes no unit")
    elif stat in CONNECTION_COUNTERS:
        if action is not None or unit:
            raise ValueError(f"{stat} is a connection count: '{stat} <op> <n>'")
    else:
        known = ", ".join(LATENCIES + ACTION_COUNTERS + CONNECTION_COUNTERS)
        raise ValueError(f"unknown statistic {stat!r} (known: {known})")
    return Threshold(text.strip(), stat, action, op, value)


def judge_all(
    thresholds: tuple[Threshold, ...] | list[Threshold], figures: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Each threshold with ``passed`` and ``measured``."""
    results = []
    for threshold in thresholds:
        passed, measured = threshold.judge(figures)
        results.append({"threshold": threshold.text, "passed": passed, "measured": measured})
    return results
