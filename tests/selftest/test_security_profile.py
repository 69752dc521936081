"""Security profiles end to end: ocpp16/security-cs passes against the reference station, bad
certificate files are a one-line exit 2, and no private key reaches a report."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
import yaml

from pile_interop.security.pki import generate_pki
from tests.mutants.catalogue import run_sut
from tests.selftest.conftest import cli

PROFILE = "ocpp16/security-cs"


def every_output(folder: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


@pytest.mark.slow
def test_security_profile_passes_against_the_reference_and_no_key_is_reported(tmp_path):
    results = asyncio.run(asyncio.wait_for(run_sut(None, profile_id=PROFILE, out=tmp_path), 120))
    failing = {
        c: f"{r['verdict']}: {r['reason']}" for c, r in results.items() if r["verdict"] != "pass"
    }
    assert failing == {}
    assert len(results) >= 8
    text = every_output(tmp_path)
    assert "results.json" in {p.name for p in tmp_path.iterdir()}
    assert "PRIVATE KEY" not in text
    assert "ref-station-authorization-key-01" not in text  # the Basic-auth password
    # TC_073: the run's new AuthorizationKey (40 hex digits) is masked wherever it went
    assert not re.search(r"(?<![0-9a-fA-F])[0-9a-fA-F]{40}(?![0-9a-fA-F])", text)
    assert "TLS TLSv1." in text  # the transport is in the evidence
    assert "client certificate CN=REF-CS-001" in text


def descriptor(tmp_path: Path, **security: str) -> Path:
    path = tmp_path / "station.yaml"
    doc = {
        "role": "cs",
        "ocpp": "1.6",
        "station_id": "LAB-CS-1",
        "actuator": {"type": "prompt"},
        "security": {"profile": 2, "basic_auth_password": "lab-secret-123", **security},
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def run_listen(device: Path) -> tuple[int, str]:
    done = cli("run", "--profile", PROFILE, "--listen", "127.0.0.1:0", "--device", str(device))
    return done.returncode, done.stderr


def test_tls_profile_with_listen_needs_its_files(tmp_path):
    code, err = run_listen(descriptor(tmp_path))
    assert code == 2
    assert "security.ca_cert" in err and "security.server_key" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_missing_certificate_file_is_named(tmp_path):
    pki = generate_pki("LAB-CS-1", tmp_path / "pki")
    device = descriptor(
        tmp_path,
        ca_cert=str(pki.root_ca),
        server_cert="no-such-cert.pem",
        server_key=str(pki.server["valid"].key),
    )
    code, err = run_listen(device)
    assert code == 2
    assert "security.server_cert" in err and "no-such-cert.pem: no such file" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_an_unusable_key_is_named_and_not_printed(tmp_path):
    pki = generate_pki("LAB-CS-1", tmp_path / "pki")
    device = descriptor(
        tmp_path,
        ca_cert=str(pki.root_ca),
        server_cert=str(pki.server["valid"].cert),
        server_key=str(pki.client["valid"].key),  # a key, but not this certificate's
    )
    code, err = run_listen(device)
    assert code == 2
    assert "security.server_key" in err and "not the unencrypted private key" in err
    assert "PRIVATE KEY" not in err and "Traceback" not in err
