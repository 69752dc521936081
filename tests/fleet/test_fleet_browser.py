"""The fleet report as a person sees it: ``index.html`` from disk in headless Chromium (the
way ``tests/reporting/test_browser.py`` checks the conformance report; skipped without
``/usr/bin/chromium`` or playwright, unless CI's PILE_REQUIRE_TOOLS is set)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pile_interop.fleet.report import write_report

from .conftest import quick, run_fleet
from .mutants import SlowBootCsms

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REQUIRED = bool(os.environ.get("PILE_REQUIRE_TOOLS"))
if REQUIRED:
    from playwright import sync_api
else:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not REQUIRED, reason=f"{CHROMIUM} is absent"
)


@pytest.fixture(scope="module")
def page_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fleet")
    result = run_fleet(quick(folder), 6, classes={"1.6": SlowBootCsms}, duration_s=4.0)
    return write_report(result, folder / "report")


@pytest.fixture(scope="module")
def browser(page_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    # the fleet runs first: playwright's sync API keeps an event loop running meanwhile
    with sync_api.sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


def test_the_fleet_page_shows_the_broken_threshold_and_its_charts(
    browser: Any, page_path: Path, tmp_path: Path
) -> None:
    requests: list[str] = []
    problems: list[str] = []
    page = browser.new_page()
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on(
        "console",
        lambda msg: problems.append(msg.text) if msg.type in ("error", "warning") else None,
    )
    page.goto(page_path.as_uri(), wait_until="load")
    banner = page.locator("#verdict")
    assert banner.is_visible()
    text = banner.inner_text()
    assert "a threshold was broken" in text
    assert "p99 BootNotification < 1s" in text  # the broken threshold, named at the top
    charts = page.locator(".charts svg")
    assert charts.count() >= 4  # connected, messages/s, errors, a latency chart per action
    assert charts.first.is_visible()
    assert charts.first.bounding_box()["width"] > 300
    assert page.locator(".charts svg polyline").count() > 0  # lines were drawn
    page.screenshot(path=str(tmp_path / "fleet.png"), full_page=True)
    assert (tmp_path / "fleet.png").stat().st_size > 10_000
    assert requests == [page_path.as_uri()]  # self-contained: nothing else loaded
    assert problems == []
    page.close()
