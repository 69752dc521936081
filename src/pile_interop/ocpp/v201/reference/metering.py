"""Meter values in the reference 2.0.1 station's transaction half (blocks J01, J02): sampled
readings of a transaction (TxUpdatedInterval, TxEndedInterval), clock-aligned readings
(MeterValues while idle, TransactionEvent MeterValueClock in a transaction, AlignedDataCtrlr.
TxEndedInterval), and the meter loop that also reports the statuses that changed while offline.

:class:`Metering` holds the default behaviour and the loop's state; every decision goes through
the :class:`~pile_interop.ocpp.v201.reference.evse_hooks.EvsesHooks` facade (``Evses``), so
that a mutant overriding a hook there changes it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from ocpp.v201 import call
from ocpp.v201.datatypes import MeterValueType

from pile_interop.ocpp.v201.reference.evse_hooks import EvsesHooks
from pile_interop.ocpp.v201.reference.evse_state import ALIGNED, SAMPLED, Evse, Transaction
from pile_interop.ocpp.v201.reference.station_meter import (
    measurand_list,
    meter_value,
    next_aligned_boundary,
    read_meter,
    sampled_values,
)

#: Longest protocol-time sleep of the meter loop: it re-reads the device model (intervals
#: changed by SetVariables) and notices a restored connection at least this often.
TICK_S = 1.0
#: At most this many readings are kept for a transaction's Ended event.
ENDED_VALUES_MAX = 200


class Metering:
    """Readings, and the meter loop (one task, started on demand)."""

    def __init__(self, ev: EvsesHooks) -> None:
        self.ev = ev
        self.ticker: asyncio.Task[None] | None = None
        self.aligned_interval = 0
        self.next_aligned: datetime | None = None
        self.ended_aligned_interval = 0
        self.next_ended_aligned: datetime | None = None

    def reset(self) -> None:
        """A power loss: the loop (already cancelled) and its schedule are gone."""
        self.ticker = None
        self.aligned_interval = self.ended_aligned_interval = 0
        self.next_aligned = self.next_ended_aligned = None

    # -- readings -----------------------------------------------------------------------------

    @staticmethod
    def read(e: Evse, items: list[str]) -> list[tuple[str, float]]:
        return read_meter(e.meter, items)

    @staticmethod
    def meter_values_payload(e: Evse, values: list[MeterValueType]) -> call.MeterValues:
        return call.MeterValues(evse_id=e.id, meter_value=values)

    def schedule_samples(self, tx: Transaction) -> None:
        ev = self.ev
        now = ev.clock.monotonic()
        tx.sample_interval = ev._int(SAMPLED, "TxUpdatedInterval")
        tx.next_sample_at = now + tx.sample_interval if tx.sample_interval > 0 else None
        tx.ended_interval = ev._int(SAMPLED, "TxEndedInterval")
        tx.next_ended_sample_at = now + tx.ended_interval if tx.ended_interval > 0 else None

    @staticmethod
    def keep_ended(tx: Transaction, value: MeterValueType) -> None:
        if len(tx.ended_values) < ENDED_VALUES_MAX:
            tx.ended_values.append(value)

    # -- the loop -----------------------------------------------------------------------------

    def ensure_ticker(self) -> None:
        if self.ticker is None or self.ticker.done():
            self.ticker = self.ev._spawn(self._tick_loop(), "meter")

    async def _tick_loop(self) -> None:
        """Clock-aligned and sampled readings, and statuses to report after a reconnect."""
        while True:
            wake = self._tick()
            await self.ev.clock.sleep(max(0.0, min(TICK_S, wake)))

    def _tick(self) -> float:
        """Do what is due; return the protocol seconds until the next thing is due."""
        ev = self.ev
        online = ev.port.online
        if online and not ev._was_online:
            for e in ev.evses.values():
                ev.report_status(e)
        ev._was_online = online
        waits = [TICK_S]
        now = ev.clock.now()
        # -- clock-aligned (J01 / J02): timestamps exactly on the boundary --
        interval = ev._int(ALIGNED, "Interval") if ev._bool(ALIGNED, "Enabled") else 0
        if interval != self.aligned_interval:
            self.aligned_interval = interval
            self.next_aligned = ev.aligned_boundary(now, interval) if interval > 0 else None
        if self.next_aligned is not None and interval > 0:
            if now >= self.next_aligned:
                self._send_aligned(self.next_aligned)
                self.next_aligned = ev.aligned_boundary(max(now, self.next_aligned), interval)
            waits.append((self.next_aligned - now).total_seconds())
        ended = ev._int(ALIGNED, "TxEndedInterval") if ev._bool(ALIGNED, "Enabled") else 0
        if ended != self.ended_aligned_interval:
            self.ended_aligned_interval = ended
            self.next_ended_aligned = ev.aligned_boundary(now, ended) if ended > 0 else None
        if self.next_ended_aligned is not None and ended > 0:
            if now >= self.next_ended_aligned:
                ev._keep_aligned_ended(self.next_ended_aligned)
                self.next_ended_aligned = ev.aligned_boundary(
                    max(now, self.next_ended_aligned), ended
                )
            waits.append((self.next_ended_aligned - now).total_seconds())
        # -- sampled (J_07 .. J_10) --
        mono = ev.clock.monotonic()
        for e in ev.evses.values():
            tx = e.transaction
            if tx is None:
                continue
            waits.extend(self._sample(e, tx, mono))
        return min(waits)

    def _sample(self, e: Evse, tx: Transaction, mono: float) -> list[float]:
        ev = self.ev
        waits = []
        enabled = ev._bool(SAMPLED, "Enabled")
        interval = ev._int(SAMPLED, "TxUpdatedInterval") if enabled else 0
        if interval != tx.sample_interval:
            tx.sample_interval = interval
            tx.next_sample_at = mono + interval if interval > 0 else None
        if tx.next_sample_at is not None:
            if mono >= tx.next_sample_at:
                # Stamped with the sampling instant, not the moment the loop got to run.
                late = mono - tx.next_sample_at
                when = ev.clock.now() - timedelta(seconds=late)
                items = measurand_list(ev._text(SAMPLED, "TxUpdatedMeasurands"))
                values = sampled_values(ev.read(e, items), "Sample.Periodic")
                mv = [meter_value(when, values)] if values else []
                ev._emit(e, tx, "Updated", "MeterValuePeriodic", values=mv, timestamp=when)
                tx.next_sample_at += interval
                if tx.next_sample_at <= mono:
                    tx.next_sample_at = mono + interval
            waits.append(tx.next_sample_at - mono)
        ended = ev._int(SAMPLED, "TxEndedInterval") if enabled else 0
        if ended != tx.ended_interval:
            tx.ended_interval = ended
            tx.next_ended_sample_at = mono + ended if ended > 0 else None
        if tx.next_ended_sample_at is not None:
            if mono >= tx.next_ended_sample_at:
                late = mono - tx.next_ended_sample_at
                when = ev.clock.now() - timedelta(seconds=late)
                items = measurand_list(ev._text(SAMPLED, "TxEndedMeasurands"))
                values = sampled_values(ev.read(e, items), "Sample.Periodic")
                if values:
                    self.keep_ended(tx, meter_value(when, values))
                tx.next_ended_sample_at += ended
                if tx.next_ended_sample_at <= mono:
                    tx.next_ended_sample_at = mono + ended
            waits.append(tx.next_ended_sample_at - mono)
        return waits

    # -- clock-aligned (J01, J02) ---------------------------------------------------------------

    @staticmethod
    def aligned_boundary(now: datetime, interval: int) -> datetime:
        return next_aligned_boundary(now, interval)

    def _send_aligned(self, boundary: datetime) -> None:
        """J01: MeterValues per EVSE; J02: in a transaction, a TransactionEvent Updated with
        triggerReason MeterValueClock. AlignedDataCtrlr.SendDuringIdle: only while no
        transaction runs."""
        ev = self.ev
        if ev._bool(ALIGNED, "SendDuringIdle") and ev.has_transaction():
            return
        items = measurand_list(ev._text(ALIGNED, "Measurands"))
        for e in ev.evses.values():
            values = sampled_values(ev.read(e, items), "Sample.Clock")
            if not values:
                continue
            mv = meter_value(boundary, values)
            tx = e.transaction
            if tx is not None:
                ev._emit(e, tx, "Updated", "MeterValueClock", values=[mv], timestamp=boundary)
            elif ev.port.online:
                ev._enqueue(ev.meter_values_payload(e, [mv]), transactional=False)

    def keep_aligned_ended(self, boundary: datetime) -> None:
        ev = self.ev
        items = measurand_list(ev._text(ALIGNED, "TxEndedMeasurands"))
        for e in ev.evses.values():
            tx = e.transaction
            if tx is None:
                continue
            values = sampled_values(ev.read(e, items), "Sample.Clock")
            if values:
                self.keep_ended(tx, meter_value(boundary, values))
