"""A fleet run: stations ramped up, events fired, a live line, the figures at the end.

:func:`run_fleet` starts ``stations`` :class:`~pile_interop.fleet.station.Station` coroutines
at the behaviour's ramp rate, fires its events at their times, calls ``on_tick`` about once a
second (the CLI prints the live line), and stops after the duration or when :meth:`Fleet.stop`
is called (Ctrl-C): every connection closed (bounded), every station task ended, and the
figures judged against the thresholds. Memory is bounded per station (its ``__slots__``, its
connection, its coroutine) and for the run (histograms of fixed size, a capped timeline).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pile_interop.core.clock import utc_iso
from pile_interop.fleet.behaviour import Behaviour, Event
from pile_interop.fleet.context import FleetContext
from pile_interop.fleet.judge import Judge
from pile_interop.fleet.station import BLIP, CLOSE_TIMEOUT_S, REBOOT, Station
from pile_interop.fleet.stats import Stats
from pile_interop.fleet.thresholds import Threshold, judge_all

log = logging.getLogger(__name__)
#: Bound on ending every station task once the run stops.
STOP_TIMEOUT_S = 30.0
#: Seconds between two calls of ``on_tick`` (the live view).
TICK_S = 1.0
#: Stations started per step of the ramp at most (the ramp sleeps between steps).
RAMP_BATCH = 50


def raise_file_limit() -> int:
    """Raise this process's soft limit of open files to the hard one (a station is a socket,
    and with ``--against reference`` the CSMS's end is one more); the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@dataclass
class Fleet:
    behaviour: Behaviour
    stations: int
    urls: dict[tuple[str, int], str]
    ssl: Any = None
    duration_s: float | None = None
    seed: int | None = None
    thresholds: tuple[Threshold, ...] = ()
    on_tick: Callable[[Stats, int], None] | None = None
    #: added to every station's number (Locust workers: distinct identities)
    station_offset: int = 0
    ctx: FleetContext = field(init=False)
    interrupted: bool = False
    _stop: asyncio.Event | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.ctx = FleetContext(
            behaviour=self.behaviour,
            urls=self.urls,
            stats=Stats(),
            judge=Judge(self.behaviour.judge_per_second),
            ssl=self.ssl,
        )
        self.ctx.rng.seed(self.seed if self.seed is not None else self.behaviour.seed)

    @property
    def stats(self) -> Stats:
        return self.ctx.stats

    def stop(self, interrupted: bool = True) -> None:
        """End the run now (Ctrl-C): the report is written with the figures so far."""
        self.interrupted = interrupted
        if self._stop is not None:
            self._stop.set()

    async def run(self) -> dict[str, Any]:
        raise_file_limit()
        self._stop = asyncio.Event()
        started = utc_iso()
        duration = self.duration_s if self.duration_s is not None else self.behaviour.duration_s
        self.ctx.stats.t0 = time.monotonic()
        loop = asyncio.get_running_loop()
        handles = [
            loop.call_later(event.at_s, self._fire, event) for event in self.behaviour.events
        ]
        ramp = asyncio.create_task(self._ramp())
        ticker = asyncio.create_task(self._ticker())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), duration)
        for handle in handles:
            handle.cancel()
        ramp.cancel()
        ticker.cancel()
        self.ctx.stats.freeze()
        await self._shutdown()
        return self.result(started, duration)

    def result(self, started: str, duration: float) -> dict[str, Any]:
        figures = self.ctx.stats.figures()
        thresholds = judge_all(self.thresholds or self.behaviour.thresholds, figures)
        failed = [t for t in thresholds if not t["passed"]]
        verdict = "fail" if failed else "pass"
        return {
            "behaviour": {"id": self.behaviour.id, "path": self.behaviour.path},
            "stations": self.stations,
            "mix": [
                {
                    "ocpp": k.ocpp,
                    "security_profile": k.security_profile,
                    "share": k.share,
                    "connectors": k.connectors,
                }
                for k in self.behaviour.mix
            ],
            "seed": self.seed if self.seed is not None else self.behaviour.seed,
            "duration_s": duration,
            "started": started,
            "finished": utc_iso(),
            "interrupted": self.interrupted,
            "verdict": verdict,
            "reason": "; ".join(f"{t['threshold']} broken: {t['measured']}" for t in failed),
            "thresholds": thresholds,
            "events": [e.__dict__ for e in self.behaviour.events],
            "judge": {"max_per_second": self.behaviour.judge_per_second},
            **figures,
        }

    async def _ramp(self) -> None:
        behaviour = self.behaviour
        prefix = behaviour.station_prefix
        width = max(5, len(str(self.stations + self.station_offset)))
        step = max(1, min(RAMP_BATCH, int(behaviour.ramp_per_second / 20) or 1))
        pause = step / behaviour.ramp_per_second
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index in range(self.stations):
            kind = behaviour.kind_of(index, self.stations)
            station = Station(self.ctx, f"{prefix}-{index + self.station_offset:0{width}d}", kind)
            self.ctx.stations.append(station)
            task = asyncio.create_task(station.run())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            if (index + 1) % step == 0:
                # paced on the schedule, not on the sleeps: the ramp's rate holds under load
                delay = start + (index + 1) * pause / step - loop.time()
                await asyncio.sleep(max(0.0, delay))

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            self.ctx.stats._tick()
            if self.on_tick is not None:
                self.on_tick(self.ctx.stats, self.stations)

    def _fire(self, event: Event) -> None:
        rng = self.ctx.rng
        chosen = [s for s in self.ctx.stations if rng.random() < event.share]
        log.info("fleet event %s at %.0f s: %d stations", event.kind, event.at_s, len(chosen))
        self.ctx.stats.example(
            "events", f"{event.kind} at {event.at_s:g} s: {len(chosen)} stations"
        )
        for station in chosen:
            if event.kind == "mass_reboot":
                station.interrupt(REBOOT, rng.uniform(0, event.within_s))
            else:
                station.interrupt(BLIP, event.down_s)

    async def _shutdown(self) -> None:
        self.ctx.stopping = True
        open_ = [s.ws for s in self.ctx.stations if s.ws is not None]

        async def close(ws: Any) -> None:
            with contextlib.suppress(Exception):
                await ws.close(1001, "fleet run ended")

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(close(ws) for ws in open_)), CLOSE_TIMEOUT_S * 2
            )
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=STOP_TIMEOUT_S)
