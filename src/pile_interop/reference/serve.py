"""``pile-interop serve-reference station|csms``: the reference station or CSMS standalone.

Manual (station) or operator (CSMS) actions come from the terminal (``plug 1``, ``tag ABC``;
``start ABC 1``, ``reset Soft``; ``help``) and,
with ``--control HOST:PORT``, over HTTP in the webhook actuator's format: ``POST /actions``
with ``{"action": "plug_in", "args": {"connector": 1}}``. So the simulator is also a test
bench for the ``webhook`` actuator and for ``--listen`` runs.
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
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pile_interop.actuators.base import ActuatorError
from pile_interop.actuators.reference import ReferenceActuator
from pile_interop.core.errors import UsageError

log = logging.getLogger(__name__)

#: Bound on one action requested over HTTP or typed at the terminal.
ACTION_TIMEOUT_S = 30.0

_COMMANDS = {
    "plug": ("plug_in", ["connector"]),
    "unplug": ("unplug", ["connector"]),
    "tag": ("present_id_token", ["id_token", "connector"]),
    "fault": ("raise_fault", ["connector", "error_code"]),
    "clear": ("clear_fault", ["connector"]),
    "lockfail": ("set_lock_failure", ["connector"]),
    "power": ("power_cycle", []),
    "offline": ("go_offline", []),
    "online": ("go_online", []),
    "settle": ("settle", []),
}
HELP = (
    "commands: plug N | unplug N | tag ID [N] | fault N [CODE] | clear N | lockfail N | "
    "power | offline | online | settle | status | quit"
)
#: the reference OCPP 2.0.1 station's manual actions (EVSEs instead of connectors)
_STATION201_COMMANDS = {
    "plug": ("plug_in", ["evse"]),
    "unplug": ("unplug", ["evse"]),
    "tag": ("present_id_token", ["id_token", "evse"]),
    "fault": ("raise_fault", ["evse"]),
    "clear": ("clear_fault", ["evse"]),
    "lockfail": ("set_lock_failure", ["evse"]),
    "suspend": ("ev_suspend", ["evse"]),
    "resume": ("ev_resume", ["evse"]),
    "power": ("power_cycle", []),
    "offline": ("go_offline", []),
    "online": ("go_online", []),
    "settle": ("settle", []),
}
STATION201_HELP = (
    "commands: plug N | unplug N | tag ID [N] | fault N | clear N | lockfail N | suspend N | "
    "resume N | power | offline | online | settle | status | quit   (N: an EVSE id)"
)
#: the reference CSMS's operator actions (the same names as the actuator actions)
_CSMS_COMMANDS = {
    "start": ("remote_start", ["id_tag", "connector"]),
    "stop": ("remote_stop", ["transaction_id"]),
    "reset": ("reset", ["kind"]),
    "unlock": ("unlock", ["connector"]),
    "getconf": ("get_configuration", ["key"]),
    "setconf": ("change_configuration", ["key", "value"]),
    "avail": ("change_availability", ["connector", "availability"]),
    "clearcache": ("clear_cache", []),
    "register": ("set_registration", ["status"]),
}
CSMS_HELP = (
    "commands: start TAG [N] | stop [TX] | reset Hard|Soft | unlock N | getconf [KEY] | "
    "setconf KEY VALUE | avail N Operative|Inoperative | clearcache | "
    "register Accepted|Pending|Rejected | status | quit"
)
_INTEGER_ARGS = {"connector", "transaction_id"}
#: the reference OCPP 2.0.1 CSMS's operator actions (docs/ocpp201.md, "Operator actions")
_CSMS201_COMMANDS = {
    "start": ("request_start", ["id_token", "evse"]),
    "stop": ("request_stop", ["transaction_id"]),
    "reset": ("reset", ["kind", "evse"]),
    "unlock": ("unlock", ["evse", "connector"]),
    "getvar": ("get_variables", ["name"]),
    "setvar": ("set_variables", ["name", "value"]),
    "report": ("get_base_report", ["report_base"]),
    "avail": ("change_availability", ["operational_status", "evse", "connector"]),
    "clearcache": ("clear_cache", []),
    "trigger": ("trigger_message", ["requested_message", "evse"]),
    "netprofile": ("set_network_profile", ["slot", "security_profile"]),
    "register": ("set_registration", ["status"]),
    "password": ("update_password", []),
    "installca": ("install_certificate", ["certificate_type"]),
    "certs": ("get_installed_certificates", []),
    "deleteca": ("delete_certificate", []),
    "txstatus": ("get_transaction_status", ["transaction_id"]),
    "renewcert": ("renew_station_certificate", []),
}
CSMS201_HELP = (
    "commands: start TOKEN [EVSE] | stop [TX] | reset Immediate|OnIdle [EVSE] | unlock EVSE [C] | "
    "getvar COMP.VAR | setvar COMP.VAR VALUE | report FullInventory|ConfigurationInventory|"
    "SummaryInventory | avail Operative|Inoperative [EVSE [C]] | clearcache | trigger MSG [EVSE] | "
    "netprofile SLOT PROFILE | register Accepted|Pending|Rejected | password | installca [TYPE] | "
    "certs | deleteca | txstatus [TX] | renewcert | status | quit"
)
#: 2.0.1 transaction ids are strings
_INTEGER_ARGS_201 = frozenset({"connector", "evse", "slot", "security_profile"})


def parse_command(
    line: str,
    commands: dict[str, tuple[str, list[str]]] | None = None,
    help_text: str = HELP,
    integers: frozenset[str] | set[str] = _INTEGER_ARGS,
) -> tuple[str, dict[str, Any]] | None:
    """``plug 1`` → ("plug_in", {"connector": 1}); None for an empty line."""
    commands = _COMMANDS if commands is None else commands
    words = shlex.split(line)
    if not words:
        return None
    name, *rest = words
    if name not in commands:
        raise ValueError(f"unknown command {name!r}; {help_text}")
    action, names = commands[name]
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
        except ActuatorError as exc:
            self._answer(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": str(exc)})
            return
        except TimeoutError:
            self._answer(HTTPStatus.GATEWAY_TIMEOUT, {"error": f"{action} timed out"})
            return
        self._answer(HTTPStatus.OK, {"done": action})


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


async def _terminal(
    actuator: ReferenceActuator,
    commands: dict[str, tuple[str, list[str]]] | None = None,
    help_text: str = HELP,
    integers: frozenset[str] | set[str] = _INTEGER_ARGS,
) -> None:
    """Read commands from stdin until EOF or ``quit``."""
    print(help_text, file=sys.stderr)
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if line == "" or line.strip() in ("quit", "exit"):
            return
        if line.strip() == "status":
            print(json.dumps(actuator.sut.snapshot(), indent=2, default=str), file=sys.stderr)
            continue
        try:
            parsed = parse_command(line, commands, help_text, integers)
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
    station: Any
    if ocpp == "1.6":
        from pile_interop.reference.station16 import ReferenceStation16

        station = ReferenceStation16(
            csms_url, station_id, connectors=connectors, time_scale=time_scale, password=password
        )
        commands, help_text, integers = _COMMANDS, HELP, _INTEGER_ARGS
    else:
        from pile_interop.reference.station201 import ReferenceStation201

        station = ReferenceStation201(
            csms_url, station_id, evses=connectors, time_scale=time_scale, password=password
        )
        commands, help_text, integers = _STATION201_COMMANDS, STATION201_HELP, {"evse"}
    await _serve(
        station,
        lambda: f"station {station_id} → {csms_url.rstrip('/')}/{station_id}",
        control,
        commands,
        help_text,
        integers,
    )


async def serve_csms(
    listen: tuple[str, int],
    *,
    id_tags: dict[str, str],
    station_id: str | None = None,
    password: str | None = None,
    control: tuple[str, int] | None = None,
    ocpp: str = "1.6",
) -> None:
    """The reference CSMS until Ctrl-C; with a password only ``station_id`` may connect.
    ``ocpp`` 2.0.1 serves the OCPP 2.0.1 CSMS (``id_tags``: token → status)."""
    from pile_interop.reference.csms16 import ReferenceCsms16

    if ocpp == "2.0.1":
        from pile_interop.reference.csms201 import ReferenceCsms201

        csms201 = ReferenceCsms201(
            host=listen[0],
            port=listen[1],
            id_tags={token: {"status": status} for token, status in id_tags.items()},
            passwords={station_id: password} if password and station_id else {},
        )
        await _serve(
            csms201,
            lambda: f"OCPP 2.0.1 CSMS accepting stations at {csms201.url}/<station id>",
            control,
            _CSMS201_COMMANDS,
            CSMS201_HELP,
            _INTEGER_ARGS_201,
        )
        return

    csms = ReferenceCsms16(
        host=listen[0],
        port=listen[1],
        id_tags=id_tags,
        passwords={station_id: password} if password and station_id else {},
    )
    await _serve(
        csms,
        lambda: f"CSMS accepting stations at {csms.url}/<station id>",
        control,
        _CSMS_COMMANDS,
        CSMS_HELP,
    )


async def _serve(
    sut: Any,
    banner: Callable[[], str],
    control: tuple[str, int] | None,
    commands: dict[str, tuple[str, list[str]]],
    help_text: str,
    integers: frozenset[str] | set[str] = _INTEGER_ARGS,
) -> None:
    """Start ``sut``, say where it is (``banner()``), take actions from the terminal and
    ``control`` until EOF / Ctrl-C, stop it."""
    actuator = ReferenceActuator(sut)
    http = None
    await sut.start()
    try:
        if control is not None:
            http = start_control(actuator, asyncio.get_running_loop(), *control)
            print(f"control API on http://{control[0]}:{http.server_port}/actions", file=sys.stderr)
        print(banner(), file=sys.stderr)
        if sys.stdin is not None and sys.stdin.isatty():
            await _terminal(actuator, commands, help_text, integers)
        else:
            await asyncio.Event().wait()  # until Ctrl-C / SIGTERM
    finally:
        if http is not None:
            http.shutdown()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(sut.stop(), 10.0)
