from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pile_interop.scenario.values import TemplateError, mismatches, render, template_roots

SCOPE = {"tokens": {"valid": "ABC"}, "n": 3, "tx": {"reply": {"transactionId": 7}}, "lst": [1, 2]}


def test_a_whole_template_keeps_the_native_type():
    assert render("{tx.reply.transactionId}", SCOPE) == 7
    assert render("{lst[1]}", SCOPE) == 2


def test_templates_inside_text_become_text_and_double_braces_are_literal():
    assert render("id={tokens.valid} n={n} {{x}}", SCOPE) == "id=ABC n=3 {x}"


def test_render_walks_mappings_and_lists():
    assert render({"a": ["{n}", {"b": "{tokens.valid}"}]}, SCOPE) == {"a": [3, {"b": "ABC"}]}


def test_an_unknown_name_says_which_names_exist():
    with pytest.raises(TemplateError, match=r"unknown name 'nope' \(known: lst, n, tokens, tx\)"):
        render("{nope}", SCOPE)


def test_a_missing_key_is_a_template_error():
    with pytest.raises(TemplateError, match="'missing' not found"):
        render("{tx.missing}", SCOPE)


def test_template_roots_lists_first_names():
    assert template_roots({"a": "{tx.reply.x} {n}", "b": ["{{literal}}"]}) == {"tx", "n"}


def test_a_subset_matches_and_extra_fields_are_ignored():
    assert mismatches({"status": "Preparing"}, {"status": "Preparing", "connectorId": 1}) == []


def test_a_mismatch_names_the_path_the_expected_and_the_actual_value():
    problems = mismatches(
        {"idTagInfo": {"status": "Accepted"}}, {"idTagInfo": {"status": "Blocked"}}
    )
    assert problems == ["idTagInfo.status: expected 'Accepted', got 'Blocked'"]


def test_an_absent_field_is_reported_as_absent():
    assert mismatches({"meterStop": 1}, {}) == ["meterStop: expected 1, got absent"]


def test_numbers_compare_by_value_but_booleans_are_not_numbers():
    assert mismatches({"a": 1}, {"a": 1.0}) == []
    assert mismatches({"a": 1}, {"a": True}) != []


@pytest.mark.parametrize(
    ("pattern", "value", "ok"),
    [
        ({"$in": ["A", "B"]}, "B", True),
        ({"$in": ["A", "B"]}, "C", False),
        ({"$nin": ["A"]}, "B", True),
        ({"$ne": 0}, 0, False),
        ({"$gte": 5}, 5, True),
        ({"$gt": 5}, 5, False),
        ({"$lt": 5}, "x", False),
        ({"$lte": 5}, 4, True),
        ({"$regex": "^TC_"}, "TC_001", True),
        ({"$type": "integer"}, 1.5, False),
        ({"$len": 2}, [1, 2], True),
        ({"$contains": {"key": "X"}}, [{"key": "Y"}, {"key": "X"}], True),
        ({"$contains": {"key": "Z"}}, [{"key": "Y"}], False),
        (
            {"$each": {"readonly": {"$type": "boolean"}}},
            [{"readonly": True}, {"readonly": 1}],
            False,
        ),
        ({"$all": [{"key": "A"}, {"key": "B"}]}, [{"key": "B"}, {"key": "A"}], True),
        ({"$all": [{"key": "A"}, {"key": "C"}]}, [{"key": "B"}, {"key": "A"}], False),
    ],
)
def test_operators(pattern, value, ok):
    assert (mismatches({"v": pattern}, {"v": value}) == []) is bool(ok)


def test_exists_false_accepts_absence_only():
    assert mismatches({"v": {"$exists": False}}, {}) == []
    assert mismatches({"v": {"$exists": False}}, {"v": None}) != []


# keys starting with "$" are match operators (no OCPP or GB/T 27930 field starts with one)
plain_keys = st.text(max_size=4).filter(lambda k: not k.startswith("$"))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(plain_keys, children, max_size=3)
    ),
    max_leaves=10,
)


@given(json_values)
def test_every_value_matches_itself(value):
    assert mismatches(value, value) == []


@given(st.dictionaries(plain_keys, json_values, max_size=4), st.data())
def test_every_sub_mapping_matches(mapping, data):
    keys = data.draw(
        st.lists(st.sampled_from(sorted(mapping)) if mapping else st.nothing(), unique=True)
    )
    subset = {k: mapping[k] for k in keys}
    assert mismatches(subset, mapping) == []


def test_or_matches_when_some_pattern_does_and_can_allow_absence():
    either = {"key": {"$or": [{"$exists": False}, {"$len": 0}]}}
    assert mismatches(either, {}) == []
    assert mismatches(either, {"key": []}) == []
    (problem,) = mismatches(either, {"key": ["HeartbeatInterval"]})
    assert problem.startswith("key: matches none of")


def test_repeat_makes_a_list_sized_from_a_template():
    scope = {"limit": {"reply": {"value": "3"}}}
    item = {"component": {"name": "C"}, "variable": {"name": "{limit.reply.value}"}}
    made = render({"$repeat": item, "$times": "{limit.reply.value|int}", "$plus": 1}, scope)
    assert made == [{"component": {"name": "C"}, "variable": {"name": "3"}}] * 4
    assert render({"$repeat": "x", "$times": 2}, scope) == ["x", "x"]
    assert render({"$repeat": "x", "other": 2}, scope) == {"$repeat": "x", "other": 2}
    with pytest.raises(TemplateError, match="must be integers"):
        render({"$repeat": "x", "$times": "{limit.reply.value}"}, scope)
    with pytest.raises(TemplateError, match="copies"):
        render({"$repeat": "x", "$times": 10**6}, scope)


def test_next_is_the_integer_after_a_value():
    assert render("{limit|next}", {"limit": "3"}) == 4
    with pytest.raises(TemplateError, match=r"\|next"):
        render("{limit|next}", {"limit": "three"})


def test_repeat_numbers_each_copy_with_i():
    made = render({"$repeat": {"idTag": "PI-LL-{i}"}, "$times": 2, "$plus": 1}, {})
    assert made == [{"idTag": "PI-LL-1"}, {"idTag": "PI-LL-2"}, {"idTag": "PI-LL-3"}]
