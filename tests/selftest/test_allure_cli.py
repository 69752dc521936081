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


def test_allure_generate_renders_our_results_with_the_failure(tmp_path):
    cli = allure_cli()
    cases = asyncio.run(
        asyncio.wait_for(run_sut(WrongStopTransactionId, ["TC_003_CS", "TC_012_CS"]), 120)
    )
    run = {
        "suite": "pile-interop",
        "version": "test",
        "profile": "ocpp16/core-cs",
        "profile_title": "OCPP 1.6 Core - charging station",
        "sut": {"role": "cs", "vendor": "pile-interop", "model": "mutant"},
        "started": cases["TC_003_CS"]["started"],
        "cases": list(cases.values()),
    }
    results = tmp_path / "allure-results"
    write_allure(results, run)
    out = tmp_path / "allure-report"
    done = subprocess.run(
        [str(cli), "generate", str(results), "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stderr + done.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stats"] == {"total": 2, "passed": 1, "failed": 1}
    rendered = [json.loads(p.read_text()) for p in (out / "data" / "test-results").glob("*.json")]
    failed = next(r for r in rendered if r["status"] == "failed")
    assert failed["fullName"] == "ocpp16/core-cs.TC_012_CS"
    assert "OCPP1.6 §4.10" in failed["error"]["message"]
    assert failed["steps"], "the case's steps must render as Allure steps"
    assert (out / "index.html").is_file()
