"""Charging sessions of the reference OCPP 1.6J station: what a lab tester does at the station
(plug, swipe, unplug, faults, a failing lock, power loss, ``settle``) and the transactions it
causes (§4.8 StartTransaction, §4.10 StopTransaction, the EV-side disconnect of §9.1.24).

:class:`Sessions` holds the default behaviour; every hook goes through the station
(:class:`SessionsPort`), so that a mutant overriding one there changes it everywhere.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any, Protocol

from ocpp.v16 import call
from ocpp.v16.enums import ChargePointErrorCode, ReadingContext, Reason

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.reference.outbox import NotSent
from pile_interop.ocpp.v16.reference.station_hooks import StationState
from pile_interop.ocpp.v16.reference.station_model import (
    Connector,
    PendingAuthorization,
    TagInfo,
    Transaction,
)


class SessionsPort(StationState, Protocol):
    """What the sessions need from the station."""

    async def go_online(self) -> None: ...
    async def unplug(self, connector: int) -> None: ...
    async def clear_fault(self, connector: int) -> None: ...
    def reboot(self) -> None: ...
    # -- authorization --
    async def authorize_id_tag(self, id_tag: str) -> TagInfo: ...
    def authorize_outcome(self, info: TagInfo) -> bool: ...
    def remember(self, id_tag: str, info: TagInfo) -> None: ...
    def is_free(self, conn: Connector) -> bool: ...
    def choose_connector(self, connector: int | None) -> Connector | None: ...
    def authorized(self, conn: Connector, id_tag: str, info: TagInfo) -> None: ...
    def _take_authorization(self, conn: Connector) -> PendingAuthorization: ...
    # -- transactions --
    def begin_transaction(self, conn: Connector, id_tag: str, info: TagInfo) -> None: ...
    def start_transaction_payload(self, tx: Transaction) -> call.StartTransaction: ...
    async def on_start_transaction_conf(self, tx: Transaction, result: Any) -> None: ...
    def stop_on_ev_side_disconnect(self) -> bool: ...
    def stop_transaction(
        self, conn: Connector, reason: str, *, id_tag: str | None = None
    ) -> None: ...
    def stop_transaction_payload(self, tx: Transaction, reason: str) -> call.StopTransaction: ...
    # -- metering, availability --
    def _record_stop_txn_sample(self, conn: Connector, tx: Transaction, context: str) -> None: ...
    def _start_sampler(self, conn: Connector) -> None: ...
    def _apply_scheduled_availability(self) -> None: ...


class Sessions:
    """What happens at the connectors: plug, swipe, charge, stop."""

    def __init__(self, station: SessionsPort) -> None:
        self.station = station
        #: the last local transaction reference (``Transaction.ref``)
        self.tx_ref = 0

    def _connector(self, connector: int) -> Connector:
        connectors = self.station.connectors
        if connector not in connectors or connector == 0:
            raise ValueError(f"no connector {connector} (1..{len(connectors) - 1})")
        return connectors[connector]

    def _connector_or_station(self, connector: int) -> Connector:
        connectors = self.station.connectors
        if connector not in connectors:
            raise ValueError(f"no connector {connector} (0..{len(connectors) - 1})")
        return connectors[connector]

    # ======================================================================================
    # control surface (what a lab tester does at the station)
    # ======================================================================================

    async def plug_in(self, connector: int) -> None:
        st = self.station
        conn = self._connector(connector)
        if conn.ev_connected:
            return
        conn.ev_connected = True
        conn.cable_held = conn.cable_unlocked = False
        conn.session_ended = False
        if conn.transaction is not None:  # EV back during a transaction (SuspendedEV)
            self.update_flow(conn)
            st.update_status(conn)
            return
        if conn.authorization is not None:  # identification first: start now
            auth = st._take_authorization(conn)
            st.begin_transaction(conn, auth.id_tag, auth.info)
            return
        st.update_status(conn)

    async def unplug(self, connector: int) -> None:
        """The EV driver unplugs the cable at the EV; with the EV already gone, the driver takes
        the cable out of the station's socket if the station has released it."""
        st = self.station
        conn = self._connector(connector)
        if not conn.ev_connected:
            if conn.cable_held and (conn.cable_unlocked or st.fixed_cable):
                conn.cable_held = conn.cable_unlocked = False
                st.update_status(conn)
            return
        conn.ev_connected = False
        conn.session_ended = False
        tx = conn.transaction
        if tx is None:
            st.update_status(conn)
            return
        # The cable stays in the station's socket (locked) until the station releases it.
        conn.cable_held = True
        if st.stop_on_ev_side_disconnect():
            st.stop_transaction(conn, Reason.ev_disconnected)
        else:
            # §9.1.24 StopTransactionOnEVSideDisconnect=false: the transaction goes on.
            self.update_flow(conn)
            st.update_status(conn)

    async def present_id_tag(self, id_tag: str, connector: int | None = None) -> None:
        st = self.station
        for conn in st._outlets():
            tx = conn.transaction
            if tx is not None and tx.id_tag.lower() == id_tag.lower():
                # §4.10 / §3.5: the same idTag stops the transaction without authorization.
                st.stop_transaction(conn, Reason.local, id_tag=id_tag)
                return
        for conn in st._outlets():
            auth = conn.authorization
            if auth is not None and auth.id_tag.lower() == id_tag.lower():
                st._take_authorization(conn)  # swiped again before plugging in: cancel
                st.update_status(conn)
                return
        target = st.choose_connector(connector)
        group_stop_possible = any(
            c.transaction is not None and c.transaction.parent_id_tag for c in st._outlets()
        )
        if target is None and not group_stop_possible:
            st.log.info("%s: no free connector for idTag %s", st.station_id, id_tag)
            return
        info = await st.authorize_id_tag(id_tag)
        accepted = st.authorize_outcome(info)
        if accepted and info.parent_id_tag:
            for conn in st._outlets():
                tx = conn.transaction
                if tx is not None and tx.parent_id_tag == info.parent_id_tag:
                    # §4.10: another idTag of the same group (parentIdTag) may stop it.
                    st.stop_transaction(conn, Reason.local, id_tag=id_tag)
                    return
        if not accepted:
            st.log.info("%s: idTag %s not accepted (%s)", st.station_id, id_tag, info.status)
            return
        if target is None or not st.is_free(target):  # things may have moved meanwhile
            target = st.choose_connector(connector)
        if target is None:
            st.log.info("%s: no free connector for idTag %s", st.station_id, id_tag)
            return
        st.authorized(target, id_tag, info)

    async def raise_fault(self, connector: int, error_code: str = "OtherError") -> None:
        code = ChargePointErrorCode(error_code)
        if code == ChargePointErrorCode.no_error:
            raise ValueError("a fault needs an error code other than NoError")
        conn = self._connector_or_station(connector)
        conn.fault = code
        self.update_flow(conn)
        self.station.update_status(conn)

    async def clear_fault(self, connector: int) -> None:
        conn = self._connector_or_station(connector)
        conn.fault = None
        self.update_flow(conn)
        self.station.update_status(conn)

    async def set_lock_failure(self, connector: int, failing: bool = True) -> None:
        self._connector(connector).lock_failing = failing

    async def power_cycle(self) -> None:
        """Power loss and reboot. Running transactions end with reason PowerLoss; their
        StopTransaction.req is sent after the next BootNotification was accepted."""
        st = self.station
        st.outbox.open.clear()  # no power: nothing more goes out
        for conn in st._outlets():
            if conn.transaction is not None:
                st.stop_transaction(conn, Reason.power_loss)
        st.reboot()

    async def settle(self, timeout: float) -> None:
        """Back to idle for the next case: no transaction, nothing plugged, no fault, online,
        nothing left to send. Raises TimeoutError after ``timeout`` real seconds."""
        st = self.station

        async def _settle() -> None:
            for conn in st.connectors.values():
                conn.lock_failing = False
            await st.go_online()
            await st.connected.wait()
            for conn in st._outlets():
                if conn.transaction is not None:
                    st.stop_transaction(conn, Reason.local, id_tag=conn.transaction.id_tag)
                if conn.authorization is not None:
                    st._take_authorization(conn)
                    st.update_status(conn)
                await st.unplug(conn.id)
                if conn.cable_held:
                    conn.cable_held = conn.cable_unlocked = False
                    st.update_status(conn)
            for conn in st.connectors.values():
                if conn.fault is not None:
                    await st.clear_fault(conn.id)
            while not (st.connected.is_set() and st.outbox.drained.is_set()):
                await st.outbox.drained.wait()
                await st.connected.wait()

        await asyncio.wait_for(_settle(), timeout)

    # ======================================================================================
    # transactions (§4.8 StartTransaction, §4.10 StopTransaction)
    # ======================================================================================

    def begin_transaction(self, conn: Connector, id_tag: str, info: TagInfo) -> None:
        st = self.station
        if conn.authorization is not None:
            st._take_authorization(conn)
        if not st.fixed_cable and conn.lock_failing:
            # TC_024: a lock failure is reported (Faulted, ConnectorLockFailure), no transaction.
            conn.fault = ChargePointErrorCode.connector_lock_failure
            st.update_status(conn)
            return
        self.tx_ref += 1
        tx = Transaction(
            ref=self.tx_ref,
            connector_id=conn.id,
            id_tag=id_tag,
            meter_start=conn.meter.register_wh(),
            started_at=st.clock.now(),
            parent_id_tag=info.parent_id_tag,
        )
        conn.transaction = tx
        conn.session_ended = False
        conn.meter.start_session()
        self.update_flow(conn)
        st._record_stop_txn_sample(conn, tx, ReadingContext.transaction_begin)
        st.send_transactional(
            "StartTransaction",
            lambda: st.start_transaction_payload(tx),
            on_result=partial(st.on_start_transaction_conf, tx),
            on_give_up=partial(self._start_given_up, tx),
        )
        st.update_status(conn)
        st._start_sampler(conn)

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
        st = self.station
        tx.transaction_id = int(result.transaction_id)
        info = TagInfo.from_payload(result.id_tag_info)
        st.remember(tx.id_tag, info)
        tx.parent_id_tag = info.parent_id_tag or tx.parent_id_tag
        tx.start_confirmed = True
        conn = st.connectors[tx.connector_id]
        if conn.transaction is not tx:
            return
        if not st.authorize_outcome(info):
            if st.config.get_bool("StopTransactionOnInvalidId"):
                st.stop_transaction(conn, Reason.de_authorized)
                return
            tx.suspended_evse = True  # §4.8: no energy, but the transaction goes on
            self.update_flow(conn)
        st.update_status(conn)

    def _start_given_up(self, tx: Transaction) -> None:
        st = self.station
        st.log.error("%s: StartTransaction for tx %d never confirmed", st.station_id, tx.ref)
        tx.start_confirmed = True
        conn = st.connectors[tx.connector_id]
        if conn.transaction is tx:
            st.update_status(conn)

    def stop_on_ev_side_disconnect(self) -> bool:
        return self.station.config.get_bool("StopTransactionOnEVSideDisconnect")

    def stop_transaction(self, conn: Connector, reason: str, *, id_tag: str | None = None) -> None:
        st = self.station
        tx = conn.transaction
        if tx is None:
            return
        tx.stop_reason = reason
        tx.stop_id_tag = id_tag
        tx.meter_stop = conn.meter.register_wh()
        tx.stopped_at = st.clock.now()
        st._record_stop_txn_sample(conn, tx, ReadingContext.transaction_end)
        conn.transaction = None
        if conn.sampler is not None:
            conn.sampler.cancel()
            conn.sampler = None
        self.update_flow(conn)
        if conn.ev_connected:
            conn.session_ended = True
        st.send_transactional(
            "StopTransaction",
            lambda: st.stop_transaction_payload(tx, reason),
            on_result=partial(self._on_stop_transaction_conf, tx),
        )
        st._apply_scheduled_availability()
        st.update_status(conn)
        if conn.cable_held and st.fixed_cable:
            conn.cable_held = False  # the station's own cable: nothing stays in a socket
            st.update_status(conn)
        elif conn.cable_held and st.config.get_bool("UnlockConnectorOnEVSideDisconnect"):
            # §9.1.33 UnlockConnectorOnEVSideDisconnect: the lock opens; the connector stays
            # Finishing until the driver takes the cable out (§4.9 F1).
            conn.cable_unlocked = True

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
            self.station.remember(tx.stop_id_tag, TagInfo.from_payload(result.id_tag_info))

    def update_flow(self, conn: Connector) -> None:
        """Energy flows while a transaction runs with the EV there, not suspended by the
        station, and no fault on the connector or the station."""
        tx = conn.transaction
        conn.meter.set_flowing(
            tx is not None
            and conn.ev_connected
            and not tx.suspended_evse
            and conn.fault is None
            and self.station.connectors[0].fault is None
        )

    def on_reboot(self) -> None:
        """Volatile session state goes: transactions end (reason Reboot), authorizations and
        samplers are dropped."""
        st = self.station
        for conn in st._outlets():
            if conn.transaction is not None:
                st.stop_transaction(conn, Reason.reboot)
            conn.authorization = None
            conn.sampler = None
            self.update_flow(conn)
