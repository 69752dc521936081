"""Mutant chargers for what only ``check-log`` judges: each runs against the reference BMS on a
virtual bus, the bus is recorded as a lab would (candump), and the recording must fail the one
offline check its defect breaks — while the reference charger's recording passes them all
(``tests/mutants/test_log_mutants.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pile_interop.gbt27930.charger import Charger27930
from pile_interop.gbt27930.tp_faults import ReceiverFaults

BCS_PGN = 0x1100


@dataclass(frozen=True)
class LogMutant:
    cls: type[Charger27930]
    check: str
    """The offline case (``log:…``) that must fail."""
    words: str
    """What its reason must say."""


LOG_MUTANTS: list[LogMutant] = []


def log_mutant(check: str, words: str) -> Any:
    def register(cls: type[Charger27930]) -> type[Charger27930]:
        LOG_MUTANTS.append(LogMutant(cls, check, words))
        return cls

    return register


@log_mutant("log:causes", "CRM 0xAA at")
class CrmAaAtOnce(Charger27930):
    """Recognises the BMS at once: CRM 0xAA from the first CRM, before any BRM."""

    def values_crm(self) -> dict[str, Any]:
        return {**super().values_crm(), "RecognitionResult": 0xAA}


@log_mutant("log:transport", "never answered, though the SUT went on sending")
class IgnoresBcsRts(Charger27930):
    """Never answers the RTS of BCS (no CTS) while it goes on charging."""

    async def start(self) -> None:
        await super().start()
        self.node.receiver_faults = ReceiverFaults(pgn=BCS_PGN, drop_cts=True)


@log_mutant("log:mandatory", "CML never sent")
class NeverSendsCml(Charger27930):
    """Sends CTS but never CML after BCP (the BMS then reports a CTS/CML time-out)."""

    async def start(self) -> None:
        await super().start()
        self.suppress("CML")
