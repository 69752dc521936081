"""Regenerate ``tests/reporting/data/mutant-run.json``: a real run of the Core profile against
a mutant station (StopTransaction with a wrong transactionId), as the browser test and the
README screenshot show it.

``python -m tests.reporting.make_sample [OUT]`` runs the whole profile (about 20 s) with a
descriptor that declares ``fixed_cable: true`` (so TC_017_1_CS is ``na``), leaves TC_064_CS
unselected (``skipped``), and writes the run dict with its host paths made relative.

``python -m tests.reporting.make_sample --screenshot docs/report-screenshot.png`` renders the
report of the stored sample in headless Chromium (``/usr/bin/chromium`` and the ``playwright``
package) and saves the top of the page, where a reader lands.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from pile_interop.engine.base import Target
from pile_interop.engine.reference import reference_station
from pile_interop.engine.report import Report
from pile_interop.engine.run import run_profile
from pile_interop.engine.station_campaign import StationCampaign
from tests.mutants.catalogue import ROOT, load
from tests.mutants.stations16 import WrongStopTransactionId

DATA = Path(__file__).resolve().parent / "data" / "mutant-run.json"
NOT_SELECTED = {"TC_064_CS"}
DEVICE = "fixtures/devices/reference-station16.yaml"


async def _run(out: Path) -> dict[str, Any]:
    profile, scenarios, device = load()
    device = replace(
        device,
        path=DEVICE,
        features={**device.features, "fixed_cable": True},
    )
    target = Target(
        "reference",
        time_scale=profile.reference_time_scale,
        floor=profile.reference_floor_s,
        sut_factory=partial(reference_station, cls=WrongStopTransactionId),
    )
    selected = [s for s in scenarios if s.id not in NOT_SELECTED]
    async with StationCampaign(profile, device, target) as campaign:
        report = Report(out, campaign, scenarios)
        return await run_profile(campaign, selected, report)


def _relative(obj: Any) -> Any:
    """Host paths out of the sample (it is checked in)."""
    if isinstance(obj, str):
        return obj.replace(f"{ROOT}/", "")
    if isinstance(obj, dict):
        return {k: _relative(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_relative(v) for v in obj]
    return obj


def screenshot(png: Path, *, width: int = 1200, height: int = 1560) -> None:
    """Render the stored sample's report and save the top ``width`` × ``height`` of it."""
    from playwright.sync_api import sync_playwright

    from pile_interop.reporting.writer import write_all

    run = json.loads(DATA.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as driver:
        folder = Path(tmp) / "report"
        problems = write_all(folder, run)
        if problems:
            raise SystemExit(f"report: {problems}")
        context = driver.chromium.launch_persistent_context(
            str(Path(tmp) / "profile"),
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
            viewport={"width": width, "height": height},
        )
        page = context.new_page()
        page.goto((folder / "index.html").as_uri(), wait_until="load")
        page.screenshot(path=str(png))
        context.close()
    print(f"{png}: {png.stat().st_size // 1024} KB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(DATA))
    parser.add_argument("--screenshot", metavar="PNG", help="render the stored sample instead")
    args = parser.parse_args(argv)
    if args.screenshot:
        screenshot(Path(args.screenshot))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        run = _relative(asyncio.run(_run(Path(tmp))))
    Path(args.out).write_text(
        json.dumps(run, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"{args.out}: {run['profile_verdict']['text']}; {run['summary']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
