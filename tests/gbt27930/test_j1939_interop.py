"""Cross-check our transport against the ``can-j1939`` package over a virtual bus.

``can-j1939`` needs no address claiming for this: ``ElectronicControlUnit.subscribe(cb,
device_address=0x56)`` makes it accept (and answer) TP.CM/TP.DT sent to 0x56, and
``send_pgn`` starts an RTS/CTS transfer from any source address. Its ECU runs its own threads
(a python-can notifier and a job thread), so the tests talk to it through thread-safe queues.
"""

from __future__ import annotations

import asyncio
import queue
import uuid
from collections.abc import Iterator

import pytest

j1939 = pytest.importorskip("j1939")

from pile_interop.gbt27930.ids import BMS_ADDRESS, CHARGER_ADDRESS  # noqa: E402
from pile_interop.gbt27930.tp_faults import SenderFaults  # noqa: E402
from pile_interop.gbt27930.tp_protocol import RX, TX  # noqa: E402
from pile_interop.gbt27930.tp_receiver import ReceiverPolicy  # noqa: E402

from .conftest import node_pair, run  # noqa: E402

pytestmark = pytest.mark.timing

BRM = 0x0200
THEIR_WAIT = 5.0
"""Real seconds to wait for can-j1939's threads to deliver a message."""
SIZES = [9, 49, 1785]


def payload(size: int) -> bytes:
    return bytes((i * 13 + 5) % 256 for i in range(size))


class TheirNode:
    """A can-j1939 ECU on a virtual channel: received messages land in ``inbox``."""

    def __init__(self, address: int, max_cmdt_packets: int) -> None:
        self.channel = f"j1939-{uuid.uuid4().hex[:12]}"
        self.inbox: queue.Queue[tuple[int, int, int, bytes]] = queue.Queue()
        self.ecu = j1939.ElectronicControlUnit(max_cmdt_packets=max_cmdt_packets)
        self.ecu.connect(interface="virtual", channel=self.channel)
        self.ecu.subscribe(self._on_message, device_address=address)

    def _on_message(self, priority: int, pgn: int, sa: int, timestamp: float, data) -> None:
        self.inbox.put((priority, pgn, sa, bytes(data)))

    def close(self) -> None:
        self.ecu.disconnect()
        self.ecu.stop()


def _their_node(address: int, max_cmdt_packets: int) -> Iterator[TheirNode]:
    node = TheirNode(address, max_cmdt_packets)
    yield node
    node.close()


# One ECU per role for the whole module: stopping one takes about a second (its notifier polls).
@pytest.fixture(scope="module")
def theirs() -> Iterator[TheirNode]:
    """Their receiver at the charger's address."""
    yield from _their_node(CHARGER_ADDRESS, 255)


@pytest.fixture(scope="module")
def their_senders() -> Iterator[dict[int, TheirNode]]:
    """Their senders at the BMS address, offering 1 or 255 packets per CTS.

    A can-j1939 ECU must accept frames to its own source address (``subscribe`` with it), or it
    never sees the CTS that answers its RTS.
    """
    nodes = {window: TheirNode(BMS_ADDRESS, window) for window in (1, 255)}
    yield nodes
    for node in nodes.values():
        node.close()


@pytest.mark.parametrize("size", SIZES)
def test_our_sender_to_their_receiver(clock, theirs, size):
    async def scenario():
        async with node_pair(theirs.channel, clock) as (bms, _charger):
            # our charger node would answer too: take it off the address first
            _charger.address = 0x99
            result = await bms.send(BRM, payload(size), CHARGER_ADDRESS, priority=7)
            got = await asyncio.to_thread(theirs.inbox.get, True, THEIR_WAIT)
            return result, got, bms

    result, (_priority, pgn, sa, data), bms = run(scenario())
    assert result.ok and result.detail == "EndOfMsgAck"
    assert (pgn, sa, data) == (BRM, BMS_ADDRESS, payload(size))
    their_frames = [f for f in bms.frames if f.direction == RX]
    packets = -(-size // 7)
    assert [f.data for f in their_frames] == [
        bytes([17, packets, 1, 255, 255, 0, 2, 0]),
        bytes([19, size & 0xFF, size >> 8, packets, 255, 0, 2, 0]),
    ]
    assert {f.can_id for f in their_frames} == {0x1CECF456}


@pytest.mark.parametrize("their_window", [1, 255])
@pytest.mark.parametrize("size", SIZES)
def test_their_sender_to_our_receiver(channel, clock, their_senders, size, their_window):
    their_node = their_senders[their_window]

    async def scenario():
        async with node_pair(their_node.channel, clock) as (bms, charger):
            bms.address = 0x98  # our BMS node stays out of the way
            sent = their_node.ecu.send_pgn(
                0, 0x02, CHARGER_ADDRESS, 7, BMS_ADDRESS, list(payload(size))
            )
            message = await charger.receive(timeout=THEIR_WAIT / clock.scale)
            result = await charger.next_received_transfer(timeout=THEIR_WAIT / clock.scale)
            return sent, message, result, charger

    sent, message, result, charger = run(scenario())
    assert sent
    assert result.ok and result.retransmits == 0
    assert (message.pgn, message.src, message.data) == (BRM, BMS_ADDRESS, payload(size))

    # their frames are the frames our own sender would put on the bus for the same transfer
    their_frames = [(f.can_id, f.data) for f in charger.frames if f.direction == RX]
    packets = -(-size // 7)
    window = min(their_window, packets)

    async def ours():
        async with node_pair(f"{channel}-ours", clock) as (bms, _):
            await bms.send(
                BRM,
                payload(size),
                CHARGER_ADDRESS,
                priority=7,
                faults=SenderFaults(packets_per_cts=window),
            )
            return [(f.can_id, f.data) for f in bms.frames if f.direction == TX]

    assert their_frames == run(ours())


def test_our_receiver_windows_match_their_cts_pacing(clock, their_senders):
    """Their sender offers one packet per CTS by default; our receiver follows it."""
    their_node = their_senders[1]

    async def scenario():
        async with node_pair(their_node.channel, clock, ReceiverPolicy()) as (bms, charger):
            bms.address = 0x98
            their_node.ecu.send_pgn(0, 0x06, CHARGER_ADDRESS, 7, BMS_ADDRESS, list(payload(13)))
            await charger.receive(timeout=THEIR_WAIT / clock.scale)
            return charger

    charger = run(scenario())
    grants = [f.data[1:3] for f in charger.frames if f.direction == TX and f.data[0] == 17]
    assert grants == [bytes([1, 1]), bytes([1, 2])]
