"""A small webhook receiver for a test bench (standard library only): adapt it to your bench.

The suite POSTs one JSON request per manual or operator action (docs/actuators.md; the JSON
Schema is ``src/pile_interop/actuators/webhook.schema.json``). This receiver answers
``200 {"status": "ok"}`` once it has done an action it knows (the ``ACTIONS`` table), and
``501 {"status": "unsupported"}`` for the others: those cases become ``na`` ("the bench cannot
…"), not ``error``. Replace the ``do_*`` functions with your bench's I/O (relays, a CAN tool,
the CSMS's API …); raise :class:`BenchError` when the bench fails (the answer is
``{"status": "error"}`` and the case an ``error``).

    python examples/webhook_bench.py --port 8088
    # device descriptor: actuator: {type: webhook, url: "http://127.0.0.1:8088/actions"}
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: the most of a request body that is read
MAX_BODY = 1 << 20


class BenchError(Exception):
    """The bench tried and failed."""


def where(args: dict[str, Any]) -> str:
    """The connector (OCPP 1.6) or EVSE (OCPP 2.0.1) an action names."""
    if "evse" in args:
        return f"EVSE {args['evse']}" + (
            f" connector {args['connector']}" if "connector" in args else ""
        )
    return f"connector {args.get('connector', 1)}"


def do_plug_in(args: dict[str, Any]) -> None:
    print(f"bench: close the cable relay at {where(args)}", file=sys.stderr)


def do_unplug(args: dict[str, Any]) -> None:
    print(f"bench: open the cable relay at {where(args)}", file=sys.stderr)


def do_present_id_token(args: dict[str, Any]) -> None:
    print(f"bench: the RFID emulator presents {args['id_token']!r}", file=sys.stderr)


def do_settle(args: dict[str, Any]) -> None:
    print("bench: open every cable relay, clear faults", file=sys.stderr)


#: what this bench can do: action → handler. Anything else is answered 501.
ACTIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "plug_in": do_plug_in,
    "unplug": do_unplug,
    "present_id_token": do_present_id_token,
    "settle": do_settle,
}


def answer(request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON answer for one request."""
    action = request.get("action")
    handler = ACTIONS.get(str(action))
    if handler is None:
        return 501, {"status": "unsupported", "reason": f"this bench has no {action} actuator"}
    given = request.get("args")
    args: dict[str, Any] = given if isinstance(given, dict) else {}
    try:
        handler(args)
    except (BenchError, KeyError, ValueError) as exc:
        return 200, {"status": "error", "reason": f"{action} failed: {exc}"}
    return 200, {"status": "ok"}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_BODY:
            self._send(400, {"status": "error", "reason": "no JSON body"})
            return
        try:
            request = json.loads(self.rfile.read(length))
        except ValueError:
            self._send(400, {"status": "error", "reason": "the body is not JSON"})
            return
        if not isinstance(request, dict):
            self._send(400, {"status": "error", "reason": "the body is not a JSON object"})
            return
        print(
            f"{request.get('case') or '-'} step {request.get('step', '-')}: "
            f"{request.get('description', request.get('action'))}",
            file=sys.stderr,
        )
        self._send(*answer(request))

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8088)
    args = parser.parse_args(argv)
    try:
        server = ThreadingHTTPServer((args.host, args.port), Handler)
    except OSError as exc:
        print(f"webhook_bench: error: {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"webhook bench at http://{args.host}:{server.server_port}/actions", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
