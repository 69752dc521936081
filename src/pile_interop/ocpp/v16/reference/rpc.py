"""What the reference OCPP 1.6 SUTs add to the ``ocpp`` package's RPC layer.

The package validates every request against its schema and answers a violation with a
CALLERROR, but names the codes as OCPP 2.0.1 does (``FormatViolation``,
``OccurrenceConstraintViolation``) also for 1.6, whose OCPP-J §4.2.3 spells them
``FormationViolation`` and ``OccurenceConstraintViolation``. :class:`Rpc` renames them on
the way out. The package also swaps NotImplemented and NotSupported (it answers an unknown
action NotSupported, a known one without handler NotImplemented); §4.2.3 says NotImplemented is
"not known by the receiver" and NotSupported "recognized but not supported": :class:`Rpc`
answers both before the package does. Its owner (the reference station or CSMS) may turn
request validation off (``validates_requests = False``) or keep the package's names
(``names_16_errors = False``), answer unknown actions as the package does
(``answers_unknown_actions = False``) or drop the connection on a frame it cannot use
(``drops_connection_on``): that is how the negative cases' mutants are made.

The package would answer a CALL whose unique id is not a string of at most 36 characters
(OCPP-J 1.6 §4.1.x) as if it were valid, echoing the bad id; :class:`Rpc` answers it with a
FormationViolation CALLERROR whose id is ``"-1"`` (or ignores it, ``rejects_bad_unique_ids =
False``). A frame that is not JSON is ignored, or answered the same way with the id
``answers_unreadable_with`` (a string) names.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from ocpp.v16.enums import Action

from pile_interop.ocpp.reference.rpc import CallErrorsAsInfo, unhandled_action_error
from pile_interop.ocpp.reference.rpc import rename_error_code as rename_error_code_as

#: Every OCPP 1.6 action (Core and the other feature profiles, security extensions included).
ACTIONS_16 = frozenset(str(a.value) for a in Action)

#: OCPP-J 1.6 §4.1.x: a unique id is a string of at most 36 characters.
MAX_UNIQUE_ID = 36
#: The id of a CALLERROR answering a frame whose own id cannot be used.
UNREADABLE_ID = "-1"

#: 2.0.1 names the ocpp package uses → the OCPP-J 1.6 names
ERROR_NAMES_16 = {
    "FormatViolation": "FormationViolation",
    "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
}


def rename_error_code(message: str) -> str:
    """``message`` with a 2.0.1 CALLERROR code renamed to its 1.6 name (else unchanged)."""
    return rename_error_code_as(message, ERROR_NAMES_16)


def formation_violation(unique_id: str, description: str) -> str:
    """A 1.6 FormationViolation CALLERROR with ``unique_id``."""
    return json.dumps([4, unique_id, "FormationViolation", description, {}], separators=(",", ":"))


class Rpc:
    """Mixin for an ``ocpp.v16.ChargePoint`` link of a reference SUT (``owner``)."""

    route_map: dict[str, dict[str, Any]]
    logger: Any
    _connection: Any
    _call_lock: Any

    def configure_rpc(self, owner: Any) -> None:
        self._rpc_owner = owner
        self._call_ids: list[str] = []  # recent CALL unique ids (only for the mutants' checks)
        self._sent_ids: list[str] = []  # unique ids of our own recent CALLs (the same)
        self.logger = CallErrorsAsInfo(self.logger)
        if not getattr(owner, "validates_requests", True):
            for handlers in self.route_map.values():
                handlers["_skip_schema_validation"] = True

    async def route_message(self, raw_msg: str) -> None:
        rude: frozenset[str] = getattr(self._rpc_owner, "drops_connection_on", frozenset())
        unusable = self._unusable(raw_msg)
        if unusable in rude:
            await self._connection.close(1002, "cannot handle this frame")  # a mutant's defect
            return
        if unusable == "malformed":
            answer_id = getattr(self._rpc_owner, "answers_unreadable_with", None)
            if answer_id is not None:
                await self._send(formation_violation(answer_id, "the frame is not OCPP-J JSON"))
            return
        if unusable in ("integer_id", "long_id"):
            if getattr(self._rpc_owner, "rejects_bad_unique_ids", True):
                why = f"UniqueId must be a string of at most {MAX_UNIQUE_ID} characters"
                await self._send(formation_violation(UNREADABLE_ID, why))
            return
        if getattr(self._rpc_owner, "answers_unknown_actions", True):
            error = unhandled_action_error(
                raw_msg,
                self.route_map,
                ACTIONS_16,
                not_supported="{action} is an OCPP 1.6 action this SUT does not support",
                not_implemented="{action} is not an OCPP 1.6 action",
            )
            if error is not None:
                await self._send(error)
                return
        await super().route_message(raw_msg)  # type: ignore[misc]

    def _unusable(self, raw: str) -> str | None:
        """What a mutant may choke on: ``malformed`` (not JSON), ``unknown_result`` (a response
        whose id none of our recent CALLs had: decided by id, not by whether a CALL of ours is
        outstanding at that moment), ``duplicate_id`` (a CALL reusing a recent id),
        ``integer_id`` / ``long_id`` (a CALL whose id is not a string / longer than 36)."""
        try:
            frame = json.loads(raw)
        except (TypeError, ValueError):
            return "malformed"
        if not isinstance(frame, list) or len(frame) < 2:
            return "malformed"
        if frame[0] in (3, 4) and frame[1] not in self._sent_ids:
            return "unknown_result"
        if frame[0] == 2:
            if not isinstance(frame[1], str):
                return "integer_id"
            if len(frame[1]) > MAX_UNIQUE_ID:
                return "long_id"
            if frame[1] in self._call_ids:
                return "duplicate_id"
            self._call_ids = [*self._call_ids[-63:], frame[1]]
        return None

    async def _send(self, message: str) -> None:
        if message.startswith("[2,"):  # a CALL of ours: its answer is no unknown result
            with contextlib.suppress(ValueError, IndexError):
                self._sent_ids = [*self._sent_ids[-63:], json.loads(message)[1]]
        if getattr(self._rpc_owner, "names_16_errors", True):
            message = rename_error_code(message)
        await super()._send(message)  # type: ignore[misc]
