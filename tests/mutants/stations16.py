"""Mutant OCPP 1.6 stations: the reference station with ONE deliberate defect each.

Each mutant names the case meant to catch it, the requirement that case must name in its
reason, and every case its defect is allowed to break (the others must still pass: a mutant
is a single defect, not a broken station).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ocpp.v16 import call, call_result
from ocpp.v16.enums import (
    AuthorizationStatus,
    AvailabilityStatus,
    AvailabilityType,
    ConfigurationStatus,
    DataTransferStatus,
    Reason,
    RegistrationStatus,
    RemoteStartStopStatus,
    ResetStatus,
    ResetType,
    UnlockStatus,
)

from pile_interop.ocpp.v16.reference.station import ReferenceStation


@dataclass(frozen=True)
class Mutant:
    name: str
    defect: str
    cls: type
    catches: str  # the case meant to catch it
    requirement: str  # what that case's reason must name
    breaks: frozenset[str]  # every case that may not pass (includes ``catches``)
    profile: str = "ocpp16/core-cs"  # the profile whose run must catch it
    #: device-descriptor features of its run, over the reference device's (e.g. fixed_cable)
    features: dict[str, bool] = field(default_factory=dict)
    #: the defect class it was written for (``case``: for the case that catches it; else a
    #: class of defects a vendor ships, written without a case in mind: ``invariant``,
    #: ``setting-not-applied``, ``one-form-only``, ``csms-decision``)
    defect_class: str = "case"


CATALOGUE: list[Mutant] = []


def mutant(  # type: ignore[no-untyped-def]
    catches: str,
    requirement: str,
    *also: str,
    profile: str = "ocpp16/core-cs",
    features: dict[str, bool] | None = None,
    defect_class: str = "case",
):
    def register(cls: type) -> type:
        doc = (cls.__doc__ or cls.__name__).strip().splitlines()[0]
        CATALOGUE.append(
            Mutant(
                cls.__name__,
                doc,
                cls,
                catches,
                requirement,
                frozenset({catches, *also}),
                profile,
                dict(features or {}),
                defect_class,
            )
        )
        return cls

    return register


# -- boot ------------------------------------------------------------------------------------


@mutant(
    "TC_001_CS",
    "OCPP1.6 §4.9",
    "TC_002_CS",
    "TC_013_CS",
    "TC_014_CS",
    "TC_015_CS",
    "TC_016_CS",
    "TC_032_1_CS",
)
class NoStatusAfterBoot(ReferenceStation):
    """Sends no StatusNotification after an accepted BootNotification."""

    def boot_status_notifications(self) -> list[call.StatusNotification]:
        return []


@mutant("TC_001_CS", "OCPP1.6 §4.2 interval")
class IgnoresHeartbeatInterval(ReferenceStation):
    """Keeps a built-in 300 s heartbeat instead of the BootNotification.conf interval."""

    def heartbeat_interval(self) -> int:
        return 300


@mutant("TC_001_CS", "OCPP1.6 §4.2", "TC_002_CS")
class BootRetryTooEarly(ReferenceStation):
    """After a Rejected boot it retries at once instead of waiting the interval."""

    async def _boot_sequence(self, link: Any) -> None:
        await super()._boot_sequence(_EarlyRetryLink(link))


class _EarlyRetryLink:
    """Wraps the link so that a non-Accepted BootNotification.conf comes back with interval 1:
    the station retries after 1 protocol second, whatever the Central System asked for."""

    def __init__(self, link: Any) -> None:
        self._link = link

    def __getattr__(self, name: str) -> Any:
        return getattr(self._link, name)

    async def call(self, payload: Any, **kwargs: Any) -> Any:
        result = await self._link.call(payload, **kwargs)
        if isinstance(payload, call.BootNotification) and result.status != "Accepted":
            return call_result.BootNotification(
                current_time=result.current_time, interval=1, status=result.status
            )
        return result


@mutant("TC_002_CS", "OCPP1.6 §4.2 Pending")
class RefusesConfigurationWhilePending(ReferenceStation):
    """Answers ChangeConfiguration with Rejected while its registration is Pending."""

    def change_configuration_status(self, key: str, value: str) -> str:
        if self.registration == RegistrationStatus.pending:
            return ConfigurationStatus.rejected
        return super().change_configuration_status(key, value)


# -- sessions ----------------------------------------------------------------------------------


@mutant("TC_003_CS", "OCPP1.6 §4.8")
class NegativeMeterStart(ReferenceStation):
    """Reports meterStart -1 (an uninitialised meter reading) in StartTransaction."""

    def start_transaction_payload(self, tx: Any) -> call.StartTransaction:
        payload = super().start_transaction_payload(tx)
        payload.meter_start = -1
        return payload


@mutant(
    "TC_004_1_CS",
    "OCPP1.6 §4.8",
    "TC_011_1_CS",
    "TC_007_CS",
    "TC_024_CS",
    "TC_037_1_CS",
    "TC_037_3_CS",
    "TC_039_CS",
)
class ForgetsAuthorizationOnPlugIn(ReferenceStation):
    """Drops a pending authorization when the cable is plugged in: no transaction starts."""

    async def plug_in(self, connector: int) -> None:
        conn = self.connectors[connector]
        if conn.authorization is not None:
            self._take_authorization(conn)
        await super().plug_in(connector)


@mutant(
    "TC_004_2_CS",
    "OCPP1.6 §9.1.6",
    "TC_011_2_CS",
    "TC_061_CS",
    "TC_007_CS",  # the before-state id_cached waits for ConnectionTimeOut
    "TC_037_1_CS",
    "TC_037_3_CS",
    "TC_039_CS",
)
class IgnoresConnectionTimeOut(ReferenceStation):
    """Never cancels an authorization that waits for a cable (ConnectionTimeOut ignored)."""

    def authorized(self, conn: Any, id_tag: str, info: Any) -> None:
        super().authorized(conn, id_tag, info)
        if conn.authorization is not None and conn.authorization.timer is not None:
            conn.authorization.timer.cancel()


@mutant("TC_010_CS", "OCPP1.6 §5.11", "TC_093_CS")
class RejectsRemoteStartWhenPlugged(ReferenceStation):
    """Rejects RemoteStartTransaction when the cable is already plugged in."""

    def remote_start_status(self, id_tag: str, connector_id: int | None) -> str:
        if connector_id in self.connectors and self.connectors[connector_id].ev_connected:
            return RemoteStartStopStatus.rejected
        return super().remote_start_status(id_tag, connector_id)


@mutant("TC_011_1_CS", "OCPP1.6 §5.11", "TC_011_2_CS", "TC_024_CS")
class RejectsRemoteStartWithoutCable(ReferenceStation):
    """Rejects RemoteStartTransaction while no cable is plugged in."""

    def remote_start_status(self, id_tag: str, connector_id: int | None) -> str:
        if connector_id in self.connectors and not self.connectors[connector_id].ev_connected:
            return RemoteStartStopStatus.rejected
        return super().remote_start_status(id_tag, connector_id)


@mutant("TC_011_2_CS", "OCPP1.6 §9.1.6")
class RemoteStartNeverTimesOut(ReferenceStation):
    """Applies ConnectionTimeOut to local authorizations only, not to a remote start."""

    async def remote_start(self, conn: Any, id_tag: str) -> None:
        await super().remote_start(conn, id_tag)
        if conn.authorization is not None and conn.authorization.timer is not None:
            conn.authorization.timer.cancel()


@mutant(
    "TC_012_CS",
    "OCPP1.6 §4.10",
    # every other case that checks the StopTransaction's transactionId
    "TC_005_1_CS",
    "TC_005_3_CS",
    "TC_015_CS",
    "TC_016_CS",
    "TC_018_1_CS",
    "TC_020_3_CS",
    "TC_032_1_CS",
    "TC_037_3_CS",
    "TC_039_CS",
    "TC_095_CS",
)
class WrongStopTransactionId(ReferenceStation):
    """Sends StopTransaction with transactionId + 1."""

    def stop_transaction_payload(self, tx: Any, reason: str) -> call.StopTransaction:
        payload = super().stop_transaction_payload(tx, reason)
        payload.transaction_id += 1
        return payload


@mutant("TC_012_CS", "OCPP1.6 §4.10", "TC_005_3_CS", "TC_095_CS")
class IgnoresRemoteStop(ReferenceStation):
    """Answers RemoteStopTransaction Accepted but never stops the transaction."""

    def remote_stop(self, transaction_id: int) -> None:
        return None


# -- reset, availability, unlock ---------------------------------------------------------------


@mutant("TC_013_CS", "OCPP1.6 §4.9", "TC_014_CS")
class AvailabilityNotPersistent(ReferenceStation):
    """Forgets an Inoperative connector across a reboot (comes back Available)."""

    def on_reboot(self) -> None:
        super().on_reboot()
        for conn in self.connectors.values():
            conn.operative = True


@mutant("TC_014_CS", "OCPP1.6 §5.14", "TC_016_CS")
class RejectsSoftReset(ReferenceStation):
    """Answers a Soft Reset with Rejected."""

    def reset_status(self, type: str) -> str:
        return ResetStatus.rejected if type == "Soft" else super().reset_status(type)


@mutant("TC_017_1_CS", "OCPP1.6 §5.18", "TC_018_1_CS")
class UnlockAlwaysFails(ReferenceStation):
    """Answers every UnlockConnector with UnlockFailed."""

    def unlock_status(self, connector_id: int) -> str:
        status = super().unlock_status(connector_id)
        return UnlockStatus.unlock_failed if status == UnlockStatus.unlocked else status


# -- configuration -----------------------------------------------------------------------------


@mutant("TC_019_1_CS", "OCPP1.6 §9.1", "TC_019_2_CS")
class HeartbeatIntervalReadOnly(ReferenceStation):
    """Reports HeartbeatInterval as read-only in GetConfiguration."""

    def get_configuration_response(self, keys: list[str] | None) -> call_result.GetConfiguration:
        result = super().get_configuration_response(keys)
        for entry in result.configuration_key or []:
            if entry["key"] == "HeartbeatInterval":
                entry["readonly"] = True
        return result


@mutant("TC_019_2_CS", "OCPP1.6 §5.8")
class DropsUnknownKeys(ReferenceStation):
    """Leaves unknown keys out of GetConfiguration.conf instead of listing them in unknownKey."""

    def get_configuration_response(self, keys: list[str] | None) -> call_result.GetConfiguration:
        result = super().get_configuration_response(keys)
        result.unknown_key = None
        return result


@mutant("TC_021_CS", "OCPP1.6 §5.3", "TC_070_CS", "TC_094_CS", "TC_095_CS")
class ForgetsMeterValueSampleInterval(ReferenceStation):
    """Accepts a new MeterValueSampleInterval but keeps the old value."""

    async def handle_change_configuration(
        self, key: str, value: str
    ) -> call_result.ChangeConfiguration:
        if key == "MeterValueSampleInterval" and value.isdigit() and value != "0":
            return call_result.ChangeConfiguration(status=ConfigurationStatus.accepted)
        return await super().handle_change_configuration(key, value)


@mutant("TC_040_1_CS", "OCPP1.6 §5.3")
class AcceptsUnknownKeys(ReferenceStation):
    """Answers ChangeConfiguration for an unknown key with Accepted."""

    def change_configuration_status(self, key: str, value: str) -> str:
        status = super().change_configuration_status(key, value)
        return ConfigurationStatus.accepted if status == "NotSupported" else status


@mutant("TC_040_2_CS", "OCPP1.6 §5.3")
class AcceptsNegativeInterval(ReferenceStation):
    """Accepts (and stores) a negative MeterValueSampleInterval."""

    async def handle_change_configuration(
        self, key: str, value: str
    ) -> call_result.ChangeConfiguration:
        if key == "MeterValueSampleInterval" and value.startswith("-"):
            self.config._values["MeterValueSampleInterval"] = value
            return call_result.ChangeConfiguration(status=ConfigurationStatus.accepted)
        return await super().handle_change_configuration(key, value)


# -- authorization -----------------------------------------------------------------------------


def _accepts(status: str) -> type[ReferenceStation]:
    class Accepts(ReferenceStation):
        def authorize_outcome(self, info: Any) -> bool:
            return info.status == status or super().authorize_outcome(info)

    return Accepts


@mutant("TC_023_1_CS", "OCPP1.6 §4.1", "TC_037_3_CS")
class AcceptsInvalidIdTag(_accepts(AuthorizationStatus.invalid)):  # type: ignore[misc]
    """Starts a transaction for an idTag the Central System answered Invalid."""


@mutant("TC_023_2_CS", "OCPP1.6 §4.1")
class AcceptsExpiredIdTag(_accepts(AuthorizationStatus.expired)):  # type: ignore[misc]
    """Starts a transaction for an idTag the Central System answered Expired."""


@mutant("TC_023_3_CS", "OCPP1.6 §4.1")
class AcceptsBlockedIdTag(_accepts(AuthorizationStatus.blocked)):  # type: ignore[misc]
    """Starts a transaction for an idTag the Central System answered Blocked."""


@mutant("TC_061_CS", "OCPP1.6 §3.5.1", "TC_007_CS")  # TC_007 clears the cache before it
class ClearCacheDoesNothing(ReferenceStation):
    """Answers ClearCache Accepted but keeps the cached ids."""

    async def handle_clear_cache(self) -> call_result.ClearCache:
        return call_result.ClearCache(status=self.clear_cache_status())  # type: ignore[arg-type]


# -- data transfer -----------------------------------------------------------------------------


@mutant("TC_062_CS", "OCPP1.6 §4.3")
class AcceptsUnknownVendor(ReferenceStation):
    """Answers Accepted to a DataTransfer for a vendorId it does not implement."""

    def data_transfer_response(
        self, vendor_id: str, message_id: str | None, data: str | None
    ) -> call_result.DataTransfer:
        return call_result.DataTransfer(status=DataTransferStatus.accepted)


@mutant("TC_064_CS", "OCPP-J 1.6 RPC framework")
class DataTransferBreaksSchema(ReferenceStation):
    """Sends its DataTransfer.req with `data` as a JSON object (the schema says string)."""

    validate_outgoing = False

    async def send_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> dict[str, Any] | None:
        payload = call.DataTransfer(vendor_id=vendor_id, message_id=message_id, data={"v": data})  # type: ignore[arg-type]
        result = await self.request("DataTransfer", lambda: payload)
        return None if result is None else {"status": str(result.status)}


# -- issue 3: the rest of the Core profile -------------------------------------------------------


@mutant("TC_005_1_CS", "OCPP1.6 §9.1.23", "TC_020_3_CS")
class KeepsTransactionOnEVSideDisconnect(ReferenceStation):
    """Keeps the transaction running when the EV side is unplugged, whatever
    StopTransactionOnEVSideDisconnect says."""

    def stop_on_ev_side_disconnect(self) -> bool:
        return False


@mutant("TC_005_3_CS", "OCPP1.6 §9.1.23")
class AlwaysStopsOnEVSideDisconnect(ReferenceStation):
    """Stops the transaction when the EV side is unplugged, although
    StopTransactionOnEVSideDisconnect is false."""

    def stop_on_ev_side_disconnect(self) -> bool:
        return True


@mutant("TC_007_CS", "OCPP1.6 §9.1.13")
class IgnoresLocalPreAuthorize(ReferenceStation):
    """Asks the Central System (Authorize.req) for a cached id although LocalPreAuthorize is
    true."""

    async def authorize_id_tag(self, id_tag: str) -> Any:
        saved = self.config.get("LocalPreAuthorize")
        self.config.set("LocalPreAuthorize", "false")
        try:
            return await super().authorize_id_tag(id_tag)
        finally:
            self.config.set("LocalPreAuthorize", saved)


@mutant("TC_015_CS", "OCPP1.6 §5.14")
class HardResetLosesTransaction(ReferenceStation):
    """Forgets a running transaction on a Hard reset: no StopTransaction, ever."""

    async def perform_reset(self, type: str) -> None:
        if type == ResetType.hard:
            for conn in self._outlets():
                if conn.transaction is not None and conn.sampler is not None:
                    conn.sampler.cancel()
                conn.transaction = None
                conn.meter.set_flowing(False)
        await super().perform_reset(type)


@mutant("TC_016_CS", "OCPP1.6 §5.14")
class SoftResetStopsAfterReboot(ReferenceStation):
    """Resets at once on a Soft reset too, sending the StopTransaction only after the reboot."""

    async def perform_reset(self, type: str) -> None:
        await super().perform_reset(ResetType.hard if type == ResetType.soft else type)

    def stop_transaction(self, conn: Any, reason: str, *, id_tag: str | None = None) -> None:
        if reason == Reason.hard_reset and self._soft:
            reason = Reason.soft_reset
        super().stop_transaction(conn, reason, id_tag=id_tag)

    _soft = False

    async def handle_reset(self, type: str) -> call_result.Reset:
        self._soft = type == ResetType.soft
        return await super().handle_reset(type)


@mutant("TC_017_2_CS", "OCPP1.6 §5.18", features={"fixed_cable": True})
class FixedCableUnlocks(ReferenceStation):
    """A station with a fixed cable answers UnlockConnector with Unlocked (it has no lock)."""

    def unlock_status(self, connector_id: int) -> str:
        if connector_id in self.connectors and connector_id > 0:
            return UnlockStatus.unlocked
        return super().unlock_status(connector_id)


@mutant("TC_018_1_CS", "OCPP1.6 §5.18")
class UnlockKeepsTransaction(ReferenceStation):
    """Answers UnlockConnector Unlocked during a transaction but does not finish it."""

    def unlock(self, conn: Any, success: bool) -> None:
        if conn.transaction is None:
            super().unlock(conn, success)


@mutant("TC_024_CS", "OCPP1.6 §4.9")
class IgnoresLockFailure(ReferenceStation):
    """Starts the transaction although the connector could not be locked."""

    def begin_transaction(self, conn: Any, id_tag: str, info: Any) -> None:
        failing, conn.lock_failing = conn.lock_failing, False
        try:
            super().begin_transaction(conn, id_tag, info)
        finally:
            conn.lock_failing = failing


@mutant("TC_026_CS", "OCPP1.6 §5.11")
class AcceptsRemoteStartOnBusyConnector(ReferenceStation):
    """Answers Accepted to a RemoteStartTransaction for a connector that has a transaction."""

    def remote_start_status(self, id_tag: str, connector_id: int | None) -> str:
        conn = self.connectors.get(connector_id or 0)
        if conn is not None and conn.transaction is not None:
            return RemoteStartStopStatus.accepted
        return super().remote_start_status(id_tag, connector_id)


@mutant("TC_028_CS", "OCPP1.6 §5.12")
class AcceptsUnknownRemoteStop(ReferenceStation):
    """Answers Accepted to a RemoteStopTransaction for a transactionId it does not know."""

    def remote_stop_status(self, transaction_id: int) -> str:
        return RemoteStartStopStatus.accepted


@mutant("TC_030_CS", "OCPP1.6 §5.18")
class UnlockNeverFails(ReferenceStation):
    """Answers Unlocked although the connector's lock failed to open."""

    def unlock_status(self, connector_id: int) -> str:
        status = super().unlock_status(connector_id)
        return UnlockStatus.unlocked if status == UnlockStatus.unlock_failed else status


@mutant("TC_031_CS", "OCPP1.6 §5.18")
class UnlockFailedForUnknownConnector(ReferenceStation):
    """Answers UnlockFailed (not NotSupported) for a connectorId it does not have."""

    async def handle_unlock_connector(self, connector_id: int) -> call_result.UnlockConnector:
        if connector_id not in self.connectors:
            return call_result.UnlockConnector(status=UnlockStatus.unlock_failed)
        return await super().handle_unlock_connector(connector_id)


@mutant("TC_032_1_CS", "OCPP1.6 §4.10")
class PowerLossReportedAsReboot(ReferenceStation):
    """After a power failure it stops the transaction with reason Reboot, not PowerLoss."""

    async def power_cycle(self) -> None:
        self.outbox.open.clear()
        self.reboot()  # on_reboot stops what still runs with reason Reboot


@mutant("TC_037_1_CS", "OCPP1.6 §3.7", "TC_037_3_CS", "TC_039_CS")
class DropsStartTransactionOffline(ReferenceStation):
    """Does not queue a StartTransaction.req while offline: it is lost."""

    def send_transactional(self, action: str, build: Any, **kwargs: Any) -> Any:
        if action == "StartTransaction" and not self.outbox.open.is_set():
            return self.send(action, build)
        return super().send_transactional(action, build, **kwargs)


@mutant("TC_037_3_CS", "OCPP1.6 §9.1.24")
class KeepsChargingOnInvalidStartConf(ReferenceStation):
    """Ignores a non-Accepted idTagInfo in StartTransaction.conf: the transaction goes on."""

    async def on_start_transaction_conf(self, tx: Any, result: Any) -> None:
        result = call_result.StartTransaction(
            transaction_id=result.transaction_id, id_tag_info={"status": "Accepted"}
        )
        await super().on_start_transaction_conf(tx, result)


@mutant("TC_039_CS", "OCPP1.6 §4.10")
class OfflineStopWithoutTransactionId(ReferenceStation):
    """Builds the StopTransaction of a transaction stopped offline with transactionId 0 (the
    id it knew when the transaction stopped), not the one StartTransaction.conf brought."""

    _known_at_stop: dict[int, int | None]

    def stop_transaction(self, conn: Any, reason: str, *, id_tag: str | None = None) -> None:
        tx = conn.transaction
        if tx is not None:
            self.__dict__.setdefault("_known_at_stop", {})[tx.ref] = tx.transaction_id
        super().stop_transaction(conn, reason, id_tag=id_tag)

    def stop_transaction_payload(self, tx: Any, reason: str) -> call.StopTransaction:
        payload = super().stop_transaction_payload(tx, reason)
        if self.__dict__.get("_known_at_stop", {}).get(tx.ref, 0) is None:
            payload.transaction_id = 0
        return payload


@mutant("TC_020_1_CS", "OCPP1.6 §5.2", "TC_013_CS", "TC_014_CS", "TC_020_2_CS", "TC_020_3_CS")
class IgnoresInoperative(ReferenceStation):
    """Answers ChangeAvailability Inoperative as asked but stays available."""

    def apply_availability(self, connector_id: int, type: str) -> None:
        if type == AvailabilityType.operative:
            super().apply_availability(connector_id, type)


@mutant("TC_020_2_CS", "OCPP1.6 §5.2", "TC_013_CS", "TC_014_CS")
class SilentWhenOperative(ReferenceStation):
    """Becomes Operative on ChangeAvailability without reporting the new status."""

    def apply_availability(self, connector_id: int, type: str) -> None:
        if type != AvailabilityType.operative:
            super().apply_availability(connector_id, type)
            return
        for conn in self._availability_targets(connector_id):
            conn.operative, conn.scheduled_operative = True, None
        for conn in self.connectors.values():
            conn.status, conn.error_code = self.derive_status(conn)  # changed, not reported


@mutant("TC_020_3_CS", "OCPP1.6 §5.2")
class InoperativeInterruptsTransaction(ReferenceStation):
    """Answers Accepted to Inoperative during a transaction and stops it at once."""

    def change_availability_status(self, connector_id: int, type: str) -> str:
        status = super().change_availability_status(connector_id, type)
        return AvailabilityStatus.accepted if status == AvailabilityStatus.scheduled else status

    def apply_availability(self, connector_id: int, type: str) -> None:
        if type == AvailabilityType.inoperative:
            for conn in self._availability_targets(connector_id):
                if conn.id and conn.transaction is not None:
                    self.stop_transaction(conn, Reason.other)
        super().apply_availability(connector_id, type)


@mutant("TC_070_CS", "OCPP1.6 §9.1.19", "TC_094_CS", "TC_095_CS")
class SampleIntervalDoubled(ReferenceStation):
    """Samples meter values every two MeterValueSampleInterval."""

    async def _sample_loop(self, conn: Any, tx: Any) -> None:
        interval = self.config.get("MeterValueSampleInterval")
        self.config.set("MeterValueSampleInterval", str(2 * int(interval)))
        try:
            await super()._sample_loop(conn, tx)
        finally:
            if self.config.get("MeterValueSampleInterval") == str(2 * int(interval)):
                self.config.set("MeterValueSampleInterval", interval)


@mutant("TC_071_CS", "OCPP1.6 §9.1.5")
class AlignedReadingsLate(ReferenceStation):
    """Stamps its clock-aligned readings 3 s after the boundary (when it got round to them)."""

    def _send_aligned(self, boundary: datetime) -> None:
        super()._send_aligned(boundary + timedelta(seconds=3))
