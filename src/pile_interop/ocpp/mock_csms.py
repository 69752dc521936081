"""What every version's mock CSMS shares: the event the roles' bounded waits watch."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.frames import Frame


class MockCsmsBase:
    """The part of a mock CSMS that is the same in every OCPP version: a version's mock
    (``ocpp/v16/mock_csms.py`` …) answers and learns; this tells the roles when it learnt."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()
        #: writes the date-times of its answers (a campaign varies the forms)
        self.date_time: Callable[[datetime | None], str] = utc_iso

    async def changed(self, timeout: float) -> None:
        """Return when the state may have changed, or after ``timeout`` s (a bounded poll)."""
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    def observe_response(self, call: Frame, response: Frame) -> None:
        """Our CALLs change nothing we track: the station reports changes itself."""
