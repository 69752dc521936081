"""Helpers of the fleet tests: a behaviour written to a file, a fleet run against the
embedded reference CSMSs (or a mutant of one) in this process."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from pile_interop.fleet.behaviour import Behaviour, load_behaviour
from pile_interop.fleet.reference import ReferenceFleetCsms
from pile_interop.fleet.run import Fleet

ROOT = Path(__file__).resolve().parents[2]

#: A 1.6 fleet that boots, beats every second and runs quick transactions.
QUICK_16 = """\
id: fleet/test-quick
mix:
  - {ocpp: "1.6", security_profile: 0, connectors: 2}
ramp: {per_second: 100}
duration_s: 6
seed: 3
heartbeat_s: 1
timeouts: {call_s: 3.0, connect_s: 5}
transactions: {every_s: 2, duration_s: 2, meter_interval_s: 0.5}
thresholds:
  - "violations == 0"
  - "timeouts == 0"
  - "callerrors == 0"
  - "p99 BootNotification < 1s"
"""


def behaviour_file(tmp_path: Path, text: str, name: str = "b.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_fleet(
    behaviour: Behaviour, stations: int, classes: dict[str, Any] | None = None, **options: Any
) -> dict[str, Any]:
    logging.getLogger("ocpp").setLevel(logging.WARNING)

    async def main() -> dict[str, Any]:
        reference = ReferenceFleetCsms(behaviour, heartbeat_s=60, classes=classes or {})
        urls = await reference.start()
        try:
            fleet = Fleet(behaviour, stations, urls, ssl=reference.client_ssl, **options)
            return await fleet.run()
        finally:
            await reference.stop()

    return asyncio.run(main())


def quick(tmp_path: Path, text: str = QUICK_16) -> Behaviour:
    return load_behaviour(behaviour_file(tmp_path, text))
