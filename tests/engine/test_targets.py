"""The one target resolver: the CLI's options and the plugin's ``--pile-against`` resolve to
the same device and target, and the campaign is chosen by the profile's SUT."""

from __future__ import annotations

from pathlib import Path

import pytest

from pile_interop.core.config import find_root, load_profile
from pile_interop.core.errors import UsageError
from pile_interop.engine.can_campaign import GbtCampaign
from pile_interop.engine.csms_campaign import CsmsCampaign
from pile_interop.engine.station_campaign import StationCampaign
from pile_interop.engine.targets import (
    CLI_SPELLING,
    PYTEST_SPELLING,
    TargetRequest,
    campaign_for,
    parse_host_port,
    parse_pile_against,
    resolve_target,
)

ROOT = find_root(str(Path(__file__).resolve().parents[2]))
DEVICES = Path(ROOT.path) / "fixtures" / "devices"
LAB_STATION = str(DEVICES / "example-station16-lab.yaml")
LAB_CSMS = str(DEVICES / "example-csms-lab.yaml")
BENCH_CHARGER = str(DEVICES / "example-charger-bench.yaml")


def profile(profile_id: str):
    return load_profile(ROOT.profile_path(profile_id))


def resolve(request: TargetRequest, profile_id: str, spelling=CLI_SPELLING):
    return resolve_target(request, profile(profile_id), ROOT, spelling)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("reference", TargetRequest(against="reference")),
        ("listen:0.0.0.0:9000", TargetRequest(listen=("0.0.0.0", 9000))),
        ("listen::9000", TargetRequest(listen=("0.0.0.0", 9000))),
        ("connect:ws://127.0.0.1:9/ocpp", TargetRequest(connect="ws://127.0.0.1:9/ocpp")),
        ("can:virtual:bench", TargetRequest(can="virtual:bench")),
        ("can:socketcan:can0", TargetRequest(can="socketcan:can0")),
    ],
)
def test_pile_against_parses_to_the_cli_request(text, expected):
    assert parse_pile_against(text) == expected


@pytest.mark.parametrize("text", ["nowhere", "listen:", "listen:host:port", "can:", "connect"])
def test_a_malformed_pile_against_is_a_usage_error(text):
    with pytest.raises(UsageError, match="--pile-against"):
        parse_pile_against(text)


def test_host_port():
    assert parse_host_port("127.0.0.1:9000") == ("127.0.0.1", 9000)
    with pytest.raises(ValueError, match="expected HOST:PORT"):
        parse_host_port("9000")


def test_both_entry_points_resolve_the_same_target():
    for profile_id, text, device in [
        ("ocpp16/core-cs", "reference", None),
        ("ocpp16/core-cs", "listen:127.0.0.1:9000", LAB_STATION),
        ("ocpp16/core-csms", "connect:ws://127.0.0.1:9/ocpp", LAB_CSMS),
        ("gbt27930/charger", "can:virtual:bench", BENCH_CHARGER),
        ("gbt27930/charger", "reference", None),
    ]:
        plugin = parse_pile_against(text, device=device, time_scale=0.5)
        cli = TargetRequest(
            against="reference" if text == "reference" else None,
            listen=parse_host_port(text.removeprefix("listen:")) if "listen" in text else None,
            connect=text.removeprefix("connect:") if "connect" in text else None,
            can=text.removeprefix("can:") if text.startswith("can:") else None,
            device=device,
            time_scale=0.5,
        )
        assert plugin == cli
        one = resolve(plugin, profile_id, PYTEST_SPELLING)
        other = resolve(cli, profile_id)
        assert one == other, text


def test_the_target_of_each_way():
    ref = resolve(TargetRequest(against="reference"), "ocpp16/core-cs").target
    assert (ref.against, ref.time_scale) == (
        "reference",
        profile("ocpp16/core-cs").reference_time_scale,
    )
    listen = resolve(
        TargetRequest(listen=("127.0.0.1", 9000), device=LAB_STATION), "ocpp16/core-cs"
    )
    assert (listen.target.host, listen.target.port, listen.target.floor) == ("127.0.0.1", 9000, 0.0)
    connect = resolve(TargetRequest(connect="ws://h:9/o", device=LAB_CSMS), "ocpp16/core-csms")
    assert (connect.target.against, connect.url) == ("connect", "ws://h:9/o")
    can = resolve(TargetRequest(can="virtual:bench", device=BENCH_CHARGER), "gbt27930/charger")
    assert (can.target.against, can.bus_spec) == ("can", "virtual:bench")
    # a CSMS descriptor's url, a bench descriptor's bus: no target option needed
    by_url = resolve(TargetRequest(device=LAB_CSMS), "ocpp16/core-csms")
    assert by_url.target.against == "connect"


@pytest.mark.parametrize(
    ("request_", "profile_id", "cli", "plugin"),
    [
        (
            TargetRequest(listen=("", 9)),
            "ocpp16/core-cs",
            "--listen needs --device FILE",
            "--pile-against listen:… needs --pile-device FILE",
        ),
        (
            TargetRequest(can="virtual:x"),
            "gbt27930/charger",
            "--can needs --device FILE",
            "--pile-against can:… needs --pile-device FILE",
        ),
        (
            TargetRequest(connect="ws://h:9/o", device=LAB_STATION),
            "ocpp16/core-cs",
            "--connect: profile ocpp16/core-cs tests a cs, not a CSMS",
            "--pile-against connect:…: profile ocpp16/core-cs tests a cs, not a CSMS",
        ),
        (
            TargetRequest(listen=("", 9), device=BENCH_CHARGER),
            "gbt27930/charger",
            "use --can, not --listen",
            "use --pile-against can:…, not --pile-against listen:…",
        ),
        (
            TargetRequest(listen=("", 9), device=LAB_CSMS),
            "ocpp16/core-csms",
            "use --connect URL, not --listen",
            "use --pile-against connect:URL, not --pile-against listen:…",
        ),
        (TargetRequest(), "ocpp16/core-cs", "one of the arguments --against", "--pile-against"),
    ],
)
def test_usage_errors_name_each_entry_points_options(request_, profile_id, cli, plugin):
    with pytest.raises(UsageError) as raised:
        resolve(request_, profile_id)
    assert cli in str(raised.value)
    with pytest.raises(UsageError) as raised:
        resolve(request_, profile_id, PYTEST_SPELLING)
    assert plugin in str(raised.value)


@pytest.mark.parametrize(
    ("text", "device", "profile_id", "cls"),
    [
        ("reference", None, "ocpp16/core-cs", StationCampaign),
        ("listen:127.0.0.1:0", LAB_STATION, "ocpp16/core-cs", StationCampaign),
        ("connect:ws://127.0.0.1:9/ocpp", LAB_CSMS, "ocpp16/core-csms", CsmsCampaign),
        ("reference", None, "ocpp201/core-csms", CsmsCampaign),
        ("can:virtual:bench", BENCH_CHARGER, "gbt27930/charger", GbtCampaign),
        ("reference", None, "gbt27930/bms", GbtCampaign),
    ],
)
def test_the_campaign_is_chosen_by_the_profiles_sut(text, device, profile_id, cls):
    resolved = resolve(parse_pile_against(text, device=device), profile_id, PYTEST_SPELLING)
    campaign = campaign_for(profile(profile_id), resolved)
    assert type(campaign) is cls
    if cls is GbtCampaign and resolved.bus_spec:
        assert campaign.bus_spec == "virtual:bench"
