"""The Local Authorization List of the reference 2.0.1 station (block D): Full and Differential
updates, versions, VersionMismatch / Failed, the LocalAuthListCtrlr variables, and the list in
the authorization online (LocalPreAuthorize, C14) and offline (LocalAuthorizeOffline, C13)."""

from __future__ import annotations

import asyncio
from typing import Any

from ocpp.v201 import call

from pile_interop.ocpp.v201.reference.local_list import (
    ITEMS_PER_MESSAGE,
    LocalAuthList,
    install_local_list,
)
from pile_interop.ocpp.v201.reference.station_auth import Token
from pile_interop.ocpp.v201.reference.station_model import DeviceModel
from pile_interop.ocpp.v201.reference.station_tx import Evses
from tests.reference.test_station201_tx import FakePort, run


class _Station:
    def __init__(self, **features: Any) -> None:
        self.model = DeviceModel()
        self.features = features

    def var(self, component: str, variable: str, evse: int | None = None) -> str:
        return self.model.get(component, variable, evse)


def _entry(token: str, status: str | None = "Accepted") -> dict[str, Any]:
    out: dict[str, Any] = {"id_token": {"id_token": token, "type": "ISO14443"}}
    if status is not None:
        out["id_token_info"] = {"status": status}
    return out


def _send(local: LocalAuthList, kind: str, version: int, *entries: dict[str, Any]) -> str:
    req = call.SendLocalList(
        version_number=version, update_type=kind, local_authorization_list=list(entries) or None
    )
    return str(asyncio.run(local.send_local_list(req)).status)


def _listed(local: LocalAuthList) -> dict[str, str]:
    return {t.id_token: info.status for t, info in local.entries.values()}


def test_full_replaces_and_differential_adds_updates_removes() -> None:
    st = _Station()
    local = install_local_list(st)
    assert local is not None
    assert _send(local, "Full", 3, _entry("A"), _entry("B")) == "Accepted"
    assert st.model.get("LocalAuthListCtrlr", "Entries") == "2"
    assert _send(local, "Differential", 4, _entry("C"), _entry("a", "Blocked")) == "Accepted"
    assert _listed(local) == {"a": "Blocked", "B": "Accepted", "C": "Accepted"}
    assert _send(local, "Differential", 5, _entry("b", None)) == "Accepted"
    assert _listed(local) == {"a": "Blocked", "C": "Accepted"}
    version = asyncio.run(local.get_local_list_version(call.GetLocalListVersion()))
    assert version.version_number == 5
    assert _send(local, "Full", 6) == "Accepted"
    assert _listed(local) == {} and local.version == 6
    version = asyncio.run(local.get_local_list_version(call.GetLocalListVersion()))
    assert version.version_number == 0  # D02: an empty list is version 0


def test_version_mismatch_and_failed_change_nothing() -> None:
    local = install_local_list(_Station())
    assert local is not None
    assert _send(local, "Full", 5, _entry("A")) == "Accepted"
    assert _send(local, "Differential", 5, _entry("B")) == "VersionMismatch"
    assert _send(local, "Differential", 2, _entry("B")) == "VersionMismatch"
    assert _send(local, "Full", 7, _entry("B"), _entry("b")) == "Failed"  # the same idToken
    too_many = [_entry(f"T{n}") for n in range(ITEMS_PER_MESSAGE + 1)]
    assert _send(local, "Full", 8, *too_many) == "Failed"
    assert _listed(local) == {"A": "Accepted"} and local.version == 5
    assert _send(local, "Full", 2, _entry("B")) == "Accepted"  # a Full may go down


def test_a_station_without_the_feature_has_no_list() -> None:
    st = _Station(local_auth_list=False)
    assert install_local_list(st) is None
    assert st.model.find("LocalAuthListCtrlr", "Enabled") is None


def _listed_port(*entries: dict[str, Any], **config: str) -> tuple[FakePort, LocalAuthList]:
    port = FakePort(**config)
    st = _Station()
    local = install_local_list(st)
    assert local is not None
    local.st = port  # type: ignore[assignment]
    port.set("LocalAuthListCtrlr", "Enabled", "true")
    local.apply(call.SendLocalList(1, "Full", list(entries)))
    port.local_list = local  # type: ignore[attr-defined]
    return port, local


def test_offline_the_list_authorizes_with_local_authorize_offline() -> None:
    async def main() -> None:
        port, _ = _listed_port(
            _entry("LISTED"), _entry("VALID", "Blocked"), AuthCacheCtrlr__Enabled="false"
        )
        evses = Evses(port, 1)
        info = await evses.authorize_token(Token("LISTED"))
        assert info.status == "Invalid" and port.of(call.Authorize)  # online: the CSMS decides
        port.is_online = False
        assert (await evses.authorize_token(Token("listed"))).status == "Accepted"
        assert (await evses.authorize_token(Token("VALID"))).status == "Blocked"
        port.set("AuthCtrlr", "LocalAuthorizeOffline", "false")
        assert (await evses.authorize_token(Token("LISTED"))).status == "Invalid"
        port.set("AuthCtrlr", "LocalAuthorizeOffline", "true")
        port.set("LocalAuthListCtrlr", "Enabled", "false")
        assert (await evses.authorize_token(Token("LISTED"))).status == "Invalid"

    run(main)


def test_online_local_pre_authorize_takes_the_listed_entry() -> None:
    async def main() -> None:
        port, _ = _listed_port(_entry("LISTED"), AuthCtrlr__LocalPreAuthorize="true")
        evses = Evses(port, 1)
        assert (await evses.authorize_token(Token("LISTED"))).status == "Accepted"
        assert not port.of(call.Authorize)

    run(main)


def test_the_station_handles_the_optional_requests_only_with_their_features() -> None:
    from pile_interop.ocpp.v201.reference.station import ReferenceStation

    both = ReferenceStation("ws://127.0.0.1:9/ocpp", "CS-OPT").handled_actions()
    assert {"SendLocalList", "GetLocalListVersion", "ReserveNow", "CancelReservation"} <= set(both)
    none = ReferenceStation(
        "ws://127.0.0.1:9/ocpp",
        "CS-NONE",
        features={"local_auth_list": False, "reservation": False},
    )
    actions = set(none.handled_actions())
    assert not actions & {"SendLocalList", "GetLocalListVersion", "ReserveNow", "CancelReservation"}
    assert none.model.find("ReservationCtrlr", "Enabled") is None
