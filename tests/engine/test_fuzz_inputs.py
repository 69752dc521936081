"""Any input a user can give gives a result or a clean ConfigError naming the file, never an
unhandled exception (hypothesis over YAML text and over structured documents)."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pile_interop.core.config import load_device, load_profile
from pile_interop.core.errors import ConfigError
from pile_interop.scenario.loader import load_scenario, load_states

ROOT = Path(__file__).resolve().parents[2]
CASE_TEXT = (ROOT / "conformance/ocpp16/cs/TC_012_CS.yaml").read_text()
PROFILE_TEXT = (ROOT / "profiles/ocpp16/core-cs.yaml").read_text()
DEVICE_TEXT = (ROOT / "fixtures/devices/reference-station16.yaml").read_text()
STATES = load_states(ROOT / "conformance/ocpp16/cs/_states.yaml")

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12)
)
documents = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=25,
)


def mutate(text: str, data: st.DataObject) -> str:
    """Cut, duplicate or overwrite a piece of a real file."""
    i = data.draw(st.integers(0, len(text)))
    j = data.draw(st.integers(i, min(len(text), i + 40)))
    insert = data.draw(
        st.text(max_size=20) | st.sampled_from(["{", "[", ":", "- ", "\t", "&a", "*a"])
    )
    return text[:i] + insert + text[j:]


def check_loader(load, path: Path) -> None:
    try:
        load(path)
    except ConfigError as exc:
        assert str(exc).startswith(str(path)), str(exc)
        assert "\n" not in str(exc).strip() or "YAML" in str(exc)


@FUZZ
@given(st.data())
def test_a_damaged_case_file_loads_or_says_where_it_is_wrong(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("c") / "TC_012_CS.yaml"
    path.write_text(mutate(CASE_TEXT, data), encoding="utf-8")
    check_loader(lambda p: load_scenario(p, STATES), path)


@FUZZ
@given(documents)
def test_any_yaml_document_as_a_case(tmp_path_factory, document):
    path = tmp_path_factory.mktemp("c") / "TC_900_CS.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    check_loader(lambda p: load_scenario(p, STATES), path)


@FUZZ
@given(st.data())
def test_a_damaged_profile_loads_or_says_where_it_is_wrong(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("p") / "core-cs.yaml"
    path.write_text(mutate(PROFILE_TEXT, data), encoding="utf-8")
    check_loader(load_profile, path)


@FUZZ
@given(st.data())
def test_a_damaged_device_descriptor_loads_or_says_where_it_is_wrong(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("d") / "device.yaml"
    path.write_text(mutate(DEVICE_TEXT, data), encoding="utf-8")
    check_loader(load_device, path)


@FUZZ
@given(documents)
def test_any_yaml_document_as_a_device_or_profile(tmp_path_factory, document):
    folder = tmp_path_factory.mktemp("x")
    path = folder / "doc.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    check_loader(load_device, path)
    check_loader(load_profile, path)


@FUZZ
@given(st.binary(max_size=200))
def test_binary_garbage_is_a_clean_error(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("b") / "TC_901_CS.yaml"
    path.write_bytes(blob)
    check_loader(load_device, path)
    check_loader(lambda p: load_scenario(p, STATES), path)
