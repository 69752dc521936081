"""The mock CSMS's security modes: derived features, what a ``peer: security`` step may ask."""

from __future__ import annotations

import dataclasses

import pytest

from pile_interop.core.config import Device
from pile_interop.core.verdicts import HarnessError, NotApplicable
from pile_interop.ocpp.csms_security import CsmsSecurity, SecurityMode
from pile_interop.ocpp.server import CsmsServer


async def _noop(*_args: object) -> None:
    return None


def security(profile: int, password: str | None = "pw-123456", **features: bool) -> CsmsSecurity:
    device = Device(
        path="dev.yaml",
        role="cs",
        ocpp="1.6",
        security_profile=profile,
        basic_auth_password=password,
        features=dict(features),
    )
    return CsmsSecurity(CsmsServer("127.0.0.1", 0, _noop), device, reference=True)


@pytest.mark.parametrize(
    ("profile", "password", "expected"),
    [
        (0, None, (False, False, False)),
        (1, "pw", (True, False, False)),
        (2, "pw", (True, True, False)),
        (3, None, (False, True, True)),
    ],
)
def test_security_features_follow_the_profile(profile, password, expected):
    device = security(profile, password).device
    got = tuple(device.supports(f) for f in ("basic_auth", "tls", "client_certificate"))
    assert got == expected
    declared = dataclasses.replace(device, features={"client_certificate": True})
    assert declared.supports("client_certificate") is True


def test_baseline_and_args():
    sec = security(2)
    assert sec.baseline == SecurityMode(tls=True, basic_auth=True)
    mode = sec.mode_from_args({"client_cert": True, "basic_auth": False})
    assert mode == SecurityMode(tls=True, client_cert=True)
    assert sec.mode_from_args({"subprotocol": "none"}).subprotocol is None
    with pytest.raises(HarnessError, match="unknown argument"):
        sec.mode_from_args({"cipher": "x"})
    with pytest.raises(HarnessError, match="server_cert"):
        sec.mode_from_args({"server_cert": "self-signed"})
    with pytest.raises(HarnessError, match="tls_max"):
        sec.mode_from_args({"tls_max": "1.2"})


def test_modes_the_device_cannot_serve_are_na():
    plain = security(1)
    with pytest.raises(NotApplicable, match="has no TLS"):
        plain.mode_from_args({"server_cert": "untrusted"})
    with pytest.raises(NotApplicable, match="basic_auth_password"):
        security(3, None).mode_from_args({"basic_auth": True})


def test_the_run_pki_lives_only_while_the_campaign_runs():
    sec = security(2)
    sec.prepare()
    assert sec.pki is not None and sec.server.ssl is not None
    files = sec.station_device().tls
    assert files.ca_cert and files.client_cert and files.client_key
    folder = sec.pki.directory
    sec.cleanup()
    assert not folder.exists()
