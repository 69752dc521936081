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
