"""Fleet mode under Locust: ``locust -f src/pile_interop/fleet/locustfile.py --fleet-behaviour
smoke --fleet-csms ws://csms:9000/ocpp`` (add ``--master`` / ``--worker`` to spread the
stations over machines).

Each Locust user is a batch of ``--fleet-stations-per-user`` stations: one ``pile-interop
fleet`` process (asyncio, our engine, unchanged) whose every answer comes back as a JSON line
and is fired as a Locust request — request type ``OCPP``, name = the action, response time in
ms, the CALLERROR / timeout as the exception — so OCPP actions appear in Locust's statistics,
web UI, CSV and HTML. The bridge is a process and a pipe, not a thread: Locust monkey-patches
sockets, selectors, locks and threads for gevent when it is imported, which breaks an asyncio
loop in the same process (also one in a thread); gevent reads the pipe cooperatively. Each
worker reports its stations connected to the master (``report_to_master``), which sums each
worker's peak and prints the total when it quits. Station identities are distinct across
workers and users (worker index × 1000 + user number, times the batch size). Ending a user
sends its fleet process SIGINT: it writes its report folder (``--fleet-out``) and exits.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
from typing import Any

import gevent
from locust import User, constant, events, task

#: Bound on a fleet process ending after SIGINT.
STOP_TIMEOUT_S = 60.0
#: Seconds a user's task sleeps between two looks at its fleet process.
WATCH_S = 1.0
_USERS = itertools.count()
#: stations connected per fleet process of this worker (by user number)
_CONNECTED: dict[int, int] = {}


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    group = parser.add_argument_group("pile-interop fleet")
    group.add_argument("--fleet-behaviour", default="smoke", help="behaviour file or id")
    group.add_argument("--fleet-csms", default="", help="the CSMS URL (ws:// or wss://)")
    group.add_argument(
        "--fleet-against",
        default="",
        choices=["", "reference"],
        help="each fleet process runs its own embedded reference CSMS (tests, demos)",
    )
    group.add_argument("--fleet-stations-per-user", type=int, default=100)
    group.add_argument("--fleet-out", default="reports/fleet-locust", help="report folders")
    group.add_argument("--fleet-root", default="", help="content root (profiles/fleet/)")


@events.report_to_master.add_listener
def _report(client_id: str, data: dict[str, Any]) -> None:
    data["fleet_connected"] = sum(_CONNECTED.values())


_WORKERS: dict[str, int] = {}


@events.worker_report.add_listener
def _worker(client_id: str, data: dict[str, Any]) -> None:
    if "fleet_connected" in data:  # the peak: a worker's last report comes after its stop
        _WORKERS[client_id] = max(_WORKERS.get(client_id, 0), int(data["fleet_connected"]))


@events.quitting.add_listener
def _quitting(environment: Any, **_: Any) -> None:
    if _WORKERS:
        total = sum(_WORKERS.values())
        print(
            f"fleet: {total} stations connected across {len(_WORKERS)} workers (peak)",
            file=sys.stderr,
            flush=True,
        )


class FleetUser(User):
    """One batch of fleet stations, as one Locust user."""

    wait_time = constant(WATCH_S)

    def on_start(self) -> None:
        options = self.environment.parsed_options
        runner = self.environment.runner
        self.number = next(_USERS)
        worker = getattr(runner, "worker_index", 0) or 0
        batch = int(options.fleet_stations_per_user)
        offset = (worker * 1000 + self.number) * batch
        command = [
            sys.executable,
            "-m",
            "pile_interop",
            "fleet",
            "--behaviour",
            options.fleet_behaviour,
            "--stations",
            str(batch),
            "--duration",
            str(10**7),  # until Locust stops the user
            "--out",
            os.path.join(options.fleet_out, f"worker{worker}-user{self.number}"),
            "--station-offset",
            str(offset),
            "--emit-requests",
        ]
        command += (
            ["--against", "reference"] if options.fleet_against else ["--csms", options.fleet_csms]
        )
        if options.fleet_root:
            command += ["--root", options.fleet_root]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.reader = gevent.spawn(self._read)

    def _read(self) -> None:
        fire = self.environment.events.request.fire
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if "live" in record:
                _CONNECTED[self.number] = int(record.get("connected", 0))
                continue
            error = record.get("e")
            fire(
                request_type="OCPP",
                name=record["a"],
                response_time=record["ms"],
                response_length=0,
                exception=RuntimeError(error) if error else None,
                context={},
            )

    @task
    def watch(self) -> None:
        """Nothing to do: the fleet process works on its own; a dead one is an error."""
        if self.process.poll() is not None and self.process.returncode not in (0, 1):
            raise RuntimeError(f"fleet process exited with {self.process.returncode}")

    def on_stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT_S)
        self.reader.join(timeout=STOP_TIMEOUT_S)
        _CONNECTED.pop(self.number, None)
