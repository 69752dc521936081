"""Fleet runs against the embedded reference CSMSs: the reference passes every threshold,
each load mutant fails naming the threshold it breaks."""

from __future__ import annotations

from pathlib import Path

from pile_interop.fleet.behaviour import load_behaviour
from tests.waits import eventually

from .conftest import QUICK_16, ROOT, quick, run_fleet
from .mutants import GarbledCsms, LossyCsms, SlowBootCsms

#: Bound on each step the CSMS's calls wait for (a boot, a started transaction) within the
#: 5 s fleet run.
CSMS_CALLS_BOUND_S = 2.0


def test_reference_passes_the_quick_behaviour(tmp_path: Path) -> None:
    result = run_fleet(quick(tmp_path), 20)
    assert result["verdict"] == "pass", result["reason"]
    actions = result["actions"]
    for action in (
        "BootNotification",
        "Heartbeat",
        "StatusNotification",
        "Authorize",
        "StartTransaction",
        "MeterValues",
        "StopTransaction",
    ):
        assert actions[action]["count"] > 0, action
        assert actions[action]["violations"] == 0
    assert result["connections"]["connected"] == 20
    assert result["sampling"]["rate"] == 1.0  # a small fleet: every answer judged
    assert result["totals"]["judged"] == result["sampling"]["results"] > 0
    assert all(t["passed"] for t in result["thresholds"])


def test_mixed_smoke_behaviour_with_events_and_security_profiles() -> None:
    behaviour = load_behaviour(ROOT / "profiles" / "fleet" / "smoke.yaml")
    result = run_fleet(behaviour, 30, duration_s=20.0)
    assert result["verdict"] == "pass", result["reason"]
    assert result["actions"]["TransactionEvent"]["count"] > 0  # the 2.0.1 stations charged
    connections = result["connections"]
    assert connections["refused"] == 0  # Basic auth and TLS stations got in
    # the blip at 10 s and the mass reboot at 14 s: every station came back
    assert connections["reconnects"] >= 30
    assert connections["connected"] == 30
    assert result["actions"]["BootNotification"]["count"] >= 60  # booted twice


def test_slow_boot_csms_fails_the_boot_latency_threshold(tmp_path: Path) -> None:
    result = run_fleet(quick(tmp_path), 10, classes={"1.6": SlowBootCsms})
    assert result["verdict"] == "fail"
    broken = [t["threshold"] for t in result["thresholds"] if not t["passed"]]
    assert broken == ["p99 BootNotification < 1s"]
    assert "p99 BootNotification < 1s broken" in result["reason"]


def test_lossy_csms_fails_the_timeout_threshold(tmp_path: Path) -> None:
    result = run_fleet(quick(tmp_path), 10, classes={"1.6": LossyCsms})
    assert result["verdict"] == "fail"
    broken = [t["threshold"] for t in result["thresholds"] if not t["passed"]]
    assert broken == ["timeouts == 0"]
    assert result["actions"]["Heartbeat"]["timeouts"] > 0


def test_garbled_csms_fails_the_violation_threshold(tmp_path: Path) -> None:
    result = run_fleet(quick(tmp_path), 10, classes={"1.6": GarbledCsms})
    assert result["verdict"] == "fail"
    broken = [t["threshold"] for t in result["thresholds"] if not t["passed"]]
    assert broken == ["violations == 0"]
    assert result["actions"]["Heartbeat"]["violations"] > 0
    example = result["examples"]["violation Heartbeat"][0]
    assert "currentTime" in example and "date-time" in example


def test_an_unreachable_csms_does_not_stall_the_fleet(tmp_path: Path) -> None:
    import asyncio

    from pile_interop.fleet.run import Fleet

    behaviour = quick(tmp_path)
    fleet = Fleet(behaviour, 5, {("1.6", 0): "ws://127.0.0.1:9/ocpp"}, duration_s=2.0)
    result = asyncio.run(fleet.run())
    assert result["connections"]["opened"] == 0
    assert result["connections"]["failed"] >= 5
    assert result["verdict"] == "fail"  # BootNotification was never answered
    assert "never answered" in result["reason"]


def test_stations_answer_the_csms_calls_as_the_mock_station_does(tmp_path: Path) -> None:
    import asyncio
    import logging

    from pile_interop.fleet.reference import ReferenceFleetCsms
    from pile_interop.fleet.run import Fleet

    logging.getLogger("ocpp").setLevel(logging.WARNING)
    behaviour = quick(tmp_path, QUICK_16.replace("every_s: 2", "every_s: 1000"))
    answers: dict[str, object] = {}

    async def main() -> dict[str, object]:
        reference = ReferenceFleetCsms(behaviour)
        urls = await reference.start()
        csms = reference.servers[("1.6", 0)]
        fleet = Fleet(behaviour, 2, urls, duration_s=5.0)
        run = asyncio.create_task(fleet.run())

        def counted(action: str) -> int:
            figures = fleet.stats.actions.get(action)
            return figures.count if figures is not None else 0

        try:
            await eventually(
                lambda: counted("BootNotification") >= 2,
                CSMS_CALLS_BOUND_S,
                "both stations registered",
                lambda: counted("BootNotification"),
            )
            station = "FLEET-00001"
            answers["get"] = await csms.get_configuration(["HeartbeatInterval"], station=station)
            answers["start"] = await csms.remote_start(behaviour.id_tag, 1, station=station)
            await eventually(
                lambda: counted("StartTransaction") >= 1,
                CSMS_CALLS_BOUND_S,
                "the remotely started transaction",
                lambda: counted("StartTransaction"),
            )
            answers["stop"] = await csms.remote_stop(station=station)
            return await run
        finally:
            await reference.stop()

    result = asyncio.run(main())
    assert answers["get"].configuration_key[0]["key"] == "HeartbeatInterval"  # type: ignore[attr-defined]
    assert answers["start"].status == "Accepted"  # type: ignore[attr-defined]
    assert answers["stop"].status == "Accepted"  # type: ignore[attr-defined]
    assert result["csms_calls"] == {
        "GetConfiguration": 1,
        "RemoteStartTransaction": 1,
        "RemoteStopTransaction": 1,
    }
    # the remote start was carried out: one transaction, started and stopped
    assert result["actions"]["StartTransaction"]["count"] == 1  # type: ignore[index]
    assert result["actions"]["StopTransaction"]["count"] == 1  # type: ignore[index]


def test_schema_checks_are_sampled_when_the_rate_demands_it(tmp_path: Path) -> None:
    text = QUICK_16 + "judge: {max_per_second: 5}\n"
    result = run_fleet(quick(tmp_path, text), 20, duration_s=4.0)
    sampling = result["sampling"]
    assert 0 < sampling["judged"] < sampling["results"]
    assert sampling["rate"] == round(sampling["judged"] / sampling["results"], 4)
    assert result["verdict"] == "pass", result["reason"]


def test_a_csms_refusing_the_password_is_counted_and_does_not_stall(tmp_path: Path) -> None:
    import asyncio

    from pile_interop.fleet.reference import ReferenceFleetCsms
    from pile_interop.fleet.run import Fleet

    text = QUICK_16.replace("security_profile: 0", "security_profile: 1")
    behaviour = quick(tmp_path, text + "reconnect: {initial_s: 0.2, max_s: 0.5}\n")

    async def main() -> dict[str, object]:
        reference = ReferenceFleetCsms(behaviour)
        urls = await reference.start()
        reference.servers[("1.6", 1)].server.password = "not-the-fleet-password"
        try:
            return await Fleet(behaviour, 4, urls, duration_s=3.0).run()
        finally:
            await reference.stop()

    result = asyncio.run(main())
    connections = result["connections"]
    assert connections["opened"] == 0
    assert connections["refused"] >= 8  # every station tried again, with back-off
    assert any("401" in why for why in connections["refusals"])  # type: ignore[attr-defined]
    assert result["verdict"] == "fail"


def test_a_pending_station_boots_again_after_the_interval_given(tmp_path: Path) -> None:
    import asyncio
    import logging

    from pile_interop.fleet.reference import ReferenceFleetCsms
    from pile_interop.fleet.run import Fleet

    from .mutants import PendingOnceCsms

    logging.getLogger("ocpp").setLevel(logging.WARNING)
    behaviour = quick(tmp_path)
    boots: dict[str, list[float]] = {}

    async def main() -> dict[str, object]:
        reference = ReferenceFleetCsms(behaviour, classes={"1.6": PendingOnceCsms})
        urls = await reference.start()
        try:
            result = await Fleet(behaviour, 5, urls, duration_s=4.0).run()
            boots.update(reference.servers[("1.6", 0)].boots)
            return result
        finally:
            await reference.stop()

    result = asyncio.run(main())
    assert result["verdict"] == "pass", result["reason"]
    assert len(boots) == 5
    for times in boots.values():
        assert len(times) == 2  # Pending, then Accepted: no more, no fewer
        assert times[1] - times[0] >= 1.0  # not before the interval the CSMS gave
    assert result["actions"]["Heartbeat"]["count"] > 0  # registered at last


def test_a_csms_dropping_every_connection_gets_back_off_not_a_storm(tmp_path: Path) -> None:
    import asyncio

    from websockets.asyncio.server import serve

    from pile_interop.fleet.run import Fleet

    behaviour = quick(tmp_path, QUICK_16 + "reconnect: {initial_s: 0.2, max_s: 0.8}\n")

    async def main() -> dict[str, object]:
        async def drop(connection: object) -> None:
            await connection.close()  # type: ignore[attr-defined]

        async with serve(drop, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:
            port = server.sockets[0].getsockname()[1]
            fleet = Fleet(behaviour, 3, {("1.6", 0): f"ws://127.0.0.1:{port}/ocpp"}, duration_s=3)
            return await fleet.run()

    result = asyncio.run(main())
    connections = result["connections"]
    assert connections["dropped"] >= 3
    # back-off 0.1-0.2, 0.2-0.4, 0.4-0.8, then 0.4-0.8 s: at most ~9 connections each in 3 s
    assert connections["opened"] <= 3 * 10  # type: ignore[operator]
    assert result["verdict"] == "fail"  # BootNotification never answered
