"""Meter values of the reference OCPP 1.6J station (§3.12, §4.7): readings of the connectors'
meters and of the main meter (connector 0), sampled data during a transaction (§9.1.19
MeterValueSampleInterval), clock-aligned data (§9.1.5 ClockAlignedDataInterval) and the
``transactionData`` of StopTransaction (StopTxnSampledData, StopTxnAlignedData).

:class:`Metering` holds the default behaviour; every hook goes through the station
(:class:`MeteringPort`), so that a mutant overriding one there changes it everywhere.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Protocol

from ocpp.v16 import call
from ocpp.v16.datatypes import MeterValue
from ocpp.v16.enums import ReadingContext

from pile_interop.ocpp.reference.meter import next_aligned_boundary, split_measurand
from pile_interop.ocpp.reference.outbox import NotSent
from pile_interop.ocpp.v16.reference.meter import meter_value, sampled_values
from pile_interop.ocpp.v16.reference.station_hooks import StationState
from pile_interop.ocpp.v16.reference.station_model import Connector, Transaction

#: the measurands of the main meter that add up the connectors' readings
SUMMED_MEASURANDS = ("Energy.Active.Import.Register", "Power.Active.Import", "Current.Import")


class MeteringPort(StationState, Protocol):
    """What metering needs from the station."""

    def read_meter(self, connector_id: int, items: list[str]) -> list[tuple[str, float]]: ...
    def meter_values_payload(
        self, connector_id: int, values: list[MeterValue], transaction_id: int | None
    ) -> call.MeterValues: ...
    async def _sample_loop(self, conn: Connector, tx: Transaction) -> None: ...
    def _send_aligned(self, boundary: datetime) -> None: ...


class Metering:
    """Readings, the sampler of each transaction and the clock-aligned loop."""

    def __init__(self, station: MeteringPort) -> None:
        self.station = station
        self._aligned_task: asyncio.Task[None] | None = None

    def read_meter(self, connector_id: int, items: list[str]) -> list[tuple[str, float]]:
        st = self.station
        readings = []
        for item in items:
            measurand, phase = split_measurand(item)
            if connector_id == 0:
                meters = [c.meter for c in st._outlets()]
                if measurand in SUMMED_MEASURANDS:
                    value = sum(m.read(measurand, phase) for m in meters)
                elif measurand == "SoC":
                    continue  # no EV behind the main meter
                else:
                    value = meters[0].read(measurand, phase)
            else:
                value = st.connectors[connector_id].meter.read(measurand, phase)
            readings.append((item, value))
        return readings

    def meter_values_payload(
        self, connector_id: int, values: list[MeterValue], transaction_id: int | None
    ) -> call.MeterValues:
        return call.MeterValues(
            connector_id=connector_id, meter_value=values, transaction_id=transaction_id
        )

    def _tx_meter_values(self, conn: Connector, tx: Transaction, value: MeterValue) -> None:
        st = self.station

        def build() -> call.MeterValues:
            if tx.transaction_id is None:
                raise NotSent(f"transaction {tx.ref} has no transactionId")
            return st.meter_values_payload(conn.id, [value], tx.transaction_id)

        st.send_transactional("MeterValues", build)

    def record_stop_txn_sample(self, conn: Connector, tx: Transaction, context: str) -> None:
        st = self.station
        items = st.config.get_list("StopTxnSampledData")
        if items:
            values = sampled_values(st.read_meter(conn.id, items), context)
            tx.transaction_data.append(meter_value(st.clock.now(), values))

    # -- sampled data (§9.1.19) -----------------------------------------------------------------

    def start_sampler(self, conn: Connector) -> None:
        st = self.station
        if conn.sampler is not None:
            conn.sampler.cancel()
            conn.sampler = None
        tx = conn.transaction
        if tx is not None and st.config.get_int("MeterValueSampleInterval") > 0:
            conn.sampler = st.base.spawn(st._sample_loop(conn, tx), "sampler", st.base.boot_tasks)

    async def sample_loop(self, conn: Connector, tx: Transaction) -> None:
        st = self.station
        interval = st.config.get_int("MeterValueSampleInterval")
        next_at = st.clock.monotonic() + interval
        while conn.transaction is tx:
            await st.clock.sleep_until(next_at)
            if conn.transaction is not tx:
                return
            # Stamped with the sampling instant it belongs to, not the moment this task got
            # to run: a loaded machine must not make the simulated meter's interval jitter.
            late = max(0.0, st.clock.monotonic() - next_at)
            now = st.clock.now() - timedelta(seconds=late)
            items = st.config.get_list("MeterValuesSampledData")
            if items:
                values = sampled_values(
                    st.read_meter(conn.id, items), ReadingContext.sample_periodic
                )
                self._tx_meter_values(conn, tx, meter_value(now, values))
            stop_items = st.config.get_list("StopTxnSampledData")
            if stop_items:
                values = sampled_values(
                    st.read_meter(conn.id, stop_items), ReadingContext.sample_periodic
                )
                tx.transaction_data.append(meter_value(now, values))
            next_at += interval

    # -- clock-aligned data (§9.1.5) ----------------------------------------------------------

    def restart_aligned(self) -> None:
        st = self.station
        if self._aligned_task is not None:
            self._aligned_task.cancel()
        self._aligned_task = st.base.spawn(
            self._aligned_loop(), "aligned-meter", st.base.boot_tasks
        )

    async def _aligned_loop(self) -> None:
        st = self.station
        interval = st.config.get_int("ClockAlignedDataInterval")
        if interval <= 0:
            return
        last = st.clock.now()
        while True:
            boundary = next_aligned_boundary(max(last, st.clock.now()), interval)
            await st.clock.sleep((boundary - st.clock.now()).total_seconds())
            last = boundary
            st._send_aligned(boundary)

    def send_aligned(self, boundary: datetime) -> None:
        st = self.station
        items = st.config.get_list("MeterValuesAlignedData")
        stop_items = st.config.get_list("StopTxnAlignedData")
        for conn in st.connectors.values():
            tx = conn.transaction
            if items:
                values = sampled_values(st.read_meter(conn.id, items), ReadingContext.sample_clock)
                value = meter_value(boundary, values)
                if tx is not None:
                    self._tx_meter_values(conn, tx, value)
                else:
                    payload = st.meter_values_payload(conn.id, [value], None)
                    st.send("MeterValues", lambda p=payload: p)  # type: ignore[misc]
            if stop_items and tx is not None:
                values = sampled_values(
                    st.read_meter(conn.id, stop_items), ReadingContext.sample_clock
                )
                tx.transaction_data.append(meter_value(boundary, values))

    def on_reboot(self) -> None:
        """The aligned loop was a task of the boot: it is gone (power-on starts a new one)."""
        self._aligned_task = None
