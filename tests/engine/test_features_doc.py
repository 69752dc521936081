"""docs/features.md lists every device feature a shipped case needs (the lab's PICS list)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _needed() -> set[str]:
    needed = set()
    for path in (ROOT / "conformance").rglob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        if isinstance(doc, dict):
            needed |= {str(n).lstrip("!") for n in doc.get("needs") or []}
    return needed


def test_every_needed_feature_is_documented():
    text = (ROOT / "docs" / "features.md").read_text()
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", text, re.MULTILINE))
    assert _needed() - documented == set(), "add them to docs/features.md"
    assert documented - _needed() == set(), "no shipped case needs these any more"
