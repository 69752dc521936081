"""Mutant OCPP 1.6 stations and Central Systems written per run-wide invariant (issue 14): each
has one defect a vendor could ship that no case looks for, and that only its invariant
(``pile_interop.ocpp.v16.invariants``) catches: with the invariant left out, the cases it is
declared to break pass.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from ocpp.routing import after
from ocpp.v16 import call, call_result
from ocpp.v16.datatypes import MeterValue
from ocpp.v16.enums import Action, ChargePointStatus, Reason

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.v16.reference.csms import CsmsTransaction, ReferenceCsms
from pile_interop.ocpp.v16.reference.csms_link import CsmsLink
from pile_interop.ocpp.v16.reference.station import ReferenceStation
from pile_interop.ocpp.v16.reference.station_model import Connector, Transaction
from tests.mutants.stations16 import mutant

#: the register a real meter shows when the station is installed (Wh): a fresh reference
#: meter starts at 0, which hides a meterStop or a reading counted from the session's start
INSTALLED_REGISTER_WH = 100_000.0


class _InstalledMeters(ReferenceStation):
    """The reference station with meters that already show INSTALLED_REGISTER_WH (no defect)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for conn in self.connectors.values():
            conn.meter._wh = INSTALLED_REGISTER_WH


@mutant(
    "TC_071_CS",
    "INV-16-TX-ID",
    "TC_070_CS",
    "TC_094_CS",
    "TC_095_CS",
    defect_class="invariant",
)
class MeterValuesStaleTransactionId(ReferenceStation):
    """Caches a connector's transactionId for MeterValues at its first sample and never
    refreshes it: the samples of every later transaction carry the first one's id."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cached: dict[int, int] = {}

    def meter_values_payload(
        self, connector_id: int, values: list[MeterValue], transaction_id: int | None
    ) -> call.MeterValues:
        if transaction_id is not None:
            transaction_id = self._cached.setdefault(connector_id, transaction_id)
        return super().meter_values_payload(connector_id, values, transaction_id)


@mutant("TC_005_1_CS", "INV-16-METER-STOP", defect_class="invariant")
class MeterStopSessionEnergyOnEvDisconnect(_InstalledMeters):
    """When the EV side disconnects, StopTransaction.meterStop is the energy of the session
    (register − meterStart), not the register."""

    def stop_transaction_payload(self, tx: Transaction, reason: str) -> call.StopTransaction:
        payload = super().stop_transaction_payload(tx, reason)
        if reason == Reason.ev_disconnected:
            payload.meter_stop = payload.meter_stop - tx.meter_start
        return payload


@mutant("TC_070_CS", "INV-16-METER-MONOTONIC", defect_class="invariant")
class SampledRegisterCountsFromSessionStart(_InstalledMeters):
    """Reports the sampled Energy.Active.Import.Register of a connector in a transaction as
    the energy since the transaction started (the register minus meterStart)."""

    def read_meter(self, connector_id: int, items: list[str]) -> list[tuple[str, float]]:
        readings = super().read_meter(connector_id, items)
        tx = self.connectors[connector_id].transaction if connector_id else None
        if tx is None:
            return readings
        return [
            (item, value - tx.meter_start if item == "Energy.Active.Import.Register" else value)
            for item, value in readings
        ]


@mutant("TC_004_2_CS", "INV-16-STATUS-TRANSITION", "TC_004_1_CS", defect_class="invariant")
class RemoteStopBackToPreparing(ReferenceStation):
    """After a remote stop with the EV still plugged in, reports Preparing (ready for the
    next session) instead of Finishing: Charging → Preparing is no transition of §4.9. (The
    remote stop that ends TC_004_1_CS's transaction as TC_004_2_CS prepares shows it.)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._remote_stopped: set[int] = set()

    def stop_transaction(self, conn: Connector, reason: str, *, id_tag: str | None = None) -> None:
        if reason == Reason.remote:
            self._remote_stopped.add(conn.id)
        else:
            self._remote_stopped.discard(conn.id)
        super().stop_transaction(conn, reason, id_tag=id_tag)

    def derive_status(self, conn: Connector) -> tuple[str, str]:
        status, error = super().derive_status(conn)
        if status == ChargePointStatus.finishing and conn.id in self._remote_stopped:
            return ChargePointStatus.preparing, error
        return status, error


@mutant("TC_032_1_CS", "INV-16-REGISTRATION", defect_class="invariant")
class FlushesQueueBeforeBoot(ReferenceStation):
    """Sends its queued transaction messages as soon as a connection opens, before its
    BootNotification (and so before it is registered again after a reboot)."""

    async def _boot_sequence(self, link: Any) -> None:
        if len(self.outbox):
            self.outbox.open.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.outbox.drained.wait(), self.response_timeout())
        await super()._boot_sequence(link)


#: every case of ocpp16/core-csms that starts a transaction after an earlier one on connector 1
_SECOND_TX = tuple(
    f"TC_{n}_CSMS"
    for n in (
        "004_1", "005_1", "007", "010", "011_1", "012", "018_1", "020_3", "028", "032_1",
        "037_1", "039", "090_1", "090_2", "090_3",
    )
)  # fmt: skip


@mutant(
    "TC_004_1_CSMS",
    "INV-16-CSMS-TX-ID-REUSED",
    *_SECOND_TX,
    "TC_098_CSMS",  # (ours) the same defect shows there too
    profile="ocpp16/core-csms",
    defect_class="invariant",
)
class TransactionIdIsConnector(ReferenceCsms):
    """Gives every transaction the number of its connector as transactionId (unique while
    one transaction runs per connector, reused by the next one on that connector)."""

    def start_transaction_reply(
        self, station_id: str, connector_id: int, id_tag: str, meter_start: int, timestamp: str
    ) -> call_result.StartTransaction:
        reply = super().start_transaction_reply(
            station_id, connector_id, id_tag, meter_start, timestamp
        )
        tx = self.transactions.pop(reply.transaction_id)
        tx.transaction_id = connector_id
        self.transactions[connector_id] = tx
        reply.transaction_id = connector_id
        return reply


#: the statuses connector 0 may report (OCPP 1.6 §4.9)
_STATION_STATUSES = ("Available", "Unavailable", "Faulted")


@mutant("TC_003_CS", "INV-16-CONNECTOR0-STATUS", defect_class="invariant")
class MirrorsSessionStatusOnConnectorZero(ReferenceStation):
    """Reports the status of the connector in use for the whole station (connector 0) too:
    connector 0 says Preparing, Charging … where only Available, Unavailable and Faulted are
    allowed."""

    def update_status(self, conn: Connector) -> None:
        before = conn.status
        super().update_status(conn)
        status = conn.status
        if conn.id > 0 and status != before and str(status) not in _STATION_STATUSES:
            payload = self.status_notification_payload(0, status, conn.error_code)
            self.send("StatusNotification", lambda: payload)


class _FreeVendLink(CsmsLink):
    """A link that answers every BootNotification, then starts a free-vend session on
    connector 1 whatever the registration status it gave."""

    @after(Action.boot_notification)
    async def _free_vend(self, **_: Any) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self.call(call.RemoteStartTransaction(id_tag=FREE_VEND_TAG, connector_id=1)),
                FREE_VEND_WAIT_S,
            )


#: the id tag and the answer bound of the free-vend mutant's remote start
FREE_VEND_TAG = "FREEVEND"
FREE_VEND_WAIT_S = 2.0


@mutant(
    "TC_002_CSMS",
    "INV-16-CSMS-PENDING",
    "TC_097_CSMS",  # (ours) the same defect shows there too
    profile="ocpp16/core-csms",
    defect_class="invariant",
)
class FreeVendOnEveryBoot16(ReferenceCsms):
    """Starts a free-vend session (RemoteStartTransaction) on every station that boots, also
    one it has just answered Pending."""

    def new_link(self, station_id: str, connection: Any) -> CsmsLink:
        return _FreeVendLink(self, station_id, connection)


class _AsksForStatusLink(CsmsLink):
    """A link that asks every station that boots for its connectors' status, whatever the
    registration status it gave."""

    @after(Action.boot_notification)
    async def _ask_status(self, **_: Any) -> None:
        with contextlib.suppress(Exception):
            request = call.TriggerMessage(requested_message="StatusNotification")
            await asyncio.wait_for(self.call(request), FREE_VEND_WAIT_S)


@mutant("TC_097_CSMS", "INV-16-CSMS-REJECTED", profile="ocpp16/core-csms", defect_class="invariant")
class AsksRejectedStationsForStatus16(ReferenceCsms):
    """Asks every station that boots for its connectors' status (TriggerMessage
    StatusNotification), also one it has just answered Rejected."""

    def new_link(self, station_id: str, connection: Any) -> CsmsLink:
        return _AsksForStatusLink(self, station_id, connection)


@mutant(
    "TC_098_CSMS", "INV-16-CSMS-TX-ID-UNIQUE", profile="ocpp16/core-csms", defect_class="invariant"
)
class NextIdAfterLastEnded(ReferenceCsms):
    """Numbers a new transaction one after the last *ended* one (``MAX(id) + 1`` over the
    finished transactions): a transaction started while another runs gets the running one's
    id."""

    def start_transaction_reply(
        self, station_id: str, connector_id: int, id_tag: str, meter_start: int, timestamp: str
    ) -> call_result.StartTransaction:
        ended = [t.transaction_id for t in self.transactions.values() if t.stopped is not None]
        tx = max(ended, default=0) + 1
        info = self.id_tag_info(id_tag)
        self.transactions[tx] = CsmsTransaction(
            tx, station_id, connector_id, id_tag, meter_start, timestamp
        )
        return call_result.StartTransaction(transaction_id=tx, id_tag_info=info)


@mutant("TC_070_CS", "INV-16-HEARTBEAT", defect_class="invariant")
class HeartbeatsOftenWhileCharging16(ReferenceStation):
    """When a transaction starts, restarts its heartbeat at a tenth of the interval while a
    transaction runs (a keep-alive of its own while charging)."""

    def start_transaction_payload(self, tx: Transaction) -> call.StartTransaction:
        self.base.restart_heartbeat()
        return super().start_transaction_payload(tx)

    def heartbeat_interval(self) -> int:
        interval = super().heartbeat_interval()
        charging = any(c.transaction is not None for c in self.connectors.values())
        if interval > 0 and charging:
            return max(1, interval // 10)
        return interval


#: the cases that stop a transaction within the case: each sees a stop stamped back in time
_EVERY_STOP = (
    "TC_004_1_CS",
    "TC_004_2_CS",
    "TC_005_1_CS",
    "TC_005_3_CS",
    "TC_010_CS",
    "TC_011_1_CS",
    "TC_011_2_CS",
    "TC_015_CS",
    "TC_016_CS",
    "TC_018_1_CS",
    "TC_020_3_CS",
    "TC_028_CS",
    "TC_030_CS",
    "TC_032_1_CS",
    "TC_071_CS",
    "TC_089_CS",
    "TC_092_CS",
    "TC_094_CS",
    "TC_095_CS",
    "TC_097_CS",
    "TC_098_CS",
    "TC_099_CS",
)
#: the UTC offset of the mutant below's local time (a station installed at UTC-5)
LOCAL_OFFSET = timedelta(hours=-5)


@mutant(
    "TC_012_CS",
    "INV-16-TX-TIMESTAMPS",
    *_EVERY_STOP,
    defect_class="invariant",
)
class StopStampedInLocalTime(ReferenceStation):
    """Stamps StopTransaction with its local wall-clock time written as UTC (``Z``): at UTC-5
    the stop lies five hours before the start."""

    def stop_transaction_payload(self, tx: Transaction, reason: str) -> call.StopTransaction:
        payload = super().stop_transaction_payload(tx, reason)
        payload.timestamp = utc_iso(self.clock.now() + LOCAL_OFFSET)
        return payload
