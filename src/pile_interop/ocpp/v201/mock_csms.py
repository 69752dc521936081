"""The default behaviour of the mock CSMS for OCPP 2.0.1 (what the suite answers when a case
does not say otherwise), and what it learns about the station from the frames it sees.

The 2.0.1 counterpart of :mod:`pile_interop.ocpp.v16.mock_csms`: the same roles read the same
questions from its :class:`StationState` (registered? every connector reported? idle?),
asked in 2.0.1 terms (EVSEs and connectors, TransactionEvent, NotifyReport parts).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pile_interop.ocpp.frames import CALLRESULT, Frame
from pile_interop.ocpp.mock_csms import MockCsmsBase
from pile_interop.ocpp.session import Reply

#: Status of each token role the profile and device name; any other string is Invalid.
_ROLE_STATUS = {
    "invalid": "Invalid",
    "blocked": "Blocked",
    "expired": "Expired",
    # on the station's Local Authorization List only (block D): the CSMS itself refuses it
    "local": "Invalid",
}
#: Token roles that belong to a group (their idTokenInfo carries ``groupIdToken``).
_GROUP_ROLES = {"group_a": "group_id", "group_b": "group_id", "master": "master_pass_group_id"}
#: What the station sends that the CSMS only acknowledges.
_ACKNOWLEDGED = frozenset(
    {
        "StatusNotification",
        "MeterValues",
        "NotifyReport",
        "NotifyEvent",
        "NotifyMonitoringReport",
        "SecurityEventNotification",
        "FirmwareStatusNotification",
        "LogStatusNotification",
        "PublishFirmwareStatusNotification",
        "ReservationStatusUpdate",
        "NotifyCustomerInformation",
        "NotifyDisplayMessages",
        "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule",
        "NotifyChargingLimit",
        "ClearedChargingLimit",
        "ReportChargingProfiles",
    }
)
#: connector statuses that count as idle
_IDLE = ("Available", "Unavailable")


@dataclass
class StationState:
    """What the mock CSMS knows about the station, from what it saw on the wire."""

    registration: str | None = None  # last BootNotification answer on this connection
    boot: dict[str, Any] = field(default_factory=dict)  # last BootNotification request
    #: (evseId, connectorId) → last connectorStatus
    connectors: dict[tuple[int, int], str] = field(default_factory=dict)
    #: open transactions: transactionId → the last TransactionEvent request
    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: every TransactionEvent seqNo seen, per transactionId
    seq_nos: dict[str, list[int]] = field(default_factory=dict)
    #: NotifyReport parts by requestId (requests, in arrival order)
    reports: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    #: the CSRs of the station's SignCertificate requests, oldest first
    csrs: list[str] = field(default_factory=list)
    boots: int = 0
    reported_since_boot: set[int] = field(default_factory=set)  # evseIds
    boot_mono: float = 0.0
    opened_mono: float = 0.0  # when the current connection opened

    def ready(self, evses: int, grace: float) -> bool:
        """Registered, and every EVSE 1..N has reported a connector status since that boot
        (or ``grace`` s have passed: a station that does not report is caught by the case
        that checks it, not by every case after it). On a connection opened after the last
        boot the station may be about to boot again (it rebooted): the registration counts
        only once ``grace`` s have passed without a BootNotification."""
        if self.registration != "Accepted":
            return False
        now = time.monotonic()
        if self.opened_mono > self.boot_mono and now - self.opened_mono < grace:
            return False
        reported = set(range(1, evses + 1)) <= self.reported_since_boot
        return reported or now - self.boot_mono >= grace

    def open_transactions(self) -> list[str]:
        return sorted(self.transactions)

    def busy_connectors(self) -> list[str]:
        """Connectors that are not idle, as ``evse/connector``."""
        return [f"{e}/{c}" for (e, c), s in sorted(self.connectors.items()) if s not in _IDLE]

    def is_idle(self) -> bool:
        """Idle as the station reports it: every connector Available or Unavailable (open
        transactions the mock believes in do not count, as in the 1.6 mock's
        ``StationState.is_idle``)."""
        return not self.busy_connectors()


class MockCsms(MockCsmsBase):
    """Default answers of a mock OCPP 2.0.1 CSMS."""

    def __init__(
        self,
        tokens: dict[str, str],
        *,
        heartbeat_interval: int = 60,
        params: dict[str, Any] | None = None,
    ) -> None:
        params = params or {}
        self.token_type = str(params.get("token_type", "ISO14443"))
        self.token_info: dict[str, dict[str, Any]] = {}
        for role, value in tokens.items():
            info: dict[str, Any] = {"status": _ROLE_STATUS.get(role, "Accepted")}
            group = _GROUP_ROLES.get(role)
            if group and params.get(group):
                info["groupIdToken"] = {"idToken": str(params[group]), "type": "Central"}
            self.token_info[value] = info
        self.heartbeat_interval = heartbeat_interval
        self.state = StationState()
        super().__init__()

    def station_identity(self) -> dict[str, Any]:
        """Vendor, model, serial and firmware as the last BootNotification gave them."""
        station = self.state.boot.get("chargingStation") or {}
        return {
            "vendor": station.get("vendorName"),
            "model": station.get("model"),
            "serial": station.get("serialNumber"),
            "firmware": station.get("firmwareVersion"),
        }

    # -- answers ------------------------------------------------------------------------

    def id_token_info(self, id_token: dict[str, Any] | None) -> dict[str, Any]:
        token = (id_token or {}).get("idToken", "")
        info = dict(self.token_info.get(token, {"status": "Invalid"}))
        if info["status"] == "Expired":
            info["cacheExpiryDateTime"] = self.date_time(datetime.now(UTC) - timedelta(days=1))
        return info

    def reply(self, call: Frame) -> Reply:
        payload = call.payload or {}
        action = call.action or ""
        if action == "BootNotification":
            return Reply.result(
                {
                    "status": "Accepted",
                    "currentTime": self.date_time(None),
                    "interval": self.heartbeat_interval,
                }
            )
        if action == "Heartbeat":
            return Reply.result({"currentTime": self.date_time(None)})
        if action == "Authorize":
            return Reply.result({"idTokenInfo": self.id_token_info(payload.get("idToken"))})
        if action == "TransactionEvent":
            if "idToken" in payload:
                return Reply.result({"idTokenInfo": self.id_token_info(payload["idToken"])})
            return Reply.result({})
        if action in _ACKNOWLEDGED:
            return Reply.result({})
        if action == "SignCertificate":
            return Reply.result({"status": "Accepted"})
        if action == "DataTransfer":
            return Reply.result({"status": "UnknownVendorId"})
        return Reply.call_error("NotSupported", f"the mock CSMS does not support {action}")

    # -- learning -----------------------------------------------------------------------

    def observe(self, call: Frame, reply: Frame | None) -> None:
        payload = call.payload or {}
        answer = reply.payload if reply is not None and reply.type == CALLRESULT else None
        state = self.state
        self._changed.set()
        if call.action == "BootNotification":
            state.boot = dict(payload)
            state.registration = (answer or {}).get("status") if answer else None
            state.transactions.clear()  # a reboot ends what the station had in memory
            state.boots += 1
            state.reported_since_boot.clear()
            state.boot_mono = time.monotonic()
        elif call.action == "StatusNotification":
            evse, connector = payload.get("evseId"), payload.get("connectorId")
            if isinstance(evse, int) and isinstance(connector, int):
                state.connectors[(evse, connector)] = str(payload.get("connectorStatus"))
                state.reported_since_boot.add(evse)
        elif call.action == "TransactionEvent":
            tx = (payload.get("transactionInfo") or {}).get("transactionId")
            if isinstance(tx, str):
                seq = payload.get("seqNo")
                if isinstance(seq, int):
                    state.seq_nos.setdefault(tx, []).append(seq)
                if payload.get("eventType") == "Ended":
                    state.transactions.pop(tx, None)
                else:
                    state.transactions[tx] = dict(payload)
        elif call.action == "SignCertificate" and isinstance(payload.get("csr"), str):
            state.csrs.append(payload["csr"])
        elif call.action == "NotifyReport":
            request_id = payload.get("requestId")
            if isinstance(request_id, int):
                state.reports.setdefault(request_id, []).append(dict(payload))

    def connection_opened(self) -> None:
        self.state.opened_mono = time.monotonic()
        self._changed.set()

    def connection_lost(self) -> None:
        """A 2.0.1 station's registration outlives its connection: it sends a new
        BootNotification after a reboot, not after a reconnect (B01)."""
        self._changed.set()
