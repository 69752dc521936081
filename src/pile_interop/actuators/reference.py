"""The ``reference`` actuator: drives the embedded reference SUT's control surface."""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

from pile_interop.actuators.base import ActionUnsupported, ActuatorError, action_args

log = logging.getLogger(__name__)

#: action name → control-surface method of the reference station
_METHODS = {
    "plug_in": "plug_in",
    "unplug": "unplug",
    # the reference models one cable: its ``unplug`` takes the EV end first, then the socket's
    "unplug_ev_side": "unplug",
    "unplug_station_side": "unplug",
    "present_id_token": "present_id_tag",
    "raise_fault": "raise_fault",
    "clear_fault": "clear_fault",
    "set_lock_failure": "set_lock_failure",
    "power_cycle": "power_cycle",
    "go_offline": "go_offline",
    "go_online": "go_online",
    "send_data_transfer": "send_data_transfer",
}
_ARGS = {"id_token": "id_tag"}
#: the same manual action on a GB/T 27930 reference SUT (a charger or a BMS)
_FALLBACK = {
    "insert_gun": ("connect",),
    "remove_gun": ("disconnect",),
    "emergency_stop": ("emergency_stop",),
    "insulation_fault": ("insulation_fault",),
    "press_stop": ("request_stop",),
    "vehicle_stop": ("request_stop",),
    "pause": ("pause",),
    "resume": ("resume",),
}


class ReferenceActuator:
    name = "reference"

    def __init__(self, sut: Any) -> None:
        self.sut = sut

    def _method(self, action: str) -> Any:
        # a control-surface method named as the action (the reference CSMS: remote_start …)
        for name in (_METHODS.get(action), *_FALLBACK.get(action, ()), action):
            method = getattr(self.sut, name, None) if name else None
            if method is not None:
                return method
        return None

    async def perform(self, action: str, args: dict[str, Any], timeout: float) -> None:
        method = self._method(action)
        if method is None:
            raise ActionUnsupported(f"the reference SUT has no {action} control")
        accepted = inspect.signature(method).parameters
        kwargs = {}
        for key, value in action_args(args).items():  # its own name, else the 1.6 surface's
            name = key if key in accepted else _ARGS.get(key, key)
            if name in accepted:
                kwargs[name] = value
        try:
            await asyncio.wait_for(method(**kwargs), timeout)
        except TimeoutError:
            raise ActuatorError(
                f"reference SUT: {action} did not finish in {timeout:.3g} s"
            ) from None
        except (ValueError, KeyError, RuntimeError) as exc:
            raise ActuatorError(f"reference SUT refused {action} {kwargs}: {exc}") from None

    async def settle(self, timeout: float) -> None:
        settle = getattr(self.sut, "settle", None)
        try:
            if settle is None:  # a GB/T 27930 reference SUT: unplugging ends its session
                self.sut.clear_overrides()
                await asyncio.wait_for(self.sut.disconnect(), timeout)
                return
            await asyncio.wait_for(settle(timeout=timeout), timeout + 1.0)
        except TimeoutError:
            raise ActuatorError(f"reference SUT did not settle within {timeout:.3g} s") from None

    async def close(self) -> None:
        return None
