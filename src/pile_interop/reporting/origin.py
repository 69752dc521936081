"""Where a report comes from, for the page: the run it continues (``--rerun-failed``,
``--resume``) and who signed its folder (``report --sign``)."""

from __future__ import annotations

from typing import Any

from pile_interop.reporting.page import mapping, text, when


def continues_text(continues: Any) -> str:
    """The run an ``--rerun-failed`` / ``--resume`` run continues, in words."""
    record = mapping(continues)
    if not record:
        return ""
    what = "re-run of the failed cases of" if record.get("mode") == "rerun-failed" else "resumes"
    when_text = f" ({when(record['started'])})" if record.get("started") else ""
    return f"{what} {record.get('report') or '?'}{when_text}"


def signature_view(signature: Any) -> dict[str, str] | None:
    """Who signed the report folder and with which key (``pile-interop report --sign``)."""
    record = mapping(signature)
    if not record:
        return None
    return {
        "signer": text(record.get("signer") or "(signer not named)"),
        "fingerprint": text(record.get("key_fingerprint") or ""),
        "algorithm": text(record.get("algorithm") or ""),
        "signed": text(when(record["signed"]) if record.get("signed") else ""),
        "manifest": text(record.get("manifest") or "manifest.json"),
    }


def origin_text(origin: Any) -> str:
    """Where a carried verdict came from (a case's ``origin``), in words; empty for a verdict
    of this run."""
    record = mapping(origin)
    if not record:
        return ""
    when_text = when(record["started"]) if record.get("started") else "?"
    return text(f"the run of {when_text} ({record.get('report') or '?'})")
