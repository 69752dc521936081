"""The suite as the CSMS of an OCPP 2.0.1 charging station under test.

The before-phase is the 1.6 one (:class:`~pile_interop.ocpp.station_role.StationUnderTest`):
connected, registered, every EVSE reported, idle, ``before.config`` applied. What differs is
how a configuration value is read and written: ``Component.Variable`` through GetVariables /
SetVariables (attribute Actual), and the Basic password's variable.
"""

from __future__ import annotations

import re
from typing import Any

from pile_interop.core.case import CaseContext
from pile_interop.ocpp import station_role
from pile_interop.ocpp.frames import CALLRESULT, Frame

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
