"""Allure as CI users expect it, on the pytest route too: links to the official case id and the
requirements, the run's environment, categories and the report named after the profile."""

from __future__ import annotations

import json

from pile_interop.reporting.allure_labels import CATEGORIES, REPORT_URL_ENV
from tests.selftest.conftest import ROOT

pytest_plugins = ["pytester"]
CASES = ROOT / "conformance" / "ocpp16" / "cs"


def test_the_pytest_route_writes_links_environment_categories_and_name(
    pytester, tmp_path, monkeypatch
):
    monkeypatch.setenv(REPORT_URL_ENV, "https://ci.example/job/7/report/index.html")
    allure_dir = tmp_path / "allure"
    result = pytester.runpytest_subprocess(
        str(CASES / "TC_003_CS.yaml"),
        "--pile-root", str(ROOT), "--alluredir", str(allure_dir), "-p", "no:cacheprovider",
        timeout=120,
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    [case] = [json.loads(p.read_text()) for p in allure_dir.glob("*-result.json")]
    url = "https://ci.example/job/7/report/index.html#case-TC_003_CS"
    links = {(x["type"], x["name"], x["url"]) for x in case["links"]}
    assert ("tms", "TC_003_CS", url) in links
    requirement = [x for x in case["links"] if x["type"] == "requirement"]
    assert [x["name"].split(":")[0] for x in requirement] == [
        "OCPP1.6 §4.9",
        "OCPP1.6 §4.1",
        "OCPP1.6 §4.8",
    ]
    assert "SHALL send a StatusNotification.req" in requirement[0]["name"]  # the text
    environment = (allure_dir / "environment.properties").read_text()
    assert "profile=ocpp16/core-cs" in environment
    assert "against=reference" in environment and "sut.vendor=pile-interop" in environment
    assert json.loads((allure_dir / "categories.json").read_text()) == CATEGORIES
    executor = json.loads((allure_dir / "executor.json").read_text())
    assert executor["reportName"] == "OCPP 1.6 Core - charging station (ocpp16/core-cs)"
