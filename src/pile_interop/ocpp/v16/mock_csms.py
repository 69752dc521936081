"""The default behaviour of the mock CSMS for OCPP 1.6 (what the suite answers when a case
does not say otherwise), and what it learns about the station from the frames it sees.

Cases override single answers (``expect: Authorize`` + ``reply:``); everything else a station
sends between and during cases gets the answer a well-behaved Central System would give.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pile_interop.ocpp.frames import CALLRESULT, Frame
from pile_interop.ocpp.mock_csms import MockCsmsBase
from pile_interop.ocpp.session import Reply

log = logging.getLogger(__name__)

#: Status of each token role the profile and device name (``tokens.blocked`` → Blocked …).
_ROLE_STATUS = {"invalid": "Invalid", "blocked": "Blocked", "expired": "Expired"}


@dataclass
class StationState:
    """What the mock CSMS knows about the station, from what it saw on the wire."""

    #: the last BootNotification answer (kept across a plain reconnect: only a reboot
    #: requires a new BootNotification)
    registration: str | None = None
    boot: dict[str, Any] = field(default_factory=dict)  # last BootNotification request
    connectors: dict[int, str] = field(default_factory=dict)  # connectorId → status
    errors: dict[int, str] = field(default_factory=dict)  # connectorId → errorCode
    transactions: dict[int, dict[str, Any]] = field(default_factory=dict)  # open, by id
    boots: int = 0
    reported_since_boot: set[int] = field(default_factory=set)  # connectorIds

    boot_mono: float = 0.0  # when the last BootNotification was answered
    opened_mono: float = 0.0  # when the current connection opened

    def ready(self, connectors: int, grace: float) -> bool:
        """Registered, and every connector 1..N has reported its status since that boot (the
        OCA "Booted" state: done starting up), or ``grace`` s have passed since the boot (a
        station that does not report is caught by the case that checks it, not by every
        case after it). On a connection opened after the last boot the station may be about
        to boot again (it rebooted): the registration counts only once ``grace`` s have
        passed without a BootNotification (as in the 2.0.1 mock)."""
        if self.registration != "Accepted":
            return False
        now = time.monotonic()
        if self.opened_mono > self.boot_mono and now - self.opened_mono < grace:
            return False
        reported = set(range(1, connectors + 1)) <= self.reported_since_boot
        return reported or now - self.boot_mono >= grace

    def open_transactions(self) -> list[int]:
        return sorted(self.transactions)

    def busy_connectors(self) -> list[int]:
        """Connectors that are not idle (anything but Available / Unavailable)."""
        return sorted(
            c for c, s in self.connectors.items() if c > 0 and s not in ("Available", "Unavailable")
        )

    def is_idle(self) -> bool:
        """Idle as the station itself reports it: every connector Available or Unavailable.

        (Transactions the mock believes open do not count: a station that stops one with a
        wrong transactionId must fail the case that checks it, not every case after it.)"""
        return not self.busy_connectors()


class MockCsms(MockCsmsBase):
    """Default answers of a mock OCPP 1.6 Central System."""

    def __init__(
        self,
        tokens: dict[str, str],
        *,
        heartbeat_interval: int = 60,
        first_transaction_id: int = 1000,
    ) -> None:
        self.token_status = {
            value: _ROLE_STATUS.get(role, "Accepted") for role, value in tokens.items()
        }
        self.heartbeat_interval = heartbeat_interval
        self.next_transaction_id = first_transaction_id
        self.state = StationState()
        super().__init__()

    def station_identity(self) -> dict[str, Any]:
        """Vendor, model, serial and firmware as the last BootNotification gave them."""
        boot = self.state.boot
        return {
            "vendor": boot.get("chargePointVendor"),
            "model": boot.get("chargePointModel"),
            "serial": boot.get("chargePointSerialNumber"),
            "firmware": boot.get("firmwareVersion"),
        }

    # -- answers ------------------------------------------------------------------------

    def id_tag_info(self, id_tag: str | None) -> dict[str, Any]:
        status = self.token_status.get(id_tag or "", "Invalid")
        info: dict[str, Any] = {"status": status}
        if status == "Expired":
            info["expiryDate"] = self.date_time(datetime.now(UTC) - timedelta(days=1))
        return info

    def new_transaction_id(self) -> int:
        self.next_transaction_id += 1
        return self.next_transaction_id

    def reply(self, call: Frame) -> Reply:
        payload = call.payload or {}
        action = call.action
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
            return Reply.result({"idTagInfo": self.id_tag_info(payload.get("idTag"))})
        if action == "StartTransaction":
            return Reply.result(
                {
                    "transactionId": self.new_transaction_id(),
                    "idTagInfo": self.id_tag_info(payload.get("idTag")),
                }
            )
        if action == "StopTransaction":
            if "idTag" in payload:
                return Reply.result({"idTagInfo": self.id_tag_info(payload.get("idTag"))})
            return Reply.result({})
        if action == "DataTransfer":
            return Reply.result({"status": "UnknownVendorId"})
        if action in (
            "StatusNotification",
            "MeterValues",
            "DiagnosticsStatusNotification",
            "FirmwareStatusNotification",
            "SecurityEventNotification",
            "LogStatusNotification",
            "SignedFirmwareStatusNotification",
        ):
            return Reply.result({})
        if action == "SignCertificate":
            return Reply.result({"status": "Rejected"})
        return Reply.call_error(
            "NotImplemented", f"{action} is not a CALL a Charge Point sends in OCPP 1.6"
        )

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
            connector = payload.get("connectorId")
            if isinstance(connector, int):
                state.connectors[connector] = str(payload.get("status"))
                state.errors[connector] = str(payload.get("errorCode"))
                state.reported_since_boot.add(connector)
        elif call.action == "StartTransaction" and answer:
            tx = answer.get("transactionId")
            if isinstance(tx, int) and (answer.get("idTagInfo") or {}).get("status"):
                state.transactions[tx] = dict(payload)
        elif call.action == "StopTransaction":
            tx = payload.get("transactionId")
            if isinstance(tx, int):
                state.transactions.pop(tx, None)

    def connection_opened(self) -> None:
        self.state.opened_mono = time.monotonic()
        self._changed.set()

    def connection_lost(self) -> None:
        """The registration outlives the connection: a station may reconnect without a new
        BootNotification (only a reboot requires one, §4.2); ``ready`` gives a reconnected
        station ``grace`` s to boot again before its known registration counts."""
        self._changed.set()
