"""The negative-case generator: every frame it draws breaks the action's schema in the named
way, and the codes it accepts follow OCPP-J 1.6 §4.2.3 (and 2.0.1's spelling)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pile_interop.ocpp.schemas import violations
from pile_interop.scenario.negative import (
    MUTATIONS,
    Mutator,
    NoSuchMutation,
    allowed_codes,
    frame_text,
)

BASES = {
    "ChangeConfiguration": {"key": "PileInteropNoSuchKey", "value": "true"},
    "StatusNotification": {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
    "BootNotification": {"chargePointVendor": "pile-interop", "chargePointModel": "M"},
    "Heartbeat": {},
}
#: the jsonschema keyword each mutation must trip
KEYWORD = {
    "missing_required": "is a required property",
    "wrong_type": "is not of type",
    "too_long": "is too long",
    "bad_enum": "is not one of",
    "extra_property": "Additional properties are not allowed",
}


def _mutator_strategies():
    found = []
    for action, base in BASES.items():
        for mutation in MUTATIONS:
            try:
                Mutator(action, "1.6", base).strategy(mutation)
            except NoSuchMutation:
                continue
            found.append((action, mutation))
    return found


@pytest.mark.parametrize(("action", "mutation"), _mutator_strategies())
def test_every_drawn_payload_breaks_the_schema_the_named_way(action, mutation):
    strategy = Mutator(action, "1.6", BASES[action]).strategy(mutation)

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def check(payload):
        problems = violations(2, action, payload, "1.6")
        assert problems, payload
        assert any(KEYWORD[mutation] in p for p in problems), problems

    check()


def test_an_action_without_such_a_field_is_a_broken_case():
    with pytest.raises(NoSuchMutation):
        Mutator("Heartbeat", "1.6", {}).strategy("missing_required")
    with pytest.raises(NoSuchMutation):
        Mutator("Heartbeat", "1.6", {}).strategy("no_such_mutation")


def test_codes_follow_the_spec_and_its_201_spelling():
    assert allowed_codes("wrong_type", "1.6") == {"TypeConstraintViolation"}
    assert allowed_codes("extra_property", "1.6") == {"FormationViolation"}
    assert allowed_codes("extra_property", "2.0.1") == {"FormatViolation"}
    assert "OccurrenceConstraintViolation" in allowed_codes("missing_required", "2.0.1")


@given(st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))
def test_the_frame_is_compact_json_of_the_payload(payload):
    import json

    assert json.loads(frame_text("u-1", "Heartbeat", payload)) == [2, "u-1", "Heartbeat", payload]
