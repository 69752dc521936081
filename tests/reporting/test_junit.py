from __future__ import annotations

import xml.etree.ElementTree as ET

from pile_interop.reporting.junit import write_junit

from .conftest import PASSWORD, PROFILE, case_by_id


def _write(tmp_path, run, **kwargs):
    path = write_junit(tmp_path / "junit.xml", run, **kwargs)
    return path, ET.parse(path).getroot()


def _testcase(root, case_id):
    return root.find(f".//testcase[@name='{case_id}']")


def test_one_suite_named_after_the_profile_with_the_right_counts(tmp_path, run):
    _, root = _write(tmp_path, run)
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    assert suite.get("name") == PROFILE
    assert (
        suite.get("tests"),
        suite.get("failures"),
        suite.get("errors"),
        suite.get("skipped"),
    ) == (
        "5",
        "1",
        "1",
        "1",
    )
    assert suite.get("time") == "31.300"
    assert root.get("tests") == "5"


def test_testcases_carry_classname_time_requirements_and_verdict(tmp_path, run):
    _, root = _write(tmp_path, run)
    case = _testcase(root, "TC_021_CS")
    assert case.get("classname") == f"{PROFILE}.Core"
    assert case.get("time") == "2.500"
    props = [(p.get("name"), p.get("value")) for p in case.findall("properties/property")]
    assert ("requirement", "OCPP1.6 §5.3") in props
    assert ("requirement", "OCPP1.6 §4.2") in props
    assert ("verdict", "fail") in props
    assert _testcase(root, "TC_040_CS").get("classname") == f"{PROFILE}.Reservation"


def test_fail_gives_a_failure_with_the_reason_and_expected_vs_observed(tmp_path, run):
    _, root = _write(tmp_path, run)
    failure = _testcase(root, "TC_021_CS").find("failure")
    assert failure.get("message") == case_by_id(run, "TC_021_CS")["reason"]
    assert "expected: ChangeConfiguration.conf {status: Accepted}" in failure.text
    assert 'observed: CALLERROR InternalError "<&> boom"' in failure.text


def test_error_na_and_warn_map_to_error_skipped_and_a_passing_note(tmp_path, run):
    _, root = _write(tmp_path, run)
    error = _testcase(root, "TC_061_CS").find("error")
    assert error.get("message").startswith("cannot load the test PKI")
    skipped = _testcase(root, "TC_040_CS").find("skipped")
    assert skipped.get("message").startswith("not applicable")
    warned = _testcase(root, "TC_010_CS")
    assert warned.find("failure") is None and warned.find("skipped") is None
    assert "Heartbeat after 75 s" in warned.find("system-err").text
    passed = _testcase(root, "TC_003_CS")
    assert [child.tag for child in passed] == ["properties", "system-out"]


def test_wire_log_is_system_out_and_control_characters_do_not_break_the_xml(tmp_path, run):
    path, root = _write(tmp_path, run)
    out = _testcase(root, "TC_021_CS").find("system-out").text
    assert "← CALLERROR ChangeConfiguration" in out
    assert "<b>bold</b> & co \\x01 done" in out
    assert "! CALLERROR InternalError for a supported key" in out
    assert b"\x01" not in path.read_bytes()
    assert b"&lt;b&gt;bold" in path.read_bytes()


def test_junit_is_redacted(tmp_path, run, redactor):
    path, _ = _write(tmp_path, run, redactor=redactor)
    assert PASSWORD not in path.read_text(encoding="utf-8")


def test_failure_text_quotes_the_requirement_then_expected_and_observed(tmp_path, mutant_run):
    _, root = _write(tmp_path, mutant_run)
    case = _testcase(root, "TC_012_CS")
    assert case.get("classname") == "ocpp16/core-cs.Core"
    props = [p.get("value") for p in case.findall("properties/property[@name='requirement']")]
    assert props == ["OCPP1.6 §5.12", "OCPP1.6 §4.10", "OCPP1.6 §4.9"]
    failure = case.find("failure")
    assert failure.get("message").startswith("[OCPP1.6 §4.10] No StopTransaction")
    lines = failure.text.splitlines()
    assert lines[0].startswith("step 8: expect StopTransaction")
    assert lines[1].startswith("  requirement: OCPP1.6 §4.10 — StopTransaction.req carries")
    assert lines[2].startswith('  expected: StopTransaction {"transactionId": 1005')
    assert lines[3].startswith("  observed: StopTransaction at +0.010 s") and "got 1006" in lines[3]


def test_wire_log_has_a_legend_and_the_time_of_each_frame(tmp_path, mutant_run):
    _, root = _write(tmp_path, mutant_run)
    out = _testcase(root, "TC_012_CS").find("system-out").text.splitlines()
    assert out[0].startswith("wire log: seconds since the case started, UTC time")
    stop = next(line for line in out if "CALL StopTransaction" in line)
    assert stop.split()[:3] == ["0.010", "06:54:38.462", "←"]
    assert '"transactionId":1006' in stop
