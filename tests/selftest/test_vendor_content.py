"""A vendor's own cases and profiles beside the suite's (``--content``, ``--pile-content``, a
descriptor's ``content:``), and the plugin collecting only the cases it was pointed at."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.selftest.conftest import ROOT, cli

pytest_plugins = ["pytester"]
CASES = ROOT / "conformance" / "ocpp16" / "cs"


def _vendor_repo(repo: Path) -> Path:
    """A vendor's repository: its content folder pile/ (a profile of one suite case and one
    case of its own), a device descriptor naming it, its own tests, and an unrelated
    TC_*.yaml that is no case at all."""
    profile = yaml.safe_load((ROOT / "profiles/ocpp16/core-cs.yaml").read_text())
    profile.update(id="acme/smoke-cs", title="ACME smoke")
    profile["cases"] = {"mandatory": ["TC_003_CS", "TC_ACME_040_CS"]}
    (repo / "pile/profiles/acme").mkdir(parents=True)
    (repo / "pile/profiles/acme/smoke-cs.yaml").write_text(yaml.safe_dump(profile))
    (repo / "pile/conformance").mkdir()
    (repo / "pile/conformance/TC_ACME_040_CS.yaml").write_text(
        (CASES / "TC_040_1_CS.yaml")
        .read_text()
        .replace("id: TC_040_1_CS", "id: TC_ACME_040_CS")
        .replace("profiles: [ocpp16/core-cs]", "profiles: [acme/smoke-cs]")
    )
    (repo / "pile/conformance/_states.yaml").write_text((CASES / "_states.yaml").read_text())
    (repo / "devices").mkdir()
    device = (ROOT / "fixtures/devices/reference-station16.yaml").read_text()
    (repo / "devices/station.yaml").write_text(device + "content: [../pile]\n")
    (repo / "tests").mkdir()
    (repo / "tests/TC_777_CS.yaml").write_text("this: is not a pile-interop case\n")
    (repo / "tests/test_own.py").write_text("def test_own():\n    pass\n")
    return repo


@pytest.mark.parametrize(
    "how", [["--pile-content", "pile"], ["--pile-device", "devices/station.yaml"]]
)
def test_the_plugin_runs_a_vendor_profile_by_id_and_not_an_unrelated_tc_file(pytester, how):
    """``--pile-profile`` with no case on the command line: the profile's cases (one of the
    suite's, one of the vendor's) and the vendor's own tests; tests/TC_777_CS.yaml is not
    collected (it would be a collection error)."""
    _vendor_repo(pytester.path)
    result = pytester.runpytest_subprocess(
        "--pile-profile", "acme/smoke-cs", *how, "-v", "-p", "no:cacheprovider", timeout=120
    )
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        ["*acme/smoke-cs::TC_003_CS PASSED*", "*acme/smoke-cs::TC_ACME_040_CS PASSED*"]
    )
    result.stdout.no_fnmatch_line("*TC_777*")


def test_cases_named_on_the_command_line_run_instead_of_the_profile(pytester):
    _vendor_repo(pytester.path)
    result = pytester.runpytest_subprocess(
        "tests",
        "pile/conformance/TC_ACME_040_CS.yaml",
        "--pile-content",
        "pile",
        "--pile-profile",
        "acme/smoke-cs",
        "-p",
        "no:cacheprovider",
        timeout=120,
    )
    result.assert_outcomes(passed=2)  # TC_ACME_040_CS and test_own; no TC_003_CS, no TC_777


def test_the_cli_lists_and_runs_a_vendor_profile_named_by_a_descriptor(tmp_path):
    repo = _vendor_repo(tmp_path / "repo")
    listed = cli("list", "--profile", "acme/smoke-cs", "--content", "pile", "--json", cwd=repo)
    assert listed.returncode == 0, listed.stderr
    rows = {r["id"]: r for r in json.loads(listed.stdout)}
    assert list(rows) == ["TC_003_CS", "TC_ACME_040_CS"]
    assert rows["TC_ACME_040_CS"]["path"] == str(repo / "pile/conformance/TC_ACME_040_CS.yaml")
    assert rows["TC_003_CS"]["path"] == "conformance/ocpp16/cs/TC_003_CS.yaml"
    out = tmp_path / "report"
    run = cli(
        "run",
        "--profile",
        "acme/smoke-cs",
        "--device",
        "devices/station.yaml",
        "--against",
        "reference",
        "--out",
        str(out),
        cwd=repo,
    )
    assert run.returncode == 0, run.stderr
    results = json.loads((out / "results.json").read_text())
    assert [(c["id"], c["verdict"]) for c in results["cases"]] == [
        ("TC_003_CS", "pass"),
        ("TC_ACME_040_CS", "pass"),
    ]


def test_a_vendor_profile_with_a_suite_profile_id_is_exit_2_naming_both(tmp_path):
    (tmp_path / "mine/profiles/ocpp16").mkdir(parents=True)
    (tmp_path / "mine/profiles/ocpp16/core-cs.yaml").write_text("id: ocpp16/core-cs\n")
    result = cli("list", "--profile", "ocpp16/core-cs", "--content", str(tmp_path / "mine"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "profile 'ocpp16/core-cs' is defined twice" in result.stderr


def test_an_unknown_profile_is_a_collection_error_naming_the_known_ones(pytester):
    result = pytester.runpytest_subprocess(
        "--pile-profile", "acme/none", "-p", "no:cacheprovider", timeout=60
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*unknown profile 'acme/none' (known: *ocpp16/core-cs*"])
