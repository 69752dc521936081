"""The ``webhook`` actuator: POSTs the action as JSON to the bench's trigger API.

Request (``webhook.schema.json``, ``$defs/request``; docs/actuators.md)::

    {"schema_version": "2.0", "action": "plug_in", "args": {"connector": 1},
     "station_id": "…", "case": "TC_003_CS", "step": 3, "phase": "main",
     "description": "Plug the EV cable into connector 1",
     "prompt": "Plug the EV cable into connector 1"}

Answer: any 2xx means done (an empty body, or ``{"status": "ok"}``); HTTP 501, or a JSON body
``{"status": "unsupported", "reason": "…"}``, means the bench cannot do it (the case is ``na``);
``{"status": "error", "reason": "…"}`` or any other status is an actuator error (``error``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from typing import Any

from pile_interop.actuators.base import (
    ActionUnsupported,
    ActuatorError,
    action_args,
    describe,
    prompt_text,
)

log = logging.getLogger(__name__)

#: The version of the request and answer format (``webhook.schema.json``). 1.0 was the format
#: without ``schema_version``, ``step``, ``phase`` and ``prompt``; 1.1 only added fields; 2.0
#: renamed the GB/T 27930 actions and split ``unplug`` by the side the cable leaves.
SCHEMA_VERSION = "2.0"
#: arguments that name a connector or an EVSE: integers in every request
_NUMBERED = ("connector", "evse")
#: the most of an answer body that is read
_MAX_ANSWER = 65536


def request_body(
    action: str, args: dict[str, Any], station_id: str, case_id: str
) -> dict[str, Any]:
    """The JSON a bench receives for ``action`` (see the module docstring)."""
    own = action_args(args)
    for key in _NUMBERED:
        value = own.get(key)
        if isinstance(value, str) and value.strip().isdigit():
            own[key] = int(value)
    body: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "action": action,
        "args": own,
        "station_id": station_id,
        "case": case_id,
        "description": describe(action, own),
        "prompt": prompt_text(action, args),
    }
    if isinstance(args.get("step"), int):
        body["step"] = args["step"]
    if isinstance(args.get("phase"), str):
        body["phase"] = args["phase"]
    return body


def _answer(raw: bytes) -> tuple[str, str]:
    """``(status, reason)`` of a 2xx answer's body: ``ok`` unless it is JSON saying else."""
    try:
        doc = json.loads(raw) if raw.strip() else None
    except ValueError:
        return "ok", ""
    if not isinstance(doc, dict):
        return "ok", ""
    status = str(doc.get("status", "ok")).lower()
    return status, str(doc.get("reason") or doc.get("error") or "")


class WebhookActuator:
    name = "webhook"

    def __init__(self, url: str, station_id: str, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.station_id = station_id
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self.case_id = ""

    def _post(self, body: bytes, timeout: float) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url, data=body, headers=self.headers, method="POST")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), response.read(_MAX_ANSWER)

    async def perform(self, action: str, args: dict[str, Any], timeout: float) -> None:
        body = json.dumps(request_body(action, args, self.station_id, self.case_id)).encode()
        try:
            status, raw = await asyncio.wait_for(
                asyncio.to_thread(self._post, body, timeout), timeout
            )
        except TimeoutError:
            raise ActuatorError(
                f"webhook {self.url} did not answer {action} within {timeout:.3g} s"
            ) from None
        except urllib.error.HTTPError as exc:
            reason = _http_reason(exc)
            if exc.code == 501:
                raise ActionUnsupported(
                    f"webhook {self.url} answered HTTP 501" + (f" ({reason})" if reason else "")
                ) from None
            raise ActuatorError(
                f"webhook {self.url} answered {action} with HTTP {exc.code}"
                + (f" ({reason})" if reason else "")
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            why = getattr(exc, "reason", exc)
            raise ActuatorError(f"webhook {self.url} unreachable for {action}: {why}") from None
        if not 200 <= status < 300:
            raise ActuatorError(f"webhook {self.url} answered {action} with HTTP {status}")
        answer, reason = _answer(raw)
        if answer == "unsupported":
            raise ActionUnsupported(f"webhook {self.url}: {reason or 'unsupported'}")
        if answer not in ("ok", "done"):
            raise ActuatorError(
                f"webhook {self.url} answered {action} with {answer!r}"
                + (f": {reason}" if reason else "")
            )

    async def settle(self, timeout: float) -> None:
        await self.perform("settle", {}, timeout)

    async def close(self) -> None:
        return None


def _http_reason(exc: urllib.error.HTTPError) -> str:
    """The ``reason`` of an error answer's JSON body, if it has one."""
    try:
        raw = exc.read(_MAX_ANSWER)
    except (OSError, ValueError):
        return ""
    _, reason = _answer(raw)
    return reason[:200]
