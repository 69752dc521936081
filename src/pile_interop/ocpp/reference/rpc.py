"""What every reference SUT's link adds to the ``ocpp`` package's RPC layer, whatever the
version: quiet logging of the CALLERRORs negative testing provokes, CALL frame inspection, the
answer to an action without handler, and the renaming of CALLERROR codes into the spelling of
the version spoken.
"""

from __future__ import annotations

import json
from collections.abc import Container, Mapping
from typing import Any

from ocpp.messages import CallError


class CallErrorsAsInfo:
    """The package logs every request it answers with a CALLERROR as an ERROR with a traceback;
    for a reference SUT under negative testing that is expected: one INFO line instead."""

    def __init__(self, logger: Any) -> None:
        self._logger = logger

    def exception(self, msg: str, *args: Any, **_: Any) -> None:
        self._logger.info(msg + " (answered with a CALLERROR)", *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._logger, name)


def frame_list(raw: str | bytes) -> list[Any] | None:
    """The JSON array of an OCPP-J frame, else None."""
    try:
        frame = json.loads(raw)
    except (TypeError, ValueError):
        return None
    return frame if isinstance(frame, list) else None


def call_head(raw: str | bytes) -> tuple[str, str] | None:
    """(unique id, action) of a well-formed CALL frame, else None."""
    frame = frame_list(raw)
    if (
        frame is not None
        and len(frame) == 4
        and frame[0] == 2
        and isinstance(frame[1], str)
        and isinstance(frame[2], str)
    ):
        return frame[1], frame[2]
    return None


def unhandled_action_error(
    raw: str | bytes,
    handled: Container[str],
    known: Container[str],
    not_supported: str,
    not_implemented: str,
) -> str | None:
    """The CALLERROR answering a CALL of an action without handler (None for any other frame):
    NotSupported for an action of the version (``known``), NotImplemented for any other, as
    OCPP-J says (1.6 §4.2.3, 2.0.1 §4.3) and the ``ocpp`` package does the other way round.
    ``not_supported`` / ``not_implemented`` are the descriptions, ``{action}`` filled in."""
    head = call_head(raw)
    if head is None or head[1] in handled:
        return None
    uid, action = head
    if action in known:
        code, why = "NotSupported", not_supported
    else:
        code, why = "NotImplemented", not_implemented
    return str(CallError(uid, code, why.format(action=action), {}).to_json())


def rename_error_code(message: str, names: Mapping[str, str]) -> str:
    """``message`` with its CALLERROR code renamed by ``names`` (else unchanged)."""
    if not message.startswith("[4"):
        return message
    frame = frame_list(message)
    if frame is not None and len(frame) >= 3 and frame[2] in names:
        frame[2] = names[frame[2]]
        return json.dumps(frame, separators=(",", ":"))
    return message
