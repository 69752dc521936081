"""The options of ``pile-interop serve-reference <kind>`` (a reference SUT as a standalone
simulator): each kind is a subcommand of its own, so ``serve-reference <kind> --help`` shows
only its options. ``cmd_serve`` (in the package) runs it."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from pile_interop.cli.options import add_verbose

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
