"""The station URL the suite connects to as a charging station: a CSMS URL, or a template with
``{station_id}`` where the lab's CSMS wants the identity."""

from __future__ import annotations

from pathlib import Path

import pytest

from pile_interop.core.config import find_root, load_profile
from pile_interop.core.errors import UsageError
from pile_interop.engine.targets import PYTEST_SPELLING, TargetRequest, resolve_target
from pile_interop.ocpp.client import check_url, station_url
from pile_interop.ocpp.server import station_id_from_path
from pile_interop.reporting.redact import Redactor


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("ws://h:9000/ocpp", "ws://h:9000/ocpp/CS-1"),
        ("ws://h:9000/ocpp/", "ws://h:9000/ocpp/CS-1"),
        ("ws://h:9000", "ws://h:9000/CS-1"),
        ("ws://h/ocpp?x=1", "ws://h/ocpp/CS-1?x=1"),
        ("ws://h/ocpp/?x=1&y=2", "ws://h/ocpp/CS-1?x=1&y=2"),
        (
            "wss://csms.example/ocpp/{station_id}/ws?token=abc",
            "wss://csms.example/ocpp/CS-1/ws?token=abc",
        ),
        ("wss://csms.example/{station_id}", "wss://csms.example/CS-1"),
        ("ws://h/ocpp?station={station_id}", "ws://h/ocpp?station=CS-1"),
    ],
)
def test_the_identity_goes_where_the_template_says(template: str, expected: str) -> None:
    assert check_url(template) is None
    assert station_url(template, "CS-1") == expected


def test_the_identity_is_percent_encoded_where_it_is_inserted() -> None:
    assert station_url("ws://h/ocpp/{station_id}/ws", "CS 1/a?b") == "ws://h/ocpp/CS%201%2Fa%3Fb/ws"
    assert station_url("ws://h/ocpp/?k=v", "CS#1") == "ws://h/ocpp/CS%231?k=v"


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("ws://h/ocpp/{identity}", "unknown placeholder {identity}"),
        ("ws://h/ocpp/{station_id", "unbalanced braces"),
        ("ws://h/ocpp/station_id}", "unbalanced braces"),
        ("ws://h/ocpp/{{station_id}}", "unbalanced braces"),
        ("http://h/ocpp/{station_id}", "ws://"),
        ("ws://{station_id}.h/ocpp", "path or the query"),
        ("ws://h/ocpp#frag", "fragment"),
    ],
)
def test_a_malformed_template_is_named(template: str, says: str) -> None:
    assert says in (check_url(template) or "")


def test_the_reference_csms_finds_the_identity_at_a_configured_segment() -> None:
    assert station_id_from_path("/ocpp/CS-1?token=abc") == "CS-1"
    assert station_id_from_path("/ocpp/CS%201/ws?token=abc", -2) == "CS 1"
    assert station_id_from_path("/ocpp/CS-1/ws", 1) == "CS-1"
    assert station_id_from_path("/ws", -2) is None


def test_a_secret_in_the_query_is_masked_also_percent_encoded() -> None:
    redactor = Redactor(["tok/en+1"])
    url = station_url("ws://h/ocpp/{station_id}?token=tok%2Fen%2B1", "CS-1")
    assert redactor.redact(url) == "ws://h/ocpp/CS-1?token=***"
    assert redactor.redact("ws://h/?token=tok/en+1") == "ws://h/?token=***"


@pytest.mark.parametrize(
    ("connect", "descriptor_url", "names"),
    [
        ("ws://h/{nope}", None, "--pile-against connect:…: 'ws://h/{nope}': unknown placeholder"),
        (None, "ws://h/ocpp/{station_id", "--pile-device "),
        (None, "ws://h/{id}/x", ": url: 'ws://h/{id}/x': unknown placeholder {id}"),
    ],
)
def test_a_malformed_url_is_exit_2_naming_the_option_or_the_field(
    tmp_path, connect: str | None, descriptor_url: str | None, names: str
) -> None:
    device = tmp_path / "csms.yaml"
    device.write_text(
        "role: csms\nocpp: '1.6'\nstation_id: CS-1\nactuator: {type: prompt}\n"
        + (f"url: '{descriptor_url}'\n" if descriptor_url else "")
    )
    root = find_root(str(Path(__file__).resolve().parents[2]))
    profile = load_profile(root.profile_path("ocpp16/core-csms"))
    request = TargetRequest(connect=connect, device=str(device))
    with pytest.raises(UsageError) as caught:
        resolve_target(request, profile, root, PYTEST_SPELLING)
    message = str(caught.value)
    assert names in message and "\n" not in message
    if descriptor_url:
        assert f"{device}: url: " in message
