"""The reference OCPP 1.6J Central System, on top of ``ocpp.v16.ChargePoint``.

It is what ``pile-interop run --profile ocpp16/core-csms --against reference`` tests (and
what ``serve-reference csms`` serves): an id-tag list (Accepted / Blocked / Expired; anything
else is Invalid), transactions with fresh ids, meter values kept per transaction, configurable
registration answers (Accepted / Pending / Rejected), and a control surface with one method per
operator action, named as the actuator actions are (``remote_start``, ``reset``, …).

The server, the station links (:mod:`~pile_interop.ocpp.v16.reference.csms_link`) and the
operator plumbing are :class:`~pile_interop.ocpp.reference.csms_base.CsmsBase`'s; this class
adds what is 1.6: the answers and the operator actions.

Mutants (tests/mutants/csms16.py) override single answer hooks: ``on_boot``, ``boot_reply``,
``id_tag_info``, ``start_transaction_reply``, ``stop_transaction_reply``, ``data_transfer_status``,
``heartbeat_reply``, ``on_status``, ``on_meter_values``, and the ``*_request`` builders of the
control surface (those of the optional profiles in :mod:`.csms_optional`).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.v16 import call, call_result
from websockets.asyncio.server import ServerConnection

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.reference.csms_base import VENDOR_ID, CsmsBase, new_basic_password
from pile_interop.ocpp.v16.reference.csms_link import RESPONSE_TIMEOUT_S, CsmsLink
from pile_interop.ocpp.v16.reference.csms_optional import OptionalProfiles

__all__ = ["RESPONSE_TIMEOUT_S", "VENDOR_ID", "CsmsLink", "ReferenceCsms"]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Status of each token role a device descriptor names (``tokens.blocked`` → Blocked …).
_ROLE_STATUS = {"valid": "Accepted", "blocked": "Blocked", "expired": "Expired"}


def _accepted(answer: Any) -> bool:
    return str(getattr(answer, "status", "")) == "Accepted"


@dataclass
class CsmsTransaction:
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


class ReferenceCsms(OptionalProfiles, CsmsBase[CsmsLink, StationRecord]):
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
        super().__init__(
            host=host,
            port=port,
            subprotocols=["ocpp1.6"],
            log=log,
            passwords=passwords,
            heartbeat_interval=heartbeat_interval,
            ssl=ssl,
            client_cn_required=client_cn_required,
            pki=pki,
        )
        self.id_tags = dict(id_tags or {})
        self.transactions: dict[int, CsmsTransaction] = {}
        self._ids = itertools.count(1)
        self._optional_state()  # the optional profiles' operator actions (csms_optional)

    @staticmethod
    def id_tags_from(tokens: dict[str, str]) -> dict[str, str]:
        """``{valid: A, blocked: B, expired: C, invalid: D}`` → the CSMS's id-tag list."""
        return {value: _ROLE_STATUS[role] for role, value in tokens.items() if role in _ROLE_STATUS}

    def new_link(self, station_id: str, connection: ServerConnection) -> CsmsLink:
        return CsmsLink(self, station_id, connection)

    def new_record(self, station_id: str) -> StationRecord:
        return StationRecord(station_id)

    # -- answers (mutants override these) ----------------------------------------------

    def boot_reply(self, station_id: str) -> call_result.BootNotification:
        status, interval = self.registration_terms(station_id)
        return call_result.BootNotification(
            current_time=utc_iso(), interval=interval, status=status
        )

    def on_status(self, station_id: str, connector_id: int, status: str, error_code: str) -> None:
        self.record(station_id).connectors[connector_id] = status

    def heartbeat_reply(self, station_id: str) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=self.heartbeat_time(station_id))

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
        self.transactions[tx] = CsmsTransaction(
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

    # -- control surface: one method per operator action --------------------------------

    def open_transaction(self, station_id: str, connector: int | None) -> CsmsTransaction | None:
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
        self,
        id_tag: str,
        connector: int | None = None,
        station: str | None = None,
        charging_profile: dict[str, Any] | None = None,
    ) -> Any:
        request = self.remote_start_request(id_tag, connector)
        if charging_profile is not None:  # Smart Charging: a TxProfile (csms_optional)
            request.charging_profile = self.remote_start_profile(charging_profile)
        return await self._send(request, station)

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
        """A new Basic password (40 hex characters: the OCA validation of TC_073 wants hex,
        16 to 20 bytes)."""
        return new_basic_password()

    async def update_password(self, station: str | None = None) -> Any:
        """Give the station a new Basic password (ChangeConfiguration AuthorizationKey); once
        it accepted, only the new one is accepted on its next connections."""
        key = self.new_authorization_key()
        request = call.ChangeConfiguration(key="AuthorizationKey", value=key)
        return await self._change_password(station, request, key, _accepted)

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

    def snapshot(self) -> dict[str, Any]:
        return {
            **self.connections(),
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
