"""``pile-interop fleet``: many simulated stations against a CSMS, judged and timed.

``pile-interop fleet --behaviour smoke --stations 1000 --against reference --duration 30``
runs the behaviour ``profiles/fleet/smoke.yaml`` against the embedded reference CSMSs (one per
OCPP version and security profile of the mix); ``--csms ws://host:port/ocpp`` against a CSMS
under test (traffic only to that URL). A live line is refreshed every second on a terminal
(one line a second otherwise); Ctrl-C ends the run and writes the report so far. Exit 0 when
every threshold held, 1 when one broke (the report names it), 2 on a usage or behaviour-file
error (file and line), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pile_interop.cli.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from pile_interop.core.errors import UsageError


def add_fleet_parser(sub: Any, common: Any, positive: Callable[[str], float]) -> None:
    p = sub.add_parser(
        "fleet",
        parents=[common],
        help="run many simulated stations against a CSMS and judge its answers",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    p.add_argument(
        "--behaviour", required=True, help="a fleet behaviour: a YAML file or an id (fleet/smoke)"
    )
    p.add_argument("--stations", type=int, required=True, help="how many stations")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--csms", metavar="URL", help="the CSMS under test (ws:// or wss://)")
    where.add_argument("--against", choices=["reference"], help="the embedded reference CSMS")
    p.add_argument("--duration", type=positive, help="seconds (default: the behaviour's)")
    p.add_argument("--seed", type=int, help="the random seed (default: the behaviour's)")
    p.add_argument("--out", help="report folder (default reports/fleet-<time>)")
    p.add_argument(
        "--threshold",
        action="append",
        default=[],
        help="a pass/fail threshold, e.g. 'p99 BootNotification < 2s' (repeat; replaces the "
        "behaviour's)",
    )
    p.add_argument("--ca", help="CA file the stations trust for wss:// (security profile 2)")
    p.add_argument("--password-file", help="file holding the stations' Basic-auth password")
    p.add_argument(
        "--heartbeat",
        type=int,
        default=60,
        help="--against reference: the heartbeat interval the reference CSMS gives (default 60)",
    )
    p.add_argument("--station-offset", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument(
        "--emit-requests",
        action="store_true",
        help=argparse.SUPPRESS,  # JSON lines of every answer on stdout (the Locust bridge)
    )


def _urls(args: argparse.Namespace, behaviour: Any) -> dict[tuple[str, int], str]:
    from pile_interop.ocpp.client import check_url

    problem = check_url(args.csms)
    if problem:
        raise UsageError(f"--csms {problem}")
    keys = {(k.ocpp, k.security_profile) for k in behaviour.mix}
    if any(p >= 2 for _, p in keys) and not args.csms.startswith("wss:"):
        raise UsageError("--csms: the mix has security profile 2 stations, which need wss://")
    return {key: args.csms for key in keys}


def cmd_fleet(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from pile_interop.core.config import find_root
    from pile_interop.fleet.behaviour import load_behaviour, resolve
    from pile_interop.fleet.reference import ReferenceFleetCsms
    from pile_interop.fleet.report import write_report
    from pile_interop.fleet.run import Fleet
    from pile_interop.fleet.thresholds import parse_threshold
    from pile_interop.security.pki import client_context

    if args.stations < 1:
        raise UsageError("--stations must be at least 1")
    try:
        root = find_root(args.root) if args.root or not Path(args.behaviour).exists() else None
    except UsageError:
        root = None
    if root is not None and args.content:
        root = replace(root, extra=tuple(Path(c) for c in args.content))
    behaviour = load_behaviour(resolve(args.behaviour, root))
    if args.password_file:
        try:
            password = Path(args.password_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"--password-file {args.password_file}: {exc.strerror}") from None
        behaviour = replace(behaviour, password=password)
    thresholds = []
    for text in args.threshold:
        try:
            thresholds.append(parse_threshold(text))
        except ValueError as exc:
            raise UsageError(f"--threshold {text!r}: {exc}") from None
    out = Path(args.out or f"reports/fleet-{datetime.now(UTC):%Y%m%d-%H%M%S}")
    logging.getLogger("ocpp").setLevel(logging.WARNING)  # it logs every message at INFO
    live = sys.stderr.isatty()
    emit = sys.stdout if args.emit_requests else None

    def tick(stats: Any, stations: int) -> None:
        line = stats.live_line(stations)
        if live:
            print(f"\r{line}\x1b[K", end="", file=sys.stderr, flush=True)
        elif emit is None:
            print(line, file=sys.stderr, flush=True)
        else:
            print(json.dumps({"live": line, "connected": stats.connected}), file=emit, flush=True)

    async def main() -> dict[str, Any]:
        reference = None
        ssl = client_context(args.ca) if args.ca else None
        if args.against:
            reference = ReferenceFleetCsms(behaviour, heartbeat_s=args.heartbeat)
            urls = await reference.start()
            ssl = reference.client_ssl
        else:
            urls = _urls(args, behaviour)
        fleet = Fleet(
            behaviour,
            args.stations,
            urls,
            ssl=ssl,
            duration_s=args.duration,
            seed=args.seed,
            thresholds=tuple(thresholds),
            on_tick=tick,
            station_offset=args.station_offset,
        )
        if emit is not None:

            def request(action: str, latency_s: float, error: str | None) -> None:
                record = {"a": action, "ms": round(latency_s * 1000, 3), "e": error}
                print(json.dumps(record), file=emit, flush=False)

            fleet.stats.listener = request
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal.SIGINT, fleet.stop)
            loop.add_signal_handler(signal.SIGTERM, fleet.stop)
        try:
            return await fleet.run()
        finally:
            if reference is not None:
                await reference.stop()

    result = asyncio.run(main())
    if live:
        print(file=sys.stderr)
    page = write_report(result, out)
    verdict = result["verdict"]
    print(
        f"fleet {behaviour.id}: {verdict}"
        + (f" ({result['reason']})" if result["reason"] else "")
        + f"; report {page}",
        file=sys.stderr,
    )
    if result["interrupted"]:
        return EXIT_INTERRUPTED
    return EXIT_OK if verdict == "pass" else EXIT_FAILED
