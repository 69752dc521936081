"""What the Central System does from afar at the reference OCPP 1.6J station:
RemoteStartTransaction (§5.11), RemoteStopTransaction (§5.12), Reset (§5.14), UnlockConnector
(§5.18) and DataTransfer (§5.6 and §4.3, both ways).

Each ``handle_*`` answers with a decision hook (``*_status`` / ``*_response``) and defers the
follow-up work (a hook too) until the answer went out. :class:`RemoteControl` holds the default
behaviour; every hook goes through the station (:class:`RemotePort`), so that a mutant
overriding one there changes it everywhere.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from ocpp.v16 import call, call_result
from ocpp.v16.enums import (
    AuthorizationStatus,
    DataTransferStatus,
    Reason,
    RemoteStartStopStatus,
    ResetStatus,
    ResetType,
    UnlockStatus,
)

from pile_interop.ocpp.v16.reference.station_hooks import StationState
from pile_interop.ocpp.v16.reference.station_model import Connector, TagInfo

#: DataTransfer messageId (vendor "pile-interop") that echoes the data back.
ECHO_MESSAGE_ID = "echo"
#: A soft reset waits at most this long (protocol seconds) for the StopTransaction.req to get
#: out before the station reboots (§5.14).
SOFT_RESET_DRAIN_S = 60


class RemotePort(StationState, Protocol):
    """What the remote operations need from the station."""

    vendor_id: str

    def reboot(self) -> None: ...
    async def authorize_id_tag(self, id_tag: str) -> TagInfo: ...
    def authorize_outcome(self, info: TagInfo) -> bool: ...
    def is_free(self, conn: Connector) -> bool: ...
    def choose_connector(self, connector: int | None) -> Connector | None: ...
    def authorized(self, conn: Connector, id_tag: str, info: TagInfo) -> None: ...
    def stop_transaction(
        self, conn: Connector, reason: str, *, id_tag: str | None = None
    ) -> None: ...
    def data_transfer_response(
        self, vendor_id: str, message_id: str | None, data: str | None
    ) -> call_result.DataTransfer: ...
    def remote_start_status(self, id_tag: str, connector_id: int | None) -> str: ...
    async def remote_start(self, conn: Connector, id_tag: str) -> None: ...
    def remote_stop_status(self, transaction_id: int) -> str: ...
    def remote_stop(self, transaction_id: int) -> None: ...
    def reset_status(self, type: str) -> str: ...
    async def perform_reset(self, type: str) -> None: ...
    def unlock_status(self, connector_id: int) -> str: ...
    def unlock(self, conn: Connector, success: bool) -> None: ...


class RemoteControl:
    """The Central System's remote operations and the data transfers."""

    def __init__(self, station: RemotePort) -> None:
        self.station = station

    # -- DataTransfer (§5.6, §4.3) ------------------------------------------------------------

    def data_transfer_response(
        self, vendor_id: str, message_id: str | None, data: str | None
    ) -> call_result.DataTransfer:
        # vendorId is a CiString255Type and messageId a CiString50Type: case-insensitive.
        if vendor_id.lower() != self.station.vendor_id.lower():
            return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)
        if (message_id or "").lower() != ECHO_MESSAGE_ID:
            return call_result.DataTransfer(status=DataTransferStatus.unknown_message_id)
        return call_result.DataTransfer(status=DataTransferStatus.accepted, data=data)

    async def send_data_transfer(
        self, vendor_id: str, message_id: str | None, data: str | None
    ) -> dict[str, Any] | None:
        result = await self.station.request(
            "DataTransfer",
            lambda: call.DataTransfer(vendor_id=vendor_id, message_id=message_id, data=data),
        )
        if result is None:
            return None
        out: dict[str, Any] = {"status": str(result.status)}
        if result.data is not None:
            out["data"] = result.data
        return out

    # -- RemoteStartTransaction (§5.11) -------------------------------------------------------

    async def handle_remote_start_transaction(
        self, id_tag: str, connector_id: int | None
    ) -> call_result.RemoteStartTransaction:
        st = self.station
        status = st.remote_start_status(id_tag, connector_id)
        if status == RemoteStartStopStatus.accepted:
            conn = st.choose_connector(connector_id)
            if conn is not None:
                st.defer(lambda: st.remote_start(conn, id_tag))
        return call_result.RemoteStartTransaction(status=status)  # type: ignore[arg-type]

    def remote_start_status(self, id_tag: str, connector_id: int | None) -> str:
        """Accepted when a (or the given) connector is free; Rejected when it is unknown,
        busy, Unavailable or Faulted (connectorId SHALL be > 0)."""
        st = self.station
        if connector_id is not None and connector_id not in st.connectors:
            return RemoteStartStopStatus.rejected
        if st.choose_connector(connector_id) is None:
            return RemoteStartStopStatus.rejected
        return RemoteStartStopStatus.accepted

    async def remote_start(self, conn: Connector, id_tag: str) -> None:
        """§5.11: with AuthorizeRemoteTxRequests the idTag is authorized like a local swipe;
        without, the transaction starts at once (the CSMS checks it at StartTransaction)."""
        st = self.station
        if st.config.get_bool("AuthorizeRemoteTxRequests"):
            info = await st.authorize_id_tag(id_tag)
            if not st.authorize_outcome(info):
                st.log.info("%s: remote idTag %s not accepted", st.station_id, id_tag)
                return
        else:
            info = TagInfo(AuthorizationStatus.accepted)
        if st.is_free(conn):
            st.authorized(conn, id_tag, info)

    # -- RemoteStopTransaction (§5.12) --------------------------------------------------------

    async def handle_remote_stop_transaction(
        self, transaction_id: int
    ) -> call_result.RemoteStopTransaction:
        st = self.station
        status = st.remote_stop_status(transaction_id)
        if status == RemoteStartStopStatus.accepted:
            st.defer(lambda: st.remote_stop(transaction_id))
        return call_result.RemoteStopTransaction(status=status)  # type: ignore[arg-type]

    def _connector_of_transaction(self, transaction_id: int) -> Connector | None:
        for conn in self.station._outlets():
            tx = conn.transaction
            if tx is not None and tx.transaction_id == transaction_id:
                return conn
        return None

    def remote_stop_status(self, transaction_id: int) -> str:
        if self._connector_of_transaction(transaction_id) is None:
            return RemoteStartStopStatus.rejected
        return RemoteStartStopStatus.accepted

    def remote_stop(self, transaction_id: int) -> None:
        conn = self._connector_of_transaction(transaction_id)
        if conn is not None:
            self.station.stop_transaction(conn, Reason.remote)

    # -- Reset (§5.14) ------------------------------------------------------------------------

    async def handle_reset(self, type: str) -> call_result.Reset:
        st = self.station
        status = st.reset_status(type)
        if status == ResetStatus.accepted:
            st.defer(lambda: st.perform_reset(type))
        return call_result.Reset(status=status)  # type: ignore[arg-type]

    async def perform_reset(self, type: str) -> None:
        """Soft: "If any transaction is in progress it SHALL be terminated normally, before
        the reset" — the StopTransaction.req goes out, then the station reboots.
        Hard: transactions end with reason HardReset and the station reboots at once; their
        StopTransaction.req is queued and sent after the new BootNotification is accepted
        (TC_015 allows it before or after the BootNotification)."""
        st = self.station
        if type == ResetType.soft:
            for conn in st._outlets():
                if conn.transaction is not None:
                    st.stop_transaction(conn, Reason.soft_reset, id_tag=None)
            try:
                await asyncio.wait_for(st.outbox.drained.wait(), st.clock.real(SOFT_RESET_DRAIN_S))
            except TimeoutError:
                st.log.warning("%s: soft reset with messages still queued", st.station_id)
        else:
            st.outbox.open.clear()
            for conn in st._outlets():
                if conn.transaction is not None:
                    st.stop_transaction(conn, Reason.hard_reset)
        st.reboot()

    # -- UnlockConnector (§5.18) --------------------------------------------------------------

    async def handle_unlock_connector(self, connector_id: int) -> call_result.UnlockConnector:
        st = self.station
        status = st.unlock_status(connector_id)
        if status in (UnlockStatus.unlocked, UnlockStatus.unlock_failed):
            conn = st.connectors[connector_id]
            st.defer(lambda: st.unlock(conn, status == UnlockStatus.unlocked))
        return call_result.UnlockConnector(status=status)  # type: ignore[arg-type]

    def unlock_status(self, connector_id: int) -> str:
        """NotSupported for an unknown connector (TC_031) or a fixed cable (TC_017_2);
        UnlockFailed when the lock fails (TC_030); else Unlocked."""
        st = self.station
        if connector_id not in st.connectors or connector_id == 0 or st.fixed_cable:
            return UnlockStatus.not_supported
        if st.connectors[connector_id].lock_failing:
            return UnlockStatus.unlock_failed
        return UnlockStatus.unlocked

    def unlock(self, conn: Connector, success: bool) -> None:
        """§5.18: "If there was a transaction in progress on the specific connector, then
        Charge Point SHALL finish the transaction first" — then the lock opens."""
        st = self.station
        if conn.transaction is not None:
            st.stop_transaction(conn, Reason.unlock_command)
        if success and conn.cable_held:
            conn.cable_held = conn.cable_unlocked = False  # the cable comes out of the socket
            st.update_status(conn)
