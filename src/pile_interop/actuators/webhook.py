"""The ``webhook`` actuator: POSTs the action as JSON to the vendor's trigger API.

Body: ``{"action": "plug_in", "args": {"connector": 1}, "station_id": "…", "case": "TC_003_CS",
"description": "Plug the EV cable into connector 1"}``. Any 2xx answer means done.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from typing import Any

from pile_interop.actuators.base import ActuatorError, describe

log = logging.getLogger(__name__)


class WebhookActuator:
    name = "webhook"

    def __init__(self, url: str, station_id: str, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.station_id = station_id
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self.case_id = ""

    def _post(self, body: bytes, timeout: float) -> int:
        request = urllib.request.Request(self.url, data=body, headers=self.headers, method="POST")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)

    async def perform(self, action: str, args: dict[str, Any], timeout: float) -> None:
        body = json.dumps(
            {
                "action": action,
                "args": {k: v for k, v in args.items() if k != "prompt"},
                "station_id": self.station_id,
                "case": self.case_id,
                "description": describe(action, args),
            }
        ).encode()
        try:
            status = await asyncio.wait_for(asyncio.to_thread(self._post, body, timeout), timeout)
        except TimeoutError:
            raise ActuatorError(
                f"webhook {self.url} did not answer {action} within {timeout:.3g} s"
            ) from None
        except urllib.error.HTTPError as exc:
            raise ActuatorError(
                f"webhook {self.url} answered {action} with HTTP {exc.code}"
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ActuatorError(f"webhook {self.url} unreachable for {action}: {reason}") from None
        if not 200 <= status < 300:
            raise ActuatorError(f"webhook {self.url} answered {action} with HTTP {status}")

    async def settle(self, timeout: float) -> None:
        await self.perform("settle", {}, timeout)

    async def close(self) -> None:
        return None
