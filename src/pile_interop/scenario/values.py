"""Templates (``{tokens.valid}``) and payload matching (subset + ``$`` operators).

Templates: a string that is exactly one ``{expr}`` becomes the value itself (an int stays an
int); otherwise every ``{expr}`` is replaced by its text. ``{{`` and ``}}`` are literal braces.
``expr`` is a dotted path with optional ``[index]``: ``tx.reply.transactionId``,
``device.station_id``, ``params.heartbeat_interval``, ``later.60`` (a date-time 60 s from now),
optionally converted with ``|str`` or ``|int`` (``{params.heartbeat_interval|str}`` for a
configuration value, which is text), or ``|next``, the integer after it (one past a limit the
SUT reported).
A mapping ``{$repeat: item, $times: n, $plus: k}`` becomes a list of ``n + k`` copies of
``item`` (``n`` may be a template: a request sized from a limit the SUT reported), each
rendered with ``{i}`` = its number (1, 2, …).

Matching: ``expected`` is a subset of ``actual``. A mapping whose keys start with ``$`` is an
operator: ``$in``, ``$nin``, ``$ne``, ``$gt``, ``$gte``, ``$lt``, ``$lte``, ``$exists``,
``$regex``, ``$type``, ``$len``, ``$contains`` (a list element matches), ``$each`` (every list
element matches), ``$all`` (every listed pattern is matched by some element), ``$or`` (some
listed pattern matches the value; ``{$exists: false}`` among them allows absence).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pile_interop.core.verdicts import HarnessError

_PATH = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+|\[\d+\])*(?:\|(?:str|int|next))?"
_EXPR = re.compile(r"\{\{|\}\}|\{(" + _PATH + r")\}")
_WHOLE = re.compile(r"^\{(" + _PATH + r")\}$")
_PART = re.compile(r"\.([A-Za-z0-9_]+)|\[(\d+)\]")


class SecondsAhead(Mapping[str, Any]):
    """``{later.N}``: the date-time ``N`` seconds from the moment the template is rendered, in
    the run's next date-time form (an expiry a SUT's clock sees ahead of it)."""

    def __init__(self, date_time: Callable[[Any], str]) -> None:
        self._date_time = date_time

    def __getitem__(self, key: str) -> str:
        if not key.isdigit():
            raise KeyError(key)
        return self._date_time(datetime.now(UTC) + timedelta(seconds=int(key)))

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


class TemplateError(Exception):
    """A template names something that is not there."""


class TemplateFault(HarnessError):
    """A case's template or match pattern could not be used (an undefined name, a bad
    ``$``-operator argument): the case's fault, an ``error`` naming the case file and step,
    never the SUT's."""


#: The keys of a ``$repeat`` mapping (``$plus`` is optional).
REPEAT_KEYS = frozenset({"$repeat", "$times", "$plus"})
#: The most copies a ``$repeat`` makes (a bound on the request a case builds).
MAX_REPEAT = 10_000


def _repeat(value: dict[str, Any], scope: Mapping[str, Any]) -> list[Any]:
    """``{$repeat: item, $times: n, $plus: k}``: ``n + k`` copies of ``item``, rendered."""
    times = render(value["$times"], scope)
    plus = render(value.get("$plus", 0), scope)
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (times, plus)):
        raise TemplateError(f"$repeat: $times {times!r} and $plus {plus!r} must be integers")
    count = times + plus
    if not 0 <= count <= MAX_REPEAT:
        raise TemplateError(f"$repeat: {count} copies (0 to {MAX_REPEAT} allowed)")
    # each copy is rendered with {i} = its number (1…): "PI-LL-{i}" makes distinct idTags
    return [render(value["$repeat"], {**scope, "i": n}) for n in range(1, count + 1)]


def _resolve(expr: str, scope: Mapping[str, Any]) -> Any:
    expr, _, convert = expr.partition("|")
    value = _lookup(expr, scope)
    if convert == "str":
        return "true" if value is True else "false" if value is False else str(value)
    if convert in ("int", "next"):
        try:
            return int(value) + (convert == "next")
        except (TypeError, ValueError):
            raise TemplateError(f"{{{expr}|{convert}}}: {value!r} is not an integer") from None
    return value


def _lookup(expr: str, scope: Mapping[str, Any]) -> Any:
    root = re.match(r"[A-Za-z_][A-Za-z0-9_]*", expr)
    assert root is not None
    name = root.group(0)
    if name not in scope:
        known = ", ".join(sorted(scope))
        raise TemplateError(f"{{{expr}}}: unknown name {name!r} (known: {known})")
    value = scope[name]
    if callable(value):
        value = value()
    for key, index in _PART.findall(expr[len(name) :]):
        try:
            if index:
                value = value[int(index)]
            elif isinstance(value, Mapping):
                value = value[key]
            else:
                raise KeyError(key)
        except (KeyError, IndexError, TypeError):
            raise TemplateError(f"{{{expr}}}: {key or index!r} not found") from None
        if callable(value):  # a value made when a case asks for it (e.g. a signed CSR)
            value = value()
    return value


def render(value: Any, scope: Mapping[str, Any]) -> Any:
    """``value`` with every template resolved against ``scope``."""
    if isinstance(value, str):
        whole = _WHOLE.match(value)
        if whole:
            return _resolve(whole.group(1), scope)

        def sub(m: re.Match[str]) -> str:
            if m.group(0) == "{{":
                return "{"
            if m.group(0) == "}}":
                return "}"
            return str(_resolve(m.group(1), scope))

        return _EXPR.sub(sub, value)
    if isinstance(value, dict):
        if "$repeat" in value and "$times" in value and set(value) <= REPEAT_KEYS:
            return _repeat(value, scope)
        return {k: render(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, scope) for v in value]
    return value


def template_roots(value: Any) -> set[str]:
    """The first names of every template in ``value`` (to check them when a case loads)."""
    found: set[str] = set()
    if isinstance(value, str):
        for m in _EXPR.finditer(value):
            if m.group(1):
                found.add(re.split(r"[.[|]", m.group(1), maxsplit=1)[0])
    elif isinstance(value, dict):
        for v in value.values():
            found |= template_roots(v)
    elif isinstance(value, list):
        for v in value:
            found |= template_roots(v)
    return found


# -- matching -------------------------------------------------------------------------------

_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}

_MISSING = object()


def _show(value: Any) -> str:
    if value is _MISSING:
        return "absent"
    text = repr(value)
    return text if len(text) <= 120 else text[:119] + "…"


def _equal(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return float(expected) == float(actual)
    return bool(expected == actual)


def _is_operator(value: Any) -> bool:
    # unknown "$" keys are refused when a case loads; here they are plain keys
    return isinstance(value, dict) and bool(value) and all(k in KNOWN_OPERATORS for k in value)


def _compare(op: str, bound: Any, actual: Any) -> bool:
    try:
        if op == "$gt":
            return bool(actual > bound)
        if op == "$gte":
            return bool(actual >= bound)
        if op == "$lt":
            return bool(actual < bound)
        return bool(actual <= bound)
    except TypeError:
        return False


def _operator(op: str, arg: Any, actual: Any, path: str) -> list[str]:
    where = path or "(payload)"
    if op == "$exists":
        present = actual is not _MISSING
        return (
            []
            if present == bool(arg)
            else [f"{where}: expected {'present' if arg else 'absent'}, got {_show(actual)}"]
        )
    if op == "$or":  # some listed pattern matches (``{$exists: false}`` allows absence)
        if any(not mismatches(p, actual, path) for p in arg):
            return []
        return [f"{where}: matches none of {_show(arg)}, got {_show(actual)}"]
    if actual is _MISSING:
        return [f"{where}: expected {op} {_show(arg)}, got absent"]
    if op == "$in":
        ok = any(_equal(a, actual) for a in arg)
        return [] if ok else [f"{where}: expected one of {_show(arg)}, got {_show(actual)}"]
    if op == "$nin":
        ok = not any(_equal(a, actual) for a in arg)
        return [] if ok else [f"{where}: expected none of {_show(arg)}, got {_show(actual)}"]
    if op == "$ne":
        return [] if not _equal(arg, actual) else [f"{where}: expected not {_show(arg)}"]
    if op in ("$gt", "$gte", "$lt", "$lte"):
        symbol = {"$gt": ">", "$gte": "≥", "$lt": "<", "$lte": "≤"}[op]
        ok = _compare(op, arg, actual)
        return [] if ok else [f"{where}: expected {symbol} {_show(arg)}, got {_show(actual)}"]
    if op == "$regex":
        ok = isinstance(actual, str) and re.search(str(arg), actual) is not None
        return [] if ok else [f"{where}: expected to match /{arg}/, got {_show(actual)}"]
    if op == "$type":
        check = _TYPES.get(str(arg))
        if check is None:
            raise ValueError(f"$type: unknown type {arg!r}")
        return [] if check(actual) else [f"{where}: expected a {arg}, got {_show(actual)}"]
    if op == "$len":
        ok = hasattr(actual, "__len__") and len(actual) == arg
        return [] if ok else [f"{where}: expected length {arg}, got {_show(actual)}"]
    if op in ("$contains", "$each", "$all"):
        if not isinstance(actual, list):
            return [f"{where}: expected a list, got {_show(actual)}"]
        if op == "$contains":
            if any(not mismatches(arg, item, path) for item in actual):
                return []
            return [f"{where}: no element matches {_show(arg)} (got {_show(actual)})"]
        if op == "$each":
            for i, item in enumerate(actual):
                problems = mismatches(arg, item, f"{path}[{i}]")
                if problems:
                    return problems
            return []
        missing = [p for p in arg if all(mismatches(p, item, path) for item in actual)]
        return (
            []
            if not missing
            else [f"{where}: no element matches {_show(p)} (got {_show(actual)})" for p in missing]
        )
    raise ValueError(f"unknown match operator {op!r}")


def mismatches(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Why ``actual`` does not match ``expected`` (empty list when it matches)."""
    if _is_operator(expected):
        problems: list[str] = []
        for op, arg in expected.items():
            problems.extend(_operator(op, arg, actual, path))
        return problems
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path or '(payload)'}: expected an object, got {_show(actual)}"]
        problems = []
        for key, want in expected.items():
            sub = f"{path}.{key}" if path else key
            problems.extend(mismatches(want, actual.get(key, _MISSING), sub))
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path or '(payload)'}: expected {_show(expected)}, got {_show(actual)}"]
        problems = []
        for i, (want, got) in enumerate(zip(expected, actual, strict=True)):
            problems.extend(mismatches(want, got, f"{path}[{i}]"))
        return problems
    if actual is _MISSING or not _equal(expected, actual):
        return [f"{path or '(payload)'}: expected {_show(expected)}, got {_show(actual)}"]
    return []


def operators_in(value: Any) -> Iterable[str]:
    """Every ``$`` operator used in a match pattern (to check them when a case loads)."""
    if isinstance(value, dict):
        for key, sub in value.items():
            if isinstance(key, str) and key.startswith("$"):
                yield key
            yield from operators_in(sub)
    elif isinstance(value, list):
        for sub in value:
            yield from operators_in(sub)


KNOWN_OPERATORS = frozenset(
    {
        "$in",
        "$nin",
        "$ne",
        "$gt",
        "$gte",
        "$lt",
        "$lte",
        "$exists",
        "$regex",
        "$type",
        "$len",
        "$contains",
        "$each",
        "$all",
        "$or",
    }
)
