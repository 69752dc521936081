"""Mutant OCPP 1.6 stations for the settings that must take effect (issue 14): each accepts a
configuration change — and may even report the new value back — but keeps behaving as before.
"""

from __future__ import annotations

from typing import Any

from ocpp.v16 import call_result
from ocpp.v16.enums import ConfigurationStatus

from pile_interop.ocpp.v16.reference.station import ReferenceStation
from tests.mutants.stations16 import mutant


@mutant("TC_092_CS", "OCPP1.6 §5.3", defect_class="setting-not-applied")
class HeartbeatIntervalAcceptedNotApplied(ReferenceStation):
    """Accepts a new HeartbeatInterval and reports it back, but keeps beating at the interval
    of its last BootNotification.conf (the timer is only set at boot)."""

    boot_interval: int | None = None

    async def on_boot_accepted(self, conf: Any) -> None:
        self.boot_interval = max(0, int(conf.interval))
        await super().on_boot_accepted(conf)

    def heartbeat_interval(self) -> int:
        if self.boot_interval is None:
            return super().heartbeat_interval()
        return self.boot_interval


class _AcceptedNotApplied(ReferenceStation):
    """Base of the mutants whose keys in ``not_applied`` take a new value only on paper: the
    change is answered as the reference would (Accepted) and GetConfiguration reports the new
    value, but the station keeps working with the value it had before."""

    not_applied: frozenset[str] = frozenset()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: what GetConfiguration reports for the keys in ``not_applied``
        self.reported: dict[str, str] = {}

    async def handle_change_configuration(
        self, key: str, value: str
    ) -> call_result.ChangeConfiguration:
        spec = self.config.spec(key)
        if spec is None or spec.name not in self.not_applied:
            return await super().handle_change_configuration(key, value)
        status = self.change_configuration_status(key, value)
        if status == ConfigurationStatus.accepted:
            self.reported[spec.name] = self.config.normalise(spec, value)
        return call_result.ChangeConfiguration(status=status)  # type: ignore[arg-type]

    def get_configuration_response(self, keys: list[str] | None) -> call_result.GetConfiguration:
        result = super().get_configuration_response(keys)
        for entry in result.configuration_key or []:
            if entry["key"] in self.reported:
                entry["value"] = self.reported[entry["key"]]
        return result


@mutant("TC_093_CS", "OCPP1.6 §5.11", defect_class="setting-not-applied")
class AuthorizeRemoteTxRequestsNotApplied(_AcceptedNotApplied):
    """Accepts AuthorizeRemoteTxRequests true and reports it back, but still starts a remote
    transaction at once, without Authorize.req."""

    not_applied = frozenset({"AuthorizeRemoteTxRequests"})


@mutant("TC_094_CS", "OCPP1.6 §9.1.17", defect_class="setting-not-applied")
class MeterValuesSampledDataNotApplied(_AcceptedNotApplied):
    """Accepts a new MeterValuesSampledData and reports it back, but keeps sampling the old
    measurands."""

    not_applied = frozenset({"MeterValuesSampledData"})


@mutant("TC_095_CS", "OCPP1.6 §9.1.27", defect_class="setting-not-applied")
class StopTxnSampledDataNotApplied(_AcceptedNotApplied):
    """Accepts a new StopTxnSampledData and reports it back, but keeps recording the old
    measurands in StopTransaction.req transactionData."""

    not_applied = frozenset({"StopTxnSampledData"})


@mutant("TC_096_CS", "OCPP1.6 §5.3", defect_class="setting-not-applied")
class MeterValueSampleIntervalNotApplied(ReferenceStation):
    """Accepts a new MeterValueSampleInterval and reports it back, but a running transaction's
    sampler keeps the interval it started with (the new one only from the next transaction)."""

    def on_configuration_changed(self, key: str) -> None:
        if key != "MeterValueSampleInterval":
            super().on_configuration_changed(key)


# TC_096_CS too: the timer TC_071_CS started keeps running after the role writes 0 back
@mutant("TC_097_CS", "OCPP1.6 §5.3", "TC_096_CS", defect_class="setting-not-applied")
class ClockAlignedDataIntervalNotApplied(ReferenceStation):
    """Accepts a new ClockAlignedDataInterval and reports it back, but a running clock-aligned
    timer keeps the interval it was started with (a change applies only after it was 0)."""

    def _restart_aligned(self) -> None:
        running = self.metering._aligned_task
        if running is None or running.done():
            super()._restart_aligned()


# every case whose before-phase shortens ConnectionTimeOut (the default 60 s stays) breaks too
@mutant(
    "TC_098_CS",
    "OCPP1.6 §5.3",
    *("TC_004_2_CS", "TC_007_CS", "TC_011_2_CS", "TC_037_1_CS", "TC_037_3_CS"),
    *("TC_039_CS", "TC_061_CS", "TC_100_CS"),
    defect_class="setting-not-applied",
)
class ConnectionTimeOutNotApplied(_AcceptedNotApplied):
    """Accepts a new ConnectionTimeOut and reports it back, but cancels an authorization the EV
    was not plugged in for after its old time-out."""

    not_applied = frozenset({"ConnectionTimeOut"})


@mutant("TC_099_CS", "OCPP1.6 §5.3", "TC_005_3_CS", defect_class="setting-not-applied")
class StopTransactionOnEVSideDisconnectNotApplied(_AcceptedNotApplied):
    """Accepts StopTransactionOnEVSideDisconnect false and reports it back, but still stops the
    transaction when the cable is unplugged at the EV."""

    not_applied = frozenset({"StopTransactionOnEVSideDisconnect"})


@mutant("TC_100_CS", "OCPP1.6 §5.3", "TC_007_CS", defect_class="setting-not-applied")
class LocalPreAuthorizeNotApplied(_AcceptedNotApplied):
    """Accepts LocalPreAuthorize true and reports it back, but still sends Authorize.req for an
    id tag its Authorization Cache holds as valid."""

    not_applied = frozenset({"LocalPreAuthorize"})
