"""The suite's CAN link: frames and messages recorded, SUT messages checked, expectations."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import can
import pytest

from pile_interop.core.frames import IN, MSG, OUT
from pile_interop.gbt27930 import codec
from pile_interop.gbt27930.capture import read_capture_csv
from pile_interop.gbt27930.ids import BMS_ADDRESS, CHARGER_ADDRESS
from pile_interop.gbt27930.link import CanLink

pytestmark = pytest.mark.timing

DATA = Path(__file__).parent / "data" / "charger-capture.csv"
BOUND = 5.0
POLL_S = 0.01  # how often to look whether the notifier delivered every frame


def buses() -> tuple[can.BusABC, can.BusABC]:
    channel = f"link-{uuid.uuid4().hex}"
    return can.Bus(interface="virtual", channel=channel), can.Bus(
        interface="virtual", channel=channel
    )


def test_the_real_capture_replayed_is_decoded_checked_and_claims_an_expectation():
    async def main() -> CanLink:
        sender, listener = buses()
        link = CanLink(listener, variant="2015", sut_address=CHARGER_ADDRESS)
        await link.start()
        crm = link.arm("CRM", lambda f: f.payload.get("RecognitionResult") == 0xAA)
        for frame in read_capture_csv(DATA):
            sender.send(can.Message(arbitration_id=frame.can_id, data=frame.data))
        exchange = await asyncio.wait_for(crm.future, BOUND)
        assert exchange.call.action == "CRM"
        deadline = asyncio.get_running_loop().time() + BOUND
        while (
            len(link.log.frames) < 1149 + 888 + 1 and asyncio.get_running_loop().time() < deadline
        ):
            await asyncio.sleep(POLL_S)  # the notifier thread delivers the rest
        await link.stop()
        sender.shutdown()
        listener.shutdown()
        return link

    link = asyncio.run(asyncio.wait_for(main(), 20))
    messages = [f for f in link.log.frames if f.type == MSG]
    assert len(messages) == 888
    from_charger = [f for f in messages if f.direction == IN]
    assert {f.action for f in from_charger} >= {"CHM", "CRM", "CTS", "CML", "CRO", "CCS"}
    assert all(not f.findings for f in from_charger), [
        f.findings for f in from_charger if f.findings
    ]
    assert any(f.direction == OUT and f.action == "BRM" for f in messages)


def test_a_wrong_priority_dlc_and_fill_bit_are_findings_on_the_sut_message():
    async def main() -> CanLink:
        sender, listener = buses()
        link = CanLink(listener, variant="2015", sut_address=CHARGER_ADDRESS)
        await link.start()
        info = codec.message_info("CRO")
        wrong_priority = (info.can_id & ~(0x7 << 26)) | (6 << 26)
        sender.send(can.Message(arbitration_id=wrong_priority, data=bytes([0xAA])))
        sender.send(can.Message(arbitration_id=info.can_id, data=bytes([0xAA, 0xFF])))
        ccs = codec.message_info("CCS")
        sender.send(can.Message(arbitration_id=ccs.can_id, data=bytes.fromhex("e8034c0f0a00f1ff")))
        expectation = link.arm("CCS")
        await asyncio.wait_for(expectation.future, BOUND)
        await link.stop()
        sender.shutdown()
        listener.shutdown()
        return link

    link = asyncio.run(asyncio.wait_for(main(), 20))
    findings = [x for f in link.log.frames if f.type == MSG for x in f.findings]
    assert "CRO: priority 6, GB/T 27930 gives 4" in findings
    assert "CRO: DLC 2, GB/T 27930 gives 1" in findings
    assert any(x.startswith("CCS: fill bit byte 7 bit 3") for x in findings)
    assert all(f.direction == IN for f in link.log.frames if f.findings)
    assert BMS_ADDRESS != CHARGER_ADDRESS
