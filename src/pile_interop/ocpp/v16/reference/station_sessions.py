"""Charging sessions of the reference OCPP 1.6J station: the manual actions, authorization
(§3.5), transactions (§4.8, §4.10) and meter values (§3.12, §4.7).

The second layer of :class:`~pile_interop.ocpp.v16.reference.station.ReferenceStation`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from ocpp.v16 import call
from ocpp.v16.datatypes import MeterValue
from ocpp.v16.enums import (
    AuthorizationStatus,
    ChargePointErrorCode,
    ReadingContext,
    Reason,
    RegistrationStatus,
)

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.reference.meter import next_aligned_boundary, split_measurand
from pile_interop.ocpp.reference.outbox import NotSent
from pile_interop.ocpp.v16.reference.meter import meter_value, sampled_values
from pile_interop.ocpp.v16.reference.station_core import StationCore
from pile_interop.ocpp.v16.reference.station_model import (
    Connector,
    PendingAuthorization,
    TagInfo,
    Transaction,
)

logger = logging.getLogger(__name__)


class StationSessions(StationCore):
    """What happens at the connectors: plug, swipe, charge, meter, stop."""

    # ======================================================================================
    # control surface (what a lab tester does at the station)
    # ======================================================================================

    def _connector(self, connector: int) -> Connector:
        if connector not in self.connectors or connector == 0:
            raise ValueError(f"no connector {connector} (1..{len(self.connectors) - 1})")
        return self.connectors[connector]

    def _connector_or_station(self, connector: int) -> Connector:
        if connector not in self.connectors:
            raise ValueError(f"no connector {connector} (0..{len(self.connectors) - 1})")
        return self.connectors[connector]

    async def plug_in(self, connector: int) -> None:
        """The EV driver plugs the cable in (EV and station side)."""
        conn = self._connector(connector)
        if conn.ev_connected:
            return
        conn.ev_connected = True
        conn.cable_held = conn.cable_unlocked = False
        conn.session_ended = False
        if conn.transaction is not None:  # EV back during a transaction (SuspendedEV)
            self._update_flow(conn)
            self.update_status(conn)
            return
        if conn.authorization is not None:  # identification first: start now
            auth = self._take_authorization(conn)
            self.begin_transaction(conn, auth.id_tag, auth.info)
            return
        self.update_status(conn)

    async def unplug(self, connector: int) -> None:
        """The EV driver unplugs the cable at the EV; with the EV already gone, the driver takes
        the cable out of the station's socket if the station has released it."""
        conn = self._connector(connector)
        if not conn.ev_connected:
            if conn.cable_held and (conn.cable_unlocked or self.fixed_cable):
                conn.cable_held = conn.cable_unlocked = False
                self.update_status(conn)
            return
        conn.ev_connected = False
        conn.session_ended = False
        tx = conn.transaction
        if tx is None:
            self.update_status(conn)
            return
        # The cable stays in the station's socket (locked) until the station releases it.
        conn.cable_held = True
        if self.stop_on_ev_side_disconnect():
            self.stop_transaction(conn, Reason.ev_disconnected)
        else:
            # §9.1.24 StopTransactionOnEVSideDisconnect=false: the transaction goes on.
            self._update_flow(conn)
            self.update_status(conn)

    async def present_id_tag(self, id_tag: str, connector: int | None = None) -> None:
        """An RFID card is swiped."""
        for conn in self._outlets():
            tx = conn.transaction
            if tx is not None and tx.id_tag.lower() == id_tag.lower():
                # §4.10 / §3.5: the same idTag stops the transaction without authorization.
                self.stop_transaction(conn, Reason.local, id_tag=id_tag)
                return
        for conn in self._outlets():
            auth = conn.authorization
            if auth is not None and auth.id_tag.lower() == id_tag.lower():
                self._take_authorization(conn)  # swiped again before plugging in: cancel
                self.update_status(conn)
                return
        target = self.choose_connector(connector)
        group_stop_possible = any(
            c.transaction is not None and c.transaction.parent_id_tag for c in self._outlets()
        )
        if target is None and not group_stop_possible:
            self.log.info("%s: no free connector for idTag %s", self.station_id, id_tag)
            return
        info = await self.authorize_id_tag(id_tag)
        accepted = self.authorize_outcome(info)
        if accepted and info.parent_id_tag:
            for conn in self._outlets():
                tx = conn.transaction
                if tx is not None and tx.parent_id_tag == info.parent_id_tag:
                    # §4.10: another idTag of the same group (parentIdTag) may stop it.
                    self.stop_transaction(conn, Reason.local, id_tag=id_tag)
                    return
        if not accepted:
            self.log.info("%s: idTag %s not accepted (%s)", self.station_id, id_tag, info.status)
            return
        if target is None or not self.is_free(target):  # things may have moved meanwhile
            target = self.choose_connector(connector)
        if target is None:
            self.log.info("%s: no free connector for idTag %s", self.station_id, id_tag)
            return
        self.authorized(target, id_tag, info)

    async def raise_fault(self, connector: int, error_code: str = "OtherError") -> None:
        """A hardware fault on a connector (or on the station with connector 0)."""
        code = ChargePointErrorCode(error_code)
        if code == ChargePointErrorCode.no_error:
            raise ValueError("a fault needs an error code other than NoError")
        conn = self._connector_or_station(connector)
        conn.fault = code
        self._update_flow(conn)
        self.update_status(conn)

    async def clear_fault(self, connector: int) -> None:
        conn = self._connector_or_station(connector)
        conn.fault = None
        self._update_flow(conn)
        self.update_status(conn)

    async def set_lock_failure(self, connector: int, failing: bool = True) -> None:
        """From now on locking / unlocking the connector fails (until set back to False)."""
        self._connector(connector).lock_failing = failing

    async def power_cycle(self) -> None:
        """Power loss and reboot. Running transactions end with reason PowerLoss; their
        StopTransaction.req is sent after the next BootNotification was accepted."""
        self.outbox.open.clear()  # no power: nothing more goes out
        for conn in self._outlets():
            if conn.transaction is not None:
                self.stop_transaction(conn, Reason.power_loss)
        self.reboot()

    async def send_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> dict[str, Any] | None:
        """DataTransfer.req to the CSMS; the conf as a wire dict, or None if not answered."""
        result = await self.request(
            "DataTransfer",
            lambda: call.DataTransfer(vendor_id=vendor_id, message_id=message_id, data=data),
        )
        if result is None:
            return None
        out: dict[str, Any] = {"status": str(result.status)}
        if result.data is not None:
            out["data"] = result.data
        return out

    async def settle(self, timeout: float = 5.0) -> None:
        """Back to idle for the next case: no transaction, nothing plugged, no fault, online,
        nothing left to send. Raises TimeoutError after ``timeout`` real seconds."""

        async def _settle() -> None:
            for conn in self.connectors.values():
                conn.lock_failing = False
            await self.go_online()
            await self.connected.wait()
            for conn in self._outlets():
                if conn.transaction is not None:
                    self.stop_transaction(conn, Reason.local, id_tag=conn.transaction.id_tag)
                if conn.authorization is not None:
                    self._take_authorization(conn)
                    self.update_status(conn)
                await self.unplug(conn.id)
                if conn.cable_held:
                    conn.cable_held = conn.cable_unlocked = False
                    self.update_status(conn)
            for conn in self.connectors.values():
                if conn.fault is not None:
                    await self.clear_fault(conn.id)
            while not (self.connected.is_set() and self.outbox.drained.is_set()):
                await self.outbox.drained.wait()
                await self.connected.wait()

        await asyncio.wait_for(_settle(), timeout)

    # ======================================================================================
    # authorization (§3.5)
    # ======================================================================================

    def _cache_enabled(self) -> bool:
        return self.config.get_bool("AuthorizationCacheEnabled")

    def remember(self, id_tag: str, info: TagInfo) -> None:
        """§3.5.1: the cache keeps the IdTagInfo of every Authorize/Start/StopTransaction.conf."""
        if self._cache_enabled():
            self.cache.put(id_tag, info)

    async def authorize_id_tag(self, id_tag: str) -> TagInfo:
        """Authorize with the cache (LocalPreAuthorize), Authorize.req, or offline rules."""
        if self.registration == RegistrationStatus.accepted and not self.outbox.open.is_set():
            # Accepted, still sending the boot StatusNotifications: online in a moment, so
            # ask the Central System rather than fall back to the offline rules.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.outbox.open.wait(), self.response_timeout())
        now = self.clock.now()
        cached = self.cache.get(id_tag) if self._cache_enabled() else None
        cached_ok = (
            cached is not None and cached.effective_status(now) == AuthorizationStatus.accepted
        )
        if self.outbox.open.is_set():
            if cached is not None and cached_ok and self.config.get_bool("LocalPreAuthorize"):
                return cached  # §3.5.1: start at once, no Authorize.req
            result = await self.request("Authorize", lambda: call.Authorize(id_tag=id_tag))
            if result is not None:
                info = TagInfo.from_payload(result.id_tag_info)
                self.remember(id_tag, info)
                return info
        # Offline (§3.5.2): the cache if LocalAuthorizeOffline, unknown ids if allowed.
        if cached is not None:
            if cached_ok and self.config.get_bool("LocalAuthorizeOffline"):
                return cached
            return TagInfo(cached.effective_status(now), cached.parent_id_tag, cached.expiry_date)
        if self.config.get_bool("AllowOfflineTxForUnknownId"):
            return TagInfo(AuthorizationStatus.accepted)
        return TagInfo(AuthorizationStatus.invalid)

    def authorize_outcome(self, info: TagInfo) -> bool:
        """Whether an IdTagInfo allows charging: only Accepted (and not expired) does."""
        return info.effective_status(self.clock.now()) == AuthorizationStatus.accepted

    def is_free(self, conn: Connector) -> bool:
        """Whether a new session may start on the connector."""
        station = self.connectors[0]
        return (
            conn.transaction is None
            and conn.authorization is None
            and conn.fault is None
            and station.fault is None
            and conn.operative
            and station.operative
            and conn.scheduled_operative is None
            and not conn.session_ended
            and not conn.cable_held
        )

    def choose_connector(self, connector: int | None) -> Connector | None:
        """The connector for a new session: the given one if free; else the plugged-in free
        one; else the first free one."""
        if connector is not None:
            conn = self.connectors.get(connector)
            return conn if conn is not None and connector > 0 and self.is_free(conn) else None
        free = [c for c in self._outlets() if self.is_free(c)]
        plugged = [c for c in free if c.ev_connected]
        candidates = plugged or free
        return candidates[0] if candidates else None

    def authorized(self, conn: Connector, id_tag: str, info: TagInfo) -> None:
        """An idTag is authorized for ``conn``: start, or wait ConnectionTimeOut for the EV."""
        if conn.ev_connected:
            self.begin_transaction(conn, id_tag, info)
            return
        auth = PendingAuthorization(id_tag, info)
        conn.authorization = auth
        auth.timer = self.base.spawn(
            self._connection_timeout(conn, auth), "conn-timeout", self.base.boot_tasks
        )
        self.update_status(conn)

    async def _connection_timeout(self, conn: Connector, auth: PendingAuthorization) -> None:
        # §9.1.6 ConnectionTimeOut: from successful authorization until the incipient session
        # is cancelled because the EV was not plugged in. 0 = no time-out.
        timeout = self.config.get_int("ConnectionTimeOut")
        if timeout <= 0:
            return
        await self.clock.sleep(timeout)
        if conn.authorization is auth:
            self.log.info("%s: ConnectionTimeOut on connector %d", self.station_id, conn.id)
            conn.authorization = None
            self.update_status(conn)

    def _take_authorization(self, conn: Connector) -> PendingAuthorization:
        auth = conn.authorization
        assert auth is not None
        conn.authorization = None
        if auth.timer is not None and auth.timer is not asyncio.current_task():
            auth.timer.cancel()
        return auth

    # ======================================================================================
    # transactions (§4.8 StartTransaction, §4.10 StopTransaction)
    # ======================================================================================

    def begin_transaction(self, conn: Connector, id_tag: str, info: TagInfo) -> None:
        """Lock the cable and start a transaction: StartTransaction.req, then Charging."""
        if conn.authorization is not None:
            self._take_authorization(conn)
        if not self.fixed_cable and conn.lock_failing:
            # TC_024: a lock failure is reported (Faulted, ConnectorLockFailure), no transaction.
            conn.fault = ChargePointErrorCode.connector_lock_failure
            self.update_status(conn)
            return
        self._tx_ref += 1
        tx = Transaction(
            ref=self._tx_ref,
            connector_id=conn.id,
            id_tag=id_tag,
            meter_start=conn.meter.register_wh(),
            started_at=self.clock.now(),
            parent_id_tag=info.parent_id_tag,
        )
        conn.transaction = tx
        conn.session_ended = False
        conn.meter.start_session()
        self._update_flow(conn)
        self._record_stop_txn_sample(conn, tx, ReadingContext.transaction_begin)
        self.send_transactional(
            "StartTransaction",
            lambda: self.start_transaction_payload(tx),
            on_result=partial(self.on_start_transaction_conf, tx),
            on_give_up=partial(self._start_given_up, tx),
        )
        self.update_status(conn)
        self._start_sampler(conn)

    def start_transaction_payload(self, tx: Transaction) -> call.StartTransaction:
        return call.StartTransaction(
            connector_id=tx.connector_id,
            id_tag=tx.id_tag,
            meter_start=tx.meter_start,
            timestamp=utc_iso(tx.started_at),
        )

    async def on_start_transaction_conf(self, tx: Transaction, result: Any) -> None:
        """StartTransaction.conf: take the transactionId, cache the idTagInfo, and stop the
        transaction if the idTag is not accepted and StopTransactionOnInvalidId is true."""
        tx.transaction_id = int(result.transaction_id)
        info = TagInfo.from_payload(result.id_tag_info)
        self.remember(tx.id_tag, info)
        tx.parent_id_tag = info.parent_id_tag or tx.parent_id_tag
        tx.start_confirmed = True
        conn = self.connectors[tx.connector_id]
        if conn.transaction is not tx:
            return
        if not self.authorize_outcome(info):
            if self.config.get_bool("StopTransactionOnInvalidId"):
                self.stop_transaction(conn, Reason.de_authorized)
                return
            tx.suspended_evse = True  # §4.8: no energy, but the transaction goes on
            self._update_flow(conn)
        self.update_status(conn)

    def _start_given_up(self, tx: Transaction) -> None:
        self.log.error("%s: StartTransaction for tx %d never confirmed", self.station_id, tx.ref)
        tx.start_confirmed = True
        conn = self.connectors[tx.connector_id]
        if conn.transaction is tx:
            self.update_status(conn)

    def stop_on_ev_side_disconnect(self) -> bool:
        return self.config.get_bool("StopTransactionOnEVSideDisconnect")

    def stop_transaction(self, conn: Connector, reason: str, *, id_tag: str | None = None) -> None:
        """End the connector's transaction: StopTransaction.req, then Finishing (or Available)."""
        tx = conn.transaction
        if tx is None:
            return
        tx.stop_reason = reason
        tx.stop_id_tag = id_tag
        tx.meter_stop = conn.meter.register_wh()
        tx.stopped_at = self.clock.now()
        self._record_stop_txn_sample(conn, tx, ReadingContext.transaction_end)
        conn.transaction = None
        if conn.sampler is not None:
            conn.sampler.cancel()
            conn.sampler = None
        self._update_flow(conn)
        if conn.ev_connected:
            conn.session_ended = True
        self.send_transactional(
            "StopTransaction",
            lambda: self.stop_transaction_payload(tx, reason),
            on_result=partial(self._on_stop_transaction_conf, tx),
        )
        self._apply_scheduled_availability()
        self.update_status(conn)
        if conn.cable_held and self.fixed_cable:
            conn.cable_held = False  # the station's own cable: nothing stays in a socket
            self.update_status(conn)
        elif conn.cable_held and self._unlock_on_ev_side_disconnect():
            # §9.1.33 UnlockConnectorOnEVSideDisconnect: the lock opens; the connector stays
            # Finishing until the driver takes the cable out (§4.9 F1).
            conn.cable_unlocked = True

    def _unlock_on_ev_side_disconnect(self) -> bool:
        return self.config.get_bool("UnlockConnectorOnEVSideDisconnect")

    def stop_transaction_payload(self, tx: Transaction, reason: str) -> call.StopTransaction:
        if tx.transaction_id is None:
            raise NotSent(f"transaction {tx.ref} has no transactionId (StartTransaction failed)")
        assert tx.meter_stop is not None and tx.stopped_at is not None
        return call.StopTransaction(
            meter_stop=tx.meter_stop,
            timestamp=utc_iso(tx.stopped_at),
            transaction_id=tx.transaction_id,
            reason=reason,  # type: ignore[arg-type]
            id_tag=tx.stop_id_tag,
            transaction_data=list(tx.transaction_data) or None,
        )

    def _on_stop_transaction_conf(self, tx: Transaction, result: Any) -> None:
        if tx.stop_id_tag and getattr(result, "id_tag_info", None):
            self.remember(tx.stop_id_tag, TagInfo.from_payload(result.id_tag_info))

    def _update_flow(self, conn: Connector) -> None:
        tx = conn.transaction
        conn.meter.set_flowing(
            tx is not None
            and conn.ev_connected
            and not tx.suspended_evse
            and conn.fault is None
            and self.connectors[0].fault is None
        )

    def _apply_scheduled_availability(self) -> None:
        """§5.2: a Scheduled availability change happens when the transaction has ended."""
        for conn in self._outlets():
            if conn.scheduled_operative is not None and conn.transaction is None:
                conn.operative, conn.scheduled_operative = conn.scheduled_operative, None
        station = self.connectors[0]
        if station.scheduled_operative is not None and all(
            c.transaction is None for c in self._outlets()
        ):
            station.operative, station.scheduled_operative = station.scheduled_operative, None
            self.update_status(station)
        for conn in self._outlets():
            self.update_status(conn)

    # ======================================================================================
    # meter values (§3.12, §4.7)
    # ======================================================================================

    def read_meter(self, connector_id: int, items: list[str]) -> list[tuple[str, float]]:
        """Readings of measurand items (``Voltage.L1`` …) on a connector; 0 = main meter."""
        readings = []
        for item in items:
            measurand, phase = split_measurand(item)
            if connector_id == 0:
                meters = [c.meter for c in self._outlets()]
                if measurand in (
                    "Energy.Active.Import.Register",
                    "Power.Active.Import",
                    "Current.Import",
                ):
                    value = sum(m.read(measurand, phase) for m in meters)
                elif measurand == "SoC":
                    continue  # no EV behind the main meter
                else:
                    value = meters[0].read(measurand, phase)
            else:
                value = self.connectors[connector_id].meter.read(measurand, phase)
            readings.append((item, value))
        return readings

    def meter_values_payload(
        self, connector_id: int, values: list[MeterValue], transaction_id: int | None
    ) -> call.MeterValues:
        return call.MeterValues(
            connector_id=connector_id, meter_value=values, transaction_id=transaction_id
        )

    def _tx_meter_values(self, conn: Connector, tx: Transaction, value: MeterValue) -> None:
        def build() -> call.MeterValues:
            if tx.transaction_id is None:
                raise NotSent(f"transaction {tx.ref} has no transactionId")
            return self.meter_values_payload(conn.id, [value], tx.transaction_id)

        self.send_transactional("MeterValues", build)

    def _record_stop_txn_sample(self, conn: Connector, tx: Transaction, context: str) -> None:
        items = self.config.get_list("StopTxnSampledData")
        if items:
            values = sampled_values(self.read_meter(conn.id, items), context)
            tx.transaction_data.append(meter_value(self.clock.now(), values))

    def _start_sampler(self, conn: Connector) -> None:
        if conn.sampler is not None:
            conn.sampler.cancel()
            conn.sampler = None
        tx = conn.transaction
        if tx is not None and self.config.get_int("MeterValueSampleInterval") > 0:
            conn.sampler = self.base.spawn(
                self._sample_loop(conn, tx), "sampler", self.base.boot_tasks
            )

    async def _sample_loop(self, conn: Connector, tx: Transaction) -> None:
        """§9.1.19 MeterValueSampleInterval: sampled data during the transaction."""
        interval = self.config.get_int("MeterValueSampleInterval")
        next_at = self.clock.monotonic() + interval
        while conn.transaction is tx:
            await self.clock.sleep_until(next_at)
            if conn.transaction is not tx:
                return
            # Stamped with the sampling instant it belongs to, not the moment this task got
            # to run: a loaded machine must not make the simulated meter's interval jitter.
            late = max(0.0, self.clock.monotonic() - next_at)
            now = self.clock.now() - timedelta(seconds=late)
            items = self.config.get_list("MeterValuesSampledData")
            if items:
                values = sampled_values(
                    self.read_meter(conn.id, items), ReadingContext.sample_periodic
                )
                self._tx_meter_values(conn, tx, meter_value(now, values))
            stop_items = self.config.get_list("StopTxnSampledData")
            if stop_items:
                values = sampled_values(
                    self.read_meter(conn.id, stop_items), ReadingContext.sample_periodic
                )
                tx.transaction_data.append(meter_value(now, values))
            next_at += interval

    def _restart_aligned(self) -> None:
        if self._aligned_task is not None:
            self._aligned_task.cancel()
        self._aligned_task = self.base.spawn(
            self._aligned_loop(), "aligned-meter", self.base.boot_tasks
        )

    async def _aligned_loop(self) -> None:
        """§9.1.5 ClockAlignedDataInterval: readings on the boundaries of the day."""
        interval = self.config.get_int("ClockAlignedDataInterval")
        if interval <= 0:
            return
        last = self.clock.now()
        while True:
            boundary = next_aligned_boundary(max(last, self.clock.now()), interval)
            await self.clock.sleep((boundary - self.clock.now()).total_seconds())
            last = boundary
            self._send_aligned(boundary)

    def _send_aligned(self, boundary: datetime) -> None:
        items = self.config.get_list("MeterValuesAlignedData")
        stop_items = self.config.get_list("StopTxnAlignedData")
        for conn in self.connectors.values():
            tx = conn.transaction
            if items:
                values = sampled_values(
                    self.read_meter(conn.id, items), ReadingContext.sample_clock
                )
                value = meter_value(boundary, values)
                if tx is not None:
                    self._tx_meter_values(conn, tx, value)
                else:
                    payload = self.meter_values_payload(conn.id, [value], None)
                    self.send("MeterValues", lambda p=payload: p)  # type: ignore[misc]
            if stop_items and tx is not None:
                values = sampled_values(
                    self.read_meter(conn.id, stop_items), ReadingContext.sample_clock
                )
                tx.transaction_data.append(meter_value(boundary, values))

    def on_power_on(self) -> None:
        self._restart_aligned()

    def on_reboot(self) -> None:
        self._aligned_task = None
        for conn in self._outlets():
            if conn.transaction is not None:
                self.stop_transaction(conn, Reason.reboot)
            conn.authorization = None
            conn.sampler = None
            self._update_flow(conn)
