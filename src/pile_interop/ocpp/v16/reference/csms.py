"""The reference OCPP 1.6J Central System, on top of ``ocpp.v16.ChargePoint``.

It is what ``pile-interop run --profile ocpp16/core-csms --against reference`` tests (and
what ``serve-reference csms`` serves): an id-tag list (Accepted / Blocked / Expired; anything
else is Invalid), transactions with fresh ids, meter values kept per transaction, configurable
registration answers (Accepted / Pending / Rejected), and a control surface with one method per
operator action, named as the actuator actions are (``remote_start``, ``reset``, …).

Mutants (tests/mutants/csms16.py) override single answer hooks: ``boot_reply``,
``id_tag_info``, ``start_transaction_reply``, ``stop_transaction_reply``, ``data_transfer_status``,
``heartbeat_reply``, ``on_status``, ``on_meter_values``, and the ``*_request`` builders of the
control surface.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.server import ServerConnection

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.server import CsmsServer
from pile_interop.ocpp.v16.reference.rpc import Rpc

log = logging.getLogger(__name__)
# a handler's exception (a mutant's defect) is answered with a CALLERROR and logged by the
# ocpp package; shown with -v, never as a stray traceback on stderr
log.addHandler(logging.NullHandler())

#: Bound on a response from the station to a CSMS-initiated CALL.
RESPONSE_TIMEOUT_S = 30.0
#: Status of each token role a device descriptor names (``tokens.blocked`` → Blocked …).
_ROLE_STATUS = {"valid": "Accepted", "blocked": "Blocked", "expired": "Expired"}
#: Our own DataTransfer vendor id; any other is UnknownVendorId.
VENDOR_ID = "org.pile-interop"


@dataclass
class Transaction:
    transaction_id: int
    station_id: str
    connector_id: int
    id_tag: str
    meter_start: int
    started: str
    meter_stop: int | None = None
    stopped: str | None = None
    reason: str | None = None
    meter_values: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class StationRecord:
    """What the CSMS knows of one station."""

    station_id: str
    registration: str | None = None
    boot: dict[str, Any] = field(default_factory=dict)
    connectors: dict[int, str] = field(default_factory=dict)
    last_heartbeat: str | None = None


class CsmsLink(Rpc, ChargePoint):
    """The ``ocpp`` handler of one station connection; every answer comes from the CSMS."""

    def __init__(self, csms: ReferenceCsms, station_id: str, connection: Any) -> None:
        super().__init__(station_id, connection, response_timeout=RESPONSE_TIMEOUT_S, logger=log)
        self._csms = csms
        self.configure_rpc(csms)

    @on(Action.boot_notification)
    async def _boot(self, **payload: Any) -> Any:
        return self._csms.on_boot(self.id, payload)

    @on(Action.heartbeat)
    async def _heartbeat(self, **_: Any) -> Any:
        return self._csms.heartbeat_reply(self.id)

    @on(Action.status_notification)
    async def _status(self, connector_id: int, status: str, error_code: str, **_: Any) -> Any:
        self._csms.on_status(self.id, connector_id, status, error_code)
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def _authorize(self, id_tag: str, **_: Any) -> Any:
        return call_result.Authorize(id_tag_info=self._csms.id_tag_info(id_tag))

    @on(Action.start_transaction)
    async def _start(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **_: Any
    ) -> Any:
        return self._csms.start_transaction_reply(
            self.id, connector_id, id_tag, meter_start, timestamp
        )

    @on(Action.stop_transaction)
    async def _stop(
        self,
        transaction_id: int,
        meter_stop: int,
        timestamp: str,
        id_tag: str | None = None,
        reason: str | None = None,
        **_: Any,
    ) -> Any:
        return self._csms.stop_transaction_reply(
            transaction_id, meter_stop, timestamp, id_tag, reason
        )

    @on(Action.meter_values)
    async def _meter_values(
        self, connector_id: int, meter_value: list[Any], transaction_id: int | None = None, **_: Any
    ) -> Any:
        self._csms.on_meter_values(transaction_id, meter_value)
        return call_result.MeterValues()

    @on(Action.data_transfer)
    async def _data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None, **_: Any
    ) -> Any:
        return call_result.DataTransfer(
            status=self._csms.data_transfer_status(vendor_id, message_id)
        )

    @on(Action.diagnostics_status_notification)
    async def _diagnostics(self, **_: Any) -> Any:
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    async def _firmware(self, **_: Any) -> Any:
        return call_result.FirmwareStatusNotification()


class ReferenceCsms:
    """The reference Central System: a WebSocket server plus an operator control surface."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        id_tags: dict[str, str] | None = None,
        passwords: dict[str, str] | None = None,
        heartbeat_interval: int = 300,
        ssl: Any = None,
        client_cn_required: bool = False,
        pki: Any = None,
    ) -> None:
        #: the test PKI ``ssl`` was made from, if any (security mutants serve other files)
        self.pki = pki
        self.id_tags = dict(id_tags or {})
        self.passwords = dict(passwords or {})
        self.heartbeat_interval = heartbeat_interval
        #: registration answer per station (default Accepted), set by ``set_registration``
        self.registration: dict[str, str] = {}
        self.stations: dict[str, StationRecord] = {}
        self.links: dict[str, CsmsLink] = {}
        self.transactions: dict[int, Transaction] = {}
        self._ids = itertools.count(1)
        password = next(iter(self.passwords.values())) if len(self.passwords) == 1 else None
        self.server = CsmsServer(
            host,
            port,
            self._on_connect,
            subprotocols=["ocpp1.6"],
            station_ids=list(self.passwords) or None,
            password=password,
            ssl=ssl,
            client_cn_required=client_cn_required,
        )

    @staticmethod
    def id_tags_from(tokens: dict[str, str]) -> dict[str, str]:
        """``{valid: A, blocked: B, expired: C, invalid: D}`` → the CSMS's id-tag list."""
        return {value: _ROLE_STATUS[role] for role, value in tokens.items() if role in _ROLE_STATUS}

    @property
    def url(self) -> str:
        return self.server.url

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        for link in list(self.links.values()):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(link._connection.close(1001, "CSMS stopping"), 5.0)
        await self.server.stop()

    async def _on_connect(self, connection: ServerConnection, station_id: str, sub: str) -> None:
        link = CsmsLink(self, station_id, connection)
        self.links[station_id] = link
        self.record(station_id)
        try:
            await link.start()
        except Exception as exc:
            log.info("%s: connection ended (%s)", station_id, type(exc).__name__)
        finally:
            if self.links.get(station_id) is link:
                del self.links[station_id]

    def record(self, station_id: str) -> StationRecord:
        return self.stations.setdefault(station_id, StationRecord(station_id))

    # -- answers (mutants override these) ----------------------------------------------

    def on_boot(self, station_id: str, payload: dict[str, Any]) -> call_result.BootNotification:
        record = self.record(station_id)
        record.boot = dict(payload)
        reply = self.boot_reply(station_id)
        record.registration = reply.status
        return reply

    def boot_reply(self, station_id: str) -> call_result.BootNotification:
        status = self.registration.get(station_id, self.registration.get("*", "Accepted"))
        interval = self.heartbeat_interval if status == "Accepted" else 10
        return call_result.BootNotification(
            current_time=utc_iso(), interval=interval, status=status
        )

    def on_status(self, station_id: str, connector_id: int, status: str, error_code: str) -> None:
        self.record(station_id).connectors[connector_id] = status

    def heartbeat_reply(self, station_id: str) -> call_result.Heartbeat:
        now = utc_iso()
        self.record(station_id).last_heartbeat = now
        return call_result.Heartbeat(current_time=now)

    def id_tag_info(self, id_tag: str | None) -> dict[str, Any]:
        status = self.id_tags.get(id_tag or "", "Invalid")
        info: dict[str, Any] = {"status": status}
        if status == "Expired":
            info["expiry_date"] = utc_iso(datetime.now(UTC) - timedelta(days=1))
        return info

    def start_transaction_reply(
        self, station_id: str, connector_id: int, id_tag: str, meter_start: int, timestamp: str
    ) -> call_result.StartTransaction:
        tx = next(self._ids)
        info = self.id_tag_info(id_tag)
        self.transactions[tx] = Transaction(
            tx, station_id, connector_id, id_tag, meter_start, timestamp
        )
        return call_result.StartTransaction(transaction_id=tx, id_tag_info=info)

    def stop_transaction_reply(
        self,
        transaction_id: int,
        meter_stop: int,
        timestamp: str,
        id_tag: str | None,
        reason: str | None,
    ) -> call_result.StopTransaction:
        tx = self.transactions.get(transaction_id)
        if tx is not None:
            tx.meter_stop, tx.stopped, tx.reason = meter_stop, timestamp, reason or "Local"
        if id_tag is None:
            return call_result.StopTransaction()
        return call_result.StopTransaction(id_tag_info=self.id_tag_info(id_tag))

    def on_meter_values(self, transaction_id: int | None, values: list[Any]) -> None:
        tx = self.transactions.get(transaction_id) if transaction_id is not None else None
        if tx is not None:
            tx.meter_values.extend(values)

    def data_transfer_status(self, vendor_id: str, message_id: str | None) -> str:
        if vendor_id != VENDOR_ID:
            return "UnknownVendorId"
        return "Accepted" if message_id in (None, "ping") else "UnknownMessageId"

    # -- control surface: one method per operator action --------------------------------

    def _link(self, station: str | None) -> CsmsLink:
        if station is not None:
            if station not in self.links:
                raise ValueError(f"station {station!r} is not connected")
            return self.links[station]
        if not self.links:
            raise ValueError("no station is connected")
        return next(reversed(self.links.values()))

    async def _send(self, request: Any, station: str | None) -> Any:
        return await self._link(station).call(request, suppress=False)

    def open_transaction(self, station_id: str, connector: int | None) -> Transaction | None:
        open_ = [
            t
            for t in self.transactions.values()
            if t.station_id == station_id
            and t.stopped is None
            and (connector is None or t.connector_id == connector)
        ]
        return open_[-1] if open_ else None

    def remote_start_request(
        self, id_tag: str, connector: int | None
    ) -> call.RemoteStartTransaction:
        return call.RemoteStartTransaction(id_tag=id_tag, connector_id=connector)

    async def remote_start(
        self, id_tag: str, connector: int | None = None, station: str | None = None
    ) -> Any:
        return await self._send(self.remote_start_request(id_tag, connector), station)

    def remote_stop_request(self, transaction_id: int) -> call.RemoteStopTransaction:
        return call.RemoteStopTransaction(transaction_id=transaction_id)

    async def remote_stop(
        self,
        transaction_id: int | None = None,
        connector: int | None = None,
        station: str | None = None,
    ) -> Any:
        link = self._link(station)
        if transaction_id is None:
            tx = self.open_transaction(link.id, connector)
            if tx is None:
                raise ValueError(f"no open transaction on {link.id} connector {connector}")
            transaction_id = tx.transaction_id
        return await self._send(self.remote_stop_request(transaction_id), link.id)

    def reset_request(self, kind: str) -> call.Reset:
        return call.Reset(type=kind)

    async def reset(self, kind: str = "Hard", station: str | None = None) -> Any:
        return await self._send(self.reset_request(kind), station)

    def unlock_request(self, connector: int) -> call.UnlockConnector:
        return call.UnlockConnector(connector_id=connector)

    async def unlock(self, connector: int, station: str | None = None) -> Any:
        return await self._send(self.unlock_request(connector), station)

    def get_configuration_request(self, keys: list[str] | None) -> call.GetConfiguration:
        return call.GetConfiguration(key=keys or None)

    async def get_configuration(
        self, keys: list[str] | None = None, station: str | None = None
    ) -> Any:
        return await self._send(self.get_configuration_request(keys), station)

    def change_configuration_request(self, key: str, value: str) -> call.ChangeConfiguration:
        return call.ChangeConfiguration(key=key, value=value)

    async def change_configuration(self, key: str, value: str, station: str | None = None) -> Any:
        return await self._send(self.change_configuration_request(key, str(value)), station)

    def change_availability_request(self, connector: int, kind: str) -> call.ChangeAvailability:
        return call.ChangeAvailability(connector_id=connector, type=kind)

    async def change_availability(
        self, connector: int, availability: str, station: str | None = None
    ) -> Any:
        return await self._send(self.change_availability_request(connector, availability), station)

    def new_authorization_key(self) -> str:
        """A new Basic password: 20 random bytes as 40 hex characters (the OCA validation of
        TC_073: hex, 16 to 20 bytes)."""
        return secrets.token_hex(20)

    async def update_password(self, station: str | None = None) -> Any:
        """Give the station a new Basic password (ChangeConfiguration AuthorizationKey); once
        it accepted, only the new one is accepted on its next connections."""
        link = self._link(station)
        key = self.new_authorization_key()
        answer = await self._send(
            call.ChangeConfiguration(key="AuthorizationKey", value=key), link.id
        )
        if str(getattr(answer, "status", "")) == "Accepted":
            self.store_password(link.id, key)
        return answer

    def store_password(self, station_id: str, password: str) -> None:
        self.passwords[station_id] = password
        if len(self.passwords) == 1:
            self.server.password = password

    async def clear_cache(self, station: str | None = None) -> Any:
        return await self._send(call.ClearCache(), station)

    async def data_transfer(
        self,
        vendor_id: str = VENDOR_ID,
        message_id: str | None = None,
        data: str | None = None,
        station: str | None = None,
    ) -> Any:
        request = call.DataTransfer(vendor_id=vendor_id, message_id=message_id, data=data)
        return await self._send(request, station)

    async def set_registration(self, status: str, station: str | None = None) -> None:
        """How the next BootNotifications of ``station`` (default: of every station) are
        answered: Accepted, Pending or Rejected."""
        if status not in ("Accepted", "Pending", "Rejected"):
            raise ValueError(f"registration status {status!r}")
        if station is None:
            self.registration.clear()
        self.registration[station or "*"] = status

    async def settle(self, timeout: float) -> None:
        """Back to the operator's defaults between cases: every station answered Accepted."""
        self.registration.clear()

    def snapshot(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "connected": sorted(self.links),
            "stations": {
                s.station_id: {"registration": s.registration, "connectors": s.connectors}
                for s in self.stations.values()
            },
            "transactions": {
                t.transaction_id: {
                    "station": t.station_id,
                    "connector": t.connector_id,
                    "id_tag": t.id_tag,
                    "open": t.stopped is None,
                }
                for t in self.transactions.values()
            },
        }
