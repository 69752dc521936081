"""What the reference OCPP 1.6 SUTs add to the ``ocpp`` package's RPC layer.

The package validates every request against its schema and answers a violation with a
CALLERROR, but names the codes as OCPP 2.0.1 does (``FormatViolation``,
``OccurrenceConstraintViolation``) also for 1.6, whose OCPP-J §4.2.3 spells them
``FormationViolation`` and ``OccurenceConstraintViolation``. :class:`Rpc16` renames them on
the way out. Its owner (the reference station or CSMS) may turn request validation off
(``validates_requests = False``) or keep the package's names (``names_16_errors = False``):
that is how the negative cases' mutants are made.
"""

from __future__ import annotations

import json
from typing import Any

#: 2.0.1 names the ocpp package uses → the OCPP-J 1.6 names
ERROR_NAMES_16 = {
    "FormatViolation": "FormationViolation",
    "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
}


def rename_error_code(message: str) -> str:
    """``message`` with a 2.0.1 CALLERROR code renamed to its 1.6 name (else unchanged)."""
    if not message.startswith("[4"):
        return message
    try:
        frame = json.loads(message)
    except ValueError:
        return message
    if isinstance(frame, list) and len(frame) >= 3 and frame[2] in ERROR_NAMES_16:
        frame[2] = ERROR_NAMES_16[frame[2]]
        return json.dumps(frame, separators=(",", ":"))
    return message


class _CallErrorsAsInfo:
    """The package logs every request it answers with a CALLERROR as an ERROR with a traceback;
    for a reference SUT under negative testing that is expected: one INFO line instead."""

    def __init__(self, logger: Any) -> None:
        self._logger = logger

    def exception(self, msg: str, *args: Any, **_: Any) -> None:
        self._logger.info(msg + " (answered with a CALLERROR)", *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._logger, name)


class Rpc16:
    """Mixin for an ``ocpp.v16.ChargePoint`` link of a reference SUT (``owner``)."""

    route_map: dict[str, dict[str, Any]]
    logger: Any

    def configure_rpc(self, owner: Any) -> None:
        self._rpc_owner = owner
        self.logger = _CallErrorsAsInfo(self.logger)
        if not getattr(owner, "validates_requests", True):
            for handlers in self.route_map.values():
                handlers["_skip_schema_validation"] = True

    async def _send(self, message: str) -> None:
        if getattr(self._rpc_owner, "names_16_errors", True):
            message = rename_error_code(message)
        await super()._send(message)  # type: ignore[misc]
