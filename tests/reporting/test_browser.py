"""The report as a person sees it: ``index.html`` opened from disk in headless Chromium.

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and the ``playwright`` Python package
(only its driver is used: no ``playwright install``, the system Chromium is launched). Each is
skipped with a reason when absent. The report is built from a real run against a mutant
station (``data/mutant-run.json``: TC_012_CS fails, StopTransaction carries a wrong
transactionId).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pile_interop.reporting.html import write_merge_html
from pile_interop.reporting.writer import write_all

from .conftest import DATA

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: CI sets PILE_REQUIRE_TOOLS: there a missing browser fails the tests instead of skipping them
REQUIRED = bool(os.environ.get("PILE_REQUIRE_TOOLS"))
if REQUIRED:
    from playwright import sync_api
else:
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="the playwright package is not installed (pip install playwright)",
    )
pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists() and not REQUIRED,
        reason=f"{CHROMIUM} is absent (Debian: apt-get install chromium)",
    ),
]

FAILING = "case-TC_012_CS"


@dataclass
class Seen:
    """What the browser reported while a page was open."""

    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def console_errors(self) -> list[str]:
        return [text for kind, text in self.console if kind in ("error", "warning")]


def _launch(driver: Any, profile: Path, **options: Any) -> Any:
    return driver.chromium.launch_persistent_context(
        str(profile),  # a fresh user data dir: no extension, no cache, no state
        executable_path=str(CHROMIUM),
        headless=True,
        args=ARGS,
        viewport={"width": 1280, "height": 900},
        **options,
    )


def _open(context: Any, path: Path) -> tuple[Any, Seen]:
    seen = Seen()
    page = context.new_page()
    page.on("console", lambda msg: seen.console.append((msg.type, msg.text)))
    page.on("pageerror", lambda exc: seen.errors.append(str(exc)))
    page.on("request", lambda request: seen.requests.append(request.url))
    page.on("requestfailed", lambda request: seen.failed.append(request.url))
    page.goto(path.as_uri(), wait_until="load")
    return page, seen


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = json.loads((DATA / "mutant-run.json").read_text(encoding="utf-8"))
    folder = tmp_path_factory.mktemp("report")
    assert write_all(folder, run) == []
    return folder / "index.html"


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(driver: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    context = _launch(driver, tmp_path_factory.mktemp("chromium-profile"))
    yield context
    context.close()


def _in_viewport(page: Any, selector: str) -> bool:
    return page.evaluate(
        """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                      return r.top >= 0 && r.top < window.innerHeight; }""",
        selector,
    )


def test_report_opens_from_disk_without_console_errors_or_network_requests(browser, report):
    page, seen = _open(browser, report)
    page.wait_for_timeout(200)
    assert seen.errors == []
    assert seen.console_errors == []  # a CSP violation would show here too
    assert seen.requests == [report.as_uri()]
    assert seen.failed == []
    assert page.locator("#filters").is_visible()  # the inline script ran
    page.close()


def test_verdict_is_visible_and_one_click_from_the_top_shows_why_the_case_failed(
    browser, report, tmp_path
):
    page, seen = _open(browser, report)
    banner = page.locator("#verdict")
    assert banner.is_visible()
    assert "does not meet OCPP 1.6 Core - charging station" in banner.inner_text()
    assert "1 mandatory case failed" in banner.inner_text()
    page.click("#collapse-all")  # start from every case closed, as a reader may
    problem = page.locator(f"#{FAILING} div.problem")
    assert not problem.is_visible()

    page.click(f'#matrix a[href="#{FAILING}"] >> nth=0')
    page.wait_for_function(f"location.hash === '#{FAILING}'")
    assert problem.is_visible()
    assert _in_viewport(page, f"#{FAILING}")
    text = problem.inner_text()
    assert "OCPP1.6 §4.10" in text  # which requirement it broke
    assert "StopTransaction.req carries the transactionId" in text
    assert "Expected:" in text and '"transactionId": 1005' in text  # what was expected
    assert "Actual:" in text and "got 1006" in text
    assert '"transactionId":1006' in text  # what the station sent, as on the wire
    assert page.locator(f"#{FAILING} svg.seq").is_visible()
    page.screenshot(path=str(tmp_path / "failing-case.png"))
    assert (tmp_path / "failing-case.png").stat().st_size > 10_000
    assert seen.requests == [report.as_uri()] and seen.console_errors == []
    page.close()


def test_filters_and_search_narrow_the_matrix_without_network(browser, report):
    page, seen = _open(browser, report)
    rows = page.locator("#matrix tr.case-row")
    assert rows.count() == 23
    page.uncheck('#filters input[data-verdict="pass"]')
    visible = [r for r in rows.all() if r.is_visible()]
    assert [r.get_attribute("data-verdict") for r in visible] == ["fail", "na", "skipped"]
    assert not page.locator("#case-TC_001_CS").is_visible()
    page.check('#filters input[data-verdict="pass"]')
    page.fill("#search", "tc_017")
    visible = [r.locator("td.id").inner_text() for r in rows.all() if r.is_visible()]
    assert visible == ["TC_017_1_CS"]
    assert page.locator("#shown").inner_text() == "1 of 23 cases shown"
    page.fill("#search", "§4.10")  # a requirement id finds the case that tests it
    assert "TC_012_CS" in [r.locator("td.id").inner_text() for r in rows.all() if r.is_visible()]
    assert seen.requests == [report.as_uri()] and seen.console_errors == []
    page.close()


def test_printed_every_case_is_expanded_and_the_filters_hidden(browser, report):
    page, _ = _open(browser, report)
    page.emulate_media(media="print")
    passing_steps = page.locator("#case-TC_001_CS table.steps")
    assert passing_steps.is_visible()
    assert not page.locator("#filters").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 50_000
    page.close()


def test_with_scripts_off_the_failing_case_is_still_readable(driver, report, tmp_path):
    context = _launch(driver, tmp_path / "profile", java_script_enabled=False)
    try:
        page, seen = _open(context, report)
        assert not page.locator("#filters").is_visible()  # no dead controls
        assert "does not meet" in page.locator("#verdict").inner_text()
        assert "got 1006" in page.locator(f"#{FAILING} div.problem").inner_text()
        assert seen.requests == [report.as_uri()]
    finally:
        context.close()


def test_comparison_page_links_each_cell_to_the_case_in_the_run_report(browser, report, tmp_path):
    run = json.loads((report.parent / "results.json").read_text(encoding="utf-8"))
    out = tmp_path / "merge" / "index.html"
    link = os.path.relpath(report, out.parent)
    write_merge_html(out, [run, run], ["first", "second"], links=[link, None])
    page, seen = _open(browser, out)
    assert seen.errors == [] and seen.console_errors == []
    assert seen.requests == [out.as_uri()]
    page.click(f'td.cell.fail a[href$="#{FAILING}"]')
    page.wait_for_url(f"{report.as_uri()}#{FAILING}")
    assert page.locator(f"#{FAILING} div.problem").is_visible()
    page.close()
