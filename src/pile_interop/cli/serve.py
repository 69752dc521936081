"""``pile-interop serve-reference <kind>``: a reference SUT as a standalone simulator. Each kind
is a subcommand of its own, so ``serve-reference <kind> --help`` shows only its options."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pile_interop.cli.exits import EXIT_OK
from pile_interop.cli.options import add_verbose
from pile_interop.core.errors import UsageError

VARIANTS = ["2011", "2015", "2023a"]


def add_serve_parser(
    sub: Any,
    host_port: Callable[[str], tuple[str, int]],
    positive: Callable[[str], float],
) -> None:
    p_serve = sub.add_parser(
        "serve-reference",
        help="run a reference SUT as a simulator",
        description="Run a reference SUT as a standalone simulator; "
        "`serve-reference KIND --help` shows that kind's options.",
    )
    kinds = p_serve.add_subparsers(dest="kind", required=True, metavar="KIND")

    def ocpp(name: str, text: str) -> argparse.ArgumentParser:
        p = kinds.add_parser(name, help=text, description=text)
        add_verbose(p)
        p.add_argument(
            "--ocpp",
            choices=["1.6", "2.0.1"],
            default="1.6",
            help="the OCPP version it speaks (default 1.6)",
        )
        p.add_argument("--station-id", default="REF-CS-001")
        p.add_argument(
            "--password-file", help="file holding the basic-auth password (security profile 1)"
        )
        p.add_argument(
            "--control",
            type=host_port,
            metavar="HOST:PORT",
            help="serve the control surface over HTTP (the webhook actuator's format)",
        )
        return p

    station = ocpp("station", "the reference charging station, connecting to a CSMS")
    station.add_argument("--csms-url", help="ws://host:port/path of the CSMS")
    station.add_argument("--connectors", type=int, default=2)
    station.add_argument("--time-scale", type=positive, default=1.0)

    csms = ocpp("csms", "the reference CSMS, accepting stations")
    csms.add_argument(
        "--listen",
        type=host_port,
        metavar="HOST:PORT",
        default=("127.0.0.1", 9000),
        help="where it accepts stations (default 127.0.0.1:9000)",
    )
    csms.add_argument(
        "--identity-segment",
        type=int,
        default=-1,
        metavar="N",
        help="the path segment holding the station identity (default -1, the last; -2 for "
        "stations connecting to …/ocpp/<id>/ws); the query is ignored",
    )
    csms.add_argument(
        "--id-tag",
        action="append",
        default=[],
        metavar="TAG=STATUS",
        help="an id tag it knows (Accepted, Blocked, Expired); repeat",
    )
    for kind in ("charger", "bms"):
        text = f"the reference GB/T 27930 {'charger' if kind == 'charger' else 'BMS'} on a bus"
        p = kinds.add_parser(kind, help=text, description=text)
        add_verbose(p)
        p.add_argument("--can", help="the CAN bus spec (e.g. socketcan:can0)")
        p.add_argument("--variant", choices=VARIANTS, default="2015")
        p.add_argument("--time-scale", type=positive, default=1.0)


def cmd_serve(args: argparse.Namespace) -> int:
    from pile_interop.ocpp.serve import serve_station

    if args.kind in ("charger", "bms"):
        return _serve_gbt(args)
    if args.kind == "csms":
        return _serve_csms(args)
    if not args.csms_url:
        raise UsageError("serve-reference station needs --csms-url")

    password = _password(args)
    if not args.csms_url.startswith(("ws://", "wss://")):
        raise UsageError(f"--csms-url {args.csms_url}: expected ws:// or wss://")
    try:
        asyncio.run(
            serve_station(
                args.csms_url,
                args.station_id,
                connectors=args.connectors,
                time_scale=args.time_scale,
                password=password,
                control=args.control,
                ocpp=args.ocpp,
            )
        )
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_OK


def _password(args: argparse.Namespace) -> str | None:
    if not args.password_file:
        return None
    try:
        return Path(args.password_file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UsageError(f"--password-file {args.password_file}: {exc.strerror}") from None


def _serve_csms(args: argparse.Namespace) -> int:
    from pile_interop.ocpp.serve import serve_csms

    id_tags: dict[str, str] = {}
    for item in args.id_tag:
        tag, _, status = item.partition("=")
        if not tag or status not in ("Accepted", "Blocked", "Expired"):
            raise UsageError(f"--id-tag {item}: expected TAG=Accepted|Blocked|Expired")
        id_tags[tag] = status
    try:
        asyncio.run(
            serve_csms(
                args.listen,
                id_tags=id_tags,
                station_id=args.station_id,
                password=_password(args),
                control=args.control,
                ocpp=args.ocpp,
                identity_segment=args.identity_segment,
            )
        )
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_OK


def _serve_gbt(args: argparse.Namespace) -> int:
    from pile_interop.core.clock import Clock
    from pile_interop.gbt27930.bms import Bms27930
    from pile_interop.gbt27930.bus import open_bus
    from pile_interop.gbt27930.charger import Charger27930
    from pile_interop.gbt27930.serve import serve_peer

    if not args.can:
        raise UsageError(f"serve-reference {args.kind} needs --can SPEC")
    try:
        bus = open_bus(args.can)
    except ValueError as exc:
        raise UsageError(f"--can {args.can}: {exc}") from None
    cls = Charger27930 if args.kind == "charger" else Bms27930
    peer = cls(bus, variant=args.variant, clock=Clock(args.time_scale), owns_bus=True)
    try:
        asyncio.run(serve_peer(peer))
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_OK
