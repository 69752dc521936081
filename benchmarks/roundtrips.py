"""Sequential CALL round trips per second: our engine next to the raw ``ocpp`` package.

``python benchmarks/roundtrips.py [--count N] [--warmup N] [--rounds N]``

The CSMS side sends ``GetConfiguration {"key": ["HeartbeatInterval"]}`` to one station and
awaits the answer, one call at a time (OCPP allows one outstanding CALL per direction):

* ``ours``: :class:`pile_interop.ocpp.session.Session` behind
  :class:`pile_interop.ocpp.server.CsmsServer`, frame recording and schema checks on (as in a
  campaign);
* ``ours, no schema checks``: the same with ``Session(..., check_schemas=False)``;
* ``raw ocpp``: an ``ocpp.v16.ChargePoint`` on a plain ``websockets`` server, default settings
  (its schema validation on, run in the loop's executor as the package does by default).

The station is the same in every measurement: a minimal ``ocpp.v16.ChargePoint`` client with
one ``GetConfiguration`` handler, over a real WebSocket on 127.0.0.1, in the same process. Each
round measures every implementation once (the order rotates per round), so machine noise hits
all of them; the table shows each one's median rate and the ratio to the raw package.
Writes ``reports/bench-roundtrips.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import json
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve

from pile_interop.ocpp.frames import CALLRESULT
from pile_interop.ocpp.server import CsmsServer
from pile_interop.ocpp.session import Session
from pile_interop.ocpp.v16.mock_csms import MockCsms
from pile_interop.ocpp.versions import by_name

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "bench-roundtrips.json"
HOST = "127.0.0.1"
STATION_ID = "BENCH-CS-001"
#: Bound on one CALL's response (both implementations).
CALL_TIMEOUT_S = 10.0
#: Bound on setting up or tearing down one measurement (server, station, connection).
SETUP_TIMEOUT_S = 10.0
#: Bound on one timed loop of ``count`` calls.
LOOP_TIMEOUT_S = 300.0

OURS = "ours"
OURS_NO_SCHEMA = "ours, no schema checks"
RAW = "raw ocpp"
IMPLEMENTATIONS = (OURS, OURS_NO_SCHEMA, RAW)

CONFIGURATION = [{"key": "HeartbeatInterval", "readonly": False, "value": "30"}]


class Station(ChargePoint):
    """The station answering in every measurement."""

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None) -> Any:
        return call_result.GetConfiguration(configuration_key=CONFIGURATION)


class RawCsms(ChargePoint):
    """The CSMS side built on the raw ``ocpp`` package (no handlers: it only calls)."""


@dataclass
class Link:
    """One measurement's set-up: a ``call`` coroutine factory and how to tear it down."""

    one_call: Callable[[], Awaitable[None]]
    close: Callable[[], Awaitable[None]]


async def start_station(url: str) -> tuple[ClientConnection, asyncio.Task[None]]:
    ws = await asyncio.wait_for(
        connect(url, subprotocols=["ocpp1.6"], ping_interval=None, open_timeout=SETUP_TIMEOUT_S),
        SETUP_TIMEOUT_S,
    )
    station = Station(STATION_ID, ws, response_timeout=CALL_TIMEOUT_S)
    task = asyncio.create_task(station.start())
    return ws, task


async def stop_station(ws: ClientConnection, task: asyncio.Task[None]) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(ws.close(), SETUP_TIMEOUT_S)
    task.cancel()
    with contextlib.suppress(BaseException):
        await asyncio.wait_for(task, SETUP_TIMEOUT_S)


async def ours(check_schemas: bool) -> Link:
    session = Session(by_name("1.6"), MockCsms({}), name=STATION_ID, check_schemas=check_schemas)

    async def on_connect(connection: ServerConnection, station_id: str, sub: str) -> None:
        await session.serve(connection, f"{station_id} ({sub})")

    server = CsmsServer(HOST, 0, on_connect, subprotocols=["ocpp1.6"], station_ids=[STATION_ID])
    await asyncio.wait_for(server.start(), SETUP_TIMEOUT_S)
    ws, task = await start_station(f"{server.url}/{STATION_ID}")
    await session.wait_connected(SETUP_TIMEOUT_S)
    payload = {"key": ["HeartbeatInterval"]}

    async def one_call() -> None:
        response = await session.call("GetConfiguration", payload, timeout=CALL_TIMEOUT_S)
        if response.type != CALLRESULT or response.findings:
            raise RuntimeError(f"unexpected response: {response.raw} {response.findings}")

    async def close() -> None:
        await stop_station(ws, task)
        await session.close()
        await server.stop()

    return Link(one_call, close)


async def raw() -> Link:
    ready: asyncio.Future[RawCsms] = asyncio.get_running_loop().create_future()

    async def handler(connection: ServerConnection) -> None:
        cp = RawCsms(STATION_ID, connection, response_timeout=CALL_TIMEOUT_S)
        ready.set_result(cp)
        with contextlib.suppress(Exception):
            await cp.start()  # until the connection closes

    server = await asyncio.wait_for(
        serve(handler, HOST, 0, subprotocols=["ocpp1.6"], ping_interval=None), SETUP_TIMEOUT_S
    )
    port = server.sockets[0].getsockname()[1]
    ws, task = await start_station(f"ws://{HOST}:{port}/ocpp/{STATION_ID}")
    cp = await asyncio.wait_for(ready, SETUP_TIMEOUT_S)
    request = call.GetConfiguration(key=["HeartbeatInterval"])

    async def one_call() -> None:
        response = await cp.call(request)
        if not isinstance(response, call_result.GetConfiguration):
            raise RuntimeError(f"unexpected response: {response!r}")

    async def close() -> None:
        await stop_station(ws, task)
        server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), SETUP_TIMEOUT_S)

    return Link(one_call, close)


FACTORIES: dict[str, Callable[[], Awaitable[Link]]] = {
    OURS: lambda: ours(True),
    OURS_NO_SCHEMA: lambda: ours(False),
    RAW: raw,
}


async def calls_per_second(link: Link, count: int, warmup: int) -> float:
    """Calls per second of ``count`` sequential round trips on ``link``, after ``warmup``
    ones (each loop bounded by LOOP_TIMEOUT_S)."""

    async def loop(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            await link.one_call()
        return time.perf_counter() - t0

    await asyncio.wait_for(loop(warmup), LOOP_TIMEOUT_S)
    gc.collect()
    elapsed = await asyncio.wait_for(loop(count), LOOP_TIMEOUT_S)
    return count / elapsed


async def measure(name: str, count: int, warmup: int) -> float:
    """Calls per second of ``count`` sequential round trips, after ``warmup`` ones."""
    link = await FACTORIES[name]()
    try:
        return await calls_per_second(link, count, warmup)
    finally:
        await link.close()


class Counter(logging.Handler):
    """Counts every record that reaches the root logger (there should be none)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name} {record.levelname}: {record.getMessage()[:200]}")


async def bench(count: int, warmup: int, rounds: int) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {name: [] for name in IMPLEMENTATIONS}
    for r in range(rounds):
        order = IMPLEMENTATIONS[r % 3 :] + IMPLEMENTATIONS[: r % 3]
        for name in order:
            rate = await measure(name, count, warmup)
            rates[name].append(rate)
            print(f"round {r + 1}/{rounds} {name:<24} {rate:8.0f} calls/s", file=sys.stderr)
    return rates


def machine() -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "ocpp": version("ocpp"),
        "websockets": version("websockets"),
        "jsonschema": version("jsonschema"),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000, help="timed calls per measurement")
    parser.add_argument("--warmup", type=int, default=300, help="untimed calls before")
    parser.add_argument("--rounds", type=int, default=5, help="measurements per implementation")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    # the ocpp logger logs every message at INFO: nothing below WARNING may run in the loop
    logging.basicConfig(level=logging.WARNING)
    for name in ("ocpp", "websockets", "pile_interop"):
        logging.getLogger(name).setLevel(logging.WARNING)
    counter = Counter()
    logging.getLogger().addHandler(counter)
    rates = asyncio.run(bench(args.count, args.warmup, args.rounds))
    medians = {name: statistics.median(values) for name, values in rates.items()}
    base = medians[RAW]
    print(
        f"sequential GetConfiguration round trips, {args.count} per measurement "
        f"(+{args.warmup} warm-up), {args.rounds} rounds"
    )
    print(f"{'implementation':<26}{'median/s':>10}{'min/s':>9}{'max/s':>9}{'vs raw':>8}")
    for name in IMPLEMENTATIONS:
        values = rates[name]
        print(
            f"{name:<26}{medians[name]:10.0f}{min(values):9.0f}{max(values):9.0f}"
            f"{medians[name] / base:8.2f}"
        )
    ratio = medians[OURS] / base
    met = ratio >= 1.0
    print(f"goal: ours >= raw ocpp: {'met' if met else 'NOT met'} (ratio {ratio:.2f})")
    print(f"log records emitted during the run: {len(counter.records)}")
    for line in counter.records[:5]:
        print(f"  {line}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "benchmark": "roundtrips",
        "command": ("python benchmarks/roundtrips.py " + " ".join(argv or sys.argv[1:])).rstrip(),
        "machine": machine(),
        "count": args.count,
        "warmup": args.warmup,
        "rounds": args.rounds,
        "rates": rates,
        "median": medians,
        "ratio_to_raw": {name: medians[name] / base for name in IMPLEMENTATIONS},
        "goal": {"definition": "median rate ours / raw ocpp >= 1", "value": ratio, "met": met},
        "log_records": counter.records,
    }
    args.out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
