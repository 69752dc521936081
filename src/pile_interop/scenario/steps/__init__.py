"""Step kinds as handlers registered by kind (:mod:`.registry`), one module per family:

* :mod:`.actions` — ``act``, ``peer`` (stimuli from the suite's side);
* :mod:`.expect` — ``expect``, ``expect_none`` (what the SUT sends, or must not send);
* :mod:`.send` — ``send`` (a request from the suite and its answer);
* :mod:`.negative` — ``negative`` (invalid requests, frame-level defects);
* :mod:`.misc` — ``wait``, ``check``.

The runner (:mod:`pile_interop.scenario.runner`) keeps the case's lifecycle and dispatches each
step to the handler of its kind.
"""

from __future__ import annotations

# the families register their step kinds when imported
from pile_interop.scenario.steps import actions, expect, misc, negative, send
from pile_interop.scenario.steps.registry import (
    Budget,
    Handler,
    StepContext,
    StepKind,
    bound,
    get,
    kinds,
    register,
)

__all__ = [
    "Budget",
    "Handler",
    "StepContext",
    "StepKind",
    "actions",
    "bound",
    "expect",
    "get",
    "kinds",
    "misc",
    "negative",
    "register",
    "send",
]
