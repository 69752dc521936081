"""Which actuator performs a case's manual actions (plug in, present a token, reset …).

The one a campaign was given (a test's stand-in); else, with ``--against reference``, the
reference SUT's own control surface; else what the device descriptor names for the lab: a
``webhook`` the bench answers, or a ``prompt`` for the tester at the terminal (a CLI run
refuses a prompt without a terminal: :func:`require_terminal`). The descriptor's
``actuator.unsupported`` names actions of docs/actuators.md; an unknown one is a usage error.
"""

from __future__ import annotations

from typing import Any

from pile_interop.actuators.base import DESCRIPTIONS, Actuator
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


def check_unsupported(device: Device) -> None:
    """Every action ``actuator.unsupported`` lists is one the bench contract knows."""
    unknown = [a for a in device.actuator.unsupported if a not in DESCRIPTIONS]
    if unknown:
        raise UsageError(
            f"--device {device.path}: actuator.unsupported: unknown action "
            f"{', '.join(map(repr, unknown))} (the actions are in docs/actuators.md)"
        )


def require_terminal(actuator: Actuator | None) -> None:
    """A ``prompt`` actuator nobody can answer is refused at start (exit 2), not a run of
    cases that each wait for a confirmation that never comes."""
    if isinstance(actuator, PromptActuator) and not actuator.interactive():
        raise UsageError(
            "the prompt actuator needs a terminal (standard input is not one): run from a "
            "terminal, or give the device descriptor a webhook actuator"
        )


def choose_actuator(
    given: Actuator | None, device: Device, sut: Any = None, who: str | None = None
) -> Actuator:
    """``given`` if any; else the control surface of the reference SUT ``sut`` when the
    campaign runs one; else the lab's actuator (:func:`lab_actuator`)."""
    check_unsupported(device)
    if given is not None:
        return given
    if sut is not None:
        return ReferenceActuator(sut)
    return lab_actuator(device, who)
