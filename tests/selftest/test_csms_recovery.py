"""A CSMS under test that drops a reconnect made too soon after the previous close: with the
descriptor's ``reconnect_pause_s`` every case gets the verdict it gets against the reference;
without it the before-phase's back-off still reaches the before-state. Bad pause values are
exit 2 with one line."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from http import HTTPStatus
from typing import Any

import pytest

from pile_interop.engine.base import Target
from pile_interop.engine.targets import make_campaign
from pile_interop.ocpp.server import station_id_from_path
from pile_interop.ocpp.v16.reference.csms import ReferenceCsms as ReferenceCsms16
from pile_interop.ocpp.v201.reference.csms import ReferenceCsms as ReferenceCsms201
from tests.mutants.catalogue import load, run_sut
from tests.selftest.conftest import cli
from tests.selftest.test_cli import one_line_error

CSMS16 = "ocpp16/core-csms"
CSMS201 = "ocpp201/core-csms"
#: the mutant drops a reconnect made within this long (real seconds) of the previous close
REFUSE_WITHIN_S = 1.0
#: what its descriptor declares (real seconds: the pause is the device's, never scaled)
PAUSE_S = 1.2


class _RefusesQuickReconnect:
    """Closes (code 1000) at once a connection of a station made within
    :data:`REFUSE_WITHIN_S` of that station's previous connection closing, as a CSMS that
    clears the station's queue after the new link subscribed does. A connection it closed so
    does not count as a close (it never served it)."""

    async def _on_connect(self, connection: Any, station_id: str, sub: str) -> None:
        closed: dict[str, float] = self.__dict__.setdefault("_closed_at", {})
        dropped: list[float] = self.__dict__.setdefault("dropped", [])
        last = closed.get(station_id)
        if last is not None and time.monotonic() - last < REFUSE_WITHIN_S:
            dropped.append(time.monotonic() - last)
            await connection.close(1000, "the previous connection is still being cleaned up")
            return
        try:
            await super()._on_connect(connection, station_id, sub)  # type: ignore[misc]
        finally:
            closed[station_id] = time.monotonic()


class RefusesQuickReconnect16(_RefusesQuickReconnect, ReferenceCsms16):
    pass


class RejectsQuickUpgrade16(_RefusesQuickReconnect, ReferenceCsms16):
    """The same CSMS refusing such a reconnect's HTTP upgrade (503) instead of closing it."""

    async def start(self) -> None:
        checks = self.server._process_request

        def gate(connection: Any, request: Any) -> Any:
            last = self.__dict__.setdefault("_closed_at", {}).get(
                station_id_from_path(request.path)
            )
            if last is not None and time.monotonic() - last < REFUSE_WITHIN_S:
                self.__dict__.setdefault("dropped", []).append(time.monotonic() - last)
                return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "cleaning up\n")
            return checks(connection, request)

        self.server._process_request = gate  # type: ignore[method-assign]
        await super().start()


class RefusesQuickReconnect201(_RefusesQuickReconnect, ReferenceCsms201):
    pass


async def _run(
    profile_id: str, cls: type | None, pause: float | None, cases: list[str] | None = None
) -> tuple[dict[str, dict[str, Any]], Any]:
    profile, everything, device = load(profile_id)
    if pause is not None:
        device = dataclasses.replace(device, reconnect_pause_s=pause)
    target = Target(
        "reference", time_scale=profile.reference_time_scale, floor=profile.reference_floor_s
    )
    campaign: Any = make_campaign(profile, device, target, sut_class=cls)
    results: dict[str, dict[str, Any]] = {}
    async with campaign:
        for scenario in everything:
            if cases is None or scenario.id in cases:
                results[scenario.id] = await campaign.run_case(scenario)
        return results, campaign.sut


def _verdicts(results: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {cid: r["verdict"] for cid, r in results.items()}


def _reconnects_in_steps(result: dict[str, Any]) -> bool:
    return any(
        s["kind"] == "peer" and s["phase"] == "main" and "connected:" in s["observed"]
        for s in result["steps"]
    )


def _before_records(result: dict[str, Any], title: str) -> list[dict[str, Any]]:
    return [s for s in result["steps"] if s["phase"] == "before" and title in s["title"]]


def _texts(results: dict[str, dict[str, Any]]) -> str:
    return " ".join(s["observed"] for r in results.values() for s in r["steps"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("profile_id", "cls", "cases"),
    [
        (CSMS16, RefusesQuickReconnect16, None),
        (CSMS16, RejectsQuickUpgrade16, None),
        (CSMS201, RefusesQuickReconnect201, None),
    ],
)
def test_with_the_pause_every_case_gets_its_reference_verdict(profile_id, cls, cases):
    async def both() -> tuple[dict[str, Any], dict[str, Any], Any]:
        reference = await run_sut(None, cases, profile_id=profile_id)
        mutant, sut = await _run(profile_id, cls, PAUSE_S, cases)
        return reference, mutant, sut

    reference, mutant, sut = asyncio.run(asyncio.wait_for(both(), 900))
    assert _verdicts(mutant) == _verdicts(reference), {
        cid: r["reason"] for cid, r in mutant.items() if r["verdict"] != reference[cid]["verdict"]
    }
    assert sut.__dict__.get("dropped", []) == []  # the pause kept every reconnect
    assert "reconnect_pause_s = 1.2 s" in _texts(mutant)  # the waits are recorded


@pytest.mark.slow
@pytest.mark.parametrize(
    ("profile_id", "cls", "cases"),
    [
        (CSMS16, RefusesQuickReconnect16, None),
        (CSMS16, RejectsQuickUpgrade16, None),
        (CSMS201, RefusesQuickReconnect201, None),
    ],
)
def test_without_the_pause_the_back_off_reaches_the_before_state(profile_id, cls, cases):
    """The reconnects a case's own steps make are dropped (those cases fail: the CSMS closed
    the station's connection); the next case's before-phase reconnects with back-off, records
    every attempt, and gets the verdict it gets against the reference."""

    async def both() -> tuple[dict[str, Any], dict[str, Any], Any]:
        reference = await run_sut(None, cases, profile_id=profile_id)
        mutant, sut = await _run(profile_id, cls, None, cases)
        return reference, mutant, sut

    reference, mutant, sut = asyncio.run(asyncio.wait_for(both(), 900))
    assert sut.__dict__.get("dropped"), "the mutant dropped no reconnect"
    reconnecting = {cid for cid, r in reference.items() if _reconnects_in_steps(r)}
    assert reconnecting
    others = {cid: v for cid, v in _verdicts(mutant).items() if cid not in reconnecting}
    assert others == {cid: reference[cid]["verdict"] for cid in others}, {
        cid: mutant[cid]["reason"] for cid in others if others[cid] != reference[cid]["verdict"]
    }
    recovered = [
        rec for r in mutant.values() for rec in _before_records(r, "reconnect to the CSMS")
    ]
    assert recovered, "no before-phase had to reconnect"
    for rec in recovered:
        assert rec["verdict"] == "pass", rec["observed"]
        assert "connected:" in rec["observed"].rsplit("attempt ", 1)[-1]
    backed_off = [rec["observed"] for rec in recovered if "attempt 2 at" in rec["observed"]]
    assert backed_off, [rec["observed"] for rec in recovered]
    dropped = "HTTP 503" if cls is RejectsQuickUpgrade16 else "the CSMS closed it"
    assert all(dropped in text for text in backed_off), backed_off
    if cls is not RejectsQuickUpgrade16:
        assert all("code 1000" in text for text in backed_off)


def test_a_csms_that_always_closes_at_once_is_before_state_not_reached():
    """Every attempt closed at once: the case is error with the before-state's name, the
    number of attempts and how the CSMS closed them."""

    class ClosesEveryConnection(ReferenceCsms16):
        accepted = 0

        async def _on_connect(self, connection: Any, station_id: str, sub: str) -> None:
            if self.accepted == 0:  # the suite's first connection is served
                self.accepted = 1
                await super()._on_connect(connection, station_id, sub)
                return
            await connection.close(1000, "go away")

    async def scenario() -> dict[str, Any]:
        profile, everything, device = load(CSMS16)
        target = Target(
            "reference", time_scale=profile.reference_time_scale, floor=profile.reference_floor_s
        )
        campaign: Any = make_campaign(profile, device, target, sut_class=ClosesEveryConnection)
        case = next(s for s in everything if s.id == "TC_003_CSMS")
        async with campaign:
            first = await campaign.run_case(case)
            assert first["verdict"] == "pass", first["reason"]
            await campaign.disconnect("the test drops the connection")
            return await campaign.run_case(case)

    result = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert result["verdict"] == "error"
    reason = result["reason"]
    assert reason.startswith("before-state booted not reached: "), reason
    assert "connection attempts in" in reason and "the CSMS closed each within" in reason
    assert "code 1000" in reason
    (record,) = _before_records(result, "reconnect to the CSMS")
    assert record["verdict"] == "error" and "attempt 2 at" in record["observed"]


@pytest.mark.parametrize(
    ("value", "needle"),
    [("-1", "reconnect_pause_s"), ("soon", "reconnect_pause_s"), (".nan", "reconnect_pause_s")],
)
def test_a_bad_reconnect_pause_is_exit_2_naming_the_file_and_key(tmp_path, value, needle):
    device = tmp_path / "csms.yaml"
    device.write_text(
        "role: csms\nocpp: '1.6'\nstation_id: CS-1\nurl: ws://127.0.0.1:9/ocpp\n"
        f"reconnect_pause_s: {value}\nactuator: {{type: prompt}}\n"
    )
    result = cli("run", "--profile", CSMS16, "--device", str(device), "--out", str(tmp_path / "o"))
    one_line_error(result, str(device), needle)


def test_the_pause_is_a_csms_setting_only(tmp_path):
    device = tmp_path / "cs.yaml"
    device.write_text("role: cs\nocpp: '1.6'\nreconnect_pause_s: 1\n")
    result = cli(
        "run", "--profile", "ocpp16/core-cs", "--device", str(device), "--listen", "127.0.0.1:9"
    )
    one_line_error(result, str(device), "reconnect_pause_s", "role: csms")


def test_idle_recovery_ends_what_the_csms_still_has_open_and_resets_connectors():
    """An earlier case left a transaction the CSMS has open but the station forgot (a reboot)
    and connector 2 Inoperative: the next before-phase ends the one and reports the other
    Available, and its record says so."""

    async def scenario() -> tuple[dict[str, Any], Any, int]:
        profile, everything, device = load(CSMS16)
        target = Target(
            "reference", time_scale=profile.reference_time_scale, floor=profile.reference_floor_s
        )
        campaign: Any = make_campaign(profile, device, target)
        case = next(s for s in everything if s.id == "TC_003_CSMS")
        async with campaign:
            assert (await campaign.run_case(case))["verdict"] == "pass"
            start = {
                "connectorId": 1,
                "idTag": device.tokens["valid"],
                "meterStart": 0,
                "timestamp": "2026-01-01T00:00:00Z",
            }
            got = await campaign.session.call("StartTransaction", start, timeout=5)
            tx = got.payload["transactionId"]
            campaign.responder.rebooted()  # the station forgets it; the CSMS does not
            campaign.responder.state.registration = "Accepted"
            await campaign.sut.change_availability(2, "Inoperative")
            return await campaign.run_case(case), campaign.sut, tx

    result, csms, tx = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert result["verdict"] == "pass", result["reason"]
    (record,) = _before_records(result, "registered and idle")
    assert f"ended transaction {tx} on 1 (open at the CSMS only" in record["observed"]
    assert (
        "connector 2 reported Available (Inoperative after a ChangeAvailability)"
        in (record["observed"])
    )
    assert csms.transactions[tx].stopped is not None
    (station,) = csms.stations.values()
    assert station.connectors[2] == "Available"


def test_the_2_0_1_mock_keeps_what_the_csms_thinks_open_across_a_reboot():
    from pile_interop.ocpp.frames import CALL, CALLRESULT, IN, OUT, FrameLog
    from pile_interop.ocpp.v201.mock_station import MockStation

    mock = MockStation(2)
    log = FrameLog()
    started = {
        "eventType": "Started",
        "seqNo": 0,
        "evse": {"id": 2, "connectorId": 1},
        "transactionInfo": {"transactionId": "T-1"},
    }
    call = log.add(OUT, "", type=CALL, unique_id="1", action="TransactionEvent", payload=started)
    mock.observe_response(call, log.add(IN, "", type=CALLRESULT, unique_id="1", payload={}))
    mock.rebooted()
    assert mock.state.transactions == {} and mock.state.unended == {"T-1": 2}
    change = {"operationalStatus": "Inoperative", "evse": {"id": 1}}
    call = log.add(IN, "", type=CALL, unique_id="2", action="ChangeAvailability", payload=change)
    answer = log.add(OUT, "", type=CALLRESULT, unique_id="2", payload={"status": "Accepted"})
    mock.observe(call, answer)
    assert mock.state.inoperative == {1}


def test_the_pause_adds_to_a_case_budget_once_per_reconnect():
    profile, everything, device = load(CSMS16)
    target = Target("reference", time_scale=profile.reference_time_scale)
    case = next(s for s in everything if s.id == "TC_039_CSMS")  # disconnect, then connect
    plain: Any = make_campaign(profile, device, target)
    paused: Any = make_campaign(
        profile, dataclasses.replace(device, reconnect_pause_s=PAUSE_S), target
    )
    assert plain.budget_extra(case) == 0.0
    assert paused.budget_extra(case) == pytest.approx(3 * PAUSE_S)


def test_a_connection_closed_before_the_boot_is_answered_is_a_failed_attempt():
    """The CSMS closes the station's first two connections on their BootNotification: the
    before-phase counts each as a failed attempt and registers on the third."""
    from ocpp.routing import on
    from ocpp.v16.enums import Action

    from pile_interop.ocpp.v16.reference.csms_link import CsmsLink

    class DropsBootLink(CsmsLink):
        @on(Action.boot_notification)
        async def _boot(self, **payload: Any) -> Any:
            csms: Any = self._csms
            if csms.drop_boots > 0:
                csms.drop_boots -= 1
                await self._connection.close(1000, "not now")
            return csms.on_boot(self.id, payload)

    class DropsBoots(ReferenceCsms16):
        drop_boots = 0

        def new_link(self, station_id: str, connection: Any) -> CsmsLink:
            return DropsBootLink(self, station_id, connection)

    async def scenario() -> dict[str, Any]:
        profile, everything, device = load(CSMS16)
        target = Target(
            "reference", time_scale=profile.reference_time_scale, floor=profile.reference_floor_s
        )
        campaign: Any = make_campaign(profile, device, target, sut_class=DropsBoots)
        case = next(s for s in everything if s.id == "TC_003_CSMS")
        async with campaign:
            assert (await campaign.run_case(case))["verdict"] == "pass"
            campaign.sut.drop_boots = 2
            await campaign.disconnect("the test drops the connection")
            campaign.responder.rebooted()
            return await campaign.run_case(case)

    result = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert result["verdict"] == "pass", result["reason"]
    (record,) = _before_records(result, "reconnect to the CSMS")
    observed = record["observed"]
    assert observed.count("before it answered the BootNotification") == 2, observed
    assert "attempt 3 at" in observed and "connected:" in observed.rsplit("attempt 3", 1)[1]
