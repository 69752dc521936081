"""The suite as the CSMS of an OCPP 2.0.1 charging station under test.

The before-phase is the 1.6 one (:class:`~pile_interop.ocpp.station_role.StationUnderTest`):
connected, registered, every EVSE reported, idle, operative (each repaired when it is not,
:mod:`pile_interop.ocpp.station_recovery`), ``before.config`` applied. What differs is how a
configuration value is read and written: ``Component.Variable`` through GetVariables /
SetVariables (attribute Actual), the Basic password's variable, and the recovery's messages
(RequestStopTransaction, ChangeAvailability of an EVSE).
"""

from __future__ import annotations

import re
from typing import Any

from pile_interop.core.case import CaseContext
from pile_interop.ocpp import station_role
from pile_interop.ocpp.frames import CALLRESULT, Frame
from pile_interop.ocpp.v201 import config_keys

_NAME = re.compile(
    r"(?P<component>[^.\[\]]+)\.(?P<variable>[^.\[\]]+)(?:\[(?P<instance>[^\]]+)\])?"
)
#: OCPP 2.0.1 Part 2 A02: the write-only variable holding the station's Basic password.
PASSWORD_VARIABLE = "SecurityCtrlr.BasicAuthPassword"


def component_variable(name: str) -> dict[str, Any]:
    """``Component.Variable`` (with an instance: ``Component.Variable[Instance]``) → the OCPP
    ComponentType / VariableType pair of Get/SetVariables."""
    match = _NAME.fullmatch(name)
    if match is None:
        raise ValueError(
            f"{name!r}: a 2.0.1 configuration name is Component.Variable or "
            "Component.Variable[Instance]"
        )
    variable: dict[str, Any] = {"name": match["variable"]}
    if match["instance"]:
        variable["instance"] = match["instance"]
    return {"component": {"name": match["component"]}, "variable": variable}


class StationUnderTest(station_role.StationUnderTest):
    """The 1.6 role with the 2.0.1 device model for ``before.config``."""

    label = "OCPP-J 2.0.1 RPC framework"
    WRITE_ACTION = "SetVariables"
    PASSWORD_KEY = PASSWORD_VARIABLE
    CONFIG_FEATURES = config_keys.FEATURES
    REQUIRED_CONFIG = config_keys.REQUIRED
    NOT_SUPPORTED = frozenset({"UnknownComponent", "UnknownVariable", "NotSupportedAttributeType"})

    def required_by(self, key: str) -> str | None:
        return self.REQUIRED_CONFIG.get(key) or self.REQUIRED_CONFIG.get(key.split("[")[0])

    def write_status(self, answer: Frame) -> str:
        if answer.type != CALLRESULT:
            return answer.brief()
        results = (answer.payload or {}).get("setVariableResult") or [{}]
        return str(results[0].get("attributeStatus"))

    # -- the recovery's messages (2.0.1) ----------------------------------------------------

    def stop_transaction_call(self, tx: Any) -> tuple[str, dict[str, Any]]:
        return "RequestStopTransaction", {"transactionId": tx}

    def unavailable(self, state: Any) -> list[Any]:
        """The EVSEs with a connector the station reports Unavailable."""
        return sorted({e for (e, _), s in state.connectors.items() if s == "Unavailable"})

    def operative_call(self, unit: Any) -> tuple[str, dict[str, Any]]:
        return "ChangeAvailability", {"operationalStatus": "Operative", "evse": {"id": unit}}

    def still_unavailable(self, state: Any, units: list[Any]) -> list[Any]:
        return sorted(
            {e for (e, _), s in state.connectors.items() if e in units and s == "Unavailable"}
        )

    async def read_config(self, run: CaseContext, key: str, bound: float) -> str | None:
        if key == PASSWORD_VARIABLE:  # write-only: restored from the descriptor instead
            return None
        got = await run.session.call(
            "GetVariables", {"getVariableData": [component_variable(key)]}, timeout=bound
        )
        results = (got.payload or {}).get("getVariableResult", []) if got.type == CALLRESULT else []
        first = results[0] if results else {}
        if first.get("attributeStatus") != "Accepted" or "attributeValue" not in first:
            return None
        return str(first["attributeValue"])

    async def write_config(self, run: CaseContext, key: str, value: str, bound: float) -> Frame:
        item = {**component_variable(key), "attributeValue": value}
        return await run.session.call("SetVariables", {"setVariableData": [item]}, timeout=bound)

    def write_accepted(self, answer: Frame) -> bool:
        if answer.type != CALLRESULT:
            return False
        results = (answer.payload or {}).get("setVariableResult", [])
        return bool(results) and all(r.get("attributeStatus") == "Accepted" for r in results)
