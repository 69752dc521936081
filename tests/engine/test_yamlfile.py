from __future__ import annotations

from pathlib import Path

import pytest

from pile_interop.core.config import load_device, load_profile
from pile_interop.core.errors import ConfigError
from pile_interop.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path, "TC_900_CS.yaml", "id: TC_900_CS\ntitle: [unclosed\nocpp: '1.6'\n")
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert str(err.value).startswith(f"{path}:4: malformed YAML") or f"{path}:" in str(err.value)
    assert err.value.line is not None


def test_a_schema_error_names_the_line_of_the_bad_value(tmp_path):
    path = write(
        tmp_path,
        "TC_901_CS.yaml",
        "id: TC_901_CS\ntitle: x\nocpp: '1.6'\nsut: cs\nrequirements: [{id: a, text: b}]\n"
        "steps:\n  - act: plug_in\n  - expect: StatusNotification\n    timeout: 12\n",
    )
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert err.value.line == 9
    assert "timeout" in str(err.value)


def test_an_unknown_act_is_refused_with_its_line(tmp_path):
    path = write(
        tmp_path,
        "TC_902_CS.yaml",
        "id: TC_902_CS\ntitle: x\nocpp: '1.6'\nsut: cs\nrequirements: [{id: a, text: b}]\n"
        "steps:\n  - act: dance\n",
    )
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert err.value.line == 7


def test_the_id_must_be_the_file_name(tmp_path):
    path = write(
        tmp_path,
        "TC_903_CS.yaml",
        "id: TC_999_CS\ntitle: x\nocpp: '1.6'\nsut: cs\nrequirements: [{id: a, text: b}]\n"
        "steps:\n  - wait: response\n",
    )
    with pytest.raises(ConfigError, match="differs from the file name"):
        load_scenario(path)


def test_an_unknown_template_name_is_refused_at_load(tmp_path):
    path = write(
        tmp_path,
        "TC_904_CS.yaml",
        "id: TC_904_CS\ntitle: x\nocpp: '1.6'\nsut: cs\nrequirements: [{id: a, text: b}]\n"
        "steps:\n  - expect: Authorize\n    match: {idTag: '{tokenz.valid}'}\n",
    )
    with pytest.raises(ConfigError, match="tokenz") as err:
        load_scenario(path)
    assert err.value.line == 7


def test_an_unknown_match_operator_is_refused(tmp_path):
    path = write(
        tmp_path,
        "TC_905_CS.yaml",
        "id: TC_905_CS\ntitle: x\nocpp: '1.6'\nsut: cs\nrequirements: [{id: a, text: b}]\n"
        "steps:\n  - expect: Authorize\n    match: {idTag: {$like: x}}\n",
    )
    with pytest.raises(ConfigError, match=r"\$like"):
        load_scenario(path)


def test_an_unknown_before_state_lists_the_known_ones(tmp_path):
    path = write(
        tmp_path,
        "TC_906_CS.yaml",
        "id: TC_906_CS\ntitle: x\nocpp: '1.6'\nsut: cs\nrequirements: [{id: a, text: b}]\n"
        "before: {state: flying}\nsteps:\n  - wait: response\n",
    )
    with pytest.raises(ConfigError, match="unknown before-state 'flying'"):
        load_scenario(path)


def test_a_device_with_an_unknown_actuator_names_the_line(tmp_path):
    path = write(tmp_path, "dev.yaml", "role: cs\nocpp: '1.6'\nactuator:\n  type: telepathy\n")
    with pytest.raises(ConfigError) as err:
        load_device(path)
    assert err.value.line == 4
    assert "telepathy" in str(err.value)


def test_a_webhook_actuator_needs_a_url(tmp_path):
    path = write(tmp_path, "dev.yaml", "role: cs\nocpp: '1.6'\nactuator: {type: webhook}\n")
    with pytest.raises(ConfigError, match="url"):
        load_device(path)


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_device(tmp_path / "absent.yaml")


def test_every_shipped_profile_device_and_case_loads():
    from pile_interop.scenario.loader import CaseLibrary

    for path in (ROOT / "profiles").rglob("*.yaml"):
        if path.relative_to(ROOT / "profiles").parts[0] != "fleet":  # fleet behaviours
            load_profile(path)
    for path in (ROOT / "fixtures" / "devices").glob("*.yaml"):
        load_device(path)
    assert CaseLibrary(ROOT / "conformance").load_all()
