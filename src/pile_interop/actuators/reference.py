"""The ``reference`` actuator: drives the embedded reference SUT's control surface."""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

from pile_interop.actuators.base import ActuatorError

log = logging.getLogger(__name__)

#: action name → control-surface method of the reference station
_METHODS = {
    "plug_in": "plug_in",
    "unplug": "unplug",
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


class ReferenceActuator:
    name = "reference"

    def __init__(self, sut: Any) -> None:
        self.sut = sut

    async def perform(self, action: str, args: dict[str, Any], timeout: float) -> None:
        method_name = _METHODS.get(action)
        method = getattr(self.sut, method_name, None) if method_name else None
        if method is None:
            raise ActuatorError(f"the reference SUT cannot {action}")
        accepted = inspect.signature(method).parameters
        kwargs = {_ARGS.get(k, k): v for k, v in args.items() if _ARGS.get(k, k) in accepted}
        try:
            await asyncio.wait_for(method(**kwargs), timeout)
        except TimeoutError:
            raise ActuatorError(
                f"reference SUT: {action} did not finish in {timeout:.3g} s"
            ) from None
        except (ValueError, KeyError, RuntimeError) as exc:
            raise ActuatorError(f"reference SUT refused {action} {kwargs}: {exc}") from None

    async def settle(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self.sut.settle(timeout=timeout), timeout + 1.0)
        except TimeoutError:
            raise ActuatorError(f"reference SUT did not settle within {timeout:.3g} s") from None

    async def close(self) -> None:
        return None
