"""The harness could not bring the SUT to a case's declared before-state.

A case whose before-state cannot be reached ends ``error`` with a reason shaped
``before-state <name> not reached: <what is still wrong>`` (e.g. ``before-state booted not
reached: 4 connection attempts in 2 s, the CSMS closed each within 0.01 s (code 1000)``), so a
report says which state was wanted and what stood in the way, never a bare protocol error.
"""

from __future__ import annotations

from pile_interop.core.verdicts import HarnessError


class BeforeStateNotReached(HarnessError):
    """The before-state ``state`` (the case's ``before.state``) was not reached:
    ``still_wrong`` says what is still wrong."""

    def __init__(self, state: str, still_wrong: str) -> None:
        self.state = state
        self.still_wrong = still_wrong
        super().__init__(f"before-state {state} not reached: {still_wrong}")
