"""Reference OCPP 1.6J charging station: the SUT the suite tests itself against.

A simulated Charge Point (OCPP 1.6 edition 2: Core, Smart Charging, Local Auth List,
Reservation, Remote Trigger) on ``ocpp.v16`` and ``websockets``; every timer runs on a scaled
:class:`~pile_interop.core.clock.Clock` (``time_scale`` 0.05: a 60 s heartbeat takes 3 s).

Public API: the constructor, :meth:`tls_context`, :meth:`start`, :meth:`stop`, the manual
actions (:meth:`plug_in`, :meth:`unplug`, :meth:`present_id_tag`, :meth:`raise_fault`,
:meth:`clear_fault`, :meth:`set_lock_failure`, :meth:`power_cycle`, :meth:`go_offline`,
:meth:`go_online`, :meth:`send_data_transfer`), :meth:`settle`, :meth:`snapshot`, ``clock``.

Behaviour is split into small overridable methods so the suite can build *mutants* (a
subclass with one defect) and check that its cases catch them. The hooks:

* boot: :meth:`boot_notification_payload`, :meth:`on_boot_accepted`,
  :meth:`boot_status_notifications`, :meth:`sync_clock`, :meth:`heartbeat_interval`,
  ``_boot_sequence``, ``serve_connection``, ``_connect_kwargs``, :meth:`on_reboot`
* status: :meth:`derive_status`, :meth:`status_notification_payload`
* authorization: :meth:`authorize_id_tag`, :meth:`authorize_outcome`, :meth:`choose_connector`,
  :meth:`authorized`
* transactions: :meth:`begin_transaction`, :meth:`start_transaction_payload`,
  :meth:`on_start_transaction_conf`, :meth:`stop_transaction`, :meth:`stop_transaction_payload`,
  :meth:`stop_on_ev_side_disconnect`, :meth:`meter_values_payload`, ``_sample_loop``,
  ``_send_aligned``, :meth:`send_transactional`
* CSMS requests (§5): ``handle_*`` (one per Core action) returns the conf and defers the
  follow-up work; the decisions are separate: :meth:`get_configuration_response`,
  :meth:`change_configuration_status`, :meth:`on_configuration_changed`,
  :meth:`set_authorization_key`, :meth:`clear_cache_status`, :meth:`data_transfer_response`,
  :meth:`remote_start_status`, :meth:`remote_stop_status`, :meth:`reset_status`,
  :meth:`change_availability_status`, :meth:`unlock_status`; follow-ups: :meth:`remote_start`,
  :meth:`remote_stop`, :meth:`perform_reset`, :meth:`apply_availability`, :meth:`unlock`.

Composition: :class:`ReferenceStation` holds the state (connectors, configuration, cache) and
every hook, owns the version-neutral
:class:`~pile_interop.ocpp.reference.station_base.StationBase` (connection loop, boot loop,
heartbeat, clock, outbox, tasks: the station is its ``BasePort``) and hands the work to the
components of this package: :mod:`registration` (the 1.6 side of the base: connection, boot,
clock, heartbeat, status), :mod:`sessions` (manual actions, transactions),
:mod:`authorization` (cache, Authorize, ConnectionTimeOut, ClearCache), :mod:`metering`,
:mod:`availability`, :mod:`configuration` and :mod:`remote` (remote start / stop, Reset,
UnlockConnector, DataTransfer); the optional profiles' hooks and components (local list,
reservations, remote trigger) come from the mixin :mod:`station_optional`. Each component is
typed against a small Protocol of what it needs from the station (:mod:`station_hooks`) and
calls every hook through the station, so that a mutant overriding one changes it everywhere;
no component imports this module. Keys: :mod:`station_config`; connectors:
:mod:`station_model`; the link (:mod:`station_link`) reaches the station through
:class:`~pile_interop.ocpp.v16.reference.station_port.LinkPort`.

The physical world (EV plugged, cable held, faults, lock failures, energy register) survives a
reboot; so do the configuration, availability, authorization cache and queued transaction
messages. Everything else is volatile (§5.14 "Persistent states").
"""

from __future__ import annotations

import asyncio
import logging
import ssl as ssl_module
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ocpp.v16 import call, call_result
from ocpp.v16.datatypes import MeterValue
from ocpp.v16.enums import RegistrationStatus, ResetStatus
from websockets.asyncio.client import ClientConnection

from pile_interop.core.config import TlsFiles
from pile_interop.ocpp.client import station_url
from pile_interop.ocpp.reference.meter import EnergyMeter
from pile_interop.ocpp.reference.station_base import (
    BOOT_DELAY_S,
    DEFAULT_BOOT_RETRY_S,
    RECONNECT_BACKOFF_MAX_S,
    RECONNECT_BACKOFF_MIN_S,
    StationBase,
)
from pile_interop.ocpp.v16.reference.authorization import Authorizer
from pile_interop.ocpp.v16.reference.availability import Availability
from pile_interop.ocpp.v16.reference.configuration import Configuration
from pile_interop.ocpp.v16.reference.metering import Metering
from pile_interop.ocpp.v16.reference.registration import RESPONSE_TIMEOUT_S, Registrar
from pile_interop.ocpp.v16.reference.remote import SOFT_RESET_DRAIN_S, RemoteControl
from pile_interop.ocpp.v16.reference.sessions import Sessions
from pile_interop.ocpp.v16.reference.smart_charging import SmartCharging
from pile_interop.ocpp.v16.reference.station_config import Config
from pile_interop.ocpp.v16.reference.station_hooks import OnGiveUp, OnResult
from pile_interop.ocpp.v16.reference.station_link import StationLink
from pile_interop.ocpp.v16.reference.station_model import (
    AuthCache,
    Connector,
    PendingAuthorization,
    TagInfo,
    Transaction,
)
from pile_interop.ocpp.v16.reference.station_optional import OptionalProfilesHooks
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


class ReferenceStation(OptionalProfilesHooks):
    """A simulated OCPP 1.6J Core charging station (client side of the websocket).

    ``ReferenceStation(csms_url, station_id, *, connectors=2, time_scale=1.0, password=None,
    ssl=None, vendor=..., model=..., serial=..., firmware=..., config=None, fixed_cable=False,
    logger=None, features=None)``: connects with subprotocol ``ocpp1.6``; ``password``: HTTP
    Basic auth; ``config``: key values; ``features``: the optional profiles declared off.
    """

    #: Our vendorId for DataTransfer (both directions).
    vendor_id = "pile-interop"
    #: Check outgoing requests against the 1.6 JSON schemas before sending. A mutant that
    #: must put an invalid payload on the wire sets this to False.
    validate_outgoing = True

    def __init__(
        self,
        csms_url: str,
        station_id: str,
        *,
        connectors: int = 2,
        time_scale: float = 1.0,
        password: str | None = None,
        ssl: ssl_module.SSLContext | None = None,
        vendor: str = "pile-interop",
        model: str = "RefStation16",
        serial: str = "REF-0001",
        firmware: str = "0.1.0",
        config: dict[str, str] | None = None,
        fixed_cable: bool = False,
        logger: logging.Logger | None = None,
        features: dict[str, bool] | None = None,
    ) -> None:
        if connectors < 1:
            raise ValueError("a station needs at least one connector")
        if not csms_url.startswith(("ws://", "wss://")):
            raise ValueError(f"CSMS URL must be ws:// or wss://, got {csms_url!r}")
        if ssl is not None and not csms_url.startswith("wss://"):
            raise ValueError("an SSL context needs a wss:// CSMS URL")
        self.csms_url = csms_url
        self.station_id = station_id
        self.url = station_url(csms_url, station_id)
        self.password = password
        self.ssl = ssl
        self.vendor, self.model, self.serial, self.firmware = vendor, model, serial, firmware
        self.fixed_cable = fixed_cable
        self.log = logger or logging.getLogger(
            f"pile_interop.ocpp.v16.reference.station.{station_id}"
        )
        #: connection loop, boot loop, heartbeat, clock, outbox and tasks (this is its port)
        self.base = StationBase(
            self,
            time_scale=time_scale,
            max_attempts=lambda: self.config.get_int("TransactionMessageAttempts"),
            retry_interval=lambda: self.config.get_int("TransactionMessageRetryInterval"),
            validate=lambda: self.validate_outgoing,
        )
        self.clock = self.base.clock
        self.outbox = self.base.outbox
        self.init_optional(features)  # Local list, Reservation, Remote Trigger (features)
        self.config = Config(connectors, config, self.optional.key_specs())
        self.cache = AuthCache()
        self.connectors: dict[int, Connector] = {
            n: Connector(n, EnergyMeter(self.clock)) for n in range(connectors + 1)
        }
        #: Set while a websocket is open and BootNotification was Accepted.
        self.connected = self.base.connected
        #: Status of the last BootNotification.conf on this connection (None before one).
        self.registration: str | None = None
        # the components (each reaches the station, hooks included, through a port)
        self.registrar = Registrar(self)
        self.authorizer = Authorizer(self)
        self.sessions = Sessions(self)
        self.metering = Metering(self)
        self.availability = Availability(self)
        self.configuration = Configuration(self)
        self.remote = RemoteControl(self)
        self.smart_charging = SmartCharging(self)  # the link routes Smart Charging to it

    @classmethod
    def tls_context(cls, files: TlsFiles) -> ssl_module.SSLContext:
        """Security profiles 2 and 3: trust ``files.ca_cert`` only (hostname checked, TLS >= 1.2),
        present ``files.client_cert`` when asked; a bad server fails the handshake."""
        client = None
        if files.client_cert and files.client_key:
            client = CertFiles(Path(files.client_cert), Path(files.client_key))
        return client_context(files.ca_cert, cert=client)

    # -- lifecycle, network, outgoing messages, tasks ----------------------------------------

    async def start(self) -> None:
        """Power on and keep a connection to the CSMS (reconnecting) until :meth:`stop`."""
        await self.base.start()

    async def stop(self) -> None:
        """Close the connection and cancel every task. Idempotent, bounded in time."""
        await self.base.stop()

    async def go_offline(self) -> None:
        """The network goes away: close the socket, do not reconnect until go_online(); the
        station is offline at once (nothing can be sent): the offline rules apply (§3.5.2)."""
        self.base.go_offline()
        self.registration = None

    async def go_online(self) -> None:
        self.base.go_online()

    def snapshot(self) -> dict[str, Any]:
        """The station's state, for debugging and tests."""
        return self.registrar.snapshot()

    def power_on(self) -> None:
        """The base's port: start what runs from power-on regardless of the connection."""
        self.on_power_on()

    def on_power_on(self) -> None:
        """Hook: start the timers of a freshly booted station (the clock-aligned meter)."""
        self._restart_aligned()

    def on_reboot(self) -> None:
        """Hook: drop the volatile state (transactions, authorizations, reservations, timers)."""
        self.reservations.clear()
        self.metering.on_reboot()
        self.sessions.on_reboot()

    def reboot(self) -> None:
        """Lose volatile state, drop the connection, and boot again after BOOT_DELAY_S.

        The caller has already stopped the transactions with the reason that applies."""
        self.log.info("%s: rebooting", self.station_id)
        for task in list(self.base.boot_tasks):
            task.cancel()
        self.on_reboot()
        self.base.reboot()

    def send(
        self, action: str, build: Callable[[], Any], *, on_result: OnResult | None = None
    ) -> asyncio.Future[Any]:
        """Queue a CALL that is dropped when the station is offline or not accepted."""
        return self.outbox.put(action, build, transactional=False, on_result=on_result)

    def send_transactional(
        self,
        action: str,
        build: Callable[[], Any],
        *,
        on_result: OnResult | None = None,
        on_give_up: OnGiveUp | None = None,
    ) -> asyncio.Future[Any]:
        """Queue a transaction-related CALL: kept while offline, retried on errors (§3.7)."""
        return self.outbox.put(
            action, build, transactional=True, on_result=on_result, on_give_up=on_give_up
        )

    async def request(self, action: str, build: Callable[[], Any]) -> Any:
        """Send a CALL and wait for its result; None when it was not answered."""
        return await self.registrar.request(action, build)

    def defer(self, work: Callable[[], Awaitable[None] | None]) -> None:
        """Run ``work`` once the response to the CALL being handled has been sent."""
        self.base.defer(work)

    def run_after_reply(self) -> None:
        self.base.run_after_reply()

    def ignores_incoming_calls(self) -> bool:
        """§4.2: while Rejected the station answers no CSMS-initiated message."""
        return self.registration == RegistrationStatus.rejected

    def _outlets(self) -> list[Connector]:
        return [c for c in self.connectors.values() if c.id > 0]

    # -- the base's port, boot, heartbeat, status (registration) -----------------------------

    def connect_target(self) -> tuple[str, dict[str, Any]]:
        return self.url, self._connect_kwargs()

    def _connect_kwargs(self) -> dict[str, Any]:
        return self.registrar.connect_kwargs()

    def response_timeout(self) -> float:
        """Real seconds a CALL waits for its CALLRESULT / CALLERROR."""
        return self.registrar.response_timeout()

    async def serve_connection(self, ws: ClientConnection) -> None:
        """Serve an open connection until it ends (a mutant may wrap ``ws``)."""
        await self.base.serve(ws)

    def subprotocol_agreed(self, agreed: str | None) -> bool:
        """OCPP-J §3.1: without an agreed subprotocol the connection is not OCPP 1.6."""
        return self.registrar.subprotocol_agreed(agreed)

    def open_link(self, ws: ClientConnection) -> StationLink:
        return self.registrar.open_link(ws)

    def on_link_open(self, link: StationLink) -> None:
        self.registrar.on_link_open(link)

    def on_connect_error(self, exc: BaseException) -> None:
        """Hook: a connection attempt failed."""

    def on_disconnected(self, opened: bool) -> None:
        self.registration = None

    async def _boot_sequence(self, link: StationLink) -> None:
        """§4.2: BootNotification until Accepted (a mutant may wrap ``link``)."""
        await self.registrar.boot_sequence(link)

    async def call_boot_notification(self, link: Any, triggered: bool) -> Any:
        return await self.registrar.call_boot_notification(link)

    def boot_retry_interval(self, interval: int) -> int:
        """Protocol seconds until the next BootNotification (§4.2)."""
        return self.registrar.boot_retry_interval(interval)

    def boot_notification_payload(self) -> call.BootNotification:
        return self.registrar.boot_notification_payload()

    async def on_boot_accepted(self, conf: Any) -> None:
        """§4.2: adopt the heartbeat interval, set the clock, report every connector, go."""
        await self.registrar.on_boot_accepted(conf)

    def boot_status_notifications(self) -> list[call.StatusNotification]:
        """StatusNotification.req for connector 0 and every connector, in their current state."""
        return self.registrar.boot_status_notifications()

    def sync_clock(self, current_time: str) -> None:
        """§4.2: "it is RECOMMENDED to synchronize its internal clock" with currentTime."""
        self.registrar.sync_clock(current_time)

    def heartbeat_interval(self) -> int:
        """Protocol seconds between Heartbeat.req (HeartbeatInterval)."""
        return self.registrar.heartbeat_interval()

    async def send_heartbeat(self) -> None:
        await self.registrar.send_heartbeat()

    def derive_status(self, conn: Connector) -> tuple[str, str]:
        """The (status, errorCode) a connector is in now (§4.9 and §7.7 ChargePointStatus)."""
        return self.reserved_status(conn, self.registrar.derive_status(conn))

    def update_status(self, conn: Connector) -> None:
        """Send StatusNotification.req if the connector's status changed (§4.9)."""
        self.registrar.update_status(conn)

    def status_notification_payload(
        self, connector_id: int, status: str, error_code: str
    ) -> call.StatusNotification:
        return self.registrar.status_notification_payload(connector_id, status, error_code)

    # -- control surface (what a lab tester does at the station: sessions) -------------------

    async def plug_in(self, connector: int) -> None:
        """The EV driver plugs the cable in (EV and station side)."""
        await self.sessions.plug_in(connector)

    async def unplug(self, connector: int) -> None:
        """The EV driver unplugs the cable (at the EV, or from the socket)."""
        await self.sessions.unplug(connector)

    async def present_id_tag(self, id_tag: str, connector: int | None = None) -> None:
        """An RFID card is swiped."""
        await self.presenting(id_tag, self.sessions.present_id_tag(id_tag, connector))

    async def raise_fault(self, connector: int, error_code: str = "OtherError") -> None:
        """A hardware fault on a connector (or on the station with connector 0)."""
        await self.sessions.raise_fault(connector, error_code)

    async def clear_fault(self, connector: int) -> None:
        await self.sessions.clear_fault(connector)

    async def set_lock_failure(self, connector: int, failing: bool = True) -> None:
        """From now on locking / unlocking the connector fails (until set back to False)."""
        await self.sessions.set_lock_failure(connector, failing)

    async def power_cycle(self) -> None:
        await self.sessions.power_cycle()  # transactions end with reason PowerLoss

    async def send_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> dict[str, Any] | None:
        """DataTransfer.req to the CSMS; the conf as a wire dict, or None if not answered."""
        return await self.remote.send_data_transfer(vendor_id, message_id, data)

    async def settle(self, timeout: float = 5.0) -> None:
        """Back to idle for the next case (TimeoutError after ``timeout``)."""
        self.reservations.clear()
        await self.sessions.settle(timeout)

    # -- authorization (§3.5) ----------------------------------------------------------------

    def remember(self, id_tag: str, info: TagInfo) -> None:
        """§3.5.1: the cache keeps the IdTagInfo of every Authorize/Start/StopTransaction.conf."""
        self.authorizer.remember(id_tag, info)

    async def authorize_id_tag(self, id_tag: str) -> TagInfo:
        """Authorize with the list or cache (LocalPreAuthorize), Authorize.req, or offline rules."""
        return await self.authorizer.authorize_id_tag(id_tag)

    def authorize_outcome(self, info: TagInfo) -> bool:
        """Whether an IdTagInfo allows charging: only Accepted (and not expired) does."""
        return self.authorizer.authorize_outcome(info)

    def is_free(self, conn: Connector) -> bool:
        """Whether a new session (of the idTag being presented) may start on the connector."""
        return self.authorizer.is_free(conn) and not self.reserved_for_presenting(conn)

    def choose_connector(self, connector: int | None) -> Connector | None:
        """The connector for a new session (None: no free one)."""
        return self.authorizer.choose_connector(connector)

    def authorized(self, conn: Connector, id_tag: str, info: TagInfo) -> None:
        """An idTag is authorized for ``conn``: start, or wait ConnectionTimeOut for the EV."""
        if not self.reservation_refuses(conn, id_tag, info):
            self.authorizer.authorized(conn, id_tag, info)

    def _take_authorization(self, conn: Connector) -> PendingAuthorization:
        """Drop the connector's pending authorization (and its time-out) and return it."""
        return self.authorizer.take_authorization(conn)

    async def handle_clear_cache(self) -> call_result.ClearCache:
        return await self.authorizer.handle_clear_cache()

    def clear_cache_status(self) -> str:
        """Rejected when the Authorization Cache is disabled (AuthorizationCacheEnabled)."""
        return self.authorizer.clear_cache_status()

    # -- transactions (§4.8 StartTransaction, §4.10 StopTransaction) -------------------------

    def begin_transaction(self, conn: Connector, id_tag: str, info: TagInfo) -> None:
        """Lock the cable and start a transaction: StartTransaction.req, then Charging."""
        self.sessions.begin_transaction(conn, id_tag, info)
        self.use_reservation(conn, id_tag, info)

    def start_transaction_payload(self, tx: Transaction) -> call.StartTransaction:
        return self.with_reservation(tx, self.sessions.start_transaction_payload(tx))

    async def on_start_transaction_conf(self, tx: Transaction, result: Any) -> None:
        """StartTransaction.conf: transactionId, idTagInfo, maybe a stop."""
        await self.sessions.on_start_transaction_conf(tx, result)

    def stop_on_ev_side_disconnect(self) -> bool:
        return self.sessions.stop_on_ev_side_disconnect()

    def stop_transaction(self, conn: Connector, reason: str, *, id_tag: str | None = None) -> None:
        """End the connector's transaction: StopTransaction.req, then Finishing (or Available)."""
        self.sessions.stop_transaction(conn, reason, id_tag=id_tag)

    def stop_transaction_payload(self, tx: Transaction, reason: str) -> call.StopTransaction:
        return self.sessions.stop_transaction_payload(tx, reason)

    # -- meter values (§3.12, §4.7) ----------------------------------------------------------

    def read_meter(self, connector_id: int, items: list[str]) -> list[tuple[str, float]]:
        """Readings of measurand items (``Voltage.L1`` …) on a connector; 0 = main meter."""
        return self.metering.read_meter(connector_id, items)

    def meter_values_payload(
        self, connector_id: int, values: list[MeterValue], transaction_id: int | None
    ) -> call.MeterValues:
        return self.metering.meter_values_payload(connector_id, values, transaction_id)

    def _record_stop_txn_sample(self, conn: Connector, tx: Transaction, context: str) -> None:
        self.metering.record_stop_txn_sample(conn, tx, context)

    def _start_sampler(self, conn: Connector) -> None:
        self.metering.start_sampler(conn)

    async def _sample_loop(self, conn: Connector, tx: Transaction) -> None:
        """§9.1.19 MeterValueSampleInterval: sampled data during the transaction."""
        await self.metering.sample_loop(conn, tx)

    def _restart_aligned(self) -> None:
        self.metering.restart_aligned()

    def _send_aligned(self, boundary: datetime) -> None:
        """§9.1.5 ClockAlignedDataInterval: the readings of one boundary of the day."""
        self.metering.send_aligned(boundary)

    # -- CSMS-initiated actions (§5) ---------------------------------------------------------

    async def handle_get_configuration(
        self, keys: list[str] | None
    ) -> call_result.GetConfiguration:
        return await self.configuration.handle_get_configuration(keys)

    def get_configuration_response(self, keys: list[str] | None) -> call_result.GetConfiguration:
        """GetConfiguration.conf for ``keys`` (§5.8)."""
        return self.configuration.get_configuration_response(keys)

    async def handle_change_configuration(
        self, key: str, value: str
    ) -> call_result.ChangeConfiguration:
        return await self.configuration.handle_change_configuration(key, value)

    def authorization_key_status(self, value: str) -> str:
        """Whether a new AuthorizationKey (the Basic password) is taken."""
        return self.configuration.authorization_key_status(value)

    def set_authorization_key(self, value: str) -> None:
        self.password = value  # used from the next connection on

    def change_configuration_status(self, key: str, value: str) -> str:
        """The ChangeConfiguration.conf status (§5.3)."""
        return self.configuration.change_configuration_status(key, value)

    def on_configuration_changed(self, key: str) -> None:
        """A new value takes effect at once (§5.3 Accepted: "applied")."""
        self.configuration.on_configuration_changed(key)

    async def handle_data_transfer(
        self, vendor_id: str, message_id: str | None, data: str | None
    ) -> call_result.DataTransfer:
        return self.data_transfer_response(vendor_id, message_id, data)

    def data_transfer_response(
        self, vendor_id: str, message_id: str | None, data: str | None
    ) -> call_result.DataTransfer:
        """Accepted (the data echoed) for our vendorId and messageId ``echo``."""
        return self.remote.data_transfer_response(vendor_id, message_id, data)

    async def handle_remote_start_transaction(
        self, id_tag: str, connector_id: int | None, charging_profile: dict[str, Any] | None
    ) -> call_result.RemoteStartTransaction:
        # the charging profile is Smart Charging's (its component calls this after taking it)
        work = self.remote.handle_remote_start_transaction(id_tag, connector_id)
        return await self.presenting(id_tag, work)

    def remote_start_status(self, id_tag: str, connector_id: int | None) -> str:
        """Accepted when a (or the given) connector is free, else Rejected."""
        return self.remote.remote_start_status(id_tag, connector_id)

    async def remote_start(self, conn: Connector, id_tag: str) -> None:
        """§5.11: authorize the idTag (or not) and start the session."""
        await self.presenting(id_tag, self.remote.remote_start(conn, id_tag))

    async def handle_remote_stop_transaction(
        self, transaction_id: int
    ) -> call_result.RemoteStopTransaction:
        return await self.remote.handle_remote_stop_transaction(transaction_id)

    def remote_stop_status(self, transaction_id: int) -> str:
        """Rejected for an unknown transactionId (TC_028), else Accepted."""
        return self.remote.remote_stop_status(transaction_id)

    def remote_stop(self, transaction_id: int) -> None:
        self.remote.remote_stop(transaction_id)

    async def handle_reset(self, type: str) -> call_result.Reset:
        return await self.remote.handle_reset(type)

    def reset_status(self, type: str) -> str:
        return ResetStatus.accepted

    async def perform_reset(self, type: str) -> None:
        """Reboot, the transactions ended as the reset type says (§5.14)."""
        await self.remote.perform_reset(type)

    async def handle_change_availability(
        self, connector_id: int, type: str
    ) -> call_result.ChangeAvailability:
        return await self.availability.handle_change_availability(connector_id, type)

    def _availability_targets(self, connector_id: int) -> list[Connector]:
        """The connectors a ChangeAvailability is about (0: the station and every one)."""
        return self.availability.targets(connector_id)

    def change_availability_status(self, connector_id: int, type: str) -> str:
        """Rejected, Scheduled or Accepted (§5.2)."""
        return self.availability.change_availability_status(connector_id, type)

    def apply_availability(self, connector_id: int, type: str) -> None:
        """Change (or schedule) the availability of the connector(s)."""
        self.availability.apply_availability(connector_id, type)

    def _apply_scheduled_availability(self) -> None:
        """§5.2: a Scheduled availability change happens when the transaction has ended."""
        self.availability.apply_scheduled()

    async def handle_unlock_connector(self, connector_id: int) -> call_result.UnlockConnector:
        return await self.remote.handle_unlock_connector(connector_id)

    def unlock_status(self, connector_id: int) -> str:
        """NotSupported, UnlockFailed or Unlocked (§5.18)."""
        return self.remote.unlock_status(connector_id)

    def unlock(self, conn: Connector, success: bool) -> None:
        """§5.18: finish the connector's transaction, then open the lock."""
        self.remote.unlock(conn, success)
