"""What every CSMS answer in a fleet run must satisfy (the per-answer part of the run-wide
invariants), sampled when the rate demands it.

Always checked (cheap): the frame is OCPP-J (``ocpp.frames.parse``), the answer echoes the
unique id of the one CALL outstanding (OCPP-J §4.1.3: one CALL at a time, the answer carries
its id), a CALLERROR names an error code of the version, a BootNotification answer Accepted
has an interval > 0, a 1.6 transactionId is unique across the whole fleet (the CSMS assigns
it). Checked on every answer while the rate allows (a token bucket of ``max_per_second``),
else on a sample whose rate the report gives: the answer's schema (the ``ocpp`` package's,
RFC 3339 date-times included, as in a conformance run: ``ocpp.schemas``). A payload identical
to one judged before has the same verdict: it is judged from memory, without the budget (most
answers repeat: ``{}``, ``{"idTagInfo": {"status": "Accepted"}}``).
"""

from __future__ import annotations

import json
import time
from collections import deque
from typing import Any

from ocpp.messages import MessageType

from pile_interop.ocpp import schemas

#: RPC framework error codes (1.6 §4.2.3; 2.0.1 adds its own, OCPP-J 2.0.1 §4.3).
ERROR_CODES = {
    "1.6": frozenset(
        {
            "NotImplemented",
            "NotSupported",
            "InternalError",
            "ProtocolError",
            "SecurityError",
            "FormationViolation",
            "PropertyConstraintViolation",
            "OccurenceConstraintViolation",
            "TypeConstraintViolation",
            "GenericError",
        }
    ),
    "2.0.1": frozenset(
        {
            "FormatViolation",
            "GenericError",
            "InternalError",
            "MessageTypeNotSupported",
            "NotImplemented",
            "NotSupported",
            "OccurrenceConstraintViolation",
            "PropertyConstraintViolation",
            "ProtocolError",
            "RpcFrameworkError",
            "SecurityError",
            "TypeConstraintViolation",
        }
    ),
}
#: 1.6 transactionIds remembered for the uniqueness check (oldest forgotten beyond).
MAX_TRANSACTION_IDS = 1_000_000
#: Schema verdicts remembered by exact payload (most answers repeat: ``{}``, ``Accepted``).
MAX_VERDICTS = 4096


class Judge:
    """One per fleet run: judges answers and counts what it judged."""

    def __init__(self, max_per_second: float) -> None:
        self.max_per_second = max_per_second
        self._tokens = max_per_second
        self._last = time.monotonic()
        #: (CSMS URL, transactionId) given so far
        self._tx_ids: set[tuple[str, int]] = set()
        self._tx_order: deque[tuple[str, int]] = deque()
        #: (version, action, payload as canonical JSON) → its schema violations
        self._verdicts: dict[tuple[str, str, str], list[str]] = {}

    def _take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(
            self.max_per_second, self._tokens + (now - self._last) * self.max_per_second
        )
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def shape(
        self, version: str, expected_id: str, unique_id: str | None, error_code: str | None
    ) -> list[str]:
        """The cheap checks, on every answer."""
        found = []
        if unique_id != expected_id:
            found.append(
                f"answer carries unique id {unique_id!r}, the CALL outstanding is {expected_id!r}"
            )
        if error_code is not None and error_code not in ERROR_CODES[version]:
            found.append(f"CALLERROR code {error_code!r} is not an OCPP {version} error code")
        return found

    def result(
        self, version: str, action: str, payload: Any, csms: str = ""
    ) -> tuple[list[str], bool]:
        """The checks of a CALLRESULT and whether its schema was judged (sampled)."""
        key = (version, action, json.dumps(payload, sort_keys=True, separators=(",", ":")))
        known = self._verdicts.get(key)
        sampled = known is not None or self._take()
        if known is None and sampled:
            known = schemas.violations(MessageType.CallResult, action, payload, version)
            if len(self._verdicts) >= MAX_VERDICTS:
                self._verdicts.clear()
            self._verdicts[key] = known
        found = list(known) if known is not None else []
        if action == "BootNotification" and isinstance(payload, dict):
            interval = payload.get("interval")
            if payload.get("status") == "Accepted" and isinstance(interval, int) and interval <= 0:
                found.append(f"BootNotification Accepted with heartbeat interval {interval}")
        if action == "StartTransaction" and version == "1.6" and isinstance(payload, dict):
            tx = payload.get("transactionId")
            if isinstance(tx, int):
                if (csms, tx) in self._tx_ids:
                    found.append(f"transactionId {tx} was already given to another transaction")
                else:
                    self._remember((csms, tx))
        return found, sampled

    def _remember(self, tx: tuple[str, int]) -> None:
        self._tx_ids.add(tx)
        self._tx_order.append(tx)
        if len(self._tx_order) > MAX_TRANSACTION_IDS:
            self._tx_ids.discard(self._tx_order.popleft())
