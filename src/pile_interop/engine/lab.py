"""Which actuator performs a case's manual actions (plug in, present a token, reset …).

The one a campaign was given (a test's stand-in); else, with ``--against reference``, the
reference SUT's own control surface; else what the device descriptor names for the lab: a
``webhook`` the bench answers, or a ``prompt`` for the tester at the terminal.
"""

from __future__ import annotations

from typing import Any

from pile_interop.actuators.base import Actuator
from pile_interop.actuators.prompt import PromptActuator
from pile_interop.actuators.reference import ReferenceActuator
from pile_interop.actuators.webhook import WebhookActuator
from pile_interop.core.config import Device
from pile_interop.core.errors import UsageError


def lab_actuator(device: Device, who: str | None = None) -> Actuator:
    """The device descriptor's actuator for a real SUT: ``webhook`` (the POST names ``who``,
    by default the station identity) or ``prompt``; ``reference`` is a usage error."""
    spec = device.actuator
    if spec.type == "webhook":
        assert spec.url is not None  # the descriptor schema requires it
        return WebhookActuator(spec.url, who or device.station_id, spec.headers)
    if spec.type == "reference":
        raise UsageError(f"--device {device.path}: actuator 'reference' needs --against reference")
    return PromptActuator()


def choose_actuator(
    given: Actuator | None, device: Device, sut: Any = None, who: str | None = None
) -> Actuator:
    """``given`` if any; else the control surface of the reference SUT ``sut`` when the
    campaign runs one; else the lab's actuator (:func:`lab_actuator`)."""
    if given is not None:
        return given
    if sut is not None:
        return ReferenceActuator(sut)
    return lab_actuator(device, who)
