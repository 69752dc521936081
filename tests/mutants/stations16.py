"""Mutant OCPP 1.6 stations: the reference station with ONE deliberate defect each.

Each mutant names the case meant to catch it, the requirement that case must name in its
reason, and every case its defect is allowed to break (the others must still pass: a mutant
is a single defect, not a broken station).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ocpp.v16 import call, call_result
from ocpp.v16.enums import (
    AuthorizationStatus,
    ConfigurationStatus,
    DataTransferStatus,
    RegistrationStatus,
    RemoteStartStopStatus,
    ResetStatus,
    UnlockStatus,
)

from pile_interop.reference.station16 import ReferenceStation16


@dataclass(frozen=True)
class Mutant:
    name: str
    defect: str
    cls: type
    catches: str  # the case meant to catch it
    requirement: str  # what that case's reason must name
    breaks: frozenset[str]  # every case that may not pass (includes ``catches``)
    profile: str = "ocpp16/core-cs"  # the profile whose run must catch it


CATALOGUE: list[Mutant] = []


def mutant(catches: str, requirement: str, *also: str, profile: str = "ocpp16/core-cs"):  # type: ignore[no-untyped-def]
    def register(cls: type) -> type:
        doc = (cls.__doc__ or cls.__name__).strip().splitlines()[0]
        CATALOGUE.append(
            Mutant(
                cls.__name__, doc, cls, catches, requirement, frozenset({catches, *also}), profile
            )
        )
        return cls

    return register


# -- boot ------------------------------------------------------------------------------------


@mutant("TC_001_CS", "OCPP1.6 §4.9", "TC_002_CS", "TC_013_CS", "TC_014_CS")
class NoStatusAfterBoot(ReferenceStation16):
    """Sends no StatusNotification after an accepted BootNotification."""

    def boot_status_notifications(self) -> list[call.StatusNotification]:
        return []


@mutant("TC_001_CS", "OCPP1.6 §4.2 interval")
class IgnoresHeartbeatInterval(ReferenceStation16):
    """Keeps a built-in 300 s heartbeat instead of the BootNotification.conf interval."""

    def heartbeat_interval(self) -> int:
        return 300


@mutant("TC_001_CS", "OCPP1.6 §4.2", "TC_002_CS")
class BootRetryTooEarly(ReferenceStation16):
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
class RefusesConfigurationWhilePending(ReferenceStation16):
    """Answers ChangeConfiguration with Rejected while its registration is Pending."""

    def change_configuration_status(self, key: str, value: str) -> str:
        if self.registration == RegistrationStatus.pending:
            return ConfigurationStatus.rejected
        return super().change_configuration_status(key, value)


# -- sessions ----------------------------------------------------------------------------------


@mutant("TC_003_CS", "OCPP1.6 §4.8")
class NegativeMeterStart(ReferenceStation16):
    """Reports meterStart -1 (an uninitialised meter reading) in StartTransaction."""

    def start_transaction_payload(self, tx: Any) -> call.StartTransaction:
        payload = super().start_transaction_payload(tx)
        payload.meter_start = -1
        return payload


@mutant("TC_004_1_CS", "OCPP1.6 §4.8", "TC_011_1_CS")
class ForgetsAuthorizationOnPlugIn(ReferenceStation16):
    """Drops a pending authorization when the cable is plugged in: no transaction starts."""

    async def plug_in(self, connector: int) -> None:
        conn = self.connectors[connector]
        if conn.authorization is not None:
            self._take_authorization(conn)
        await super().plug_in(connector)


@mutant("TC_004_2_CS", "OCPP1.6 §9.1.6", "TC_011_2_CS", "TC_061_CS")
class IgnoresConnectionTimeOut(ReferenceStation16):
    """Never cancels an authorization that waits for a cable (ConnectionTimeOut ignored)."""

    def authorized(self, conn: Any, id_tag: str, info: Any) -> None:
        super().authorized(conn, id_tag, info)
        if conn.authorization is not None and conn.authorization.timer is not None:
            conn.authorization.timer.cancel()


@mutant("TC_010_CS", "OCPP1.6 §5.11")
class RejectsRemoteStartWhenPlugged(ReferenceStation16):
    """Rejects RemoteStartTransaction when the cable is already plugged in."""

    def remote_start_status(self, id_tag: str, connector_id: int | None) -> str:
        if connector_id in self.connectors and self.connectors[connector_id].ev_connected:
            return RemoteStartStopStatus.rejected
        return super().remote_start_status(id_tag, connector_id)


@mutant("TC_011_1_CS", "OCPP1.6 §5.11", "TC_011_2_CS")
class RejectsRemoteStartWithoutCable(ReferenceStation16):
    """Rejects RemoteStartTransaction while no cable is plugged in."""

    def remote_start_status(self, id_tag: str, connector_id: int | None) -> str:
        if connector_id in self.connectors and not self.connectors[connector_id].ev_connected:
            return RemoteStartStopStatus.rejected
        return super().remote_start_status(id_tag, connector_id)


@mutant("TC_011_2_CS", "OCPP1.6 §9.1.6")
class RemoteStartNeverTimesOut(ReferenceStation16):
    """Applies ConnectionTimeOut to local authorizations only, not to a remote start."""

    async def remote_start(self, conn: Any, id_tag: str) -> None:
        await super().remote_start(conn, id_tag)
        if conn.authorization is not None and conn.authorization.timer is not None:
            conn.authorization.timer.cancel()


@mutant("TC_012_CS", "OCPP1.6 §4.10")
class WrongStopTransactionId(ReferenceStation16):
    """Sends StopTransaction with transactionId + 1."""

    def stop_transaction_payload(self, tx: Any, reason: str) -> call.StopTransaction:
        payload = super().stop_transaction_payload(tx, reason)
        payload.transaction_id += 1
        return payload


@mutant("TC_012_CS", "OCPP1.6 §4.10")
class IgnoresRemoteStop(ReferenceStation16):
    """Answers RemoteStopTransaction Accepted but never stops the transaction."""

    def remote_stop(self, transaction_id: int) -> None:
        return None


# -- reset, availability, unlock ---------------------------------------------------------------


@mutant("TC_013_CS", "OCPP1.6 §4.9", "TC_014_CS")
class AvailabilityNotPersistent(ReferenceStation16):
    """Forgets an Inoperative connector across a reboot (comes back Available)."""

    def on_reboot(self) -> None:
        super().on_reboot()
        for conn in self.connectors.values():
            conn.operative = True


@mutant("TC_014_CS", "OCPP1.6 §5.14")
class RejectsSoftReset(ReferenceStation16):
    """Answers a Soft Reset with Rejected."""

    def reset_status(self, type: str) -> str:
        return ResetStatus.rejected if type == "Soft" else super().reset_status(type)


@mutant("TC_017_1_CS", "OCPP1.6 §5.18")
class UnlockAlwaysFails(ReferenceStation16):
    """Answers every UnlockConnector with UnlockFailed."""

    def unlock_status(self, connector_id: int) -> str:
        status = super().unlock_status(connector_id)
        return UnlockStatus.unlock_failed if status == UnlockStatus.unlocked else status


# -- configuration -----------------------------------------------------------------------------


@mutant("TC_019_1_CS", "OCPP1.6 §9.1", "TC_019_2_CS")
class HeartbeatIntervalReadOnly(ReferenceStation16):
    """Reports HeartbeatInterval as read-only in GetConfiguration."""

    def get_configuration_response(self, keys: list[str] | None) -> call_result.GetConfiguration:
        result = super().get_configuration_response(keys)
        for entry in result.configuration_key or []:
            if entry["key"] == "HeartbeatInterval":
                entry["readonly"] = True
        return result


@mutant("TC_019_2_CS", "OCPP1.6 §5.8")
class DropsUnknownKeys(ReferenceStation16):
    """Leaves unknown keys out of GetConfiguration.conf instead of listing them in unknownKey."""

    def get_configuration_response(self, keys: list[str] | None) -> call_result.GetConfiguration:
        result = super().get_configuration_response(keys)
        result.unknown_key = None
        return result


@mutant("TC_021_CS", "OCPP1.6 §5.3")
class ForgetsMeterValueSampleInterval(ReferenceStation16):
    """Accepts a new MeterValueSampleInterval but keeps the old value."""

    async def handle_change_configuration(
        self, key: str, value: str
    ) -> call_result.ChangeConfiguration:
        if key == "MeterValueSampleInterval" and value.isdigit() and value != "0":
            return call_result.ChangeConfiguration(status=ConfigurationStatus.accepted)
        return await super().handle_change_configuration(key, value)


@mutant("TC_040_1_CS", "OCPP1.6 §5.3")
class AcceptsUnknownKeys(ReferenceStation16):
    """Answers ChangeConfiguration for an unknown key with Accepted."""

    def change_configuration_status(self, key: str, value: str) -> str:
        status = super().change_configuration_status(key, value)
        return ConfigurationStatus.accepted if status == "NotSupported" else status


@mutant("TC_040_2_CS", "OCPP1.6 §5.3")
class AcceptsNegativeInterval(ReferenceStation16):
    """Accepts (and stores) a negative MeterValueSampleInterval."""

    async def handle_change_configuration(
        self, key: str, value: str
    ) -> call_result.ChangeConfiguration:
        if key == "MeterValueSampleInterval" and value.startswith("-"):
            self.config._values["MeterValueSampleInterval"] = value
            return call_result.ChangeConfiguration(status=ConfigurationStatus.accepted)
        return await super().handle_change_configuration(key, value)


# -- authorization -----------------------------------------------------------------------------


def _accepts(status: str) -> type[ReferenceStation16]:
    class Accepts(ReferenceStation16):
        def authorize_outcome(self, info: Any) -> bool:
            return info.status == status or super().authorize_outcome(info)

    return Accepts


@mutant("TC_023_1_CS", "OCPP1.6 §4.1")
class AcceptsInvalidIdTag(_accepts(AuthorizationStatus.invalid)):  # type: ignore[misc]
    """Starts a transaction for an idTag the Central System answered Invalid."""


@mutant("TC_023_2_CS", "OCPP1.6 §4.1")
class AcceptsExpiredIdTag(_accepts(AuthorizationStatus.expired)):  # type: ignore[misc]
    """Starts a transaction for an idTag the Central System answered Expired."""


@mutant("TC_023_3_CS", "OCPP1.6 §4.1")
class AcceptsBlockedIdTag(_accepts(AuthorizationStatus.blocked)):  # type: ignore[misc]
    """Starts a transaction for an idTag the Central System answered Blocked."""


@mutant("TC_061_CS", "OCPP1.6 §3.5.1")
class ClearCacheDoesNothing(ReferenceStation16):
    """Answers ClearCache Accepted but keeps the cached ids."""

    async def handle_clear_cache(self) -> call_result.ClearCache:
        return call_result.ClearCache(status=self.clear_cache_status())  # type: ignore[arg-type]


# -- data transfer -----------------------------------------------------------------------------


@mutant("TC_062_CS", "OCPP1.6 §4.3")
class AcceptsUnknownVendor(ReferenceStation16):
    """Answers Accepted to a DataTransfer for a vendorId it does not implement."""

    def data_transfer_response(
        self, vendor_id: str, message_id: str | None, data: str | None
    ) -> call_result.DataTransfer:
        return call_result.DataTransfer(status=DataTransferStatus.accepted)


@mutant("TC_064_CS", "OCPP-J 1.6 RPC framework")
class DataTransferBreaksSchema(ReferenceStation16):
    """Sends its DataTransfer.req with `data` as a JSON object (the schema says string)."""

    validate_outgoing = False

    async def send_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> dict[str, Any] | None:
        payload = call.DataTransfer(vendor_id=vendor_id, message_id=message_id, data={"v": data})  # type: ignore[arg-type]
        result = await self.request("DataTransfer", lambda: payload)
        return None if result is None else {"status": str(result.status)}
