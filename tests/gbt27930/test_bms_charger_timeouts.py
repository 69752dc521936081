"""Every receive timeout of GB/T 27930 between the reference charger and BMS: provoked with
``suppress`` (or ``override`` / slow parameters), detected at the right time, reported with the
right BEM / CEM bit, followed by a reconnection (or not, once the session was stopping), and
three failed reconnections leave the session in error."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from pile_interop.core.clock import Clock
from pile_interop.gbt27930 import codec
from pile_interop.gbt27930.bms import Bms27930
from pile_interop.gbt27930.charger import Charger27930
from pile_interop.gbt27930.pair import reference_pair
from pile_interop.gbt27930.peer import Peer27930
from pile_interop.gbt27930.periodic import period_stats
from pile_interop.gbt27930.records import Message
from pile_interop.gbt27930.states import (
    CHARGING,
    ERROR,
    IDENTIFICATION,
    MAX_RECONNECTS,
    RECONNECT_DELAY_S,
    TIMEOUTS,
)

from .conftest import run
from .test_bms_charger import fast_bms, fast_charger, first_t, hold, rx, tx

pytestmark = pytest.mark.timing

BOUND = 120.0
"""Protocol seconds a test waits for the reaction it expects (scaled: a few real seconds)."""
EARLY = 0.05
"""Protocol seconds a timeout may fire before its nominal time (rounding)."""
LATE_REAL = 0.08
"""Real seconds a timeout may fire after its nominal time (loop latency on a busy CI)."""


def late(scale: float) -> float:
    """Protocol seconds of lateness allowed at ``scale``: LATE_REAL, at least 0.3 s."""
    return max(0.3, LATE_REAL / scale)


Pair = tuple[Charger27930, Bms27930]


@dataclass(frozen=True)
class Case:
    key: str
    """The awaited message key (peer.TIMEOUTS)."""
    detector: str
    bit: str
    """BEM / CEM field the detector sets."""
    provoke: Callable[[Charger27930, Bms27930], None]
    """Fault injection before connecting."""
    origin: Callable[[Charger27930, Bms27930], float]
    """Protocol time the detector's timer started, from the recorded messages."""
    stop: Callable[[Charger27930, Bms27930], Awaitable[None]] | None = None
    """A stop to request once charging (for the timeouts of the stop and end phases)."""
    terminal: bool = False
    reconnects: bool = True
    scale: float = 0.05
    tp_origin: bool = False
    """The origin is a multi-packet message's RTS: it leaves when the transfer task runs, a
    little after the tick that starts the timer (on a busy machine: tens of ms)."""


def _suppress(side: str, name: str) -> Callable[[Charger27930, Bms27930], None]:
    def provoke(charger: Charger27930, bms: Bms27930) -> None:
        (charger if side == "charger" else bms).suppress(name)

    return provoke


def _aa(signal: str) -> Callable[[Message], bool]:
    return lambda m: m.values.get(signal) == 0xAA


async def _charger_stops(charger: Charger27930, bms: Bms27930) -> None:
    await charger.request_stop("manual")


async def _bms_stops(charger: Charger27930, bms: Bms27930) -> None:
    await bms.request_stop("soc")


def _override_crm(charger: Charger27930, bms: Bms27930) -> None:
    charger.override("CRM", RecognitionResult=0x00)


CASES = [
    # the charger detects (CEM)
    Case("BRM", "charger", "BRMTimeout", _suppress("bms", "BRM"),
         lambda c, b: first_t(tx(c, "CRM"))),
    Case("BCP", "charger", "BCPTimeout", _suppress("bms", "BCP"),
         lambda c, b: first_t(tx(c, "CRM", _aa("RecognitionResult")))),
    Case("BRO", "charger", "BROTimeout", _suppress("bms", "BRO"),
         lambda c, b: first_t(tx(c, "CML"))),
    Case("BCL", "charger", "BCLTimeout", _suppress("bms", "BCL"),
         lambda c, b: first_t(tx(c, "CRO", _aa("ChargerReady"))), scale=0.2),
    Case("BCS", "charger", "BCSTimeout", _suppress("bms", "BCS"),
         lambda c, b: first_t(tx(c, "CRO", _aa("ChargerReady")))),
    Case("BST", "charger", "BSTTimeout", _suppress("bms", "BST"),
         lambda c, b: first_t(tx(c, "CST")), stop=_charger_stops, terminal=True, scale=0.1),
    Case("BSD", "charger", "BSDTimeout", _suppress("bms", "BSD"),
         lambda c, b: first_t(rx(c, "BST")), stop=_bms_stops, terminal=True, scale=0.1),
    # the BMS detects (BEM)
    Case("CRM00", "bms", "CRM00Timeout", _suppress("charger", "CRM"),
         lambda c, b: first_t(tx(b, "BHM")), reconnects=False),
    Case("CRMAA", "bms", "CRMAATimeout", _override_crm,
         lambda c, b: first_t(tx(b, "BRM")), tp_origin=True),
    Case("CML", "bms", "CTSCMLTimeout", _suppress("charger", "CML"),
         lambda c, b: first_t(tx(b, "BCP")), tp_origin=True),
    Case("CRO", "bms", "CROTimeout", _suppress("charger", "CRO"),
         lambda c, b: first_t(tx(b, "BRO", _aa("BMSReady")))),
    Case("CCS", "bms", "CCSTimeout", _suppress("charger", "CCS"),
         lambda c, b: first_t(tx(b, "BCL")), scale=0.2),
    Case("CST", "bms", "CSTTimeout", _suppress("charger", "CST"),
         lambda c, b: first_t(tx(b, "BST")), stop=_bms_stops, terminal=True, scale=0.1),
    Case("CSD", "bms", "CSDTimeout", _suppress("charger", "CSD"),
         lambda c, b: first_t(tx(b, "BSD")), stop=_bms_stops, terminal=True, scale=0.1),
]  # fmt: skip


async def _provoke(case: Case) -> Pair:
    async with reference_pair(
        clock=Clock(case.scale),
        charger_params=fast_charger(),
        bms_params=fast_bms(),
        connect=False,
    ) as (charger, bms):
        detector: Peer27930 = charger if case.detector == "charger" else bms
        case.provoke(charger, bms)
        await charger.connect()
        await bms.connect()
        if case.stop is not None:
            await charger.wait_phase(CHARGING, timeout=BOUND)
            await bms.wait_phase(CHARGING, timeout=BOUND)
            await case.stop(charger, bms)
        await detector.wait_until(lambda: bool(detector.events_of("timeout")), BOUND)
        if case.terminal:
            await hold(detector, RECONNECT_DELAY_S * 2, ERROR)
        elif case.reconnects:
            await charger.wait_until(lambda: charger.attempts >= 1, BOUND)
            await bms.wait_until(lambda: bms.attempts >= 1, BOUND)
            await bms.wait_phase(IDENTIFICATION, timeout=BOUND)
        else:
            await hold(detector, RECONNECT_DELAY_S, ERROR)
        return charger, bms


@pytest.mark.parametrize("case", CASES, ids=[f"{c.detector}-{c.key}" for c in CASES])
def test_a_missing_message_gives_the_timeout_bit_at_the_right_time(case: Case):
    charger, bms = run(_provoke(case))
    detector, other = (charger, bms) if case.detector == "charger" else (bms, charger)
    timeouts = detector.events_of("timeout")
    assert timeouts[0].message == case.key
    assert dict(timeouts[0].bits) == {case.bit: 1}
    # on time: the standard's timeout after the timer's origin
    elapsed = timeouts[0].t - case.origin(charger, bms)
    nominal = TIMEOUTS[case.key]
    early = late(case.scale) if case.tp_origin else EARLY
    assert nominal - early <= elapsed <= nominal + late(case.scale), f"{case.key}: {elapsed:.3f}"
    # the error message carries exactly that bit, every 250 ms
    reconnected = [e.t for e in detector.events_of("reconnect")] + [float("inf")]
    sent = tx(detector, detector.ERROR_MESSAGE, lambda m: m.t < reconnected[0])
    assert sent, "no error message"
    fields = {k: v for k, v in sent[0].values.items() if v}
    assert fields == {case.bit: 1}
    assert codec.fill_bit_violations(sent[0].name, sent[0].data) == []
    if len(sent) >= 4:
        stats = period_stats([m.t for m in sent], 0.25)
        assert abs(stats.mean - 0.25) <= 0.025 and stats.p50 <= 0.1, stats
    # the other side saw it and stopped charging
    seen = rx(other, detector.ERROR_MESSAGE)
    assert seen and seen[0].values[case.bit] == 1
    if case.terminal:
        assert detector.failed and detector.phase == ERROR
        assert not detector.events_of("reconnect") and not other.events_of("reconnect")
    elif case.reconnects:
        # both sides identify again: the charger restarts with CRM 0x00
        assert charger.events_of("reconnect") and bms.events_of("reconnect")
        assert charger.attempts >= 1 and bms.attempts >= 1
        restart = charger.events_of("reconnect")[0].t
        crm = tx(charger, "CRM", lambda m: m.t > restart)
        assert crm and crm[0].values["RecognitionResult"] == 0x00
        assert restart - timeouts[0].t >= min(RECONNECT_DELAY_S, 0.5) - EARLY


def test_three_failed_reconnections_leave_the_session_in_error():
    async def scenario() -> Pair:
        async with reference_pair(
            clock=Clock(0.05), charger_params=fast_charger(), bms_params=fast_bms(), connect=False
        ) as (charger, bms):
            bms.suppress("BRM")
            await charger.connect()
            await bms.connect()
            await charger.wait_until(lambda: charger.failed, BOUND)
            await bms.wait_until(lambda: bms.failed, BOUND)
            await hold(charger, RECONNECT_DELAY_S * 2, ERROR)
            return charger, bms

    charger, bms = run(scenario())
    assert charger.attempts == bms.attempts == MAX_RECONNECTS
    timeouts = charger.events_of("timeout")
    assert len(timeouts) == MAX_RECONNECTS + 1
    assert all(e.message == "BRM" and dict(e.bits) == {"BRMTimeout": 1} for e in timeouts)
    assert [e.attempt for e in charger.events_of("reconnect")] == [1, 2, 3]
    assert charger.phase == bms.phase == ERROR
    assert charger.phases().count(IDENTIFICATION) == MAX_RECONNECTS + 1
    # no fourth attempt: no CRM after the last timeout, CEM goes on
    last = timeouts[-1].t
    assert not tx(charger, "CRM", lambda m: m.t > last)
    assert tx(charger, "CEM", lambda m: m.t > last + 1.0)
    # identification restarted each time with CRM 0x00 and every attempt waited 5 s for BRM
    gaps = [b.t - a.t for a, b in itertools.pairwise(timeouts)]
    assert all(g >= TIMEOUTS["BRM"] + RECONNECT_DELAY_S - EARLY for g in gaps), gaps


def test_crm_goes_on_every_250_ms_while_the_charger_waits_for_brm():
    charger, _bms = run(_provoke(CASES[0]))
    crm = tx(charger, "CRM", lambda m: m.t < charger.events_of("timeout")[0].t)
    stats = period_stats([m.t for m in crm], 0.25)
    assert stats.count >= 15
    assert abs(stats.mean - 0.25) <= 0.0125 and stats.p50 <= 0.05


def test_bro_may_stay_00_for_up_to_60_s_before_the_charger_times_out():
    async def scenario() -> Pair:
        async with reference_pair(
            clock=Clock(0.02),
            charger_params=fast_charger(),
            bms_params=fast_bms(ready_delay_s=70.0),
        ) as (charger, bms):
            await charger.wait_until(lambda: bool(charger.events_of("timeout")), BOUND)
            await bms.wait_until(lambda: bms.attempts >= 1, BOUND)
            return charger, bms

    charger, _bms = run(scenario())
    timeout = charger.events_of("timeout")[0]
    assert timeout.message == "BROAA" and dict(timeout.bits) == {"BROTimeout": 1}
    assert rx(charger, "BRO") and all(m.values["BMSReady"] == 0 for m in rx(charger, "BRO"))
    elapsed = timeout.t - first_t(tx(charger, "CML"))
    assert 60.0 - EARLY <= elapsed <= 60.0 + late(0.02)


def test_cro_may_stay_00_for_up_to_60_s_before_the_bms_times_out():
    async def scenario() -> Pair:
        async with reference_pair(
            clock=Clock(0.02),
            charger_params=fast_charger(precharge_s=70.0),
            bms_params=fast_bms(),
        ) as (charger, bms):
            await bms.wait_until(lambda: bool(bms.events_of("timeout")), BOUND)
            await charger.wait_until(lambda: charger.attempts >= 1, BOUND)
            return charger, bms

    charger, bms = run(scenario())
    timeout = bms.events_of("timeout")[0]
    assert timeout.message == "CROAA" and dict(timeout.bits) == {"CROTimeout": 1}
    elapsed = timeout.t - first_t(tx(bms, "BRO", lambda m: m.values["BMSReady"] == 0xAA))
    assert 60.0 - EARLY <= elapsed <= 60.0 + late(0.02)
    assert charger.events_of("peer_error")[0].message == "BEM"


def test_2023a_bsm_timeout_ends_the_session_without_reconnection():
    async def scenario() -> Pair:
        # the clock of the 2015 test below: at 0.1 BCL's 1 s time-out is 100 ms real, and a
        # loaded CI machine's stall made a false BCL time-out (the charger never failed on BSM)
        async with reference_pair(
            clock=Clock(0.3),
            charger_variant="2023a",
            bms_variant="2023a",
            charger_params=fast_charger(),
            bms_params=fast_bms(),
        ) as (charger, bms):
            await charger.wait_until(lambda: bool(rx(charger, "BSM")), BOUND)
            bms.suppress("BSM")
            await charger.wait_until(lambda: charger.failed, BOUND)
            await hold(charger, RECONNECT_DELAY_S * 2, ERROR)
            return charger, bms

    charger, _bms = run(scenario())
    timeout = charger.events_of("timeout")[0]
    assert timeout.message == "BSM"
    elapsed = timeout.t - rx(charger, "BSM")[-1].t
    assert 5.0 - EARLY <= elapsed <= 5.0 + late(0.3)
    assert not charger.events_of("reconnect") and not tx(charger, "CRM", lambda m: m.t > timeout.t)
    assert tx(charger, "CEM")


def test_a_2015_charger_does_not_supervise_bsm():
    async def scenario() -> Pair:
        # a slower clock: holding 7 s in charging at 0.1 would leave BCL's 1 s time-out only
        # 100 ms real, which a loaded machine's stall can break (a false BCL time-out)
        async with reference_pair(
            clock=Clock(0.3), charger_params=fast_charger(), bms_params=fast_bms()
        ) as (charger, bms):
            await charger.wait_until(lambda: bool(rx(charger, "BSM")), BOUND)
            bms.suppress("BSM")
            await hold(charger, 7.0, CHARGING)
            return charger, bms

    charger, _bms = run(scenario())
    assert not charger.events_of("timeout")
