"""One websocket connection of the reference OCPP 2.0.1 station, on ``ocpp.v201.ChargePoint``.

The link only routes: every CSMS request the station supports goes to the station's
``handle_<action>`` method with the request as its ``ocpp.v201.call`` dataclass (nested objects as
the package delivers them: dicts with snake_case keys); the method returns the
``call_result`` dataclass. Follow-up work is deferred by the station and started here once the
response frame is written, so the response always precedes the CALLs it causes.

What the link corrects in the ``ocpp`` package for 2.0.1 (OCPP-J 2.0.1 Part 4 §4.3):

* the package answers an action it does not know NotSupported and a known one without handler
  NotImplemented — the other way round: NotImplemented is "Requested Action is not known by
  receiver", NotSupported "recognized but not supported". The link answers both itself (also
  for ``ocpp2.1``, where the package does not answer at all);
* a frame with an unknown MessageTypeId is answered MessageTypeNotSupported, a CALL frame with the
  wrong number of elements RpcFrameworkError (the package logs both and answers nothing); a
  frame that is not JSON stays unanswered (no message id to answer to);
* 1.6 spellings of error codes (``OccurenceConstraintViolation``, ``FormationViolation``) leave
  as their 2.0.1 names.

Before the BootNotification is Accepted the station decides per CALL (its
:meth:`incoming_call_gate`) whether to handle it, answer a fixed result, or answer a CALLERROR
(SecurityError, B02.FR.09 / B03).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from ocpp.messages import CallError, CallResult
from ocpp.v21.enums import Action as Action21
from ocpp.v201 import ChargePoint, call
from ocpp.v201.enums import Action as Action201

from pile_interop.ocpp.reference.rpc import CallErrorsAsInfo, frame_list
from pile_interop.ocpp.reference.rpc import rename_error_code as rename_error_code_as
from pile_interop.ocpp.v201.reference.station_port import LinkPort

logger = logging.getLogger(__name__)

#: 1.6 spellings the package may produce → the OCPP-J 2.0.1 names
ERROR_NAMES_201 = {
    "FormationViolation": "FormatViolation",
    "OccurenceConstraintViolation": "OccurrenceConstraintViolation",
}
ACTIONS_201 = frozenset(str(a.value) for a in Action201)
ACTIONS_21 = frozenset(str(a.value) for a in Action21)


def rename_error_code(message: str) -> str:
    """``message`` with a 1.6 CALLERROR code renamed to its 2.0.1 name (else unchanged)."""
    return rename_error_code_as(message, ERROR_NAMES_201)


class StationLink(ChargePoint):
    """The ``ocpp`` ChargePoint of one connection; all behaviour lives in the station."""

    def __init__(
        self,
        station: LinkPort,
        connection: Any,
        *,
        response_timeout: float,
        ocpp_version: str = "2.0.1",
    ) -> None:
        super().__init__(
            station.station_id,
            connection,
            response_timeout=response_timeout,
            logger=CallErrorsAsInfo(station.log),
        )
        self._ocpp_version = ocpp_version
        self._station = station
        self._known = ACTIONS_21 if ocpp_version == "2.1" else ACTIONS_201
        #: clear while a CALL of the CSMS is being answered: our own CALLs wait for the response
        #: to be written (a follow-up never overtakes the response that announces it)
        self._replied = asyncio.Event()
        self._replied.set()
        self._reply_bound = response_timeout
        #: the unique id of the BootNotification waiting for its response
        self.boot_unique_id: str | None = None
        skip = not getattr(station, "validates_requests", True)
        self.route_map = {}
        for action, method in station.handled_actions().items():
            self.route_map[action] = {
                "_on_action": self._handler(action, method),
                "_skip_schema_validation": skip,
            }

    def _handler(self, action: str, method: str) -> Any:
        request_class = getattr(call, action)
        station = self._station

        async def handle(**kwargs: Any) -> Any:
            return await getattr(station, method)(request_class(**kwargs))

        return handle

    async def route_message(self, raw_msg: str) -> None:
        frame = frame_list(raw_msg)
        if frame is None:
            self._station.log.info("%s: not an OCPP-J frame, ignored: %.200s", self.id, raw_msg)
            return
        if frame and frame[0] == 2:
            self._replied.clear()
            try:
                if await self._precheck_call(frame):
                    await super().route_message(raw_msg)
            finally:
                self._replied.set()
            self._station.run_after_reply()
            return
        if (
            frame
            and frame[0] == 3
            and len(frame) > 2
            and frame[1] == self.boot_unique_id
            and isinstance(frame[2], dict)
        ):
            # the registration changes with this frame, not when the boot task next runs: a
            # CSMS CALL right behind the BootNotificationResponse meets the new state
            self._station.registration = str(frame[2].get("status"))
        if frame and frame[0] not in (3, 4):
            if len(frame) > 1 and isinstance(frame[1], str):
                await self._answer_error(
                    frame[1], "MessageTypeNotSupported", f"MessageTypeId {frame[0]!r}"
                )
            return
        await super().route_message(raw_msg)
        self._station.run_after_reply()

    async def _precheck_call(self, frame: list[Any]) -> bool:
        """Answer what the package would get wrong; True when the package should route it."""
        if len(frame) != 4 or not isinstance(frame[1], str) or not isinstance(frame[2], str):
            uid = frame[1] if len(frame) > 1 and isinstance(frame[1], str) else "-1"
            await self._answer_error(uid, "RpcFrameworkError", "a CALL has 4 elements")
            return False
        uid, action, payload = frame[1], frame[2], frame[3]
        gate = self._station.incoming_call_gate(
            action, payload if isinstance(payload, dict) else {}
        )
        if gate is not None:
            kind, value = gate
            if kind == "ignore":
                return False
            if kind == "result":
                await self._send(CallResult(uid, value, action).to_json())
            else:
                await self._answer_error(uid, str(kind), str(value))
            return False
        if action not in self.route_map and getattr(self._station, "answers_unknown_actions", True):
            if action in self._known:
                await self._answer_error(
                    uid, "NotSupported", f"{action} is not supported by this station"
                )
            else:
                await self._answer_error(
                    uid, "NotImplemented", f"{action} is not an OCPP {self._ocpp_version} action"
                )
            return False
        return True

    async def send_call(self, payload: Any, **kwargs: Any) -> Any:
        """``call`` once no response to the CSMS is being written (bounded wait)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._replied.wait(), self._reply_bound)
        return await self.call(payload, **kwargs)

    async def _answer_error(self, uid: str, code: str, why: str) -> None:
        await self._send(CallError(uid, code, why, {}).to_json())

    async def _send(self, message: str) -> None:
        await super()._send(rename_error_code(message))
