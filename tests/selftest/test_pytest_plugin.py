"""The pytest way in: YAML cases as items, verdicts as outcomes, Python cases with markers."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.selftest.conftest import ROOT, free_port

pytest_plugins = ["pytester"]
CASES = ROOT / "conformance" / "ocpp16" / "cs"
#: The labels allure-pytest adds to every test itself (besides framework=pytest).
ALLURE_PYTEST_OWN = {"host", "thread", "language", "package"}


def test_yaml_cases_run_as_items_and_write_the_report_and_allure(pytester, tmp_path):
    out, allure_dir = tmp_path / "report", tmp_path / "allure"
    result = pytester.runpytest_subprocess(
        str(CASES / "TC_003_CS.yaml"),
        str(CASES / "TC_040_1_CS.yaml"),
        "--pile-root",
        str(ROOT),
        "--pile-out",
        str(out),
        "--alluredir",
        str(allure_dir),
        "-p",
        "no:cacheprovider",
        timeout=120,
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*2 passed*"])
    run = json.loads((out / "results.json").read_text())
    assert [c["id"] for c in run["cases"]] == ["TC_003_CS", "TC_040_1_CS"]
    allure = [json.loads(p.read_text()) for p in allure_dir.glob("*-result.json")]
    by_name = {r["name"]: r for r in allure}
    assert by_name["TC_003_CS"]["status"] == "passed"
    steps = [s["name"] for s in by_name["TC_003_CS"]["steps"]]
    assert any("expect StatusNotification" in s for s in steps)
    assert any(a["name"] == "wire log" for a in by_name["TC_003_CS"]["attachments"])
    labels = {(x["name"], x["value"]) for x in by_name["TC_003_CS"]["labels"]}
    assert {("suite", "ocpp16/core-cs"), ("feature", "Core"), ("severity", "critical")} <= labels
    assert ("as_id", "TC_003_CS") in labels
    # one Allure mapping: the plugin labels a case as the report's allure-results/ does
    written = [json.loads(p.read_text()) for p in (out / "allure-results").glob("*-result.json")]
    (cli_result,) = [r for r in written if r["testCaseId"] == "TC_003_CS"]
    plugin_labels = [
        (x["name"], x["value"])
        for x in by_name["TC_003_CS"]["labels"]
        if x["name"] not in ALLURE_PYTEST_OWN and (x["name"], x["value"]) != ("framework", "pytest")
    ]
    assert plugin_labels == [(x["name"], x["value"]) for x in cli_result["labels"]]


def test_a_failing_yaml_case_shows_requirement_expected_and_actual(pytester, tmp_path):
    root = tmp_path / "root"
    (root / "conformance" / "ocpp16" / "cs").mkdir(parents=True)
    (root / "profiles").symlink_to(ROOT / "profiles")
    (root / "fixtures").symlink_to(ROOT / "fixtures")
    shutil.copy(CASES / "_states.yaml", root / "conformance/ocpp16/cs/_states.yaml")
    case = root / "conformance/ocpp16/cs/TC_040_1_CS.yaml"
    # a case with a wrong expectation: the reference station rightly answers NotSupported
    case.write_text(
        (CASES / "TC_040_1_CS.yaml")
        .read_text()
        .replace("expect_result: {status: NotSupported}", "expect_result: {status: Accepted}")
    )
    result = pytester.runpytest_subprocess(
        str(case), "--pile-root", str(root), "-p", "no:cacheprovider", timeout=120
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*[[]OCPP1.6 §5.3[]] ChangeConfiguration response does not match*",
            '*Expected: CALLRESULT {"status": "Accepted"}*',
            '*Actual:   ChangeConfiguration result {"status": "NotSupported"}*',
            "*last frames:*",
        ]
    )


def test_a_case_written_in_python_carries_the_same_metadata_as_markers(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.pile_case(
            id="TC_019_1_CS", title="Every key reads back alone as in the full list",
            requirements=["OCPP1.6 §5.8"], ocpp="1.6", sut="cs", profiles=["ocpp16/core-cs"],
        )
        def test_each_key_reads_back(pile_env):
            async def body(env):
                await env.session.wait_connected(10)
                every = await env.session.call("GetConfiguration", {}, timeout=5)
                keys = every.payload["configurationKey"]
                assert len(keys) > 20
                for entry in keys:
                    one = await env.session.call(
                        "GetConfiguration", {"key": [entry["key"]]}, timeout=5)
                    assert one.payload["configurationKey"] == [entry], entry["key"]

            pile_env.run(body, timeout=60)
        """
    )
    result = pytester.runpytest_subprocess(
        "--pile-root", str(ROOT), "-p", "no:cacheprovider", timeout=120
    )
    result.assert_outcomes(passed=1)


def test_csms_cases_run_as_items_against_the_reference_csms(pytester):
    """A CSMS vendor's CI: the _CSMS cases as pytest items (the suite plays the station)."""
    cases = ROOT / "conformance" / "ocpp16" / "csms"
    result = pytester.runpytest_subprocess(
        str(cases / "TC_010_CSMS.yaml"),
        str(cases / "TC_023_3_CSMS.yaml"),
        "--pile-root",
        str(ROOT),
        "-p",
        "no:cacheprovider",
        timeout=120,
    )
    result.assert_outcomes(passed=2)


def test_connect_needs_a_device(pytester):
    result = pytester.runpytest_subprocess(
        str(ROOT / "conformance" / "ocpp16" / "csms" / "TC_010_CSMS.yaml"),
        "--pile-root",
        str(ROOT),
        "--pile-against",
        "connect:ws://127.0.0.1:9/ocpp",
        "-p",
        "no:cacheprovider",
        timeout=60,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*--pile-against connect:* needs --pile-device*"])


def test_a_prompt_actuator_without_a_terminal_stops_the_session_with_exit_2(pytester):
    """Under pytest nobody can answer a prompt (standard input is captured or not a terminal):
    the first item stops the session at once with exit 2 and one line, as the CLI does."""
    device = ROOT / "fixtures" / "devices" / "example-station16-lab.yaml"  # a prompt actuator
    result = pytester.runpytest_subprocess(
        str(ROOT / "conformance" / "ocpp16" / "cs" / "TC_003_CS.yaml"),
        "--pile-root",
        str(ROOT),
        "--pile-against",
        "listen:127.0.0.1:0",
        "--pile-device",
        str(device),
        "-p",
        "no:cacheprovider",
        timeout=60,
    )
    assert result.ret == 2
    result.stdout.fnmatch_lines(["*the prompt actuator needs a terminal*"])


@pytest.mark.parametrize(
    "cases", [["cs/TC_B_06_CS.yaml", "cs/TC_E_04_CS.yaml"], ["csms/TC_B_06_CSMS.yaml"]]
)
def test_ocpp201_yaml_cases_run_as_items(pytester, tmp_path, cases):
    """2.0.1 cases of either role as pytest items, against the embedded reference SUT (one
    pytest session tests one SUT)."""
    folder = ROOT / "conformance" / "ocpp201"
    result = pytester.runpytest_subprocess(
        *[str(folder / case) for case in cases],
        "--pile-root",
        str(ROOT),
        "--pile-out",
        str(tmp_path / "report"),
        "-p",
        "no:cacheprovider",
        timeout=120,
    )
    result.assert_outcomes(passed=len(cases))


#: A reference charger on a virtual CAN channel in the pytest process, its manual actions over
#: the webhook actuator's HTTP format: a bench as ``--pile-against can:…`` meets it.
BENCH_CONFTEST = """
import asyncio
import threading

import can

from pile_interop.actuators.reference import ReferenceActuator
from pile_interop.gbt27930.charger import Charger27930
from pile_interop.ocpp.serve import start_control


def pytest_configure(config):
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="bench", daemon=True).start()
    bus = can.Bus(interface="virtual", channel=CHANNEL)
    charger = Charger27930(bus, variant="2015")
    asyncio.run_coroutine_threadsafe(charger.start(), loop).result(10)
    start_control(ReferenceActuator(charger), loop, "127.0.0.1", PORT)
"""


@pytest.mark.timing  # a live GB/T session (10-250 ms periods): tox's calm phase
def test_a_gbt_case_runs_as_an_item_against_a_charger_on_a_can_bus(pytester, tmp_path):
    """``--pile-against can:virtual:CH``: the plugin reaches a GB/T 27930 charger on a CAN
    bus, resolved as the CLI's ``--can`` (the device descriptor says what the SUT is)."""
    channel, port = f"pile-plugin-{free_port()}", free_port()
    pytester.makeconftest(f"CHANNEL = {channel!r}\nPORT = {port}\n" + BENCH_CONFTEST)
    cases = ROOT / "conformance" / "gbt27930" / "charger"
    for name in ("_states.yaml", "DN.1001.yaml"):
        shutil.copy(cases / name, pytester.path / name)
    device = tmp_path / "bench-charger.yaml"
    device.write_text(
        "name: bench charger\nvendor: ACME\nmodel: DC-60\nrole: charger\n"
        'gbt27930:\n  variant: "2015"\n'
        f"actuator:\n  type: webhook\n  url: http://127.0.0.1:{port}/actions\n"
    )
    out = tmp_path / "report"
    result = pytester.runpytest_subprocess(
        str(pytester.path / "DN.1001.yaml"),
        "--pile-root",
        str(ROOT),
        "--pile-against",
        f"can:virtual:{channel}",
        "--pile-device",
        str(device),
        "--pile-out",
        str(out),
        "-p",
        "no:cacheprovider",
        timeout=120,
    )
    result.assert_outcomes(passed=1)
    run = json.loads((out / "results.json").read_text())
    assert run["against"] == f"can virtual:{channel}"
    assert run["sut"]["protocol"] == "GB/T 27930-2015"
    assert [(c["id"], c["verdict"]) for c in run["cases"]] == [("DN.1001", "pass")]


def test_can_needs_a_device(pytester):
    result = pytester.runpytest_subprocess(
        str(ROOT / "conformance" / "gbt27930" / "charger" / "DN.1001.yaml"),
        "--pile-root",
        str(ROOT),
        "--pile-against",
        "can:virtual:nobody",
        "-p",
        "no:cacheprovider",
        timeout=60,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*--pile-against can:* needs --pile-device*"])
