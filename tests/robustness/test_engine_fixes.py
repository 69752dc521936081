"""Unit tests of the engine fixes the rude peers called for: the frame log's bound, a close
that completes under a flood, reasons that say why there is no connection and what came
instead of an awaited response."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from pile_interop.core.frames import EVENT, IN, OUT, FrameLog
from pile_interop.ocpp.session import CallTimeout, Disconnected
from tests.engine.test_session import BOUND, client, run, with_server


def test_an_unbounded_frame_log_keeps_everything() -> None:
    log = FrameLog()
    for i in range(50):
        log.add(IN, str(i))
    assert len(log.frames) == 50 and log.dropped == 0


def test_a_full_frame_log_counts_what_it_drops_in_one_event() -> None:
    log = FrameLog(max_frames=5)
    frames = [log.add(IN, str(i)) for i in range(12)]
    assert [f.seq for f in frames] == [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13]  # 7: the marker
    assert len(log.frames) == 6 and log.dropped == 7
    marker = log.frames[-1]
    assert marker.type == EVENT and marker.seq == 7
    assert marker.raw.startswith("7 frames dropped: the frame log keeps at most 5 frames")
    assert frames[-1].raw == "11"  # a dropped frame is still handed back to the caller
    assert log.last_seq == 13
    assert [f.seq for f in log.since(3)] == [4, 5, 7]
    assert log.since(13) == []


def test_connection_events_get_headroom_past_the_bound() -> None:
    log = FrameLog(max_frames=2)
    for i in range(4):
        log.add(OUT, str(i))
    log.event("connection closed by the SUT")
    assert log.frames[-1].raw == "connection closed by the SUT"
    assert log.dropped == 2


def test_discarding_a_case_empties_the_log_for_the_next_one() -> None:
    log = FrameLog(max_frames=3)
    for i in range(10):
        log.add(IN, str(i))
    log.discard_through(log.last_seq)
    assert log.frames == [] and log.dropped == 0
    nxt = [log.add(IN, str(i)) for i in range(4)]
    assert len(log.frames) == 4  # three and a new marker
    assert log.frames[-1].raw.startswith("1 frames dropped")
    assert [f.seq for f in log.since(nxt[0].seq - 1)] == [f.seq for f in log.frames]


#: How long the flood runs before the suite closes the connection.
FLOOD_BEFORE_CLOSE_S = 0.5


def test_closing_under_a_flood_does_not_wait_for_the_close_timeout() -> None:
    """A SUT that keeps sending while the suite closes: the suite stops answering at once
    and reads on, so the SUT's close frame gets through (it used to take 10 s)."""

    async def body(server, session):
        ws = await client(server, max_queue=None)
        await session.wait_connected(BOUND)

        async def flood() -> None:
            for i in range(100_000):
                await ws.send(json.dumps([2, f"h{i}", "Heartbeat", {}]))
                if i % 100 == 0:
                    await asyncio.sleep(0)  # yield to the loop: the suite must run too

        async def drain() -> None:
            async for _message in ws:
                pass

        tasks = [asyncio.create_task(flood()), asyncio.create_task(drain())]
        await asyncio.sleep(FLOOD_BEFORE_CLOSE_S)
        t0 = time.monotonic()
        await session.close(1001, "test over")
        await session.wait_disconnected(BOUND)
        assert time.monotonic() - t0 < 3, "the close waited for its timeout"
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        closed = [f.raw for f in session.log.frames if f.type == EVENT and "closed" in f.raw]
        assert closed and "code 1001" in closed[-1]

    run(with_server(body))


def test_not_connected_says_how_the_last_connection_ended() -> None:
    async def body(server, session):
        ws = await client(server)
        await session.wait_connected(BOUND)
        await ws.close(1011, "go away")
        await session.wait_disconnected(BOUND)
        with pytest.raises(Disconnected, match=r"closed by the SUT \(code 1011, 'go away'\)"):
            await session.call("ClearCache", {}, timeout=1)

    run(with_server(body))


def test_a_call_timeout_says_what_the_sut_sent_instead() -> None:
    async def body(server, session):
        ws = await client(server)
        await session.wait_connected(BOUND)
        call = asyncio.create_task(session.call("ClearCache", {}, timeout=0.5))
        await asyncio.wait_for(ws.recv(), BOUND)
        await ws.send("garbage")
        await ws.send(json.dumps([3, "unknown-id", {}]))
        with pytest.raises(
            CallTimeout, match="the SUT sent meanwhile: MALFORMED ×1, CALLRESULT ×1"
        ):
            await call
        silent = asyncio.create_task(session.call("ClearCache", {}, timeout=0.2))
        with pytest.raises(CallTimeout, match="nothing came from the SUT meanwhile"):
            await silent
        await ws.close()

    run(with_server(body))


def test_a_caller_gone_before_the_close_leaves_no_unretrieved_exception(caplog) -> None:
    async def body(server, session):
        ws = await client(server)
        await session.wait_connected(BOUND)
        call = asyncio.create_task(session.call("ClearCache", {}, timeout=5))
        await asyncio.wait_for(ws.recv(), BOUND)
        pending = next(iter(session._pending.values()))
        await ws.close()
        await session.wait_disconnected(BOUND)
        assert isinstance(pending.future.exception(), Disconnected)
        with pytest.raises(Disconnected):
            await call

    run(with_server(body))
    assert "never retrieved" not in caplog.text
