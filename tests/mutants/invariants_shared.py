"""Mutants written per version-neutral invariant (``ocpp/invariants.py``), not per case: each
breaks one invariant where no case step looks, so only the invariant can catch it."""

from __future__ import annotations

import itertools
from typing import Any

from ocpp.v16 import call

from pile_interop.ocpp.v16.reference.station import ReferenceStation
from tests.mutants.stations16 import mutant


@mutant("TC_001_CS", "INV-J-CALL-ID-UNIQUE", defect_class="invariant")
class IdCounterRestartsAtBoot(ReferenceStation):
    """Numbers its CALLs 1, 2, 3 … and restarts the count when a BootNotification is
    Accepted: the StatusNotification after the boot reuses the boot's id on the connection."""

    def open_link(self, ws: Any) -> Any:
        link = super().open_link(ws)
        numbers = [itertools.count(1)]
        send = link.call

        async def numbered(
            payload: Any,
            suppress: bool = True,
            unique_id: str | None = None,
            skip_schema_validation: bool = False,
        ) -> Any:
            result = await send(payload, suppress, str(next(numbers[0])), skip_schema_validation)
            accepted = getattr(result, "status", None) == "Accepted"
            if isinstance(payload, call.BootNotification) and accepted:
                numbers[0] = itertools.count(1)
            return result

        link.call = numbered
        return link
