from __future__ import annotations

import re

from pile_interop.reporting.html import build_view, render_html, write_html

from .conftest import PASSWORD, PROFILE_TITLE, case_by_id


def test_html_names_every_case_and_links_to_its_details(tmp_path, run):
    html = write_html(tmp_path / "index.html", run).read_text(encoding="utf-8")
    for case in run["cases"]:
        assert case["id"] in html
    view = build_view(run)
    for case in view["cases"]:
        assert f'href="#{case["anchor"]}"' in html
        assert f'id="{case["anchor"]}"' in html


def test_html_shows_verdicts_profile_verdict_sut_and_the_failing_reason(run):
    html = render_html(run)
    assert '<span class="v fail">fail</span>' in html
    assert '<span class="v warn">warn</span>' in html
    assert f"does not meet {PROFILE_TITLE}" in html
    assert "Wallbox 7" in html and "1.2.3" in html and "CP-0001" in html
    assert "ChangeConfiguration answered with a CALLERROR" in html
    assert "Heartbeat after 75 s" in html


def test_html_escapes_markup_and_control_characters_from_frames(run):
    html = render_html(run)
    assert "<b>bold</b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co \\x01 done" in html
    assert "&#34;&lt;&amp;&gt; boom&#34;" in html
    assert "\x01" not in html


def test_html_is_self_contained(run):
    html = render_html(run)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html, re.IGNORECASE)
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    assert "@import" not in html and "url(" not in html
    assert "http://" not in html and "https://" not in html


def test_view_model_fills_in_missing_summary_and_profile_verdict(run):
    del run["summary"], run["profile_verdict"]
    view = build_view(run)
    assert {s["verdict"]: s["count"] for s in view["summary"]}["fail"] == 1
    assert view["profile_verdict"]["met"] is False


def test_empty_interrupted_run_renders(run):
    run.update(cases=[], summary=None, profile_verdict=None, finished=None, interrupted=True)
    html = render_html(run)
    assert "no case ran" in html
    assert "interrupted" in html


def test_html_is_redacted(run, redactor):
    assert PASSWORD in case_by_id(run, "TC_021_CS")["frames"][1]["raw"]
    assert PASSWORD not in render_html(run, redactor=redactor)
