"""Station-side CALL round trips per second: the fleet's lean path next to the suite's engine
and the raw ``ocpp`` package, in the same run.

``python benchmarks/fleet_roundtrips.py [--count N] [--warmup N] [--rounds N]``

A station sends ``Heartbeat`` and awaits its answer, one call at a time, to one minimal CSMS
(a plain ``websockets`` server that answers every CALL with a fixed CALLRESULT), over a real
WebSocket on 127.0.0.1, in one process:

* ``fleet``: :class:`pile_interop.fleet.station.Station`'s ``_call`` (what every fleet
  station does): the answer parsed, timed into the HdrHistogram and judged against its schema
  (RFC 3339 date-times included; the judge's rate budget set high enough to judge every one);
* ``fleet, no schema``: the same with the judge's rate budget spent (what a sampled answer
  costs: unique id, error code, boot interval and transactionId checks only);
* ``fleet on sans-I/O``: a sketch (here only, not in the suite) of the same station on
  ``websockets``' sans-I/O ``ClientProtocol`` over a bare asyncio transport instead of its
  asyncio connection: the same ``Station._incoming`` parses, times and judges the answer, only
  the frame path differs (no timeout per wait: a sketch);
* ``engine``: :class:`pile_interop.ocpp.session.Session` on the station's connection (as a
  CSMS campaign plays a station): frame log, expectations, schema checks of both directions;
* ``raw ocpp``: an ``ocpp.v16.ChargePoint`` client, ``await cp.call(call.Heartbeat())``, its
  default settings (schema validation on).

Each round measures every implementation once, in rotating order; the table gives the median
rate and the ratio to the raw package. Writes ``reports/bench-fleet-roundtrips.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ocpp.v16 import ChargePoint, call, call_result
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.client import ClientProtocol
from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pile_interop.core.clock import utc_iso
from pile_interop.fleet.behaviour import Behaviour, Kind
from pile_interop.fleet.context import FleetContext
from pile_interop.fleet.judge import Judge
from pile_interop.fleet.station import Station
from pile_interop.fleet.stats import Stats
from pile_interop.ocpp.frames import CALLRESULT
from pile_interop.ocpp.session import Session
from pile_interop.ocpp.v16.mock_station import MockStation
from pile_interop.ocpp.versions import by_name
from roundtrips import Counter, calls_per_second, machine

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "bench-fleet-roundtrips.json"
HOST = "127.0.0.1"
STATION_ID = "BENCH-FLEET-001"
CALL_TIMEOUT_S = 10.0
SETUP_TIMEOUT_S = 10.0
LOOP_TIMEOUT_S = 300.0
FLEET, FLEET_SAMPLED, SANS_IO = "fleet", "fleet, no schema", "fleet on sans-I/O"
ENGINE, RAW = "engine", "raw ocpp"
IMPLEMENTATIONS = (FLEET, FLEET_SAMPLED, SANS_IO, ENGINE, RAW)


@dataclass
class Link:
    one_call: Callable[[], Awaitable[None]]
    close: Callable[[], Awaitable[None]]


async def csms() -> tuple[Any, str]:
    """The answering CSMS: every CALL gets a Heartbeat answer."""

    async def handler(connection: ServerConnection) -> None:
        with contextlib.suppress(Exception):
            async for raw in connection:
                unique_id = json.loads(raw)[1]
                await connection.send(json.dumps([3, unique_id, {"currentTime": utc_iso()}]))

    server = await serve(handler, HOST, 0, subprotocols=["ocpp1.6"], ping_interval=None)
    port = server.sockets[0].getsockname()[1]
    return server, f"ws://{HOST}:{port}/ocpp/{STATION_ID}"


async def _connect(url: str) -> Any:
    return await asyncio.wait_for(
        connect(url, subprotocols=["ocpp1.6"], ping_interval=None, compression=None),
        SETUP_TIMEOUT_S,
    )


async def fleet(url: str, budget: float = 1e9) -> Link:
    ws = await _connect(url)
    behaviour = Behaviour(id="fleet/bench", path="", mix=(Kind("1.6"),), judge_per_second=budget)
    ctx = FleetContext(behaviour, {("1.6", 0): url}, Stats(), Judge(budget))
    station = Station(ctx, STATION_ID, Kind("1.6"))

    async def one_call() -> None:
        answer = await station._call(ws, "Heartbeat", {})
        if answer is None:
            raise RuntimeError("no answer")

    async def close() -> None:
        await ws.close()
        if ctx.stats.totals()["violations"] or (budget and ctx.stats.totals()["judged"] == 0):
            raise RuntimeError(f"fleet judged nothing or found violations: {ctx.stats.totals()}")

    return Link(one_call, close)


class _SansIo(asyncio.Protocol):
    """A WebSocket client on ``websockets``' sans-I/O protocol: frames in, text out."""

    def __init__(self, url: str) -> None:
        self.protocol = ClientProtocol(parse_uri(url), subprotocols=[Subprotocol("ocpp1.6")])
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiter: asyncio.Future[str] | None = None
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.protocol.send_request(self.protocol.connect())
        self.flush()

    def flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Response) and not self.opened.done():
                self.opened.set_result(None)
            elif isinstance(event, WsFrame) and event.opcode is Opcode.TEXT:
                waiter, self.waiter = self.waiter, None
                if waiter is not None and not waiter.done():
                    waiter.set_result(event.data.decode())
        self.flush()

    def send(self, text: str) -> None:
        self.protocol.send_text(text.encode())
        self.flush()


async def sans_io(url: str) -> Link:
    loop = asyncio.get_running_loop()
    parts = urlsplit(url)
    _, client = await loop.create_connection(lambda: _SansIo(url), parts.hostname, parts.port)
    await asyncio.wait_for(client.opened, SETUP_TIMEOUT_S)
    behaviour = Behaviour(id="fleet/bench", path="", mix=(Kind("1.6"),), judge_per_second=1e9)
    ctx = FleetContext(behaviour, {("1.6", 0): url}, Stats(), Judge(1e9))
    station = Station(ctx, STATION_ID, Kind("1.6"))
    ids = itertools.count(1)

    async def one_call() -> None:
        unique_id = str(next(ids))
        start = time.monotonic()
        client.waiter = loop.create_future()
        client.send(json.dumps([2, unique_id, "Heartbeat", {}], separators=(",", ":")))
        ctx.stats.message_sent()
        raw = await client.waiter  # bounded by the measurement's LOOP_TIMEOUT_S
        answer = await station._incoming(None, raw, (unique_id, "Heartbeat", start))  # type: ignore[arg-type]
        if not answer:
            raise RuntimeError(f"unexpected answer {raw}")

    async def close() -> None:
        client.transport.close()
        if ctx.stats.totals()["violations"] or ctx.stats.totals()["judged"] == 0:
            raise RuntimeError(f"judged nothing or found violations: {ctx.stats.totals()}")

    return Link(one_call, close)


async def engine(url: str) -> Link:
    ws = await _connect(url)
    session = Session(by_name("1.6"), MockStation(), name=STATION_ID)
    task = asyncio.create_task(session.serve(ws, "bench"))
    await session.wait_connected(SETUP_TIMEOUT_S)

    async def one_call() -> None:
        response = await session.call("Heartbeat", {}, timeout=CALL_TIMEOUT_S)
        if response.type != CALLRESULT or response.findings:
            raise RuntimeError(f"unexpected response: {response.raw} {response.findings}")

    async def close() -> None:
        await session.close()
        task.cancel()
        with contextlib.suppress(BaseException):
            await task

    return Link(one_call, close)


async def raw(url: str) -> Link:
    ws = await _connect(url)
    cp = ChargePoint(STATION_ID, ws, response_timeout=CALL_TIMEOUT_S)
    task = asyncio.create_task(cp.start())

    async def one_call() -> None:
        response = await cp.call(call.Heartbeat())
        if not isinstance(response, call_result.Heartbeat):
            raise RuntimeError(f"unexpected response: {response!r}")

    async def close() -> None:
        await ws.close()
        task.cancel()
        with contextlib.suppress(BaseException):
            await task

    return Link(one_call, close)


FACTORIES: dict[str, Callable[[str], Awaitable[Link]]] = {
    FLEET: fleet,
    FLEET_SAMPLED: lambda url: fleet(url, 0.0),  # the judge's budget spent: shape checks only
    SANS_IO: sans_io,
    ENGINE: engine,
    RAW: raw,
}


async def measure(name: str, count: int, warmup: int) -> float:
    server, url = await csms()
    link = await FACTORIES[name](url)
    try:
        return await calls_per_second(link, count, warmup)
    finally:
        await link.close()
        server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), SETUP_TIMEOUT_S)


async def bench(count: int, warmup: int, rounds: int) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {name: [] for name in IMPLEMENTATIONS}
    for r in range(rounds):
        k = r % len(IMPLEMENTATIONS)
        order = IMPLEMENTATIONS[k:] + IMPLEMENTATIONS[:k]
        for name in order:
            rate = await measure(name, count, warmup)
            rates[name].append(rate)
            print(f"round {r + 1}/{rounds} {name:<18} {rate:8.0f} calls/s", file=sys.stderr)
    return rates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    for name in ("ocpp", "websockets", "pile_interop"):
        logging.getLogger(name).setLevel(logging.WARNING)
    counter = Counter()
    logging.getLogger().addHandler(counter)
    rates = asyncio.run(bench(args.count, args.warmup, args.rounds))
    medians = {name: statistics.median(values) for name, values in rates.items()}
    base = medians[RAW]
    print(f"sequential Heartbeat round trips (station side), {args.count} per measurement")
    print(f"{'implementation':<18}{'median/s':>10}{'min/s':>9}{'max/s':>9}{'vs raw':>8}")
    for name in IMPLEMENTATIONS:
        values = rates[name]
        print(
            f"{name:<18}{medians[name]:10.0f}{min(values):9.0f}{max(values):9.0f}"
            f"{medians[name] / base:8.2f}"
        )
    print(f"log records emitted during the run: {len(counter.records)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "benchmark": "fleet-roundtrips",
        "machine": machine(),
        "count": args.count,
        "warmup": args.warmup,
        "rounds": args.rounds,
        "rates": rates,
        "median": medians,
        "ratio_to_raw": {name: medians[name] / base for name in IMPLEMENTATIONS},
    }
    args.out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
