"""Registered checks: small named functions a case switches on with ``check: <name>``.

A check reads what the case has seen so far (the frame log, the saved exchanges, what the
mock learned about the SUT) through a :class:`CheckContext` and raises
:class:`~pile_interop.core.verdicts.Failure` when the SUT broke the rule. It returns a short
text of what it observed. The registry is :mod:`.registry`; the checks come in families:
:mod:`.messages`, :mod:`.meter`, :mod:`.connection`, :mod:`.ocpp201`, :mod:`.times`,
:mod:`.smart_charging`, :mod:`.smart_charging_201`, :mod:`.trigger`.
"""

from __future__ import annotations

# the families register their checks when imported
from pile_interop.scenario.checks import (
    connection,
    messages,
    meter,
    ocpp201,
    smart_charging,
    smart_charging_201,
    times,
    trigger,
)
from pile_interop.scenario.checks.registry import Check, CheckContext, CheckFn, get, names, register

__all__ = [
    "Check",
    "CheckContext",
    "CheckFn",
    "connection",
    "get",
    "messages",
    "meter",
    "names",
    "ocpp201",
    "register",
    "smart_charging",
    "smart_charging_201",
    "times",
    "trigger",
]
