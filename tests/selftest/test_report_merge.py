"""`pile-interop report --merge`: two devices side by side, cases as rows."""

from __future__ import annotations

import asyncio
import html
import re

from tests.mutants.catalogue import run_sut
from tests.mutants.stations16 import AcceptsBlockedIdTag
from tests.selftest.conftest import cli

CASES = ["TC_003_CS", "TC_023_3_CS", "TC_040_1_CS"]


def test_merge_shows_two_devices_side_by_side(tmp_path):
    good, bad, merged = tmp_path / "reference", tmp_path / "mutant", tmp_path / "merged"

    async def both() -> None:
        await run_sut(None, CASES, out=good)
        await run_sut(AcceptsBlockedIdTag, CASES, out=bad)

    asyncio.run(asyncio.wait_for(both(), 120))
    result = cli("report", "--merge", str(good), str(bad), "--out", str(merged))
    assert result.returncode == 0, result.stderr
    page = (merged / "index.html").read_text()
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    for case_id in CASES:
        assert case_id in text
    assert "../reference/index.html" in page and "../mutant/index.html" in page
    # both runs ran only 3 of the profile's cases: partial runs, judged on those 3
    assert text.count("partial run: 3 of") == 2
    assert text.count("does not meet") == 1  # the mutant's
    assert "fail" in text and "pass" in text
    assert "http://" not in page and "https://" not in page


def test_merge_needs_two_folders(tmp_path):
    result = cli("report", "--merge", str(tmp_path))
    assert result.returncode == 2
    assert "--merge needs at least two report folders" in result.stderr
