"""The Allure results our CLI writes render with the Allure report CLI (npm package `allure`)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pile_interop.reporting.allure import write_allure
from pile_interop.reporting.allure_labels import CATEGORIES
from pile_interop.reporting.writer import write_all
from tests.mutants.catalogue import run_sut
from tests.mutants.stations16 import WrongStopTransactionId
from tests.selftest.conftest import ROOT

ALLURE = ROOT / "node_modules" / ".bin" / "allure"


def allure_cli() -> Path:
    if ALLURE.is_file() and shutil.which("node"):
        return ALLURE
    if os.environ.get("PILE_REQUIRE_TOOLS"):
        pytest.fail(f"{ALLURE} missing: run `npm ci` (CI requires it)")
    pytest.skip(f"{ALLURE} missing: run `npm ci` to check the Allure output")


def a_run(started: str, cases: list[dict], **more: object) -> dict:
    """A run dict of the mutant station's cases, as the CLI's report gets it."""
    return {
        "suite": "pile-interop",
        "version": "test",
        "profile": "ocpp16/core-cs",
        "profile_title": "OCPP 1.6 Core - charging station",
        "sut": {"role": "cs", "vendor": "pile-interop", "model": "mutant"},
        "started": started,
        "cases": cases,
        **more,
    }


def generate(cli: Path, results: str, out: str, cwd: Path) -> None:
    """``allure generate`` in ``cwd``, bounded; its output in the assertion when it fails."""
    done = subprocess.run(
        [str(cli), "generate", results, "--output", out],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stderr + done.stdout


def test_allure_generate_renders_our_results_with_the_failure(tmp_path):
    cli = allure_cli()
    cases = asyncio.run(
        asyncio.wait_for(run_sut(WrongStopTransactionId, ["TC_003_CS", "TC_012_CS"]), 120)
    )
    run = a_run(cases["TC_003_CS"]["started"], list(cases.values()))
    write_allure(tmp_path / "allure-results", run)
    out = tmp_path / "allure-report"
    generate(cli, "allure-results", "allure-report", tmp_path)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stats"] == {"total": 2, "passed": 1, "failed": 1}
    rendered = [json.loads(p.read_text()) for p in (out / "data" / "test-results").glob("*.json")]
    failed = next(r for r in rendered if r["status"] == "failed")
    assert failed["fullName"] == "ocpp16/core-cs.TC_012_CS"
    assert "OCPP1.6 §4.10" in failed["error"]["message"]
    assert failed["steps"], "the case's steps must render as Allure steps"
    assert (out / "index.html").is_file()


def test_a_report_folder_renders_named_after_its_profile_with_categories_and_links(tmp_path):
    """`npx allure generate allure-results` in a report folder: the report is named after the
    profile (allurerc.json), SUT failures, harness errors, na and not run are categories apart,
    the environment is shown, and each case links to its id and requirements."""
    cli = allure_cli()
    cases = asyncio.run(
        asyncio.wait_for(run_sut(WrongStopTransactionId, ["TC_012_CS", "TC_017_2_CS"]), 120)
    )
    assert [c["verdict"] for c in cases.values()] == ["fail", "na"]
    never = "before-state booted not reached: the station never connected"
    undecided = dict(cases["TC_012_CS"], id="TC_013_CS", verdict="error", reason=never)
    not_run = dict(cases["TC_012_CS"], id="TC_014_CS", verdict="not_run", reason="not run: …")
    run = a_run(
        cases["TC_012_CS"]["started"], [*cases.values(), undecided, not_run], against="reference"
    )
    folder = tmp_path / "report"
    assert write_all(folder, run) == []
    generate(cli, "allure-results", "allure-report", folder)
    out = folder / "allure-report"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["name"] == "OCPP 1.6 Core - charging station (ocpp16/core-cs)"
    tree = json.loads((out / "widgets" / "categories.json").read_text())
    counts = {
        node["name"]: node["statistic"]["total"]
        for node in tree["nodes"].values()
        if node.get("type") == "category"
    }
    names = [c["name"] for c in CATEGORIES]
    assert counts == {names[0]: 1, names[1]: 1, names[2]: 1, names[3]: 1}
    environment = {
        e["name"]: e["values"]
        for e in json.loads((out / "widgets/allure_environment.json").read_text())
    }
    assert environment["profile"] == ["ocpp16/core-cs"] and environment["sut.model"] == ["mutant"]
    rendered = [json.loads(p.read_text()) for p in (out / "data" / "test-results").glob("*.json")]
    failed = next(r for r in rendered if r["status"] == "failed")
    links = {(x["type"], x["name"]) for x in failed["links"]}
    assert ("tms", "TC_012_CS") in links
    assert any(kind == "requirement" and name.startswith("OCPP1.6 §") for kind, name in links)
    urls = [x["url"] for x in failed["links"]]
    assert urls[0] == "../index.html#case-TC_012_CS"
    assert urls[1:] == [f"{urls[0]}-req-{n}" for n in range(1, len(urls))]
    page = (folder / "index.html").read_text()
    assert all(f'id="{url.split("#")[1]}"' in page for url in urls)  # every link lands
