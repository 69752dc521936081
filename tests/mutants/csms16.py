"""Mutant OCPP 1.6 Central Systems: the reference CSMS with ONE deliberate defect each.

Registered in the same catalogue as the mutant stations (profile ``ocpp16/core-csms``); each
names the case meant to catch it, the requirement that case's reason must name, and every
case its defect may break.
"""

from __future__ import annotations

from typing import Any

from ocpp.v16 import call, call_result

from pile_interop.ocpp.v16.reference.csms import VENDOR_ID, ReferenceCsms
from tests.mutants.stations16 import mutant

CSMS = "ocpp16/core-csms"
#: cases that boot the station (any defect of the boot answer breaks them all)
_BOOTS = ("TC_001_CSMS", "TC_002_CSMS", "TC_013_CSMS", "TC_014_CSMS", "TC_032_1_CSMS")
#: cases whose before-state or steps authorize the valid id tag
_AUTHORIZES = (
    "TC_003_CSMS",
    "TC_004_1_CSMS",
    "TC_004_2_CSMS",
    "TC_005_1_CSMS",
    "TC_010_CSMS",
    "TC_011_1_CSMS",
    "TC_011_2_CSMS",
    "TC_012_CSMS",
    "TC_018_1_CSMS",
    "TC_024_CSMS",
    "TC_028_CSMS",
    "TC_032_1_CSMS",
)


@mutant(
    "TC_001_CSMS",
    "OCPP1.6 §4.2",
    *_BOOTS,
    "TC_097_CSMS",  # (ours) the same defect shows there too
    profile=CSMS,
)
class BootIntervalZero(ReferenceCsms):
    """Accepts a station with heartbeat interval 0 (no heartbeat period given)."""

    def boot_reply(self, station_id: str) -> call_result.BootNotification:
        reply = super().boot_reply(station_id)
        reply.interval = 0
        return reply


@mutant(
    "TC_001_CSMS",
    "OCPP-J 1.6 RPC framework",  # a schema violation: currentTime is not a date-time
    *(f"TC_{n}_CSMS" for n in ("004_2", "017_1", "026", "030", "031", "040_1", "040_2")),
    profile=CSMS,
)
class HeartbeatWithoutTime(ReferenceCsms):
    """Answers Heartbeat with a currentTime that is not a date (a schema violation)."""

    def heartbeat_reply(self, station_id: str) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time="now")


@mutant(
    "TC_002_CSMS",
    "OCPP1.6 §4.2",
    "TC_097_CSMS",  # (ours) the same defect shows there too
    profile=CSMS,
)
class IgnoresPendingSetting(ReferenceCsms):
    """Always answers BootNotification Accepted, whatever the operator configured."""

    def boot_reply(self, station_id: str) -> call_result.BootNotification:
        self.registration.clear()
        return super().boot_reply(station_id)


@mutant("TC_023_1_CSMS", "OCPP1.6 §4.1", "TC_090_1_CSMS", profile=CSMS)
class AcceptsUnknownIdTag(ReferenceCsms):
    """Authorizes any id tag it does not know (Accepted instead of Invalid)."""

    def id_tag_info(self, id_tag: str | None) -> dict[str, Any]:
        if (id_tag or "") not in self.id_tags:
            return {"status": "Accepted"}
        return super().id_tag_info(id_tag)


@mutant("TC_023_2_CSMS", "OCPP1.6 §4.1", "TC_090_2_CSMS", profile=CSMS)
class IgnoresExpiry(ReferenceCsms):
    """Answers Accepted for an expired id tag."""

    def id_tag_info(self, id_tag: str | None) -> dict[str, Any]:
        info = super().id_tag_info(id_tag)
        return {"status": "Accepted"} if info["status"] == "Expired" else info


@mutant("TC_023_3_CSMS", "OCPP1.6 §4.1", "TC_090_3_CSMS", profile=CSMS)
class BlockedAsInvalid(ReferenceCsms):
    """Answers Invalid for a blocked id tag (the driver is not told the card is blocked)."""

    def id_tag_info(self, id_tag: str | None) -> dict[str, Any]:
        info = super().id_tag_info(id_tag)
        return {"status": "Invalid"} if info["status"] == "Blocked" else info


@mutant("TC_096_CSMS", "OCPP1.6 §6.33", profile=CSMS, defect_class="one-form-only")
class RemoteStartOnConnectorZero(ReferenceCsms):
    """Fills a remote start the operator gave no connector with connectorId 0."""

    def remote_start_request(self, id_tag: str, connector: int | None) -> Any:
        return super().remote_start_request(id_tag, 0 if connector is None else connector)


@mutant(
    "TC_090_1_CSMS",
    "OCPP1.6 §4.8",
    "TC_090_2_CSMS",
    "TC_090_3_CSMS",
    profile=CSMS,
    defect_class="csms-decision",
)
class TrustsTheStationsStart(ReferenceCsms):
    """Decides on an id tag only in Authorize: a StartTransaction is Accepted whatever its id
    tag (a station's stale cache or local list starts a transaction for a blocked card)."""

    def start_transaction_reply(self, *args: Any) -> call_result.StartTransaction:
        reply = super().start_transaction_reply(*args)
        reply.id_tag_info = {"status": "Accepted"}
        return reply


@mutant(
    "TC_007_CSMS",
    "OCPP1.6 §4.8",
    "TC_037_1_CSMS",
    "TC_039_CSMS",
    "TC_090_2_CSMS",  # an expired or blocked tag it never saw is Invalid to it
    "TC_090_3_CSMS",
    "TC_098_CSMS",  # (ours) the same defect shows there too
    profile=CSMS,
)
class StartNeedsPriorAuthorize(ReferenceCsms):
    """Answers StartTransaction Invalid unless the id tag was authorized on this connection
    first (breaks cached and offline starts)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.authorized: set[str] = set()

    def id_tag_info(self, id_tag: str | None) -> dict[str, Any]:
        info = super().id_tag_info(id_tag)
        if info["status"] == "Accepted":
            self.authorized.add(id_tag or "")
        return info

    def start_transaction_reply(self, *args: Any) -> call_result.StartTransaction:
        id_tag = args[2]
        known = id_tag in self.authorized
        reply = super().start_transaction_reply(*args)
        self.authorized.discard(id_tag)
        if not known:
            reply.id_tag_info = {"status": "Invalid"}
        return reply


@mutant("TC_037_1_CSMS", "OCPP1.6 §4.8", "TC_039_CSMS", profile=CSMS)
class RejectsPastStart(ReferenceCsms):
    """Refuses a StartTransaction time-stamped more than a minute ago (queued offline)."""

    def start_transaction_reply(
        self, station_id: str, connector_id: int, id_tag: str, meter_start: int, timestamp: str
    ) -> call_result.StartTransaction:
        from datetime import UTC, datetime

        reply = super().start_transaction_reply(
            station_id, connector_id, id_tag, meter_start, timestamp
        )
        when = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
        if (datetime.now(UTC) - when).total_seconds() > 60:
            reply.id_tag_info = {"status": "Invalid"}
        return reply


@mutant(
    "TC_010_CSMS",
    "OCPP1.6 §5.11",
    "TC_011_1_CSMS",
    "TC_011_2_CSMS",
    "TC_026_CSMS",
    "TC_096_CSMS",
    profile=CSMS,
)
class RemoteStartWrongTag(ReferenceCsms):
    """Sends RemoteStartTransaction with a fixed operator tag instead of the chosen one."""

    def remote_start_request(
        self, id_tag: str, connector: int | None
    ) -> call.RemoteStartTransaction:
        return call.RemoteStartTransaction(id_tag="OPERATOR", connector_id=connector)


@mutant("TC_012_CSMS", "OCPP1.6 §5.12", "TC_028_CSMS", profile=CSMS)
class RemoteStopWrongTransaction(ReferenceCsms):
    """Sends RemoteStopTransaction with the id of the previous transaction (off by one)."""

    def remote_stop_request(self, transaction_id: int) -> call.RemoteStopTransaction:
        return call.RemoteStopTransaction(transaction_id=transaction_id - 1)


@mutant("TC_013_CSMS", "OCPP1.6 §5.14", profile=CSMS)
class AlwaysSoftReset(ReferenceCsms):
    """Sends a Soft reset whatever the operator asked."""

    def reset_request(self, kind: str) -> call.Reset:
        return call.Reset(type="Soft")


@mutant(
    "TC_017_1_CSMS", "OCPP1.6 §5.18", "TC_018_1_CSMS", "TC_030_CSMS", "TC_031_CSMS", profile=CSMS
)
class UnlocksConnectorZero(ReferenceCsms):
    """Sends UnlockConnector for connector 0 (the whole station) instead of the one asked."""

    def unlock_request(self, connector: int) -> call.UnlockConnector:
        return call.UnlockConnector(connector_id=0)


@mutant("TC_019_1_CSMS", "OCPP1.6 §5.8", profile=CSMS)
class GetConfigurationListsKeys(ReferenceCsms):
    """Asks for a fixed short list of keys when the operator wants the whole configuration."""

    def get_configuration_request(self, keys: list[str] | None) -> call.GetConfiguration:
        return call.GetConfiguration(key=keys or ["HeartbeatInterval"])


@mutant("TC_019_2_CSMS", "OCPP1.6 §5.8", profile=CSMS)
class GetConfigurationAlwaysAll(ReferenceCsms):
    """Reads the whole configuration even when the operator asks for one key."""

    def get_configuration_request(self, keys: list[str] | None) -> call.GetConfiguration:
        return call.GetConfiguration()


@mutant("TC_021_CSMS", "OCPP1.6 §5.3", "TC_040_2_CSMS", profile=CSMS)
class ConfigurationValueAsNumberText(ReferenceCsms):
    """Sends configuration values with a unit appended ("60s")."""

    def change_configuration_request(self, key: str, value: str) -> call.ChangeConfiguration:
        return call.ChangeConfiguration(key=key, value=f"{value}s")


@mutant("TC_028_CSMS", "OCPP1.6 §4.10", "TC_012_CSMS", profile=CSMS)
class ForgetsTransactionOnRemoteStop(ReferenceCsms):
    """Closes its transaction as soon as it sends RemoteStop, then answers the station's
    StopTransaction of it with a CALLERROR (a CSMS cannot refuse a stop)."""

    async def remote_stop(self, *args: Any, **kwargs: Any) -> Any:
        answer = await super().remote_stop(*args, **kwargs)
        for tx in self.transactions.values():
            tx.stopped = tx.stopped or "remote"
        return answer

    def stop_transaction_reply(
        self,
        transaction_id: int,
        meter_stop: int,
        timestamp: str,
        id_tag: str | None,
        reason: str | None,
    ) -> call_result.StopTransaction:
        tx = self.transactions.get(transaction_id)
        if tx is not None and tx.stopped == "remote":
            raise ValueError(f"transaction {transaction_id} is already stopped")
        return super().stop_transaction_reply(transaction_id, meter_stop, timestamp, id_tag, reason)


@mutant("TC_032_1_CSMS", "OCPP1.6 §4.10", profile=CSMS)
class RejectsStopAfterReboot(ReferenceCsms):
    """Forgets open transactions when a station reboots, then answers their StopTransaction
    (reason PowerLoss) with a CALLERROR."""

    def on_boot(self, station_id: str, payload: dict[str, Any]) -> call_result.BootNotification:
        for tx in list(self.transactions.values()):
            if tx.station_id == station_id and tx.stopped is None:
                del self.transactions[tx.transaction_id]
        return super().on_boot(station_id, payload)

    def stop_transaction_reply(
        self,
        transaction_id: int,
        meter_stop: int,
        timestamp: str,
        id_tag: str | None,
        reason: str | None,
    ) -> call_result.StopTransaction:
        if transaction_id not in self.transactions:
            raise ValueError(f"unknown transaction {transaction_id}")
        return super().stop_transaction_reply(transaction_id, meter_stop, timestamp, id_tag, reason)


@mutant("TC_064_CSMS", "OCPP1.6 §4.3", profile=CSMS)
class AcceptsEveryVendor(ReferenceCsms):
    """Answers Accepted to a DataTransfer of any vendor."""

    def data_transfer_status(self, vendor_id: str, message_id: str | None) -> str:
        return (
            "Accepted"
            if vendor_id != VENDOR_ID
            else super().data_transfer_status(vendor_id, message_id)
        )


class _ClosesAfter(ReferenceCsms):
    """Closes the station's connection when an operator request got the answer ``closes_on``
    (a CSMS that treats a legal negative answer as a broken station)."""

    closes_on: tuple[str, str] = ("", "")

    async def _send(self, request: Any, station: str | None) -> Any:
        link = self._link(station)
        answer = await super()._send(request, station)
        action, status = self.closes_on
        if type(request).__name__ == action and str(getattr(answer, "status", "")) == status:
            await link._connection.close(1011, f"{action} {status}")
        return answer


@mutant("TC_026_CSMS", "OCPP1.6 §4.6", profile=CSMS)
class ClosesOnRejectedRemoteStart(_ClosesAfter):
    """Drops the station's connection when it rejects a RemoteStartTransaction."""

    closes_on = ("RemoteStartTransaction", "Rejected")


@mutant("TC_030_CSMS", "OCPP1.6 §4.6", profile=CSMS)
class ClosesOnUnlockFailure(_ClosesAfter):
    """Drops the station's connection when it answers UnlockConnector UnlockFailed."""

    closes_on = ("UnlockConnector", "UnlockFailed")


@mutant("TC_040_1_CSMS", "OCPP1.6 §4.6", profile=CSMS)
class ClosesOnNotSupportedKey(_ClosesAfter):
    """Drops the station's connection when it answers ChangeConfiguration NotSupported."""

    closes_on = ("ChangeConfiguration", "NotSupported")


@mutant("TC_014_CSMS", "OCPP1.6 §5.14", profile=CSMS)
class AlwaysHardReset(ReferenceCsms):
    """Sends a Hard reset whatever the operator asked."""

    def reset_request(self, kind: str) -> call.Reset:
        return call.Reset(type="Hard")


@mutant("TC_061_CSMS", "OCPP1.6 §5.4", profile=CSMS)
class ClearCacheNeverSent(ReferenceCsms):
    """Its "clear cache" operator action reports success but sends nothing."""

    async def clear_cache(self, station: str | None = None) -> Any:
        self._link(station)
        return call_result.ClearCache(status="Accepted")


@mutant(
    "TC_003_CSMS",
    "OCPP1.6 §4.9",
    "TC_004_1_CSMS",
    "TC_005_1_CSMS",
    "TC_007_CSMS",
    "TC_010_CSMS",
    "TC_011_1_CSMS",
    "TC_012_CSMS",
    "TC_018_1_CSMS",
    "TC_028_CSMS",
    "TC_032_1_CSMS",
    "TC_037_1_CSMS",
    "TC_020_3_CSMS",
    "TC_098_CSMS",  # (ours) the same defect shows there too
    profile=CSMS,
)
class RefusesChargingStatus(ReferenceCsms):
    """Answers StatusNotification Charging with a CALLERROR."""

    def on_status(self, station_id: str, connector_id: int, status: str, error_code: str) -> None:
        if status == "Charging":
            raise ValueError("unexpected status")
        super().on_status(station_id, connector_id, status, error_code)


@mutant(
    "TC_004_2_CSMS",
    "OCPP1.6 §4.9",
    "TC_011_2_CSMS",
    "TC_023_1_CSMS",
    "TC_023_2_CSMS",
    "TC_023_3_CSMS",
    "TC_024_CSMS",
    "TC_098_CSMS",  # (ours) the same defect shows there too
    profile=CSMS,
)
class RefusesPreparingToAvailable(ReferenceCsms):
    """Answers a StatusNotification Available with a CALLERROR when the connector was
    Preparing (it expects every Preparing to end in a transaction)."""

    def on_status(self, station_id: str, connector_id: int, status: str, error_code: str) -> None:
        before = self.record(station_id).connectors.get(connector_id)
        if status == "Available" and before == "Preparing":
            raise ValueError("connector was Preparing")
        super().on_status(station_id, connector_id, status, error_code)


@mutant("TC_024_CSMS", "OCPP1.6 §4.9", profile=CSMS)
class RefusesFaultReports(ReferenceCsms):
    """Answers a StatusNotification with an errorCode other than NoError with a CALLERROR."""

    def on_status(self, station_id: str, connector_id: int, status: str, error_code: str) -> None:
        if error_code != "NoError":
            raise ValueError(f"error code {error_code}")
        super().on_status(station_id, connector_id, status, error_code)


@mutant("TC_005_1_CSMS", "OCPP1.6 §4.10", profile=CSMS)
class RefusesEvDisconnectedStop(ReferenceCsms):
    """Answers a StopTransaction with reason EVDisconnected with a CALLERROR."""

    def stop_transaction_reply(
        self,
        transaction_id: int,
        meter_stop: int,
        timestamp: str,
        id_tag: str | None,
        reason: str | None,
    ) -> call_result.StopTransaction:
        if reason == "EVDisconnected":
            raise ValueError("stop reason not accepted")
        return super().stop_transaction_reply(transaction_id, meter_stop, timestamp, id_tag, reason)


@mutant("TC_039_CSMS", "OCPP1.6 §4.7", profile=CSMS)
class RefusesOldMeterValues(ReferenceCsms):
    """Answers MeterValues older than a minute (queued offline) with a CALLERROR."""

    def on_meter_values(self, transaction_id: int | None, values: list[Any]) -> None:
        from datetime import UTC, datetime

        for value in values:
            stamp = value.get("timestamp", "")
            when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            if (datetime.now(UTC) - when).total_seconds() > 60:
                raise ValueError("meter value too old")
        super().on_meter_values(transaction_id, values)


@mutant("TC_020_1_CSMS", "OCPP1.6 §5.2", "TC_020_2_CSMS", "TC_020_3_CSMS", profile=CSMS)
class AvailabilityForWholeStation(ReferenceCsms):
    """Sends ChangeAvailability for connector 0 (the whole station) whatever the operator chose."""

    def change_availability_request(self, connector: int, kind: str) -> call.ChangeAvailability:
        return call.ChangeAvailability(connector_id=0, type=kind)


@mutant("TC_020_2_CSMS", "OCPP1.6 §5.2", profile=CSMS)
class CannotReenableConnector(ReferenceCsms):
    """Its "make operative" action sends Inoperative again (a UI bound to the wrong value)."""

    def change_availability_request(self, connector: int, kind: str) -> call.ChangeAvailability:
        return call.ChangeAvailability(connector_id=connector, type="Inoperative")
