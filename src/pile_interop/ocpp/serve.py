"""``pile-interop serve-reference station|csms``: the reference station or CSMS standalone.

Manual (station) or operator (CSMS) actions come from the terminal (``plug 1``, ``tag ABC``;
``start ABC 1``, ``reset Soft``; ``help``) and,
with ``--control HOST:PORT``, over HTTP in the webhook actuator's format: ``POST /actions``
with ``{"action": "plug_in", "args": {"connector": 1}}``. So the simulator is also a test
bench for the ``webhook`` actuator and for ``--listen`` runs. Each version package says how to
build its reference SUTs standalone and their commands (``ocpp/v16/serve.py`` …) through its
dialect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shlex
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pile_interop.actuators.base import ActionUnsupported, ActuatorError
from pile_interop.actuators.reference import ReferenceActuator
from pile_interop.core.errors import UsageError
from pile_interop.ocpp import dialects
from pile_interop.ocpp.client import station_url

log = logging.getLogger(__name__)

#: Bound on one action requested over HTTP or typed at the terminal.
ACTION_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Commands:
    """A reference SUT's terminal commands: ``name → (action, argument names)``, the help
    line, and the arguments that are integers."""

    table: dict[str, tuple[str, list[str]]]
    help: str
    integers: frozenset[str]


@dataclass
class Standalone:
    """A reference SUT ready to serve: the SUT, the line saying where it is, its commands."""

    sut: Any
    banner: Callable[[], str]
    commands: Commands

    @classmethod
    def station(cls, station: Any, csms_url: str, commands: Commands) -> Standalone:
        """A reference station connecting to ``csms_url``/<its id>."""
        where = station_url(csms_url, station.station_id)
        return cls(station, lambda: f"station {station.station_id} → {where}", commands)

    @classmethod
    def csms(cls, csms: Any, what: str, commands: Commands) -> Standalone:
        """A reference CSMS (``what`` it is) accepting stations at its URL."""
        return cls(csms, lambda: f"{what} accepting stations at {csms.url}/<station id>", commands)


def parse_command(line: str, commands: Commands) -> tuple[str, dict[str, Any]] | None:
    """``plug 1`` → ("plug_in", {"connector": 1}); None for an empty line."""
    table, help_text, integers = commands.table, commands.help, commands.integers
    words = shlex.split(line)
    if not words:
        return None
    name, *rest = words
    if name not in table:
        raise ValueError(f"unknown command {name!r}; {help_text}")
    action, names = table[name]
    if len(rest) > len(names):
        raise ValueError(f"{name} takes {len(names)} argument(s): {' '.join(names) or 'none'}")
    args: dict[str, Any] = {}
    for key, value in zip(names, rest, strict=False):
        args[key] = int(value) if key in integers else value
    if "key" in args and action == "get_configuration":
        args["keys"] = [args.pop("key")]
    if action in ("get_variables", "set_variables"):  # COMP.VAR [VALUE] → variables: [...]
        if "name" not in args or "." not in args["name"]:
            raise ValueError(f"{name} needs COMPONENT.VARIABLE")
        component, _, variable = args.pop("name").partition(".")
        item: dict[str, Any] = {"component": component, "variable": variable}
        if action == "set_variables":
            if "value" not in args:
                raise ValueError("setvar needs a value")
            item["value"] = args.pop("value")
        args["variables"] = [item]
    if names and names[0] == "connector" and "connector" not in args:
        raise ValueError(f"{name} needs a connector number")
    return action, args


async def perform(actuator: ReferenceActuator, action: str, args: dict[str, Any]) -> None:
    if action == "settle":
        await actuator.settle(ACTION_TIMEOUT_S)
    else:
        await actuator.perform(action, args, ACTION_TIMEOUT_S)


class _ControlHandler(BaseHTTPRequestHandler):
    actuator: ReferenceActuator
    loop: asyncio.AbstractEventLoop

    def log_message(self, format: str, *args: Any) -> None:
        log.info("control: " + format, *args)

    def _answer(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        future = asyncio.run_coroutine_threadsafe(_snapshot(self.actuator), self.loop)
        self._answer(HTTPStatus.OK, future.result(ACTION_TIMEOUT_S))

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(min(length, 1 << 16)) or b"{}")
            action, args = str(body["action"]), dict(body.get("args") or {})
        except (ValueError, KeyError, TypeError) as exc:
            self._answer(HTTPStatus.BAD_REQUEST, {"error": f"bad request: {exc}"})
            return
        future = asyncio.run_coroutine_threadsafe(perform(self.actuator, action, args), self.loop)
        try:
            future.result(ACTION_TIMEOUT_S + 1)
        except ActionUnsupported as exc:  # the bench contract: 501, the case is na
            self._answer(HTTPStatus.NOT_IMPLEMENTED, {"status": "unsupported", "reason": str(exc)})
            return
        except ActuatorError as exc:
            self._answer(HTTPStatus.UNPROCESSABLE_ENTITY, {"status": "error", "reason": str(exc)})
            return
        except TimeoutError:
            reason = f"{action} timed out"
            self._answer(HTTPStatus.GATEWAY_TIMEOUT, {"status": "error", "reason": reason})
            return
        self._answer(HTTPStatus.OK, {"status": "ok", "done": action})


async def _snapshot(actuator: ReferenceActuator) -> dict[str, Any]:
    return dict(actuator.sut.snapshot())


def start_control(
    actuator: ReferenceActuator, loop: asyncio.AbstractEventLoop, host: str, port: int
) -> ThreadingHTTPServer:
    handler = type("Handler", (_ControlHandler,), {"actuator": actuator, "loop": loop})
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise UsageError(f"--control {host}:{port}: {exc.strerror or exc}") from None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="control", daemon=True).start()
    return server


async def _terminal(actuator: ReferenceActuator, commands: Commands) -> None:
    """Read commands from stdin until EOF or ``quit``."""
    print(commands.help, file=sys.stderr)
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if line == "" or line.strip() in ("quit", "exit"):
            return
        if line.strip() == "status":
            print(json.dumps(actuator.sut.snapshot(), indent=2, default=str), file=sys.stderr)
            continue
        try:
            parsed = parse_command(line, commands)
            if parsed is not None:
                await perform(actuator, *parsed)
                print(f"done: {parsed[0]}", file=sys.stderr)
        except (ValueError, ActuatorError) as exc:
            print(f"error: {exc}", file=sys.stderr)


async def serve_station(
    csms_url: str,
    station_id: str,
    *,
    connectors: int = 2,
    time_scale: float = 1.0,
    password: str | None = None,
    control: tuple[str, int] | None = None,
    ocpp: str = "1.6",
) -> None:
    """The reference station of OCPP ``ocpp`` until Ctrl-C (``connectors``: its connectors,
    for 2.0.1 its EVSEs)."""
    standalone = dialects.for_device(ocpp).standalone_station(
        csms_url, station_id, connectors, time_scale, password
    )
    await serve(standalone, control)


async def serve_csms(
    listen: tuple[str, int],
    *,
    id_tags: dict[str, str],
    station_id: str | None = None,
    password: str | None = None,
    control: tuple[str, int] | None = None,
    ocpp: str = "1.6",
    identity_segment: int = -1,
) -> None:
    """The reference CSMS of OCPP ``ocpp`` until Ctrl-C; with a password only ``station_id``
    may connect (``id_tags``: token → status); the station identity is the path segment
    ``identity_segment`` (-1: the last; -2 for a station URL ``…/ocpp/<id>/ws``)."""
    passwords = {station_id: password} if password and station_id else {}
    standalone = dialects.for_device(ocpp).standalone_csms(listen, id_tags, passwords)
    standalone.sut.server.identity_segment = identity_segment
    if identity_segment != -1:
        banner = standalone.banner
        where = f"the identity read from path segment {identity_segment}"
        standalone = replace(standalone, banner=lambda: f"{banner()} ({where})")
    await serve(standalone, control)


async def serve(standalone: Standalone, control: tuple[str, int] | None) -> None:
    """Start the SUT, say where it is, take actions from the terminal and ``control`` until
    EOF / Ctrl-C, stop it."""
    sut = standalone.sut
    actuator = ReferenceActuator(sut)
    http = None
    await sut.start()
    try:
        if control is not None:
            http = start_control(actuator, asyncio.get_running_loop(), *control)
            print(f"control API on http://{control[0]}:{http.server_port}/actions", file=sys.stderr)
        print(standalone.banner(), file=sys.stderr)
        if sys.stdin is not None and sys.stdin.isatty():
            await _terminal(actuator, standalone.commands)
        else:
            await asyncio.Event().wait()  # until Ctrl-C / SIGTERM
    finally:
        if http is not None:
            http.shutdown()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(sut.stop(), 10.0)
