"""``pile-interop report --sign KEY DIR`` and ``pile-interop verify DIR --key PUB``: a report
folder signed with the lab's Ed25519 key, and a partner's check that it is what the lab
produced (:mod:`pile_interop.reporting.signature`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pile_interop.cli.exits import EXIT_FAILED, EXIT_OK
from pile_interop.core.errors import UsageError
from pile_interop.reporting.pdf import PDF_NAME


def add_sign_options(p_report: argparse.ArgumentParser) -> None:
    p_report.add_argument(
        "--sign",
        metavar="KEY",
        help="sign the rebuilt folder with this Ed25519 private key (PEM; encrypted: the "
        "passphrase in $PILE_INTEROP_KEY_PASSPHRASE): manifest.json + manifest.sig",
    )
    p_report.add_argument("--signer", metavar="NAME", help="with --sign: who signs (e.g. the lab)")
    p_report.add_argument(
        "--pdf",
        action="store_true",
        help="also write report.pdf (verdict, SUT, evidence, signer, every case) for a "
        "certificate file; with --sign it is signed too",
    )


def write_folder(
    write_all: Callable[[Path, dict[str, Any]], list[str]], pdf: bool
) -> Callable[[Path, dict[str, Any]], list[str]]:
    """The folder's writers, ``report.pdf`` after them when asked (before any signing)."""

    def write(folder: Path, run: dict[str, Any]) -> list[str]:
        problems = write_all(folder, run)
        if (pdf or (folder / PDF_NAME).exists()) and not problems:  # never a stale PDF
            from pile_interop.reporting.evidence import evidence_sha256
            from pile_interop.reporting.pdf import write_pdf

            digest = evidence_sha256((folder / "results.json").read_bytes())
            try:
                write_pdf(folder / PDF_NAME, run, results_sha256=digest)
            except Exception as exc:  # the other files stand; the problem is reported
                problems.append(f"{PDF_NAME}: {type(exc).__name__}: {exc}")
        return problems

    return write


def add_verify_parser(sub: Any) -> None:
    p = sub.add_parser(
        "verify",
        help="check a signed report folder: exit 0 intact, 1 naming what changed",
    )
    p.add_argument("folder", metavar="DIR", help="the signed report folder")
    p.add_argument(
        "--key",
        required=True,
        metavar="PUB",
        help="the lab's Ed25519 public key (PEM or ssh-ed25519)",
    )


def report_folder(text: str) -> Path:
    folder = Path(text)
    if not folder.is_dir():
        raise UsageError(f"{text}: no such report folder")
    return folder


def sign(
    folder: Path,
    key_path: str,
    signer: str | None,
    load_run: Callable[[Path], dict[str, Any]],
    write: Callable[[Path, dict[str, Any]], list[str]],
) -> tuple[dict[str, Any], list[str]]:
    """Rebuild ``folder`` with the signer on the page, then hash and sign every file; returns
    the run and the writers' problems (the folder is not signed when a writer failed)."""
    from pile_interop.reporting.signature import load_private_key, sign_folder, signature_record

    key = load_private_key(Path(key_path))
    run = load_run(folder)
    run["signature"] = signature_record(key, signer)
    problems = write(folder, run)
    if problems:
        return run, problems
    manifest = sign_folder(folder, key, run["signature"], run)
    who = f"{signer} " if signer else ""
    print(
        f"signed {len(manifest['files'])} files: {folder / 'manifest.json'} "
        f"({who}key {run['signature']['key_fingerprint']})"
    )
    return run, []


def cmd_verify(args: argparse.Namespace) -> int:
    from pile_interop.reporting.signature import fingerprint, load_public_key, verify_folder

    folder = report_folder(args.folder)
    key = load_public_key(Path(args.key))
    result = verify_folder(folder, key)
    if result.intact:
        manifest = result.manifest
        who = manifest.get("signer") or "(signer not named)"
        print(
            f"intact: {len(manifest['files'])} files of {folder} as signed by {who} on "
            f"{manifest.get('signed')} with key {fingerprint(key)}"
        )
        return EXIT_OK
    for problem in result.problems:
        print(f"NOT VERIFIED: {problem}")
    print(f"{folder}: not what was signed with key {fingerprint(key)}")
    return EXIT_FAILED
