"""Actuators: a manual action is done, confirmed in time, or an error that says why."""

from __future__ import annotations

import asyncio
import io
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pile_interop.actuators.base import ActuatorError, describe
from pile_interop.actuators.prompt import PromptActuator
from pile_interop.actuators.webhook import WebhookActuator


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 10))


def test_describe_tells_the_tester_what_to_do():
    assert describe("plug_in", {"connector": 2}) == "Plug the EV cable into connector 2"
    assert "'ABC'" in describe("present_id_token", {"id_token": "ABC"})


def test_the_prompt_waits_for_enter():
    out = io.StringIO()
    run(PromptActuator(io.StringIO("\n"), out).perform("plug_in", {"connector": 1}, 5))
    assert "Plug the EV cable into connector 1, then press Enter" in out.getvalue()


def test_the_prompt_gives_up_after_its_bound():
    read_end, write_end = os.pipe()  # nobody ever types
    never = os.fdopen(read_end)
    try:
        with pytest.raises(ActuatorError, match=r"did not confirm .* within 0.2 s"):
            run(PromptActuator(never, io.StringIO()).perform("unplug", {"connector": 1}, 0.2))
    finally:
        os.close(write_end)  # EOF ends the reader thread; then the file can close
        threading.Thread(target=never.close, daemon=True).start()


def test_a_closed_stdin_is_an_error_not_a_hang():
    with pytest.raises(ActuatorError, match="standard input closed"):
        run(PromptActuator(io.StringIO(""), io.StringIO()).perform("power_cycle", {}, 5))


class _Bench(BaseHTTPRequestHandler):
    status = 200
    seen: list[dict] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append({"body": json.loads(body), "auth": self.headers.get("X-Token")})
        self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def bench():
    handler = type("Bench", (_Bench,), {"status": 200, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield handler, f"http://127.0.0.1:{server.server_port}/actions"
    server.shutdown()
    server.server_close()


def test_the_webhook_posts_the_action_and_accepts_a_2xx(bench):
    handler, url = bench
    actuator = WebhookActuator(url, "CS-1", {"X-Token": "t"})
    actuator.case_id = "TC_003_CS"
    run(actuator.perform("plug_in", {"connector": 1}, 5))
    body = handler.seen[0]["body"]
    assert body["action"] == "plug_in" and body["args"] == {"connector": 1}
    assert body["station_id"] == "CS-1" and body["case"] == "TC_003_CS"
    assert handler.seen[0]["auth"] == "t"


def test_a_webhook_error_status_is_an_actuator_error(bench):
    handler, url = bench
    handler.status = 500
    with pytest.raises(ActuatorError, match="HTTP 500"):
        run(WebhookActuator(url, "CS-1").perform("unplug", {"connector": 1}, 5))


def test_an_unreachable_webhook_is_an_actuator_error():
    with pytest.raises(ActuatorError, match="unreachable"):
        run(WebhookActuator("http://127.0.0.1:9/x", "CS-1").perform("unplug", {}, 5))
