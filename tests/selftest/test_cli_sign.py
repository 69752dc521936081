"""`report --sign KEY DIR` and `verify DIR --key PUB` as a lab and its partner run them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pile_interop.reporting.signature import fingerprint
from tests.reporting.test_signature import write_key, write_public
from tests.selftest.conftest import cli
from tests.selftest.test_cli import one_line_error


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> dict[str, Path | str]:
    where = tmp_path_factory.mktemp("lab")
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    report = where / "report"
    ran = cli("run", "--profile", "ocpp16/core-cs", "--against", "reference", "--out",
              str(report), "--case", "TC_003_CS")  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    return {
        "report": report,
        "key": write_key(where / "lab.pem", key),
        "pub": write_public(where / "lab.pub.pem", key),
        "other_pub": write_public(where / "other.pub.pem", other),
        "fingerprint": fingerprint(key.public_key()),
    }


def test_sign_then_verify_then_tamper(lab, tmp_path):
    folder = tmp_path / "signed"
    folder.mkdir()
    for path in Path(lab["report"]).rglob("*"):  # a copy: the module's report stays clean
        target = folder / path.relative_to(lab["report"])
        if path.is_dir():
            target.mkdir()
        else:
            target.write_bytes(path.read_bytes())
    signed = cli("report", "--sign", str(lab["key"]), "--signer", "ACME Lab", "--pdf", str(folder))
    assert signed.returncode == 0, signed.stderr
    manifest = json.loads((folder / "manifest.json").read_text())
    assert (folder / "report.pdf").read_bytes().startswith(b"%PDF-")
    assert "report.pdf" in manifest["files"]  # written before the folder was hashed
    assert f"key {lab['fingerprint']}" in signed.stdout
    key_text = Path(lab["key"]).read_text()
    secret = key_text.splitlines()[1]  # the base64 body of the private key
    for path in folder.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="replace"), path
    assert secret not in signed.stdout + signed.stderr
    page = (folder / "index.html").read_text()
    assert "Signed by <b>ACME Lab</b>" in page and str(lab["fingerprint"]) in page
    assert json.loads((folder / "results.json").read_text())["signature"]["signer"] == "ACME Lab"

    ok = cli("verify", str(folder), "--key", str(lab["pub"]))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("intact: ") and "ACME Lab" in ok.stdout

    wrong = cli("verify", str(folder), "--key", str(lab["other_pub"]))
    assert wrong.returncode == 1
    assert "NOT VERIFIED: manifest.sig: signed with key" in wrong.stdout

    results = folder / "results.json"
    results.write_text(results.read_text().replace('"pass"', '"fail"', 1))
    (folder / "junit.xml").unlink()
    tampered = cli("verify", str(folder), "--key", str(lab["pub"]))
    assert tampered.returncode == 1
    assert "NOT VERIFIED: results.json: changed since signing" in tampered.stdout
    assert "NOT VERIFIED: junit.xml: missing" in tampered.stdout

    # a plain rebuild is no longer the signed folder: the page drops the signer
    assert cli("report", str(folder)).returncode == 0
    assert "Signed by" not in (folder / "index.html").read_text()


def test_an_unsigned_folder_is_exit_1_naming_the_manifest(lab):
    result = cli("verify", str(lab["report"]), "--key", str(lab["pub"]))
    assert result.returncode == 1
    assert "NOT VERIFIED: manifest.json: missing" in result.stdout


def test_bad_paths_and_keys_are_exit_2_in_one_line(lab, tmp_path):
    one_line_error(cli("verify", str(tmp_path / "nope"), "--key", str(lab["pub"])),
                   "no such report folder")  # fmt: skip
    one_line_error(cli("verify", str(lab["report"]), "--key", str(tmp_path / "nope.pem")),
                   "cannot read the public key")  # fmt: skip
    one_line_error(cli("verify", str(lab["report"]), "--key", str(lab["key"])),
                   "not a PEM (or OpenSSH) public key")  # fmt: skip
    one_line_error(cli("report", "--sign", str(lab["pub"]), str(lab["report"])),
                   "not a PEM private key")  # fmt: skip
    one_line_error(cli("report", "--sign", str(lab["key"]), str(tmp_path / "nope")),
                   "no such report folder")  # fmt: skip
