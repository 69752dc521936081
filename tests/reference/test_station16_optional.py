"""The reference OCPP 1.6 station's optional profiles, decision by decision (no network):
the Local Authorization List (§5.10, §5.15), reservations (§5.13, §5.3) and TriggerMessage
(§5.17), and a station built without them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pile_interop.ocpp.v16.reference.local_list import ListUpdate
from pile_interop.ocpp.v16.reference.reservations import PRESENTING, Reservation
from pile_interop.ocpp.v16.reference.station import ReferenceStation
from pile_interop.ocpp.v16.reference.station_model import TagInfo


def station(**features: bool) -> ReferenceStation:
    return ReferenceStation("ws://127.0.0.1:1/", "CS-1", features=features or None)


def update(version: int, kind: str, *entries: tuple[str, str | None]) -> ListUpdate:
    items = [{"idTag": t, **({"idTagInfo": {"status": s}} if s else {})} for t, s in entries]
    return ListUpdate.from_request(version, kind, items)


def apply(st: ReferenceStation, u: ListUpdate) -> str:
    status = st.send_local_list_status(u)
    if status == "Accepted":
        st.apply_local_list(u)
    return status


def test_the_profiles_and_their_keys_follow_the_features():
    full = station()
    assert full.config.get("SupportedFeatureProfiles") == (
        "Core,SmartCharging,LocalAuthListManagement,Reservation,RemoteTrigger"
    )
    assert full.config.get("ReserveConnectorZeroSupported") == "true"
    bare = station(
        smart_charging=False, local_auth_list=False, reservation=False, remote_trigger=False
    )
    assert bare.config.get("SupportedFeatureProfiles") == "Core"
    for key in ("LocalAuthListEnabled", "SendLocalListMaxLength", "ReserveConnectorZeroSupported"):
        assert bare.config.spec(key) is None
    assert station(reserve_connector_zero=False).config.get("ReserveConnectorZeroSupported") == (
        "false"
    )


def test_full_replaces_differential_adds_updates_and_removes():
    st = station()
    assert st.local_list_version() == 0
    assert apply(st, update(2, "Full", ("A", "Accepted"), ("B", "Accepted"))) == "Accepted"
    assert apply(st, update(3, "Full", ("C", "Accepted"))) == "Accepted"
    assert st.local_list_lookup("a") is None and st.local_list_lookup("c") is not None
    diff = update(5, "Differential", ("C", None), ("D", "Blocked"), ("E", "Accepted"))
    assert apply(st, diff) == "Accepted"
    assert sorted(st.local_list.entries) == ["d", "e"] and st.local_list_version() == 5
    assert st.local_list_lookup("D").status == "Blocked"


def test_version_mismatch_failed_and_the_empty_list():
    st = station()
    apply(st, update(5, "Full", ("A", "Accepted")))
    assert apply(st, update(5, "Differential", ("B", "Accepted"))) == "VersionMismatch"
    assert apply(st, update(4, "Differential", ("B", "Accepted"))) == "VersionMismatch"
    too_many = [
        (f"T{i}", "Accepted") for i in range(st.config.get_int("SendLocalListMaxLength") + 1)
    ]
    assert apply(st, update(6, "Full", *too_many)) == "Failed"
    assert apply(st, update(6, "Full", ("X", "Accepted"), ("x", "Accepted"))) == "Failed"
    assert st.local_list_version() == 5
    apply(st, update(7, "Full"))
    assert st.local_list_version() == 0  # an empty list has version 0
    st.config.set("LocalAuthListEnabled", "false")
    assert st.local_list_version() == -1
    assert st.send_local_list_status(update(8, "Full")) == "NotSupported"


def connector_states(st: ReferenceStation) -> dict[int, str]:
    return {c.id: st.derive_status(c)[0] for c in st._outlets()}


def reserve(st: ReferenceStation, rid: int, connector: int, tag: str, parent: str | None = None):
    assert st.reserve_now_status(connector, rid) == "Accepted"
    st.reservations.active[rid] = Reservation(
        rid, connector, tag, parent, st.clock.now() + timedelta(hours=1)
    )


def test_a_reserved_connector_is_reserved_for_its_id_tag_and_its_group():
    st = station()
    reserve(st, 7, 1, "OWNER", parent="GROUP")
    assert connector_states(st) == {1: "Reserved", 2: "Available"}
    conn = st.connectors[1]
    assert st.reserve_now_status(1, 8) == "Occupied"  # reserved under another id
    assert st.reserve_now_status(1, 7) == "Accepted"  # the same id replaces it
    assert not st.reservation_refuses(conn, "owner", TagInfo("Accepted"))
    assert not st.reservation_refuses(conn, "friend", TagInfo("Accepted", "group"))
    assert st.reservation_refuses(conn, "stranger", TagInfo("Accepted", "other"))
    token = PRESENTING.set("stranger")
    try:  # its parent unknown yet: it may try (and be refused once authorized)
        assert st.is_free(conn)
    finally:
        PRESENTING.reset(token)
    assert st.cancel_reservation_status(7) == "Accepted"
    assert st.cancel_reservation_status(99) == "Rejected"


def test_a_connector_zero_reservation_keeps_the_last_free_connector():
    st = station()
    reserve(st, 1, 0, "OWNER")
    assert connector_states(st) == {1: "Available", 2: "Available"}
    st.connectors[2].operative = False
    assert connector_states(st) == {1: "Reserved", 2: "Unavailable"}
    assert st.reserve_now_status(0, 2) == "Occupied"
    assert st.derive_status(st.connectors[0])[0] == "Available"  # connector 0 is never Reserved


@pytest.mark.parametrize(
    ("setup", "connector", "status"),
    [
        (lambda st: setattr(st.connectors[1], "fault", "OtherError"), 1, "Faulted"),
        (lambda st: setattr(st.connectors[0], "fault", "OtherError"), 0, "Faulted"),
        (lambda st: setattr(st.connectors[1], "ev_connected", True), 1, "Occupied"),
        (lambda st: setattr(st.connectors[1], "operative", False), 1, "Unavailable"),
        (lambda st: setattr(st.connectors[0], "operative", False), 0, "Unavailable"),
        (lambda st: None, 9, "Rejected"),
    ],
)
def test_reserve_now_refusals(setup, connector, status):
    st = station()
    setup(st)
    assert st.reserve_now_status(connector, 1) == status


def test_connector_zero_is_rejected_without_reserve_connector_zero():
    assert station(reserve_connector_zero=False).reserve_now_status(0, 1) == "Rejected"


def test_trigger_message_answers():
    st = station()
    assert st.trigger_message_status("StatusNotification", None) == "Accepted"
    assert st.trigger_message_status("MeterValues", 2) == "Accepted"
    assert st.trigger_message_status("MeterValues", 3) == "Rejected"
    assert st.trigger_message_status("NoSuchMessage", None) == "NotImplemented"


def test_a_differential_update_that_would_overfill_the_list_fails():
    st = station()
    room = st.config.get_int("LocalAuthListMaxLength")
    step = st.config.get_int("SendLocalListMaxLength")
    version = 1
    while len(st.local_list.entries) + step <= room:
        batch = [(f"T{version}-{i}", "Accepted") for i in range(step)]
        assert apply(st, update(version, "Differential", *batch)) == "Accepted"
        version += 1
    over = [(f"X{i}", "Accepted") for i in range(room - len(st.local_list.entries) + 1)]
    assert apply(st, update(version, "Differential", *over)) == "Failed"
    assert st.local_list_version() == version - 1
