"""Fleet behaviour files and thresholds: what loads, and errors that name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pile_interop.cli import main
from pile_interop.core.config import find_root
from pile_interop.core.errors import ConfigError, UsageError
from pile_interop.fleet.behaviour import load_behaviour, resolve
from pile_interop.fleet.thresholds import judge_all, parse_threshold

from .conftest import QUICK_16, ROOT, behaviour_file


def test_every_shipped_behaviour_loads() -> None:
    paths = sorted((ROOT / "profiles" / "fleet").glob("*.yaml"))
    assert paths
    for path in paths:
        behaviour = load_behaviour(path)
        assert behaviour.id == f"fleet/{path.stem}"


def test_a_behaviour_is_found_by_id_and_fleet_files_are_no_profiles() -> None:
    root = find_root(str(ROOT))
    assert resolve("smoke", root) == resolve("fleet/smoke", root)
    assert not [p for p in root.profile_ids() if p.startswith("fleet/")]
    with pytest.raises(UsageError, match="unknown fleet behaviour"):
        resolve("no-such", root)


def test_the_mix_shares_split_the_stations() -> None:
    behaviour = load_behaviour(ROOT / "profiles" / "fleet" / "smoke.yaml")
    kinds = [behaviour.kind_of(i, 100) for i in range(100)]
    assert sum(k.ocpp == "1.6" for k in kinds) == 50
    assert sum(k.security_profile == 2 for k in kinds) == 10


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        (
            (
                '  - {ocpp: "1.6", security_profile: 0, connectors: 2}',
                '  - {ocpp: "1.5", security_profile: 0, connectors: 2}',
            ),
            3,
            "1.5",
        ),
        (("heartbeat_s: 1", "heartbeat_s: -1"), 7, "heartbeat_s"),
        (('  - "timeouts == 0"', '  - "p99 < 2s"'), 12, "p99 needs an action"),
        (("duration_s: 6", "duration_s: 6\nsurprise: 1"), None, "surprise"),
    ],
)
def test_an_error_names_file_and_line(
    tmp_path: Path, change: tuple[str, str], line: int | None, words: str
) -> None:
    path = behaviour_file(tmp_path, QUICK_16.replace(*change))
    with pytest.raises(ConfigError) as caught:
        load_behaviour(path)
    assert caught.value.path == str(path)
    if line is not None:
        assert caught.value.line == line
    assert words in str(caught.value)


def test_the_cli_exits_2_on_a_broken_behaviour(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = behaviour_file(tmp_path, QUICK_16.replace("heartbeat_s: 1", "heartbeat_s: [1"))
    code = main(["fleet", "--behaviour", str(path), "--stations", "1", "--against", "reference"])
    assert code == 2
    assert f"{path}:" in capsys.readouterr().err


def test_thresholds_parse_and_judge() -> None:
    figures = {
        "actions": {
            "BootNotification": {"count": 3, "latency_ms": {"p99": 2500.0}, "timeouts": 1},
            "Heartbeat": {"count": 9, "latency_ms": {"p99": 5.0}, "timeouts": 0},
        },
        "totals": {"violations": 0, "timeouts": 1},
        "connections": {"connected": 10, "refused": 0},
    }
    results = judge_all(
        [
            parse_threshold("p99 BootNotification < 2s"),
            parse_threshold("p99 Heartbeat <= 10ms"),
            parse_threshold("violations == 0"),
            parse_threshold("timeouts Heartbeat == 0"),
            parse_threshold("connected >= 10"),
            parse_threshold("p99 * < 3000ms"),
            parse_threshold("p50 Authorize < 1s"),
        ],
        figures,
    )
    assert [r["passed"] for r in results] == [False, True, True, True, True, True, False]
    assert results[0]["measured"] == "p99 BootNotification = 2500.0 ms"
    assert "never answered" in results[-1]["measured"]
    for bad in ("p99 Boot < 2 hours", "latency Boot < 1s", "connected Boot > 1", "count < 1s"):
        with pytest.raises(ValueError):
            parse_threshold(bad)
