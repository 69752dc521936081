"""Run every mutant SUT against its profile and say which case caught it.

``python -m tests.mutants.catalogue`` (``tox -e mutants``, ``--full`` for whole profiles)
prints one line per mutant and
``mutants caught N/M``; it exits 1 unless every mutant is caught by its intended case, for the
right requirement, and breaks no case outside what its defect is declared to break. The
campaigns run concurrently in one event loop: they mostly wait on protocol timers.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import sys
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

# importing a mutant module registers its mutants in CATALOGUE
import tests.mutants.auth16
import tests.mutants.csms16
import tests.mutants.csms16_optional
import tests.mutants.csms201
import tests.mutants.csms201_optional
import tests.mutants.csms201_smart
import tests.mutants.gbt27930
import tests.mutants.invariants16
import tests.mutants.invariants201
import tests.mutants.invariants_shared
import tests.mutants.negative16
import tests.mutants.security16
import tests.mutants.security201
import tests.mutants.security_csms16
import tests.mutants.settings16
import tests.mutants.settings201
import tests.mutants.smart16
import tests.mutants.smart201
import tests.mutants.stations201
import tests.mutants.stations201_optional
import tests.mutants.stations201_tx
import tests.mutants.variation16
import tests.mutants.variation201  # noqa: F401
from pile_interop.core.config import Profile, find_root
from pile_interop.engine.base import Target
from pile_interop.engine.reference import load_reference_run, reference_station
from pile_interop.engine.report import Report
from pile_interop.engine.targets import make_campaign
from tests.mutants.stations16 import CATALOGUE, Mutant

ROOT = Path(__file__).resolve().parents[2]
#: The seed of the forms the suite varies in every mutant run: a mutant that accepts only one
#: form is met by the others at the same step every time, so its catching case is fixed.
MUTANT_SEED = 14
PROFILE = "ocpp16/core-cs"


@dataclass
class Outcome:
    mutant: Mutant
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0
    crowded: list[str] | None = None
    """What was wrong when it first ran among the other campaigns, if it was re-run alone."""

    @property
    def not_passing(self) -> set[str]:
        """Cases that did not pass; ``na`` is the device descriptor's doing, never a defect's."""
        return {cid for cid, r in self.results.items() if r["verdict"] not in ("pass", "na")}

    @property
    def intended(self) -> dict[str, Any] | None:
        return self.results.get(self.mutant.catches)

    def problems(self) -> list[str]:
        found = []
        intended = self.intended
        if intended is None:
            return [f"{self.mutant.catches} did not run"]
        if intended["verdict"] == "pass":
            found.append(f"{self.mutant.catches} passed: the mutant was not caught")
        elif self.mutant.requirement not in intended["reason"]:
            found.append(
                f"{self.mutant.catches} is {intended['verdict']} but its reason does not name "
                f"{self.mutant.requirement}: {intended['reason'][:300]}"
            )
        stray = self.not_passing - self.mutant.breaks
        for cid in sorted(stray):
            r = self.results[cid]
            found.append(f"{cid} is {r['verdict']} too (not declared): {r['reason'][:200]}")
        return found

    @property
    def caught(self) -> bool:
        return not self.problems()


@functools.cache
def load(profile_id: str = PROFILE) -> tuple[Profile, list[Any], Any]:
    """A profile's cases and reference device, loaded once: loading blocks the event loop
    the concurrent campaigns share (the frozen results are not changed by a run)."""
    return load_reference_run(profile_id, find_root(ROOT))


async def run_sut(
    cls: type | None,
    cases: list[str] | None = None,
    profile_id: str = PROFILE,
    out: Path | None = None,
    strict: bool = False,
    features: dict[str, bool] | None = None,
) -> dict[str, dict[str, Any]]:
    """The case results of one (mutant or reference) station over the profile; with ``out``
    also the report folder, as the CLI writes it. ``features`` override the device's."""
    profile, everything, device = load(profile_id)
    if features:
        device = dataclasses.replace(device, features={**device.features, **features})
    scenarios = [s for s in everything if cases is None or s.id in cases]
    target = Target(
        "reference",
        time_scale=profile.reference_time_scale,
        floor=profile.reference_floor_s,
        sut_factory=partial(reference_station, cls=cls),
        seed=MUTANT_SEED,
    )
    results: dict[str, dict[str, Any]] = {}
    campaign = make_campaign(
        profile,
        device,
        target,
        strict=strict,
        sut_class=cls if profile.gbt27930 or profile.sut == "csms" else None,
    )
    async with campaign:
        report = Report(out, campaign, everything) if out is not None else None
        for scenario in scenarios:
            results[scenario.id] = await campaign.run_case(scenario)
            if report is not None:
                report.add(results[scenario.id])
        if report is not None:
            report.finish(selected={s.id for s in scenarios})
    return results


#: GB/T 27930 campaigns keep 10-50 ms periods (5-25 ms real at the reference scale): more of
#: them at once would judge the event loop's load, not the mutant. Even in tox's calm phase,
#: 4 at once per shard stalled the reference charger's CST (10 ms) by 150 ms real in the
#: reference profile running beside them.
GBT_CONCURRENCY = 2
#: OCPP 2.0.1 mutant campaigns at once (measured: 174 of them in 3.6 min, every one caught; the
#: 1.6 ones run first at ``concurrency``, since TC_088_2_CS's 2 s window misses a station
#: slowed down by a busier loop)
OCPP201_CONCURRENCY = 24


async def run_all(mutants: list[Mutant], concurrency: int = 8) -> list[Outcome]:
    """What CI runs: mutant CSMSs against their whole profile (a CSMS profile takes about a
    second), mutant stations, chargers and BMSs against the cases their defect is declared
    to break (``tox -e mutants -- --full`` runs every mutant against its whole profile, which
    also proves it breaks nothing outside that set)."""
    return await _run(mutants, concurrency, full=False)


def _whole_profile_is_cheap(mutant: Mutant) -> bool:
    return mutant.profile.endswith("-csms") or mutant.profile.startswith("ocpp16/negative")


async def _run_batch(chosen: list[Mutant], width: int, full: bool) -> list[Outcome]:
    gate = asyncio.Semaphore(width)

    async def one(mutant: Mutant) -> Outcome:
        async with gate:
            t0 = time.monotonic()
            whole = full or _whole_profile_is_cheap(mutant)
            cases = None if whole else sorted(mutant.breaks)
            results = await run_sut(
                mutant.cls, cases, profile_id=mutant.profile, features=mutant.features
            )
            return Outcome(mutant, results, time.monotonic() - t0)

    return list(await asyncio.gather(*(one(m) for m in chosen)))


async def _run(mutants: list[Mutant], concurrency: int, *, full: bool) -> list[Outcome]:
    def batch(chosen: list[Mutant], width: int) -> Awaitable[list[Outcome]]:
        return _run_batch(chosen, width, full)

    # OCPP campaigns mostly wait on protocol timers: many at once; GB/T 27930 ones keep
    # 10-50 ms periods, so two at a time
    ocpp16 = [m for m in mutants if m.profile.startswith("ocpp16/")]
    ocpp201 = [m for m in mutants if m.profile.startswith("ocpp201/")]
    gbt = [m for m in mutants if m.profile.startswith("gbt27930/")]
    done = await batch(ocpp16, concurrency)
    # the 2.0.1 cases' windows are wider than the 1.6 security negatives' 2 s: more at once
    done += await batch(ocpp201, max(concurrency, OCPP201_CONCURRENCY))
    done += await batch(gbt, GBT_CONCURRENCY)
    done = [await _alone_if_missed(o, full) for o in done]
    order = {m.name: i for i, m in enumerate(mutants)}
    return sorted(done, key=lambda o: order[o.mutant.name])


async def _alone_if_missed(outcome: Outcome, full: bool) -> Outcome:
    """A mutant missed among dozens of campaigns sharing one event loop (on a machine that
    runs other tests too) is run once more on its own, as a lab runs one campaign: a bound
    of a few real seconds may have judged the loop's load, not the mutant. The verdict is the
    calm run's; what the crowded run said is kept and printed."""
    problems = outcome.problems()
    if not problems:
        return outcome
    [again] = await _run_batch([outcome.mutant], 1, full)
    again.crowded = problems
    return again


def summary(outcomes: list[Outcome], verbose: bool = False) -> str:
    lines = []
    for o in outcomes:
        mark = "caught" if o.caught else "MISSED"
        verdict = o.intended["verdict"] if o.intended else "-"
        lines.append(f"{mark:<7} {o.mutant.name:<34} by {o.mutant.catches:<12} ({verdict})")
        lines.extend(f"        ! {p}" for p in o.problems())
        if o.crowded:
            lines.append("        re-run alone; among the other campaigns:")
            lines.extend(f"        ~ {p}" for p in o.crowded)
        if verbose and o.intended:
            lines.append(f"        reason: {o.intended['reason']}")
    caught = sum(o.caught for o in outcomes)
    line = f"mutants caught {caught}/{len(outcomes)}"
    alone = [o.mutant.name for o in outcomes if o.crowded]
    if alone:
        line += f" ({len(alone)} re-run alone: {', '.join(alone)})"
    lines.append(line)
    classes: dict[str, list[Outcome]] = {}
    for o in outcomes:
        classes.setdefault(o.mutant.defect_class, []).append(o)
    order = sorted(classes, key=lambda c: (c != "case", c))
    per = ", ".join(f"{c} {sum(o.caught for o in classes[c])}/{len(classes[c])}" for c in order)
    lines.append(f"by defect class: {per}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only these mutants")
    parser.add_argument("--concurrency", type=int, default=13)
    parser.add_argument("-v", "--verbose", action="store_true", help="print each reason")
    parser.add_argument(
        "--full",
        action="store_true",
        help="every mutant against its whole profile (else: against the cases it may break)",
    )
    args = parser.parse_args(argv)
    chosen = [m for m in CATALOGUE if not args.names or m.name in args.names]
    t0 = time.monotonic()
    outcomes = asyncio.run(_run(chosen, args.concurrency, full=args.full))
    print(summary(outcomes, args.verbose))
    print(f"({time.monotonic() - t0:.1f} s)", file=sys.stderr)
    return 0 if all(o.caught for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
