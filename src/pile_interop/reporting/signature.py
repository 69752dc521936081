"""A report a partner can verify: the report folder's manifest (the SHA-256 of every file in
it) signed with the lab's Ed25519 key, and its verification.

``manifest.json`` lists every file of the folder (``results.json``, ``results.jsonl``,
``index.html``, ``junit.xml``, every file of ``allure-results/`` …) with its SHA-256, and who
signed with which key; ``manifest.sig`` is the raw 64-byte Ed25519 signature of the exact bytes
of ``manifest.json``. Only these two files are outside the hashed set.

The page shows the signer: the run dict gets a ``signature`` record (signer, key fingerprint,
time) and the folder is rebuilt with it *before* the files are hashed, so the signer block of
``index.html`` (and of ``results.json``) is itself covered by the signature, and nothing a
reader sees is outside it. The signature value cannot be on the page (it signs the page).

Without pile-interop a partner can check the signature with OpenSSL 3
(``openssl pkeyutl -verify -pubin -inkey lab.pub.pem -rawin -in manifest.json -sigfile
manifest.sig``) and each file with ``sha256sum``.

The private key is only read here: it is never logged, written or put in an error message.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pile_interop.core.clock import utc_iso
from pile_interop.core.errors import UsageError
from pile_interop.reporting.common import atomic_write_bytes, utf8

MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
FORMAT = "pile-interop report manifest 1"
ALGORITHM = "Ed25519"
#: The environment variable holding the passphrase of an encrypted private key.
PASSPHRASE_ENV = "PILE_INTEROP_KEY_PASSPHRASE"


def fingerprint(key: Ed25519PublicKey) -> str:
    """``sha256:<hex>``: the SHA-256 of the raw 32-byte public key (what the lab publishes)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The lab's Ed25519 private key from a PEM file (encrypted: the passphrase in
    ``$PILE_INTEROP_KEY_PASSPHRASE``). A usage error names the file, never its content."""
    data = _read(path, "private key")
    passphrase = os.environ.get(PASSPHRASE_ENV)
    try:
        key = serialization.load_pem_private_key(
            data, password=passphrase.encode() if passphrase else None
        )
    except TypeError:
        raise UsageError(f"{path}: the key is encrypted: set ${PASSPHRASE_ENV}") from None
    except (ValueError, UnicodeDecodeError):
        raise UsageError(f"{path}: not a PEM private key (or a wrong ${PASSPHRASE_ENV})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(f"{path}: not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """A partner's copy of the lab's Ed25519 public key: PEM, or an OpenSSH ``ssh-ed25519``
    line."""
    data = _read(path, "public key")
    try:
        if data.lstrip().startswith(b"ssh-"):
            key: Any = serialization.load_ssh_public_key(data.strip())
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, UnicodeDecodeError):
        raise UsageError(f"{path}: not a PEM (or OpenSSH) public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"{path}: not an Ed25519 public key")
    return key


def signature_record(key: Ed25519PrivateKey, signer: str | None) -> dict[str, Any]:
    """The run dict's ``signature`` field: who signs, with which key, when."""
    return {
        "algorithm": ALGORITHM,
        "signer": signer or None,
        "key_fingerprint": fingerprint(key.public_key()),
        "signed": utc_iso(),
        "manifest": MANIFEST_NAME,
    }


def _hashed_files(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` but the manifest and its signature: POSIX relative path ->
    SHA-256 (hex)."""
    files: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(folder).as_posix()
        if rel in (MANIFEST_NAME, SIGNATURE_NAME):
            continue
        files[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def sign_folder(
    folder: Path, key: Ed25519PrivateKey, record: Mapping[str, Any], run: Mapping[str, Any]
) -> dict[str, Any]:
    """Hash every file of ``folder``, write ``manifest.json`` (with ``record``, the run's
    identity) and ``manifest.sig``; return the manifest."""
    manifest = {
        "format": FORMAT,
        **{k: record.get(k) for k in ("algorithm", "signer", "key_fingerprint", "signed")},
        "run": {k: run.get(k) for k in ("profile", "started", "finished")},
        "files": _hashed_files(folder),
    }
    data = utf8(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    atomic_write_bytes(folder / MANIFEST_NAME, data)
    atomic_write_bytes(folder / SIGNATURE_NAME, key.sign(data))
    return manifest


@dataclass
class Verification:
    """What :func:`verify_folder` found: no problem means the folder is what was signed."""

    manifest: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_folder(folder: Path, key: Ed25519PublicKey) -> Verification:
    """Check ``manifest.sig`` against ``manifest.json`` with ``key``, then every file against
    the manifest: each problem is one line naming the file (missing manifest or signature, a
    wrong key, a changed, missing or added file)."""
    result = Verification()
    manifest_path, sig_path = folder / MANIFEST_NAME, folder / SIGNATURE_NAME
    if not manifest_path.is_file():
        result.problems.append(f"{MANIFEST_NAME}: missing (the folder was never signed)")
        return result
    data = manifest_path.read_bytes()
    try:
        manifest = json.loads(data)
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            raise ValueError("no 'files'")
    except ValueError:
        result.problems.append(f"{MANIFEST_NAME}: not a pile-interop manifest")
        return result
    result.manifest = manifest
    given = fingerprint(key)
    if not sig_path.is_file():
        result.problems.append(f"{SIGNATURE_NAME}: missing")
    else:
        try:
            key.verify(sig_path.read_bytes(), data)
        except InvalidSignature:
            signed_with = manifest.get("key_fingerprint")
            if signed_with and signed_with != given:
                why = f"signed with key {signed_with}, not with the given key {given}"
            else:
                why = f"the signature does not match {MANIFEST_NAME} for key {given}"
            result.problems.append(f"{SIGNATURE_NAME}: {why}")
    listed: dict[str, Any] = manifest["files"]
    present = _hashed_files(folder)
    for name in sorted(set(listed) | set(present)):
        if name not in present:
            result.problems.append(f"{name}: missing")
        elif name not in listed:
            result.problems.append(f"{name}: added after signing")
        elif present[name] != listed[name]:
            result.problems.append(f"{name}: changed since signing")
    return result
