"""The digests a report prints so a partner can check its evidence: the SHA-256 of each file,
and the canonical JSON of the data the HTML shows."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any


def evidence_sha256(data: bytes) -> str:
    """The hex SHA-256 of ``data`` (what ``sha256sum`` prints)."""
    return hashlib.sha256(data).hexdigest()


def canonical_json(run: Mapping[str, Any]) -> bytes:
    """``run`` as canonical JSON: sorted keys, no spaces, UTF-8."""
    data = json.dumps(run, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return data.encode("utf-8", errors="backslashreplace")
