"""Reservations at the reference 2.0.1 station (block H) with the transaction half on a fake
port: ReserveNow answers, the Reserved status (also for reservations without an EVSE), who may
use a reserved EVSE, the reservationId in the TransactionEvent, expiry and CancelReservation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.v201 import call

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.v201.reference.reservations import Reservations, install_reservations
from pile_interop.ocpp.v201.reference.station_model import DeviceModel
from pile_interop.ocpp.v201.reference.station_tx import Evses
from tests.reference.test_station201_tx import FakePort, run

#: The window in which a token the reservation does not name must start nothing (real s).
REFUSED_WINDOW_S = 0.2


class _Base:
    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(task)
        return task


class _Station(FakePort):
    """The fake port is the station too: the half finds ``reservations`` on it."""

    def __init__(self, evses: int = 2, **features: Any) -> None:
        super().__init__()
        self.features = features
        self.model = DeviceModel()
        self.base = _Base()
        self.reservations: Reservations | None = install_reservations(self)
        self.evses = Evses(self, evses)

    def var(self, component: str, variable: str, evse: int | None = None) -> str:
        found = self.model.find(component, variable)
        return found.actual() if found is not None else super().var(component, variable)

    def defer(self, work: Any) -> None:
        work()


def _reserve(st: _Station, rid: int, token: str = "VALID", **kw: Any) -> str:
    req = call.ReserveNow(
        id=rid,
        expiry_date_time=kw.pop("expiry", utc_iso(datetime.now(UTC) + timedelta(hours=1))),
        id_token={"id_token": token, "type": "ISO14443"},
        **kw,
    )
    assert st.reservations is not None
    return str(asyncio.run(st.reservations.reserve_now(req)).status)


def test_reserve_answers_by_the_state_of_the_evse() -> None:
    st = _Station()
    assert _reserve(st, 1, evse_id=9) == "Rejected"
    assert _reserve(st, 1, evse_id=1, connector_type="cCCS1") == "Rejected"
    past = utc_iso(datetime.now(UTC) - timedelta(seconds=5))
    assert _reserve(st, 1, evse_id=1, expiry=past) == "Rejected"
    st.evses.evses[1].fault = True
    assert _reserve(st, 1, evse_id=1) == "Faulted"
    st.evses.evses[1].fault = False
    st.evses.evses[1].ev_connected = True
    assert _reserve(st, 1, evse_id=1) == "Occupied"
    st.evses.evses[2].operative = False
    assert _reserve(st, 2, evse_id=2) == "Unavailable"
    assert _reserve(st, 3) == "Occupied"  # no EVSE free: one plugged in, one unavailable


def test_without_evse_needs_non_evse_specific() -> None:
    st = _Station(reservation_non_evse_specific=False)
    assert _reserve(st, 1) == "Rejected"
    assert _reserve(st, 1, evse_id=1) == "Accepted"
    assert _Station(reservation=False).reservations is None


def test_reservations_without_evse_hold_the_last_free_evses() -> None:
    st = _Station()
    evses = st.evses
    assert _reserve(st, 1) == "Accepted"
    assert [evses.connector_status(e) for e in evses.evses.values()] == ["Available"] * 2
    assert _reserve(st, 2, "VALID2") == "Accepted"
    assert [evses.connector_status(e) for e in evses.evses.values()] == ["Reserved"] * 2
    assert _reserve(st, 3, "GROUP-A") == "Occupied"  # no EVSE left for a third


def test_only_the_reserved_token_starts_and_names_the_reservation() -> None:
    async def main() -> None:
        st = _Station()
        evses = st.evses
        assert st.reservations is not None
        await evses.on_registered()
        req = call.ReserveNow(
            id=7,
            expiry_date_time=utc_iso(datetime.now(UTC) + timedelta(hours=1)),
            id_token={"id_token": "GROUP-A", "type": "ISO14443"},
            group_id_token={"id_token": "GROUP-1", "type": "Central"},
            evse_id=1,
        )
        assert (await st.reservations.reserve_now(req)).status == "Accepted"
        assert evses.connector_status(evses.evses[1]) == "Reserved"
        await evses.plug_in(1)
        await evses.present_id_tag("VALID", 1)
        await asyncio.sleep(REFUSED_WINDOW_S)  # what may not happen: nothing starts meanwhile
        assert not st.events() and evses.evses[1].authorization is None
        await evses.present_id_tag("GROUP-B", 1)  # the reservation's group
        started = await st.event("Started")
        assert started.reservation_id == 7 and started.id_token.id_token == "GROUP-B"
        assert st.reservations.active == {}

    run(main)


def test_expiry_sends_expired_and_frees_the_evse() -> None:
    async def main() -> None:
        st = _Station()
        evses = st.evses
        assert st.reservations is not None
        await evses.on_registered()
        soon = utc_iso(datetime.now(UTC) + timedelta(seconds=1))
        req = call.ReserveNow(
            id=5, expiry_date_time=soon, id_token={"id_token": "VALID", "type": "ISO14443"}
        )
        req.evse_id = 1
        assert (await st.reservations.reserve_now(req)).status == "Accepted"
        await st.until(lambda: "Reserved" in st.statuses(1), "Reserved")
        await st.until(lambda: st.of(call.ReservationStatusUpdate), "the update")
        update = st.of(call.ReservationStatusUpdate)[0]
        assert (update.reservation_id, update.reservation_update_status) == (5, "Expired")
        await st.until(lambda: st.statuses(1)[-1] == "Available", "Available again")
        cancel = await st.reservations.cancel_reservation(call.CancelReservation(5))
        assert cancel.status == "Rejected"

    run(main)


def test_remote_start_on_a_reserved_evse() -> None:
    async def main() -> None:
        st = _Station()
        evses = st.evses
        assert st.reservations is not None
        await evses.on_registered()
        req = call.ReserveNow(
            id=9,
            expiry_date_time=utc_iso(datetime.now(UTC) + timedelta(hours=1)),
            id_token={"id_token": "VALID", "type": "ISO14443"},
            evse_id=1,
        )
        assert (await st.reservations.reserve_now(req)).status == "Accepted"

        def start(token: str) -> call.RequestStartTransaction:
            return call.RequestStartTransaction(
                id_token={"id_token": token, "type": "ISO14443"}, remote_start_id=1, evse_id=1
            )

        assert (await evses.request_start(start("VALID2"))).status == "Rejected"
        assert 9 in st.reservations.active  # deciding used nothing up
        assert (await evses.request_start(start("VALID"))).status == "Accepted"
        await evses.plug_in(1)
        started = await st.event("Started")
        assert started.reservation_id == 9 and st.reservations.active == {}

    run(main)


def test_a_reservation_elsewhere_opens_no_reserved_evse() -> None:
    st = _Station()
    assert st.reservations is not None
    assert _reserve(st, 1, "VALID", evse_id=1) == "Accepted"
    assert _reserve(st, 2, "VALID2", evse_id=2) == "Accepted"
    from pile_interop.ocpp.v201.reference.station_auth import Token, TokenInfo

    info = TokenInfo("Accepted")
    assert st.reservations.blocks(2, Token("VALID"), info)
    assert not st.reservations.blocks(1, Token("VALID"), info)
    target, used = st.reservations.choose_evse(None, Token("VALID"), info, use=False)
    assert (target.id, used) == (1, 1)
