"""The suite as an OCPP 2.0.1 charging station of a CSMS under test.

The before-phase and the ``peer:`` actions are the 1.6 ones
(:class:`~pile_interop.ocpp.csms_role.CsmsUnderTest`); what a registered station reports,
how it ends a transaction left open and where its own configuration lives are 2.0.1's.
"""

from __future__ import annotations

from typing import Any

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp import csms_role


class CsmsUnderTest(csms_role.CsmsUnderTest):
    label = "OCPP-J 2.0.1 RPC framework"

    def own_config(self, key: str) -> str | None:
        value = self.responder.get_variable(key)
        return None if value is None else str(value)

    def set_own_config(self, key: str, value: str) -> None:
        self.responder.set_variable(key, value)

    def registered_calls(self) -> list[tuple[str, dict[str, Any]]]:
        """Every EVSE's connector Available (2.0.1 has no station-wide connector 0)."""
        return [("StatusNotification", _status(evse, "Available")) for evse in self._evses()]

    def end_transaction_calls(self, tx: Any, connector: int) -> list[tuple[str, dict[str, Any]]]:
        seq = self.responder.next_seq_no(tx)
        ended = {
            "eventType": "Ended",
            "timestamp": utc_iso(),
            "triggerReason": "StopAuthorized",
            "seqNo": seq,
            "transactionInfo": {"transactionId": str(tx), "stoppedReason": "Local"},
            "evse": {"id": connector, "connectorId": 1},
        }
        return [
            ("TransactionEvent", ended),
            ("StatusNotification", _status(connector, "Available")),
        ]

    def connector_ids(self) -> range:
        """The EVSEs whose connector status the station reports (2.0.1 has no EVSE 0)."""
        return self._evses()

    def available_call(self, connector: int) -> tuple[str, dict[str, Any]]:
        return ("StatusNotification", _status(connector, "Available"))

    def _evses(self) -> range:
        return range(1, self.connectors + 1)


def _status(evse: int, status: str) -> dict[str, Any]:
    return {"timestamp": utc_iso(), "connectorStatus": status, "evseId": evse, "connectorId": 1}
