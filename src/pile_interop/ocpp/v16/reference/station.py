"""Reference OCPP 1.6J charging station: the SUT the suite tests itself against.

A simulator of a Core-profile Charge Point (OCPP 1.6 edition 2) built on ``ocpp.v16`` and
``websockets``. Every timer runs on a scaled :class:`~pile_interop.core.clock.Clock`, so a
``time_scale`` of 0.05 makes a 60 s heartbeat interval take 3 real seconds.

Public API: the constructor, :meth:`start`, :meth:`stop`, the manual actions
(:meth:`plug_in`, :meth:`unplug`, :meth:`present_id_tag`, :meth:`raise_fault`,
:meth:`clear_fault`, :meth:`set_lock_failure`, :meth:`power_cycle`, :meth:`go_offline`,
:meth:`go_online`, :meth:`send_data_transfer`), :meth:`settle`, :meth:`snapshot`, and the
``clock`` and ``connected`` attributes.

Behaviour is split into small overridable methods so the suite can build *mutants* (a
subclass with one defect) and check that its cases catch them. The hooks:

* boot: :meth:`boot_notification_payload`, :meth:`on_boot_accepted`,
  :meth:`boot_status_notifications`, :meth:`sync_clock`, :meth:`heartbeat_interval`
* status: :meth:`derive_status`, :meth:`status_notification_payload`
* authorization: :meth:`authorize_id_tag`, :meth:`authorize_outcome`, :meth:`choose_connector`
* transactions: :meth:`begin_transaction`, :meth:`start_transaction_payload`,
  :meth:`on_start_transaction_conf`, :meth:`stop_transaction`, :meth:`stop_transaction_payload`,
  :meth:`stop_on_ev_side_disconnect`, :meth:`meter_values_payload`
* CSMS requests (§5): ``handle_*`` (one per Core action) returns the conf and defers the
  follow-up work; the decisions are separate: :meth:`get_configuration_response`,
  :meth:`change_configuration_status`, :meth:`on_configuration_changed`,
  :meth:`clear_cache_status`, :meth:`data_transfer_response`, :meth:`remote_start_status`,
  :meth:`remote_stop_status`, :meth:`reset_status`, :meth:`change_availability_status`,
  :meth:`unlock_status`; follow-ups: :meth:`remote_start`, :meth:`remote_stop`,
  :meth:`perform_reset`, :meth:`apply_availability`, :meth:`unlock`.

Layers: :mod:`~pile_interop.ocpp.v16.reference.station_core` (connection, boot, heartbeat,
outbox, status: the port of the station's shared
:class:`~pile_interop.ocpp.reference.station_base.StationBase`, which owns the connection loop,
the boot loop, the heartbeat, the clock, the outgoing queue and the tasks),
:mod:`~pile_interop.ocpp.v16.reference.station_sessions` (manual actions, authorization,
transactions, meter values) and this module (CSMS-initiated actions). Configuration keys live
in :mod:`~pile_interop.ocpp.v16.reference.station_config`, the connectors in
:mod:`~pile_interop.ocpp.v16.reference.station_model`; the link of a connection
(:mod:`~pile_interop.ocpp.v16.reference.station_link`) reaches the station through
:class:`~pile_interop.ocpp.v16.reference.station_port.LinkPort`.

The physical world (EV plugged, cable held, faults, lock failures, energy register) survives a
reboot; so do the configuration, availability, authorization cache and queued transaction
messages. Everything else is volatile (§5.14 "Persistent states").
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from pathlib import Path
from typing import Any

from ocpp.exceptions import OccurenceConstraintViolationError
from ocpp.v16 import call_result
from ocpp.v16.enums import (
    AuthorizationStatus,
    AvailabilityStatus,
    AvailabilityType,
    ClearCacheStatus,
    ConfigurationStatus,
    DataTransferStatus,
    Reason,
    RegistrationStatus,
    RemoteStartStopStatus,
    ResetStatus,
    ResetType,
    UnlockStatus,
)

from pile_interop.core.config import TlsFiles
from pile_interop.ocpp.reference.station_base import (
    BOOT_DELAY_S,
    DEFAULT_BOOT_RETRY_S,
    RECONNECT_BACKOFF_MAX_S,
    RECONNECT_BACKOFF_MIN_S,
)
from pile_interop.ocpp.v16.reference.station_core import RESPONSE_TIMEOUT_S
from pile_interop.ocpp.v16.reference.station_model import Connector, TagInfo
from pile_interop.ocpp.v16.reference.station_sessions import StationSessions
from pile_interop.security.pki import CertFiles, client_context

__all__ = [
    "BOOT_DELAY_S",
    "DEFAULT_BOOT_RETRY_S",
    "RECONNECT_BACKOFF_MAX_S",
    "RECONNECT_BACKOFF_MIN_S",
    "RESPONSE_TIMEOUT_S",
    "SOFT_RESET_DRAIN_S",
    "ReferenceStation",
]

logger = logging.getLogger(__name__)

#: DataTransfer messageId (vendor "pile-interop") that echoes the data back.
ECHO_MESSAGE_ID = "echo"
#: A soft reset waits at most this long (protocol seconds) for the StopTransaction.req to get
#: out before the station reboots (§5.14).
SOFT_RESET_DRAIN_S = 60


#: The OCPP 1.6 Security Whitepaper's configuration key holding the Basic auth password.
AUTHORIZATION_KEY = "AuthorizationKey"


class ReferenceStation(StationSessions):
    """A simulated OCPP 1.6J Core charging station (client side of the websocket).

    ``ReferenceStation(csms_url, station_id, *, connectors=2, time_scale=1.0, password=None,
    ssl=None, vendor=..., model=..., serial=..., firmware=..., config=None, fixed_cable=False,
    logger=None)``: connects to ``f"{csms_url.rstrip('/')}/{station_id}"`` with subprotocol
    ``ocpp1.6``; ``password`` adds HTTP Basic auth (security profile 1); ``config`` overrides
    configuration key values.
    """

    @classmethod
    def tls_context(cls, files: TlsFiles) -> ssl.SSLContext:
        """Security profiles 2 and 3: trust ``files.ca_cert`` only (hostname checked, TLS 1.2
        or newer) and present ``files.client_cert`` when the CSMS asks for one. A server
        certificate that is untrusted, expired or for another host, or a server that offers
        only TLS < 1.2, fails the handshake: no BootNotification, the usual reconnect."""
        client = None
        if files.client_cert and files.client_key:
            client = CertFiles(Path(files.client_cert), Path(files.client_key))
        return client_context(files.ca_cert, cert=client)

    def ignores_incoming_calls(self) -> bool:
        """§4.2: "While Rejected, the Charge Point SHALL NOT respond to any Central System
        initiated message"."""
        return self.registration == RegistrationStatus.rejected

    # -- GetConfiguration (§5.8) ----------------------------------------------------------

    async def handle_get_configuration(
        self, keys: list[str] | None
    ) -> call_result.GetConfiguration:
        max_keys = self.config.get_int("GetConfigurationMaxKeys")
        if keys and len(keys) > max_keys:
            # The spec only says the number "MAY be limited"; asking for more is treated as
            # an occurrence constraint violation of the request's key list.
            raise OccurenceConstraintViolationError(
                description=f"{len(keys)} keys requested, GetConfigurationMaxKeys is {max_keys}"
            )
        return self.get_configuration_response(keys)

    def get_configuration_response(self, keys: list[str] | None) -> call_result.GetConfiguration:
        """All keys when ``keys`` is omitted or empty; else the known ones, the rest in
        ``unknownKey``."""
        known, unknown = [], []
        if not keys:
            known = self.config.keys()
        else:
            for key in keys:
                spec = self.config.spec(key)
                if spec is None:
                    unknown.append(key)
                elif spec not in known:
                    known.append(spec)
        entries = [
            {"key": spec.name, "readonly": spec.readonly, "value": self.config.get(spec.name)}
            for spec in known
        ]
        return call_result.GetConfiguration(
            configuration_key=entries or None, unknown_key=unknown or None
        )

    # -- ChangeConfiguration (§5.3) -------------------------------------------------------

    async def handle_change_configuration(
        self, key: str, value: str
    ) -> call_result.ChangeConfiguration:
        if key == AUTHORIZATION_KEY:
            status = self.authorization_key_status(value)
            if status == ConfigurationStatus.accepted:
                self.set_authorization_key(value)
            return call_result.ChangeConfiguration(status=status)  # type: ignore[arg-type]
        status = self.change_configuration_status(key, value)
        spec = self.config.spec(key)
        if (
            status in (ConfigurationStatus.accepted, ConfigurationStatus.reboot_required)
            and spec is not None
            and self.config.problem(spec, value) is None
        ):
            self.config.set(spec.name, value)
            self.on_configuration_changed(spec.name)
        return call_result.ChangeConfiguration(status=status)  # type: ignore[arg-type]

    def authorization_key_status(self, value: str) -> str:
        """The Basic password (security profiles 1 and 2; write-only, so GetConfiguration
        does not show it): NotSupported without Basic auth, Rejected unless 16-40 printable
        ASCII characters (the Security Whitepaper: 16-20 bytes, sent as up to 40 hex digits)."""
        if self.password is None:
            return ConfigurationStatus.not_supported
        ok = 16 <= len(value) <= 40 and value.isascii() and value.isprintable()
        return ConfigurationStatus.accepted if ok else ConfigurationStatus.rejected

    def set_authorization_key(self, value: str) -> None:
        """The new password is used from the next connection on."""
        self.password = value

    def change_configuration_status(self, key: str, value: str) -> str:
        """Accepted, Rejected (read-only or bad value), NotSupported (unknown key) or
        RebootRequired."""
        return self.config.change_status(key, value)

    def on_configuration_changed(self, key: str) -> None:
        """A new value takes effect at once (§5.3 Accepted: "applied")."""
        if key == "HeartbeatInterval":
            self.base.restart_heartbeat()
        elif key == "MeterValueSampleInterval":
            for conn in self._outlets():
                self._start_sampler(conn)
        elif key == "ClockAlignedDataInterval":
            self._restart_aligned()

    # -- ClearCache (§5.4) ------------------------------------------------------------------

    async def handle_clear_cache(self) -> call_result.ClearCache:
        status = self.clear_cache_status()
        if status == ClearCacheStatus.accepted:
            self.cache.clear()
        return call_result.ClearCache(status=status)  # type: ignore[arg-type]

    def clear_cache_status(self) -> str:
        """Rejected when the Authorization Cache is disabled (AuthorizationCacheEnabled)."""
        if not self.config.get_bool("AuthorizationCacheEnabled"):
            return ClearCacheStatus.rejected
        return ClearCacheStatus.accepted

    # -- DataTransfer (§5.6) --------------------------------------------------------------

    async def handle_data_transfer(
        self, vendor_id: str, message_id: str | None, data: str | None
    ) -> call_result.DataTransfer:
        return self.data_transfer_response(vendor_id, message_id, data)

    def data_transfer_response(
        self, vendor_id: str, message_id: str | None, data: str | None
    ) -> call_result.DataTransfer:
        # vendorId is a CiString255Type and messageId a CiString50Type: case-insensitive.
        if vendor_id.lower() != self.vendor_id.lower():
            return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)
        if (message_id or "").lower() != ECHO_MESSAGE_ID:
            return call_result.DataTransfer(status=DataTransferStatus.unknown_message_id)
        return call_result.DataTransfer(status=DataTransferStatus.accepted, data=data)

    # -- RemoteStartTransaction (§5.11) ---------------------------------------------------

    async def handle_remote_start_transaction(
        self,
        id_tag: str,
        connector_id: int | None,
        charging_profile: dict[str, Any] | None,
    ) -> call_result.RemoteStartTransaction:
        # chargingProfile belongs to Smart Charging, which the station does not support.
        status = self.remote_start_status(id_tag, connector_id)
        if status == RemoteStartStopStatus.accepted:
            conn = self.choose_connector(connector_id)
            if conn is not None:
                self.defer(lambda: self.remote_start(conn, id_tag))
        return call_result.RemoteStartTransaction(status=status)  # type: ignore[arg-type]

    def remote_start_status(self, id_tag: str, connector_id: int | None) -> str:
        """Accepted when a (or the given) connector is free; Rejected when it is unknown,
        busy, Unavailable or Faulted (connectorId SHALL be > 0)."""
        if connector_id is not None and connector_id not in self.connectors:
            return RemoteStartStopStatus.rejected
        if self.choose_connector(connector_id) is None:
            return RemoteStartStopStatus.rejected
        return RemoteStartStopStatus.accepted

    async def remote_start(self, conn: Connector, id_tag: str) -> None:
        """§5.11: with AuthorizeRemoteTxRequests the idTag is authorized like a local swipe;
        without, the transaction starts at once (the CSMS checks it at StartTransaction)."""
        if self.config.get_bool("AuthorizeRemoteTxRequests"):
            info = await self.authorize_id_tag(id_tag)
            if not self.authorize_outcome(info):
                self.log.info("%s: remote idTag %s not accepted", self.station_id, id_tag)
                return
        else:
            info = TagInfo(AuthorizationStatus.accepted)
        if self.is_free(conn):
            self.authorized(conn, id_tag, info)

    # -- RemoteStopTransaction (§5.12) --------------------------------------------------------

    async def handle_remote_stop_transaction(
        self, transaction_id: int
    ) -> call_result.RemoteStopTransaction:
        status = self.remote_stop_status(transaction_id)
        if status == RemoteStartStopStatus.accepted:
            self.defer(lambda: self.remote_stop(transaction_id))
        return call_result.RemoteStopTransaction(status=status)  # type: ignore[arg-type]

    def _connector_of_transaction(self, transaction_id: int) -> Connector | None:
        for conn in self._outlets():
            tx = conn.transaction
            if tx is not None and tx.transaction_id == transaction_id:
                return conn
        return None

    def remote_stop_status(self, transaction_id: int) -> str:
        """Rejected for an unknown transactionId (TC_028), else Accepted."""
        if self._connector_of_transaction(transaction_id) is None:
            return RemoteStartStopStatus.rejected
        return RemoteStartStopStatus.accepted

    def remote_stop(self, transaction_id: int) -> None:
        conn = self._connector_of_transaction(transaction_id)
        if conn is not None:
            self.stop_transaction(conn, Reason.remote)

    # -- Reset (§5.14) --------------------------------------------------------------------

    async def handle_reset(self, type: str) -> call_result.Reset:
        status = self.reset_status(type)
        if status == ResetStatus.accepted:
            self.defer(lambda: self.perform_reset(type))
        return call_result.Reset(status=status)  # type: ignore[arg-type]

    def reset_status(self, type: str) -> str:
        return ResetStatus.accepted

    async def perform_reset(self, type: str) -> None:
        """Soft: "If any transaction is in progress it SHALL be terminated normally, before
        the reset" — the StopTransaction.req goes out, then the station reboots.
        Hard: transactions end with reason HardReset and the station reboots at once; their
        StopTransaction.req is queued and sent after the new BootNotification is accepted
        (TC_015 allows it before or after the BootNotification)."""
        if type == ResetType.soft:
            for conn in self._outlets():
                if conn.transaction is not None:
                    self.stop_transaction(conn, Reason.soft_reset, id_tag=None)
            try:
                await asyncio.wait_for(
                    self.outbox.drained.wait(), self.clock.real(SOFT_RESET_DRAIN_S)
                )
            except TimeoutError:
                self.log.warning("%s: soft reset with messages still queued", self.station_id)
        else:
            self.outbox.open.clear()
            for conn in self._outlets():
                if conn.transaction is not None:
                    self.stop_transaction(conn, Reason.hard_reset)
        self.reboot()

    # -- ChangeAvailability (§5.2) --------------------------------------------------------

    async def handle_change_availability(
        self, connector_id: int, type: str
    ) -> call_result.ChangeAvailability:
        status = self.change_availability_status(connector_id, type)
        if status != AvailabilityStatus.rejected:
            self.defer(lambda: self.apply_availability(connector_id, type))
        return call_result.ChangeAvailability(status=status)  # type: ignore[arg-type]

    def _availability_targets(self, connector_id: int) -> list[Connector]:
        if connector_id == 0:
            return list(self.connectors.values())
        return [self.connectors[connector_id]]

    def change_availability_status(self, connector_id: int, type: str) -> str:
        """Rejected for an unknown connector; Scheduled when going Inoperative while a
        transaction runs; Accepted otherwise (also when already in that state)."""
        if connector_id not in self.connectors:
            return AvailabilityStatus.rejected
        if type == AvailabilityType.inoperative and any(
            c.transaction is not None for c in self._availability_targets(connector_id)
        ):
            return AvailabilityStatus.scheduled
        return AvailabilityStatus.accepted

    def apply_availability(self, connector_id: int, type: str) -> None:
        """Change (or schedule) the availability; connectorId 0 means the station and all
        connectors. The state persists across reboots."""
        operative = type == AvailabilityType.operative
        busy = any(c.transaction is not None for c in self._outlets())
        for conn in self._availability_targets(connector_id):
            running = conn.transaction is not None if conn.id else busy
            if operative or not running:
                conn.operative, conn.scheduled_operative = operative, None
            else:
                conn.scheduled_operative = False
        for conn in self.connectors.values():
            self.update_status(conn)

    # -- UnlockConnector (§5.18) ----------------------------------------------------------

    async def handle_unlock_connector(self, connector_id: int) -> call_result.UnlockConnector:
        status = self.unlock_status(connector_id)
        if status in (UnlockStatus.unlocked, UnlockStatus.unlock_failed):
            conn = self.connectors[connector_id]
            self.defer(lambda: self.unlock(conn, status == UnlockStatus.unlocked))
        return call_result.UnlockConnector(status=status)  # type: ignore[arg-type]

    def unlock_status(self, connector_id: int) -> str:
        """NotSupported for an unknown connector (TC_031) or a fixed cable (TC_017_2);
        UnlockFailed when the lock fails (TC_030); else Unlocked."""
        if connector_id not in self.connectors or connector_id == 0 or self.fixed_cable:
            return UnlockStatus.not_supported
        if self.connectors[connector_id].lock_failing:
            return UnlockStatus.unlock_failed
        return UnlockStatus.unlocked

    def unlock(self, conn: Connector, success: bool) -> None:
        """§5.18: "If there was a transaction in progress on the specific connector, then
        Charge Point SHALL finish the transaction first" — then the lock opens."""
        if conn.transaction is not None:
            self.stop_transaction(conn, Reason.unlock_command)
        if success and conn.cable_held:
            conn.cable_held = conn.cable_unlocked = False  # the cable comes out of the socket
            self.update_status(conn)
