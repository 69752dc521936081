"""Our J1939 RTS/CTS transport: sender ↔ receiver over a python-can virtual bus, and every
fault injection with the reaction J1939-21 asks of the other side."""

from __future__ import annotations

import asyncio
import itertools
import math

import can
import pytest

from pile_interop.gbt27930.ids import BMS_ADDRESS, CHARGER_ADDRESS, can_id
from pile_interop.gbt27930.tp_faults import ReceiverFaults, SenderFaults
from pile_interop.gbt27930.tp_protocol import (
    RX,
    TX,
    WITHHELD,
    AbortReason,
    FrameRecord,
    Timers,
    TransferError,
    TransferResult,
)
from pile_interop.gbt27930.tp_receiver import ReceiverPolicy
from pile_interop.gbt27930.transport import J1939Node

from .conftest import node_pair, run

pytestmark = pytest.mark.timing

BRM = 0x0200
TIMERS = Timers()
SLACK = 0.02
"""Protocol seconds of rounding slack on a timer's lower bound."""
LATE = 2.0
"""Protocol seconds after which a timer reaction counts as too late (generous for CI)."""
SCRIPT_STEP = 0.1
"""Protocol seconds between two frames of a scripted (raw) peer: well inside Tr and T1."""


def payload(size: int) -> bytes:
    return bytes((i * 7 + 3) % 256 for i in range(size))


def frames(node: J1939Node, direction: str, note: str = "") -> list[FrameRecord]:
    return [f for f in node.frames if f.direction == direction and f.note.startswith(note)]


async def transfer(
    channel, clock, size=49, *, sender_faults=None, receiver_faults=None, policy=None
) -> tuple[TransferResult, TransferResult, J1939Node, J1939Node]:
    """BMS sends ``size`` bytes as BRM to the charger; both sides' results and the nodes."""
    async with node_pair(channel, clock, policy) as (bms, charger):
        charger.receiver_faults = receiver_faults
        sent = await bms.send(BRM, payload(size), CHARGER_ADDRESS, priority=7, faults=sender_faults)
        received = await charger.next_received_transfer(timeout=10)
        return sent, received, bms, charger


# -- the normal exchange -----------------------------------------------------------------------

SIZES = [9, 13, 14, 15, 49, 100, 512, 1000, 1784, 1785]


@pytest.mark.parametrize("size", SIZES)
def test_payloads_from_9_to_1785_bytes_arrive_whole(channel, clock, size):
    async def scenario():
        async with node_pair(channel, clock) as (bms, charger):
            sent = await bms.send(BRM, payload(size), CHARGER_ADDRESS, priority=7)
            message = await charger.receive(timeout=5)
            return sent, message, bms, charger

    sent, message, bms, charger = run(scenario())
    packets = math.ceil(size / 7)
    assert sent.ok and sent.detail == "EndOfMsgAck" and sent.retransmits == 0
    assert message.data == payload(size) and message.multi_packet
    assert (message.pgn, message.src, message.dst) == (BRM, BMS_ADDRESS, CHARGER_ADDRESS)

    rts, *dts = frames(bms, TX)
    assert rts.can_id == 0x1CEC56F4
    assert rts.data == bytes([16, size & 0xFF, size >> 8, packets, 0xFF, 0x00, 0x02, 0x00])
    assert [d.data[0] for d in dts] == list(range(1, packets + 1))
    assert all(d.can_id == 0x1CEB56F4 and len(d.data) == 8 for d in dts)
    padding = packets * 7 - size
    assert dts[-1].data[8 - padding :] == b"\xff" * padding
    assert b"".join(d.data[1:] for d in dts)[:size] == payload(size)

    cts, eoma = frames(charger, TX)
    assert cts.can_id == 0x1CECF456
    assert cts.data == bytes([17, packets, 1, 0xFF, 0xFF, 0x00, 0x02, 0x00])
    assert eoma.data == bytes([19, size & 0xFF, size >> 8, packets, 0xFF, 0x00, 0x02, 0x00])


@pytest.mark.parametrize("window", [1, 3, 16])
def test_the_receiver_can_grant_a_few_packets_per_cts(channel, clock, window):
    sent, received, _, charger = run(
        transfer(channel, clock, 100, policy=ReceiverPolicy(packets_per_cts=window))
    )
    assert sent.ok and received.ok and received.data == payload(100)
    grants = [f.data for f in frames(charger, TX, "CTS")]
    assert len(grants) == math.ceil(15 / window)
    assert [(g[1], g[2]) for g in grants] == [
        (min(window, 15 - first + 1), first) for first in range(1, 16, window)
    ]


def test_the_sender_limit_in_the_rts_bounds_the_window(channel, clock):
    sent, received, bms, charger = run(
        transfer(channel, clock, 49, sender_faults=SenderFaults(packets_per_cts=2))
    )
    assert sent.ok and received.ok
    assert frames(bms, TX, "RTS")[0].data[4] == 2
    assert [f.data[1] for f in frames(charger, TX, "CTS")] == [2, 2, 2, 1]


def test_eight_bytes_or_fewer_go_out_as_one_frame(channel, clock):
    async def scenario():
        async with node_pair(channel, clock) as (bms, charger):
            result = await bms.send(0x1000, bytes.fromhex("5217820F02"), CHARGER_ADDRESS)
            return result, await charger.receive(timeout=5), bms

    result, message, bms = run(scenario())
    assert result.ok and result.detail == "single frame"
    assert [(f.can_id, f.data) for f in bms.frames] == [(0x181056F4, bytes.fromhex("5217820F02"))]
    assert (message.pgn, message.priority, message.multi_packet) == (0x1000, 6, False)


def test_more_than_1785_bytes_cannot_be_sent(channel, clock):
    async def scenario():
        async with node_pair(channel, clock) as (bms, _):
            await bms.send(BRM, bytes(1786), CHARGER_ADDRESS)

    with pytest.raises(TransferError, match="1785"):
        run(scenario())


def test_receive_waits_are_bounded(channel, clock):
    async def scenario():
        async with node_pair(channel, clock) as (_, charger):
            await charger.receive(timeout=0.5)

    with pytest.raises(TimeoutError):
        run(scenario())


# -- sender faults: what the receiver does -----------------------------------------------------


def test_a_dropped_dt_is_asked_for_again_and_the_transfer_completes(channel, clock):
    sent, received, bms, charger = run(
        transfer(channel, clock, 49, sender_faults=SenderFaults(drop_dt=frozenset({3})))
    )
    assert sent.ok and received.ok and received.data == payload(49)
    assert received.retransmits == sent.retransmits == 1
    assert [f.note for f in frames(bms, WITHHELD)] == ["DT 3 dropped (fault injection)"]
    assert [f.data[0] for f in frames(bms, TX, "DT")] == [1, 2, 4, 5, 6, 7, 3, 4, 5, 6, 7]
    retry = frames(charger, TX, "CTS retransmit")
    assert [(f.data[1], f.data[2]) for f in retry] == [(5, 3)]


def test_reordered_dts_are_recovered_with_a_retransmission(channel, clock):
    sent, received, bms, _ = run(
        transfer(channel, clock, 49, sender_faults=SenderFaults(reorder_dt=(2, 3)))
    )
    assert sent.ok and received.ok and received.data == payload(49)
    assert received.retransmits == 1
    assert [f.data[0] for f in frames(bms, TX, "DT")][:7] == [1, 3, 2, 4, 5, 6, 7]


def test_a_strict_receiver_aborts_on_a_bad_sequence_number(channel, clock):
    sent, received, _, charger = run(
        transfer(
            channel,
            clock,
            49,
            sender_faults=SenderFaults(reorder_dt=(2, 3)),
            policy=ReceiverPolicy(on_sequence_error="abort"),
        )
    )
    assert not received.ok
    assert (received.abort_reason, received.aborted_by) == (AbortReason.BAD_SEQUENCE, "local")
    assert (sent.abort_reason, sent.aborted_by) == (AbortReason.BAD_SEQUENCE, "peer")
    assert frames(charger, TX, "Abort")[0].data[:2] == bytes([255, 7])


def test_a_dt_lost_every_time_ends_with_the_retransmit_limit(channel, clock):
    sent, received, _, charger = run(
        transfer(channel, clock, 49, sender_faults=SenderFaults(drop_dt_always=frozenset({3})))
    )
    assert (received.abort_reason, received.retransmits) == (AbortReason.MAX_RETRANSMIT, 2)
    assert (sent.abort_reason, sent.aborted_by) == (AbortReason.MAX_RETRANSMIT, "peer")
    assert len(frames(charger, TX, "CTS retransmit")) == 2


def test_a_dt_later_than_t1_makes_the_receiver_abort_with_a_timeout(channel, clock):
    sent, received, bms, charger = run(
        transfer(channel, clock, 49, sender_faults=SenderFaults(delay_dt={4: 1.0}))
    )
    assert (received.abort_reason, received.timer) == (AbortReason.TIMEOUT, "T1")
    assert (sent.abort_reason, sent.aborted_by) == (AbortReason.TIMEOUT, "peer")
    last_dt = frames(charger, RX, "DT 3")[0]
    abort = frames(charger, TX, "Abort")[0]
    assert TIMERS.t1 - SLACK <= abort.t - last_dt.t <= TIMERS.t1 + LATE
    assert not frames(bms, TX, "DT 4")  # the sender saw the abort before sending it


def test_no_dt_after_the_cts_makes_the_receiver_abort_after_t2(channel, clock):
    sent, received, _, charger = run(
        transfer(channel, clock, 49, sender_faults=SenderFaults(stop_after_dt=0))
    )
    assert (received.abort_reason, received.timer) == (AbortReason.TIMEOUT, "T2")
    assert sent.aborted_by == "peer"
    cts = frames(charger, TX, "CTS")[0]
    abort = frames(charger, TX, "Abort")[0]
    assert TIMERS.t2 - SLACK <= abort.t - cts.t <= TIMERS.t2 + LATE


def test_a_sender_that_goes_silent_mid_window_breaks_t1(channel, clock):
    _, received, _, _ = run(
        transfer(channel, clock, 49, sender_faults=SenderFaults(stop_after_dt=4))
    )
    assert (received.abort_reason, received.timer) == (AbortReason.TIMEOUT, "T1")


@pytest.mark.parametrize("after", [0, 2])
def test_a_sender_abort_ends_the_receivers_session(channel, clock, after):
    faults = SenderFaults(abort_after_dt=after, abort_reason=AbortReason.RESOURCES)
    sent, received, bms, _ = run(transfer(channel, clock, 49, sender_faults=faults))
    assert (sent.abort_reason, sent.aborted_by) == (AbortReason.RESOURCES, "local")
    assert (received.abort_reason, received.aborted_by) == (AbortReason.RESOURCES, "peer")
    assert len(frames(bms, TX, "DT")) == after
    assert frames(bms, TX, "Abort")[0].data == bytes([255, 2, 255, 255, 255, 0, 2, 0])


# -- receiver faults: what the sender does -----------------------------------------------------


def test_a_missing_cts_makes_the_sender_abort_after_t3(channel, clock):
    sent, received, bms, charger = run(
        transfer(channel, clock, 49, receiver_faults=ReceiverFaults(drop_cts=True))
    )
    assert (sent.abort_reason, sent.aborted_by, sent.timer) == (AbortReason.TIMEOUT, "local", "T3")
    assert (received.abort_reason, received.aborted_by) == (AbortReason.TIMEOUT, "peer")
    rts = frames(bms, TX, "RTS")[0]
    abort = frames(bms, TX, "Abort")[0]
    assert TIMERS.t3 - SLACK <= abort.t - rts.t <= TIMERS.t3 + LATE
    assert frames(charger, WITHHELD)[0].note == "CTS dropped (fault injection)"


def test_a_late_cts_within_t3_is_tolerated(channel, clock):
    sent, received, _bms, charger = run(
        transfer(channel, clock, 49, receiver_faults=ReceiverFaults(delay_cts=0.6))
    )
    assert sent.ok and received.ok
    rts = frames(charger, RX, "RTS")[0]
    cts = frames(charger, TX, "CTS")[0]
    assert cts.t - rts.t >= 0.6 > TIMERS.tr  # later than Tr: a finding for a conformance check


def test_a_cts_later_than_t3_makes_the_sender_abort(channel, clock):
    sent, received, _, charger = run(
        transfer(channel, clock, 49, receiver_faults=ReceiverFaults(delay_cts=1.6))
    )
    assert (sent.abort_reason, sent.timer) == (AbortReason.TIMEOUT, "T3")
    assert received.aborted_by == "peer"
    assert not frames(charger, TX, "CTS")


def test_a_held_connection_renewed_every_th_completes(channel, clock):
    sent, received, _, charger = run(
        transfer(channel, clock, 49, receiver_faults=ReceiverFaults(hold=1.5))
    )
    assert sent.ok and received.ok
    holds = frames(charger, TX, "CTS hold")
    assert len(holds) >= 3
    assert all(b.t - a.t <= TIMERS.th for a, b in itertools.pairwise(holds))
    assert all(h.data[1] == 0 for h in holds)


def test_a_hold_that_is_never_renewed_makes_the_sender_abort_after_t4(channel, clock):
    sent, received, bms, _charger = run(
        transfer(channel, clock, 49, receiver_faults=ReceiverFaults(hold_without_renew=True))
    )
    assert (sent.abort_reason, sent.timer) == (AbortReason.TIMEOUT, "T4")
    assert (received.abort_reason, received.aborted_by) == (AbortReason.TIMEOUT, "peer")
    hold = frames(bms, RX, "CTS hold")[0]
    abort = frames(bms, TX, "Abort")[0]
    assert TIMERS.t4 - SLACK <= abort.t - hold.t <= TIMERS.t4 + LATE


def test_a_missing_end_of_message_ack_makes_the_sender_abort_after_t3(channel, clock):
    sent, received, bms, _ = run(
        transfer(channel, clock, 49, receiver_faults=ReceiverFaults(drop_eoma=True))
    )
    assert received.ok and received.data == payload(49)
    assert (sent.abort_reason, sent.timer) == (AbortReason.TIMEOUT, "T3")
    last_dt = frames(bms, TX, "DT 7")[0]
    abort = frames(bms, TX, "Abort")[0]
    assert TIMERS.t3 - SLACK <= abort.t - last_dt.t <= TIMERS.t3 + LATE


@pytest.mark.parametrize(
    "faults",
    [
        ReceiverFaults(abort_on_rts=AbortReason.BUSY, abort_reason=AbortReason.BUSY),
        ReceiverFaults(abort_after_dt=3, abort_reason=AbortReason.BUSY),
    ],
    ids=["on-rts", "after-dt-3"],
)
def test_a_receiver_abort_ends_the_senders_transfer(channel, clock, faults):
    sent, received, _, _ = run(transfer(channel, clock, 49, receiver_faults=faults))
    assert (sent.abort_reason, sent.aborted_by) == (AbortReason.BUSY, "peer")
    assert (received.abort_reason, received.aborted_by) == (AbortReason.BUSY, "local")


def test_receiver_faults_can_target_one_pgn(channel, clock):
    faults = ReceiverFaults(pgn=0x0600, abort_on_rts=AbortReason.RESOURCES)
    sent, received, _, _ = run(transfer(channel, clock, 49, receiver_faults=faults))
    assert sent.ok and received.ok  # BRM is not BCP


# -- malformed peers (raw frames) --------------------------------------------------------------


def test_an_rts_whose_packet_count_does_not_fit_its_size_is_aborted(channel, clock):
    async def scenario():
        async with node_pair(channel, clock) as (bms, charger):
            bms.send_frame(
                can_id(0xEC00, 7, BMS_ADDRESS, CHARGER_ADDRESS),
                bytes([16, 49, 0, 5, 255, 0, 2, 0]),
                "bad RTS",
            )
            return await charger.next_received_transfer(timeout=5)

    result = run(scenario())
    assert (result.abort_reason, result.aborted_by) == (AbortReason.OTHER, "local")


def test_a_cts_while_sending_dts_makes_the_sender_abort_with_reason_4(channel, clock):
    async def scenario():
        peer = can.Bus(interface="virtual", channel=channel)
        try:
            async with node_pair(channel, clock) as (bms, _charger):
                _charger.receiver_faults = ReceiverFaults(drop_cts=True)
                task = asyncio.create_task(
                    bms.send(
                        BRM,
                        payload(49),
                        CHARGER_ADDRESS,
                        priority=7,
                        faults=SenderFaults(delay_dt={2: 0.3}),
                    )
                )
                await clock.sleep(SCRIPT_STEP)
                cts = bytes([17, 7, 1, 255, 255, 0, 2, 0])
                cts_id = can_id(0xEC00, 7, CHARGER_ADDRESS, BMS_ADDRESS)
                peer.send(can.Message(arbitration_id=cts_id, data=cts, is_extended_id=True))
                await clock.sleep(SCRIPT_STEP)
                peer.send(can.Message(arbitration_id=cts_id, data=cts, is_extended_id=True))
                return await task
        finally:
            peer.shutdown()

    result = run(scenario())
    assert (result.abort_reason, result.aborted_by) == (AbortReason.CTS_DURING_TRANSFER, "local")


def test_a_second_rts_supersedes_an_open_session(channel, clock):
    async def scenario():
        async with node_pair(channel, clock) as (bms, charger):
            charger.receiver_faults = ReceiverFaults(delay_cts=0.5)
            rts = bytes([16, 9, 0, 2, 255, 0, 0x11, 0])
            rts_id = can_id(0xEC00, 7, BMS_ADDRESS, CHARGER_ADDRESS)
            bms.send_frame(rts_id, rts, "RTS")
            await clock.sleep(SCRIPT_STEP)
            bms.send_frame(rts_id, rts, "RTS again")
            first = await charger.next_received_transfer(timeout=5)
            return first

    first = run(scenario())
    assert not first.ok and first.detail == "superseded by a new RTS from the sender"


def test_frame_records_print_like_a_bus_trace(channel, clock):
    _, _, bms, _ = run(transfer(channel, clock, 9))
    line = str(frames(bms, TX, "RTS")[0])
    assert "1CEC56F4 10 09 00 02 FF 00 02 00  RTS" in line


def test_a_short_tp_cm_frame_is_ignored(channel, clock):
    async def scenario():
        async with node_pair(channel, clock) as (bms, charger):
            bms.send_frame(can_id(0xEC00, 7, BMS_ADDRESS, CHARGER_ADDRESS), bytes([16, 9]), "short")
            sent = await bms.send(BRM, payload(9), CHARGER_ADDRESS, priority=7)
            return sent, await charger.next_received_transfer(timeout=5)

    sent, received = run(scenario())
    assert sent.ok and received.ok and received.data == payload(9)
