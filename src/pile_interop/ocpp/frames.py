"""OCPP-J frames: split a text frame into its parts (the frame model is in core.frames)."""

from __future__ import annotations

import json
from typing import Any

from pile_interop.core.frames import (  # re-exported: the OCPP engine's frames are these
    CALL,
    CALLERROR,
    CALLRESULT,
    EVENT,
    IN,
    MALFORMED,
    OUT,
    Frame,
    FrameLog,
    compact,
    shorten,
)

_TYPES = {2: CALL, 3: CALLRESULT, 4: CALLERROR}
__all__ = [
    "CALL",
    "CALLERROR",
    "CALLRESULT",
    "EVENT",
    "IN",
    "MALFORMED",
    "OUT",
    "Frame",
    "FrameLog",
    "compact",
    "parse",
    "shorten",
]


def parse(raw: str | bytes) -> tuple[str, str | None, str | None, Any, str | None, str | None, str]:
    """Split an OCPP-J frame: (type, unique_id, action, payload, error_code, description, problem).

    Never raises: a frame that is not OCPP-J comes back as ``MALFORMED`` with the problem.
    """
    if isinstance(raw, bytes):
        return MALFORMED, None, None, None, None, None, "binary WebSocket frame (OCPP-J is text)"
    try:
        msg = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return MALFORMED, None, None, None, None, None, f"not JSON: {exc}"
    if not isinstance(msg, list) or not msg:
        return MALFORMED, None, None, None, None, None, "not a JSON array"
    kind = _TYPES.get(msg[0]) if isinstance(msg[0], int) and not isinstance(msg[0], bool) else None
    if kind is None:
        return MALFORMED, None, None, None, None, None, f"unknown MessageTypeId {msg[0]!r}"
    unique_id = msg[1] if len(msg) > 1 and isinstance(msg[1], str) else None
    expected_len = {CALL: 4, CALLRESULT: 3, CALLERROR: 5}[kind]
    if len(msg) != expected_len:
        return (
            kind,
            unique_id,
            None,
            None,
            None,
            None,
            f"{kind} has {len(msg)} elements, OCPP-J requires {expected_len}",
        )
    if unique_id is None:
        return kind, None, None, None, None, None, "UniqueId is not a string"
    if len(unique_id) > 36:
        return kind, unique_id, None, None, None, None, "UniqueId longer than 36 characters"
    if kind == CALL:
        action, payload = msg[2], msg[3]
        if not isinstance(action, str):
            return kind, unique_id, None, None, None, None, "Action is not a string"
        if not isinstance(payload, dict):
            return kind, unique_id, action, None, None, None, "CALL payload is not a JSON object"
        return kind, unique_id, action, payload, None, None, ""
    if kind == CALLRESULT:
        if not isinstance(msg[2], dict):
            return kind, unique_id, None, None, None, None, "CALLRESULT payload is not an object"
        return kind, unique_id, None, msg[2], None, None, ""
    code, description, details = msg[2], msg[3], msg[4]
    if not isinstance(code, str) or not isinstance(description, str):
        return kind, unique_id, None, None, None, None, "CALLERROR code/description not strings"
    if not isinstance(details, dict):
        return kind, unique_id, None, None, code, description, "CALLERROR details not an object"
    return kind, unique_id, None, details, code, description, ""
