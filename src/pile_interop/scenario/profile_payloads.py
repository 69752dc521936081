"""Charging profiles written in a case, checked at load: a ``send`` of SetChargingProfile,
RemoteStartTransaction (1.6) or RequestStartTransaction (2.0.1) whose payload breaks the
message's OCPP JSON schema is refused with the file and the line of the offending value.

Only what the case wrote literally is judged: a value that is (or contains) a template, and an
error about a part of the payload that holds one, is left to the run. A step that expects a
CALLERROR (``expect_error``) sends an invalid payload on purpose and is not checked.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Iterable
from typing import Any

from ocpp.messages import MessageType, get_validator

from pile_interop.core.errors import ConfigError
from pile_interop.core.yamlfile import YamlDocument

#: the actions that carry a charging profile, by the case's OCPP version
PROFILE_ACTIONS = {
    "1.6": ("SetChargingProfile", "RemoteStartTransaction"),
    "2.0.1": ("SetChargingProfile", "RequestStartTransaction"),
}


def _templated(value: Any) -> bool:
    if isinstance(value, str):
        return "{" in value.replace("{{", "")
    if isinstance(value, dict):
        return any(k.startswith("$") for k in value) or any(map(_templated, value.values()))
    if isinstance(value, list):
        return any(map(_templated, value))
    return False


def check_steps(doc: YamlDocument, version: str, section: str, items: Iterable[Any]) -> None:
    """Raise ConfigError (file:line) for the first literal charging-profile payload of the
    ``section``'s steps that breaks its schema."""
    actions = PROFILE_ACTIONS.get(version, ())
    for index, step in enumerate(items):
        if step.get("send") not in actions or "expect_error" in step:
            continue
        payload = step.get("payload")
        if not isinstance(payload, dict):
            continue
        # decimals, as the ocpp package judges them: 6.3 is a multiple of 0.1
        validator = get_validator(
            MessageType.Call, step["send"], version, parse_float=decimal.Decimal
        )
        exact = json.loads(json.dumps(payload, default=str), parse_float=decimal.Decimal)
        for error in validator.iter_errors(exact):
            if _templated(error.instance):
                continue
            path = list(error.absolute_path)
            where = "/".join(str(p) for p in path) or "(payload)"
            raise ConfigError(
                doc.path,
                f"{step['send']} payload {where}: {error.message} (OCPP {version} schema)",
                doc.line(section, index, "payload", *path) or doc.line(section, index),
            )
