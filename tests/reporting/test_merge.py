from __future__ import annotations

import copy
import re

import pytest

from pile_interop.reporting.html import render_merge_html, write_merge_html
from pile_interop.reporting.merge import build_merge_view

from .conftest import LEAKS, PASSWORD, case_by_id


@pytest.fixture
def runs(run, mutant_run):
    """Two runs of one device (a fix changed one verdict) and a run of another profile."""
    fixed = copy.deepcopy(run)
    fixed["sut"]["firmware"] = "1.2.4"
    fixed["started"] = "2026-11-25T08:00:00.000Z"
    case = case_by_id(fixed, "TC_021_CS")
    case.update(verdict="pass", reason="")
    fixed["cases"] = [c for c in fixed["cases"] if c["id"] != "TC_040_CS"]
    fixed["profile_verdict"] = {"met": True, "text": "meets OCPP 1.6 Core - charging station"}
    return [run, fixed, mutant_run]


LABELS = ["Acme 1.2.3", "Acme 1.2.4", "reference <mutant>"]
LINKS = ["../a/index.html", "../b/index.html", None]


def _row(view, case_id):
    return next(r for b in view["blocks"] for r in b["rows"] if r["id"] == case_id)


def test_one_column_per_run_with_identity_date_and_profile_verdict(runs):
    view = build_merge_view(runs, LABELS, LINKS)
    first, second, third = view["columns"]
    assert first["identity"] == "Acme Wallbox 7 1.2.3"
    assert second["date"] == "2026-11-25 08:00:00 UTC"
    assert (first["met"], second["met"], third["met"]) == (False, True, False)
    assert third["identity"] == "pile-interop RefStation16 0.1.0"
    assert first["link"] == "../a/index.html" and third["link"] == ""


def test_rows_are_the_union_of_all_cases_grouped_by_block(runs):
    view = build_merge_view(runs, LABELS, LINKS)
    names = [b["name"] for b in view["blocks"]]
    assert names == ["Core", "Reservation", "Security"]
    ids = [r["id"] for b in view["blocks"] for r in b["rows"]]
    assert len(ids) == len(set(ids)) == view["total"]
    assert {"TC_021_CS", "TC_012_CS", "TC_040_CS", "TC_064_CS"} <= set(ids)


def test_cells_are_verdicts_linking_to_the_case_in_each_run(runs):
    view = build_merge_view(runs, LABELS, LINKS)
    row = _row(view, "TC_021_CS")
    assert [c["verdict"] for c in row["cells"]] == ["fail", "pass", "pass"]
    assert row["cells"][0]["href"] == "../a/index.html#case-TC_021_CS"
    assert row["cells"][2]["href"] == ""  # no link given for that run
    assert row["differs"] is True
    assert _row(view, "TC_003_CS")["differs"] is False


def test_a_case_missing_from_a_run_is_an_absent_cell(runs):
    row = _row(build_merge_view(runs, LABELS, LINKS), "TC_040_CS")
    assert [c["verdict_class"] for c in row["cells"]] == ["na", "absent", "absent"]
    assert row["differs"] is True


def test_labels_and_links_must_match_the_runs(runs):
    with pytest.raises(ValueError, match="labels"):
        build_merge_view(runs, LABELS[:2])
    with pytest.raises(ValueError, match="links"):
        build_merge_view(runs, LABELS, LINKS[:1])


def test_merge_page_is_self_contained_escaped_and_colour_coded(tmp_path, runs):
    path = write_merge_html(tmp_path / "merge" / "index.html", runs, LABELS, links=LINKS)
    html = path.read_text(encoding="utf-8")
    assert "reference &lt;mutant&gt;" in html and "<mutant>" not in html
    assert '<td class="cell fail"' in html
    assert 'href="../a/index.html#case-TC_021_CS"' in html
    assert '<tr class="verdicts">' in html
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert re.search(r"default-src &#39;none&#39;|default-src 'none'", html)


def test_merge_page_is_redacted(runs, redactor):
    case_by_id(runs[0], "TC_021_CS")["reason"] += f" sent AuthorizationKey {PASSWORD}"
    labels = [f"Acme {PASSWORD}", *LABELS[1:]]
    unredacted = render_merge_html(runs, labels, links=LINKS)
    assert PASSWORD in unredacted  # the test would show a leak
    html = render_merge_html(runs, labels, links=LINKS, redactor=redactor)
    for leak in LEAKS:
        assert leak not in html
