"""A signed report folder: every file hashed in a manifest signed with Ed25519; verification
names each file changed, missing or added, a wrong key, a missing manifest or signature."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pile_interop.core.errors import UsageError
from pile_interop.reporting import signature
from pile_interop.reporting.writer import write_all


def write_key(path: Path, key: Ed25519PrivateKey, passphrase: bytes | None = None) -> Path:
    crypt = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, crypt)
    )
    return path


def write_public(path: Path, key: Ed25519PrivateKey) -> Path:
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


@pytest.fixture
def lab_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def signed(run, tmp_path, lab_key) -> Path:
    folder = tmp_path / "report"
    run = dict(run, signature=signature.signature_record(lab_key, "ACME Lab"))
    assert write_all(folder, run) == []
    signature.sign_folder(folder, lab_key, run["signature"], run)
    return folder


def test_a_signed_folder_verifies_and_lists_every_file(signed, lab_key):
    result = signature.verify_folder(signed, lab_key.public_key())
    assert result.intact, result.problems
    files = result.manifest["files"]
    for name in (
        "results.json",
        "index.html",
        "junit.xml",
        "allure-results/environment.properties",
    ):
        assert name in files
    assert any(n.startswith("allure-results/") and n.endswith("-result.json") for n in files)
    assert "manifest.json" not in files and "manifest.sig" not in files
    assert result.manifest["signer"] == "ACME Lab"
    assert result.manifest["key_fingerprint"] == signature.fingerprint(lab_key.public_key())


def test_the_page_shows_the_signer_and_is_itself_signed(signed, lab_key):
    page = (signed / "index.html").read_text()
    assert "Signed by <b>ACME Lab</b>" in page
    assert signature.fingerprint(lab_key.public_key()) in page
    assert "index.html" in json.loads((signed / "manifest.json").read_text())["files"]


def test_a_changed_missing_or_added_file_is_named(signed, lab_key):
    (signed / "junit.xml").write_text("<testsuites/>")
    (signed / "index.html").unlink()
    (signed / "allure-results" / "extra.json").write_text("{}")
    problems = signature.verify_folder(signed, lab_key.public_key()).problems
    assert problems == [
        "allure-results/extra.json: added after signing",
        "index.html: missing",
        "junit.xml: changed since signing",
    ]


def test_a_wrong_key_or_an_edited_manifest_fails_the_signature(signed, lab_key):
    other = Ed25519PrivateKey.generate().public_key()
    [problem] = signature.verify_folder(signed, other).problems
    assert problem.startswith("manifest.sig: signed with key sha256:")
    assert signature.fingerprint(other) in problem
    # a manifest edited to match an edited file: the files agree, the signature does not
    (signed / "junit.xml").write_text("<testsuites/>")
    manifest = json.loads((signed / "manifest.json").read_text())
    manifest["files"]["junit.xml"] = signature.hashlib.sha256(b"<testsuites/>").hexdigest()
    (signed / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    [problem] = signature.verify_folder(signed, lab_key.public_key()).problems
    assert problem.startswith("manifest.sig: the signature does not match manifest.json")


def test_a_missing_manifest_or_signature_is_named(signed, lab_key):
    (signed / "manifest.sig").unlink()
    assert signature.verify_folder(signed, lab_key.public_key()).problems == [
        "manifest.sig: missing"
    ]
    (signed / "manifest.json").unlink()
    assert signature.verify_folder(signed, lab_key.public_key()).problems == [
        "manifest.json: missing (the folder was never signed)"
    ]


def test_keys_load_from_pem_encrypted_pem_and_openssh(tmp_path, lab_key, monkeypatch):
    plain = write_key(tmp_path / "lab.pem", lab_key)
    assert signature.load_private_key(plain).public_key() == lab_key.public_key()
    locked = write_key(tmp_path / "locked.pem", lab_key, b"open sesame")
    monkeypatch.delenv(signature.PASSPHRASE_ENV, raising=False)
    with pytest.raises(UsageError, match="encrypted: set"):
        signature.load_private_key(locked)
    monkeypatch.setenv(signature.PASSPHRASE_ENV, "open sesame")
    assert signature.load_private_key(locked).public_key() == lab_key.public_key()
    ssh = tmp_path / "lab.pub"
    ssh.write_bytes(
        lab_key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
    )
    assert signature.load_public_key(ssh) == lab_key.public_key()
    assert signature.load_public_key(write_public(tmp_path / "p.pem", lab_key)) == (
        lab_key.public_key()
    )


def test_a_key_that_is_no_ed25519_key_is_a_usage_error_without_its_content(tmp_path):
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = tmp_path / "rsa.pem"
    path.write_bytes(pem)
    with pytest.raises(UsageError, match="not an Ed25519 private key") as caught:
        signature.load_private_key(path)
    assert "PRIVATE KEY" not in str(caught.value)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("hello")
    with pytest.raises(UsageError, match="not a PEM private key"):
        signature.load_private_key(garbage)
    with pytest.raises(UsageError, match="cannot read the public key"):
        signature.load_public_key(tmp_path / "missing.pem")
