"""The offline checks of ``check-log`` can fail: a mutant charger's recorded session fails the
check its defect breaks; the reference charger's recorded session passes every one of them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import can
import pytest

from pile_interop.core.clock import Clock
from pile_interop.gbt27930.capture import LogFrame, to_candump
from pile_interop.gbt27930.charger import Charger27930
from pile_interop.gbt27930.logcheck import check_log
from pile_interop.gbt27930.pair import reference_pair, virtual_channel
from tests.mutants.gbt27930_log import LOG_MUTANTS, LogMutant

# live sessions on a scaled clock (a 1 s BCS time-out is 100 ms real): tox's calm phase
pytestmark = pytest.mark.timing

SCALE = 0.1
"""Real seconds per protocol second of the recorded sessions."""
SESSION_S = 14.0
"""Protocol seconds recorded: through configuration into charging (and a BCS time-out)."""
BOUND_S = 30.0
"""Real seconds one recording may take."""
CHECKS = ("log:causes", "log:mandatory", "log:sequence", "log:transport", "log:frames")
"""The offline checks that do not depend on timing (periods need a real-time recording)."""


class Recorder(can.Listener):
    """Every frame on the bus, its time turned back into protocol seconds."""

    def __init__(self) -> None:
        self.frames: list[LogFrame] = []
        self.t0: float | None = None

    def on_message_received(self, msg: can.Message) -> None:
        if self.t0 is None:
            self.t0 = msg.timestamp
        n = len(self.frames)
        t = (msg.timestamp - self.t0) / SCALE
        self.frames.append(LogFrame(n, t, msg.arbitration_id, bytes(msg.data), n + 1))


async def _record(cls: type[Charger27930]) -> list[LogFrame]:
    channel = virtual_channel("gbt-log")
    bus = can.Bus(interface="virtual", channel=channel)
    recorder = Recorder()
    notifier = can.Notifier(bus, [recorder], loop=asyncio.get_running_loop())
    try:
        async with reference_pair(channel=channel, clock=Clock(SCALE), charger_class=cls):
            await asyncio.sleep(SESSION_S * SCALE)
    finally:
        notifier.stop()
        bus.shutdown()
    return recorder.frames


def record(cls: type[Charger27930], path: Path) -> Path:
    frames = asyncio.run(asyncio.wait_for(_record(cls), BOUND_S))
    path.write_text(to_candump(frames))
    return path


def test_the_reference_chargers_recording_passes_every_offline_check(tmp_path):
    cases = check_log(record(Charger27930, tmp_path / "ref.log"), "charger", "2015", "p")
    seen = {c["id"]: c for c in cases}
    for check in CHECKS:
        assert seen[check]["verdict"] in ("pass", "warn"), (check, seen[check]["reason"])
    assert "CCS" in seen["log:sequence"]["steps"][0]["observed"]  # it reached charging


@pytest.mark.parametrize("mutant", LOG_MUTANTS, ids=lambda m: m.cls.__name__)
def test_a_mutant_chargers_recording_fails_its_check(tmp_path, mutant: LogMutant):
    cases = check_log(record(mutant.cls, tmp_path / "m.log"), "charger", "2015", "p")
    seen = {c["id"]: c for c in cases}
    assert seen[mutant.check]["verdict"] == "fail", seen[mutant.check]["steps"][0]["observed"]
    assert mutant.words in seen[mutant.check]["reason"]
