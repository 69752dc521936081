"""The device descriptor's id tokens fit their declared type (OCPP 2.0.1 IdTokenEnumType):
an ISO14443 UID is 8 or 14 hex digits, an ISO15693 one 16; the loader warns otherwise."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pile_interop.core.config import load_device, token_problems

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted((ROOT / "fixtures/devices").glob("*.yaml"))


def descriptor(tmp_path: Path, token_type: str, **tokens: str) -> Path:
    lines = ["role: cs", 'ocpp: "2.0.1"', "actuator: {type: prompt}"]
    if token_type:
        lines.append(f"token_type: {token_type}")
    lines.append("tokens:")
    lines += [f'  {name}: "{value}"' for name, value in tokens.items()]
    path = tmp_path / "device.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("token_type", "value", "ok"),
    [
        ("ISO14443", "04A2B3C4", True),
        ("ISO14443", "04a2b3c4d5e6f7", True),
        ("ISO14443", "04A2B3C4D5", False),  # 10 digits
        ("ISO14443", "PI-VALID-01", False),
        ("ISO15693", "E004010012345678", True),
        ("ISO15693", "04A2B3C4D5E6F7", False),
        ("Central", "PI-VALID-01", True),  # no format to check
        ("", "anything", True),
    ],
)
def test_token_problems(token_type, value, ok):
    assert (token_problems({"valid": value}, token_type) == []) is ok


def test_the_loader_warns_about_a_token_that_does_not_fit(tmp_path, caplog):
    path = descriptor(tmp_path, "ISO14443", valid="04A2B3C4D5E6F7", invalid="PI-INVALID")
    with caplog.at_level(logging.WARNING, logger="pile_interop.core.config"):
        device = load_device(path)
    assert device.token_type == "ISO14443"
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "invalid = 'PI-INVALID'" in warning and "8 or 14 hex digits" in warning
    assert str(path) in warning


def test_an_unknown_token_type_is_a_load_error(tmp_path):
    from pile_interop.core.errors import ConfigError

    with pytest.raises(ConfigError):
        load_device(descriptor(tmp_path, "RFID", valid="04A2B3C4"))


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_the_shipped_descriptors_tokens_fit_their_type(path):
    device = load_device(path)
    assert token_problems(device.tokens, device.token_type) == []


PROFILES_201 = sorted((ROOT / "profiles/ocpp201").glob("*.yaml"))


@pytest.mark.parametrize("path", PROFILES_201, ids=[p.name for p in PROFILES_201])
def test_the_shipped_201_profiles_tokens_fit_their_type(path, caplog):
    from pile_interop.core.config import DEFAULT_TOKEN_TYPE_201, load_profile

    with caplog.at_level(logging.WARNING, logger="pile_interop.core.config"):
        profile = load_profile(path)
    token_type = str(profile.params.get("token_type", DEFAULT_TOKEN_TYPE_201))
    assert token_problems(profile.tokens, token_type) == []
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


def test_a_201_descriptor_without_a_type_is_checked_as_the_run_sends_its_tokens(tmp_path):
    from pile_interop.core.config import load_profile, run_token_problems

    device = load_device(descriptor(tmp_path, "", valid="04A2B3C4", invalid="PI-INVALID"))
    profile = load_profile(ROOT / "profiles/ocpp201/core-cs.yaml")  # params.token_type ISO14443
    (problem,) = run_token_problems(profile, device)
    assert "invalid = 'PI-INVALID'" in problem and "ISO14443" in problem
    profile16 = load_profile(ROOT / "profiles/ocpp16/core-cs.yaml")
    assert run_token_problems(profile16, device) == []  # 1.6 idTags have no type


def test_make_campaign_warns_about_a_201_token_that_does_not_fit(tmp_path, caplog):
    from pile_interop.core.config import load_profile
    from pile_interop.engine.base import Target
    from pile_interop.engine.targets import make_campaign

    path = descriptor(tmp_path, "", valid="PI-VALID-01")
    profile = load_profile(ROOT / "profiles/ocpp201/core-cs.yaml")
    with caplog.at_level(logging.WARNING, logger="pile_interop.engine.targets"):
        make_campaign(profile, load_device(path), Target("listen"))
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "valid = 'PI-VALID-01'" in warning and str(path) in warning
