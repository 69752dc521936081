"""Negative cases: deliberately invalid CALLs generated with ``hypothesis`` from the OCPP JSON
schemas the ``ocpp`` package ships, and the CALLERROR codes the specification requires.

A ``negative:`` step names an action, a valid base payload and a *mutation*; hypothesis draws
frames that break the action's request schema in that one way, the runner sends each (exactly
as drawn, recorded in the wire log) and checks the SUT's answer. The first frame answered
otherwise is shrunk to the smallest one that still shows the defect.

Mutations and the codes OCPP-J 1.6 §4.2.3 gives for them (where its definitions overlap, every
code they allow is accepted; the case's ``expect_error`` may narrow or widen the set):

* ``missing_required`` — a required field left out: OccurenceConstraintViolation (a field's
  cardinality), ProtocolError ("payload is incomplete") or FormationViolation;
* ``wrong_type`` — a field of another JSON type: TypeConstraintViolation;
* ``too_long`` — a string longer than its maxLength (1.6 CiStringNType):
  TypeConstraintViolation or PropertyConstraintViolation;
* ``bad_enum`` — a value outside the field's enumeration: PropertyConstraintViolation,
  TypeConstraintViolation or FormationViolation;
* ``extra_property`` — a field the schema does not define: FormationViolation (not conform the
  PDU structure).

2.0.1 names FormationViolation FormatViolation and OccurenceConstraintViolation
OccurrenceConstraintViolation: :func:`allowed_codes` translates.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from hypothesis import strategies as st
from ocpp.messages import MessageType, get_validator

#: mutation → the OCPP-J 1.6 error codes that answer it
CODES_16: dict[str, frozenset[str]] = {
    "missing_required": frozenset(
        {"OccurenceConstraintViolation", "ProtocolError", "FormationViolation"}
    ),
    "wrong_type": frozenset({"TypeConstraintViolation"}),
    "too_long": frozenset({"TypeConstraintViolation", "PropertyConstraintViolation"}),
    "bad_enum": frozenset(
        {"PropertyConstraintViolation", "TypeConstraintViolation", "FormationViolation"}
    ),
    "extra_property": frozenset({"FormationViolation"}),
}
#: Frame-level defects: no schema to draw from, one deterministic frame each. What the SUT
#: must do: ``unknown_action`` — answer NotImplemented ("Requested Action is not known by
#: receiver"); ``malformed_json`` (a CALL cut short), ``unknown_result_id`` (a CALLRESULT for a
#: CALL never sent), ``duplicate_unique_id`` (a second CALL reusing the first one's id),
#: ``integer_unique_id`` (a CALL whose id is a JSON number) and ``long_unique_id`` (a CALL whose
#: id is longer than the 36 characters OCPP-J allows) —
#: OCPP-J does not define an answer, so: no crash, the connection stays, and the next valid
#: CALL is answered.
RAW_MUTATIONS = (
    "unknown_action",
    "malformed_json",
    "unknown_result_id",
    "duplicate_unique_id",
    "integer_unique_id",
    "long_unique_id",
)
#: The unique id a receiver answers a frame with when it cannot read the frame's own (the
#: convention of the ``ocpp`` package and of several CSMSs: ``[4,"-1","FormationViolation",…]``).
UNREADABLE_ID = "-1"
#: OCPP-J 1.6 §4.1.x: a unique id is a string of at most 36 characters.
MAX_UNIQUE_ID = 36
#: The action no OCPP version defines (``unknown_action``).
UNKNOWN_ACTION = "PileInteropNoSuchAction"
MUTATIONS = (*CODES_16, *RAW_MUTATIONS)
_RENAMED_201 = {
    "FormationViolation": "FormatViolation",
    "OccurenceConstraintViolation": "OccurrenceConstraintViolation",
}
_JSON_TYPES: dict[str, Any] = {
    "string": st.text(max_size=8),
    "integer": st.integers(min_value=-(10**6), max_value=10**6),
    "number": st.floats(allow_nan=False, allow_infinity=False, width=32),
    "boolean": st.booleans(),
    "object": st.just({}),
    "array": st.just([]),
    "null": st.none(),
}


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz"


def _xs(n: int) -> str:
    return "x" * n


def _not_in(values: frozenset[Any], value: str) -> bool:
    return value not in values


class NoSuchMutation(ValueError):
    """The action's schema offers nothing to break in that way (a broken case)."""


def allowed_codes(mutation: str, version: str) -> frozenset[str]:
    codes = CODES_16.get(mutation, frozenset({"NotImplemented"}))
    if version == "1.6":
        return codes
    return frozenset(_RENAMED_201.get(code, code) for code in codes)


@cache
def request_schema(action: str, version: str) -> dict[str, Any]:
    validator = get_validator(MessageType.Call, action, version)
    schema: dict[str, Any] = validator.schema
    return schema


def _types_of(spec: dict[str, Any]) -> set[str]:
    kind = spec.get("type")
    if isinstance(kind, list):
        return set(kind)
    if isinstance(kind, str):
        return {kind} | ({"number"} if kind == "integer" else set())
    if "enum" in spec:
        return {"string"}
    return set()


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = spec.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        return dict(schema.get("definitions", {}).get(ref.rsplit("/", 1)[-1], {}))
    return spec


@dataclass(frozen=True)
class Mutator:
    """Draws payloads of ``action`` that break its request schema in one way."""

    action: str
    version: str
    base: dict[str, Any]

    def _properties(self) -> dict[str, dict[str, Any]]:
        schema = request_schema(self.action, self.version)
        return {name: _resolve(spec, schema) for name, spec in schema.get("properties", {}).items()}

    def strategy(self, mutation: str) -> st.SearchStrategy[dict[str, Any]]:
        build = getattr(self, f"_{mutation}", None)
        if build is None:
            raise NoSuchMutation(f"unknown mutation {mutation!r} (known: {', '.join(MUTATIONS)})")
        strategy: st.SearchStrategy[dict[str, Any]] = build()
        return strategy

    def _with(self, name: str, value: Any) -> dict[str, Any]:
        return {**self.base, name: value}

    def _typed(self, name: str, json_type: str) -> st.SearchStrategy[dict[str, Any]]:
        """The base payload with ``name`` set to a value of ``json_type``."""
        strategy: st.SearchStrategy[Any] = _JSON_TYPES[json_type]
        return strategy.map(partial(self._with, name))

    def _missing_required(self) -> st.SearchStrategy[dict[str, Any]]:
        required = [r for r in request_schema(self.action, self.version).get("required", [])]
        if not required:
            raise NoSuchMutation(f"{self.action} has no required field")
        return st.sampled_from(required).map(
            lambda name: {k: v for k, v in self.base.items() if k != name}
        )

    def _wrong_type(self) -> st.SearchStrategy[dict[str, Any]]:
        choices = []
        for name, spec in self._properties().items():
            allowed = _types_of(spec)
            others = [t for t in _JSON_TYPES if t not in allowed]
            if allowed and others:
                choices.append(st.sampled_from(others).flatmap(partial(self._typed, name)))
        if not choices:
            raise NoSuchMutation(f"{self.action} has no typed field")
        return st.one_of(choices)

    def _too_long(self) -> st.SearchStrategy[dict[str, Any]]:
        choices = []
        for name, spec in self._properties().items():
            limit = spec.get("maxLength")
            if isinstance(limit, int):
                too_long = st.integers(min_value=limit + 1, max_value=limit + 40).map(_xs)
                choices.append(too_long.map(partial(self._with, name)))
        if not choices:
            raise NoSuchMutation(f"{self.action} has no field with a maxLength")
        return st.one_of(choices)

    def _bad_enum(self) -> st.SearchStrategy[dict[str, Any]]:
        choices = []
        for name, spec in self._properties().items():
            values = spec.get("enum")
            if isinstance(values, list):
                words = st.text(alphabet=_LETTERS, min_size=1, max_size=12)
                outside = words.filter(partial(_not_in, frozenset(values)))
                choices.append(outside.map(partial(self._with, name)))
        if not choices:
            raise NoSuchMutation(f"{self.action} has no enumerated field")
        return st.one_of(choices)

    def _extra_property(self) -> st.SearchStrategy[dict[str, Any]]:
        schema = request_schema(self.action, self.version)
        if schema.get("additionalProperties", True) is not False:
            raise NoSuchMutation(f"{self.action} allows additional properties")
        known = set(schema.get("properties", {}))
        names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10).filter(
            lambda n: n not in known
        )
        return st.tuples(names, _JSON_TYPES["string"] | _JSON_TYPES["integer"]).map(
            lambda nv: {**self.base, nv[0]: nv[1]}
        )


def frame_text(unique_id: str, action: str, payload: dict[str, Any]) -> str:
    """The CALL exactly as it goes on the wire (compact JSON, as OCPP-J frames are)."""
    return json.dumps([2, unique_id, action, payload], separators=(",", ":"))


def malformed_text(unique_id: str, action: str, payload: dict[str, Any]) -> str:
    """A CALL cut short in the middle of its payload: not JSON."""
    text = frame_text(unique_id, action, payload)
    return text[: max(len(text) - 2, 10)]


def integer_id_text(action: str, payload: dict[str, Any]) -> tuple[str, int]:
    """A CALL whose unique id is a JSON number (OCPP-J requires a string), and that number."""
    number = int(uuid.uuid4().int % 10**9) + 1
    return json.dumps([2, number, action, payload], separators=(",", ":")), number


def long_id_text(action: str, payload: dict[str, Any]) -> tuple[str, str]:
    """A CALL whose unique id is one character longer than OCPP-J allows, and that id."""
    unique_id = (str(uuid.uuid4()) + "-" + uuid.uuid4().hex)[: MAX_UNIQUE_ID + 1]
    return frame_text(unique_id, action, payload), unique_id


def result_text(unique_id: str) -> str:
    return json.dumps([3, unique_id, {}], separators=(",", ":"))
