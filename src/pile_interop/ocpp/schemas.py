"""Check payloads against the OCPP JSON schemas that ship with the ``ocpp`` package.

Unlike ``ocpp.messages.validate_payload`` this never raises: it lists every violation, because
a violation by the SUT is a finding for the report, not a crash of the harness.
"""

from __future__ import annotations

import decimal
import json
import logging
from functools import cache
from typing import Any

from jsonschema import Draft4Validator, FormatChecker
from ocpp.messages import MessageType, get_validator

log = logging.getLogger(__name__)

#: Formats the OCPP schemas use that a SUT must honour (RFC 3339 time stamps). jsonschema
#: ignores ``format`` unless told; ``uri`` is left out (vendors use relative locations).
_FORMATS = FormatChecker(formats=["date-time"])

#: 1.6 schemas whose ``multipleOf: 0.1`` needs decimals to judge floats (as the package does).
_DECIMAL_16 = {
    (MessageType.Call, "SetChargingProfile"),
    (MessageType.Call, "RemoteStartTransaction"),
    (MessageType.CallResult, "GetCompositeSchedule"),
}


@cache
def _validator(message_type: int, action: str, version: str) -> Draft4Validator | None:
    parse_float = (
        decimal.Decimal if version == "1.6" and (message_type, action) in _DECIMAL_16 else float
    )
    try:
        plain = get_validator(message_type, action, version, parse_float=parse_float)
    except (OSError, ValueError, json.JSONDecodeError):
        return None
    return Draft4Validator(plain.schema, format_checker=_FORMATS)


def violations(message_type: int, action: str, payload: Any, version: str) -> list[str]:
    """Every schema violation of ``payload`` as one line each (empty when valid).

    An action without a schema in ``version`` is reported as a violation too.
    """
    validator = _validator(message_type, action, version)
    kind = "request" if message_type == MessageType.Call else "response"
    if validator is None:
        return [f"schema: {action} is not an OCPP {version} action (no {kind} schema)"]
    if version == "1.6" and (message_type, action) in _DECIMAL_16:
        payload = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    found = []
    for error in sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(payload)"
        found.append(f"schema: {action} {kind} {where}: {error.message}")
    return found
