from __future__ import annotations

import base64
import hashlib
import json
import re

from pile_interop.reporting.html import (
    build_view,
    canonical_json,
    case_anchors,
    render_html,
    write_html,
)
from pile_interop.reporting.redact import redact

from .conftest import PASSWORD, PROFILE_TITLE, case_by_id


def _case_view(view, case_id):
    return next(case for case in view["cases"] if case["id"] == case_id)


def _section(html, anchor):
    """The HTML of one case's section."""
    start = html.index('<section class="case')
    start = html.index(f'id="{anchor}"', start)
    return html[start : html.index("</section>", start)]


# -- the page as a whole ---------------------------------------------------------------------


def test_html_names_every_case_and_links_to_its_details(tmp_path, run):
    html = write_html(tmp_path / "index.html", run).read_text(encoding="utf-8")
    view = build_view(run)
    for case in view["cases"]:
        assert case["id"] in html
        assert f'href="#{case["anchor"]}"' in html
        assert f'id="{case["anchor"]}"' in html


def test_html_shows_verdicts_profile_verdict_sut_and_the_failing_reason(run):
    html = render_html(run)
    assert '<span class="v fail">fail</span>' in html
    assert '<span class="v warn">warn</span>' in html
    assert f"does not meet {PROFILE_TITLE}" in html
    assert "Wallbox 7" in html and "1.2.3" in html and "CP-0001" in html and "SN-42" in html
    assert "ChangeConfiguration answered with a CALLERROR" in html
    assert "Heartbeat after 75 s" in html


def test_html_escapes_markup_and_control_characters_from_frames(run):
    html = render_html(run)
    assert "<b>bold</b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co \\x01 done" in html
    assert "&#34;&lt;&amp;&gt; boom&#34;" in html
    assert "\x01" not in html


def test_html_is_self_contained_and_its_only_script_is_inline_and_allowed_by_the_csp(run):
    html = render_html(run)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html, re.IGNORECASE)
    assert "<link" not in html.lower()
    assert "@import" not in html and "url(" not in html
    assert "http://" not in html and "https://" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.DOTALL)
    assert len(scripts) == 1
    attrs, body = scripts[0]
    assert attrs == ""  # no src, no type: inline
    assert "fetch(" not in body and "XMLHttpRequest" not in body and "import(" not in body
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    assert csp is not None
    policy = csp.group(1).replace("&#39;", "'")
    assert "default-src 'none'" in policy
    digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy


def test_rendering_is_deterministic(run):
    assert render_html(run) == render_html(run)


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


def test_run_with_missing_fields_renders(run):
    run.update(sut=None, profile_title=None, started=None, duration_s=None)
    for case in run["cases"]:
        case.pop("block")
        case["steps"] = [{"verdict": "fail"}] if case["verdict"] == "fail" else None
        case["frames"] = None
    html = render_html(run)
    assert "TC_021_CS" in html


def test_html_is_redacted(run, redactor):
    assert PASSWORD in case_by_id(run, "TC_021_CS")["frames"][1]["raw"]
    assert PASSWORD not in render_html(run, redactor=redactor)


# -- header: identity, verdict, declared features --------------------------------------------


def test_banner_lists_failed_and_errored_cases_mandatory_first_with_the_broken_requirement(run):
    case_by_id(run, "TC_061_CS")["mandatory"] = False
    view = build_view(run)
    assert [c["id"] for c in view["attention"]] == ["TC_021_CS", "TC_061_CS"]
    assert view["attention"][0]["broken"] == ["OCPP1.6 §5.3"]
    banner = render_html(run).split('id="verdict"', 1)[1].split("</div>\n", 2)
    assert 'href="#case-TC_021_CS"' in "".join(banner)


def test_identity_shows_what_the_sut_reported_and_notes_where_the_descriptor_differs(run):
    run["sut"]["declared"] = {"vendor": "Acme", "firmware": "1.2.0", "features": {}}
    rows = {row["label"]: row for row in build_view(run)["sut_rows"]}
    assert rows["Firmware"]["value"] == "1.2.3"
    assert rows["Firmware"]["note"] == "the device descriptor says 1.2.0"
    assert rows["Vendor"]["note"] == ""
    assert rows["Role"]["value"].startswith("charging station")


def test_declared_features_say_which_cases_they_made_not_applicable(mutant_run):
    declared = build_view(mutant_run)["declared"]
    features = {f["name"]: f for f in declared["features"]}
    assert features["fixed_cable"]["declared"] == "yes"
    assert [ref["id"] for ref in features["fixed_cable"]["na_cases"]] == ["TC_017_1_CS"]
    assert features["authorization_cache"]["na_cases"] == []
    assert ("Connectors", "2") in declared["info"]


def test_a_feature_the_descriptor_does_not_declare_is_listed_as_not_declared(run):
    case = case_by_id(run, "TC_040_CS")
    case["reason"] = "device descriptor: reservation not declared, the case needs true"
    run["sut"]["declared"] = {"features": {"fixed_cable": False}}
    features = {f["name"]: f for f in build_view(run)["declared"]["features"]}
    assert features["reservation"]["declared"] == "not declared"
    assert features["reservation"]["na_cases"][0]["anchor"] == "case-TC_040_CS"


def test_not_applicable_cases_without_a_feature_are_listed_apart(run):
    declared = build_view(run)["declared"]
    assert [ref["id"] for ref in declared["other_na"]] == ["TC_040_CS"]


# -- matrix -------------------------------------------------------------------------------


def test_matrix_groups_cases_by_block_in_order_of_first_appearance(run):
    blocks = build_view(run)["blocks"]
    assert [b["name"] for b in blocks] == ["Core", "Reservation", "Security"]
    assert [c["id"] for c in blocks[0]["cases"]] == ["TC_003_CS", "TC_021_CS", "TC_010_CS"]
    assert blocks[0]["counts"] == "1 pass, 1 fail, 1 warn"


def test_matrix_rows_carry_verdict_and_search_text_for_the_filters(run):
    html = render_html(run)
    row = re.search(r'<tr class="case-row fail" data-verdict="fail" data-search="([^"]*)">', html)
    assert row is not None
    assert "tc_021_cs" in row.group(1) and "§5.3" in row.group(1)
    assert 'id="filters" hidden' in html  # shown by the script only


def test_matrix_says_what_was_observed_for_a_failed_case(mutant_run):
    case = _case_view(build_view(mutant_run), "TC_012_CS")
    assert case["why"].startswith("observed: StopTransaction")
    assert "got 1006" in case["why"]


def test_case_anchors_are_stable_and_unique():
    cases = [{"id": "TC_1"}, {"id": "A B"}, {"id": "A_B"}, {"id": None}]
    assert case_anchors(cases) == ["case-TC_1", "case-A_B", "case-A_B-2", "case-unnamed"]


# -- case details -------------------------------------------------------------------------


def test_failing_step_is_shown_h2spec_style_requirement_expected_actual(run):
    case = _case_view(build_view(run), "TC_021_CS")
    (problem,) = case["problems"]
    assert problem["requirement"] == "OCPP1.6 §5.3"
    assert problem["requirement_text"] == "ChangeConfiguration.conf for a known key"
    assert problem["expected"] == "ChangeConfiguration.conf {status: Accepted}"
    assert problem["observed"] == 'CALLERROR InternalError "<&> boom"'
    assert problem["head"].startswith("Step 2 failed: expect ChangeConfiguration.conf")
    assert [f["seq"] for f in problem["sent"]] == ["6"]
    section = _section(render_html(run), case["anchor"])
    assert section.index("Expected:") < section.index("Actual:") < section.index("<h4>Steps")


def test_failing_step_row_is_highlighted_and_broken_requirement_marked(run):
    case = _case_view(build_view(run), "TC_021_CS")
    assert [s["problem"] for s in case["steps"]] == [False, True]
    assert [r["broken"] for r in case["requirements"]] == [True, False]
    section = _section(render_html(run), case["anchor"])
    assert 'class="sv-fail problem"' in section
    assert '<span class="badge">broken</span>' in section


def test_a_wait_that_timed_out_shows_what_the_sut_sent_meanwhile(mutant_run):
    case = _case_view(build_view(mutant_run), "TC_012_CS")
    (problem,) = case["problems"]
    assert problem["requirement"] == "OCPP1.6 §4.10"
    assert problem["requirement_text"].startswith("StopTransaction.req carries the transactionId")
    assert problem["expected"].startswith('StopTransaction {"transactionId": 1005')
    assert "got 1006" in problem["observed"]
    first = problem["sent"][0]
    assert first["action"] == "StopTransaction" and '"transactionId":1006' in first["raw"]
    assert case["broken"] == ["OCPP1.6 §4.10"]


def test_a_failure_without_steps_is_explained_from_its_reason(run):
    case = case_by_id(run, "TC_021_CS")
    case["steps"] = []
    (problem,) = _case_view(build_view(run), "TC_021_CS")["problems"]
    assert problem["requirement"] == "OCPP1.6 §5.3"
    assert problem["expected"] == "ChangeConfiguration.conf {status: Accepted}"
    assert problem["observed"] == "CALLERROR InternalError."


def test_passing_cases_are_collapsed_and_problem_cases_open(run):
    html = render_html(run)
    assert "<details open>" in _section(html, "case-TC_021_CS")
    assert "<details open>" in _section(html, "case-TC_010_CS")
    assert "<details>" in _section(html, "case-TC_003_CS")


def test_case_detail_has_a_sequence_diagram_and_the_wire_log_with_times(run):
    section = _section(render_html(run), "case-TC_021_CS")
    assert section.count("<svg") == 1
    assert "Central System (pile-interop)" in section and "Charge Point CP-0001" in section
    assert "05:46:06.000" in section  # the frame's UTC time of day
    assert "from SUT" in section and "to SUT" in section


def test_lifelines_follow_the_sut_role_and_version(run):
    run["sut"].update(role="csms", ocpp="2.0.1", model="CSMS-X")
    view = build_view(run)
    assert view["suite_name"] == "Charging Station (pile-interop)"
    assert view["sut_name"] == "CSMS CSMS-X"


# -- evidence -------------------------------------------------------------------------------


def test_footer_shows_the_results_json_hash_and_how_to_check_it(run):
    digest = "ab" * 32
    html = render_html(run, results_sha256=digest)
    footer = html[html.index("<footer>") :]
    assert f'<code id="evidence-sha256">{digest}</code>' in footer
    assert "sha256sum results.json" in footer


def test_without_results_json_the_footer_hashes_the_canonical_run_and_says_so(run):
    html = render_html(run)
    digest = hashlib.sha256(canonical_json(redact(run))).hexdigest()  # the data as shown
    footer = html[html.index("<footer>") :]
    assert digest in footer
    assert "canonical JSON" in footer and "sha256sum" not in footer
    assert json.loads(canonical_json(run)) == json.loads(json.dumps(run))
