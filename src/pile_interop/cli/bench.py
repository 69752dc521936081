"""A bench session on the command line: ``profiles``, case selection (``--case`` by id, glob or
comma list, ``-k`` by expression), ``--rerun-failed`` and ``--resume`` (a run that continues an
earlier one, each verdict naming the run it came from), the progress plan (each case's bound,
for the ETA) and a report folder that can be written."""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pile_interop.cli.exits import EXIT_OK
from pile_interop.core.config import ContentRoot, Profile, find_root, load_profile
from pile_interop.core.errors import UsageError

#: The verdicts ``--rerun-failed`` runs again; every other verdict that ran is carried.
RERUN_VERDICTS = frozenset({"fail", "error"})
#: Verdicts that are no verdict of a case that ran (never carried).
NOT_RAN = frozenset({"skipped", "not_run"})
#: The reason a case cut short by Ctrl-C ends with (its partial result is run again on resume).
INTERRUPTED_PREFIX = "interrupted"


# -- profiles ---------------------------------------------------------------------------


def add_profiles_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("profiles", parents=[common], help="list profiles (id, SUT, cases, title)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def profile_rows(root: ContentRoot) -> list[dict[str, Any]]:
    rows = []
    for profile_id in root.profile_ids():
        profile = load_profile(root.profile_path(profile_id))
        rows.append(
            {
                "id": profile.id,
                "sut": profile.sut,
                "cases": len(profile.cases),
                "mandatory": len(profile.mandatory),
                "title": profile.title,
            }
        )
    return rows


def cmd_profiles(args: argparse.Namespace) -> int:
    rows = profile_rows(find_root(args.root))
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    width = max((len(r["id"]) for r in rows), default=10)
    for r in rows:
        print(f"{r['id']:<{width}}  {r['sut']:<7} {r['cases']:>4}  {r['title']}")
    print(f"{len(rows)} profile(s)", file=sys.stderr)
    return EXIT_OK


# -- selection --------------------------------------------------------------------------

CASE_HELP = (
    "run only these cases: an id, a glob (TC_04*), or a comma list of them (repeat the option "
    "to add more)"
)


def add_run_options(p_run: argparse.ArgumentParser) -> None:
    """The bench-session options of ``run`` (``--case`` itself is declared with ``run``)."""
    p_run.add_argument(
        "-k",
        dest="keyword",
        metavar="EXPR",
        help="run only the cases matching this expression, as pytest -k: words matched in the "
        "id, title, block, SUT role, requirement ids and mandatory/optional, with and/or/not "
        "and parentheses (e.g. 'Authorize and not TC_04')",
    )
    again = p_run.add_mutually_exclusive_group()
    again.add_argument(
        "--rerun-failed",
        metavar="DIR",
        help="run the fail and error cases of the report in DIR again into a new report (--out) "
        "that keeps the other verdicts, each naming the run it came from",
    )
    again.add_argument(
        "--resume",
        metavar="DIR",
        help="continue the interrupted run whose report is in DIR: the cases that ended are "
        "kept, the rest run, into the same folder",
    )


def _keywords(scenario: Any, mandatory: bool) -> str:
    words = [scenario.id, scenario.title, scenario.block or "", scenario.sut or ""]
    words += [str(r.id) for r in scenario.requirements]
    words.append("mandatory" if mandatory else "optional")
    return "\n".join(words).lower()


def keyword_filter(expression: str) -> Callable[[str], bool]:
    """A predicate on a case's keyword text for a pytest ``-k`` style expression (pytest's own
    grammar: words, ``and``, ``or``, ``not``, parentheses); a word matches as a
    case-insensitive substring."""
    from _pytest.mark.expression import Expression

    try:
        compiled = Expression.compile(expression)
    except Exception as exc:  # SyntaxError (pytest 9) or ParseError (earlier)
        raise UsageError(f"-k {expression!r}: {exc}") from None

    def matches(text: str) -> bool:
        return bool(compiled.evaluate(lambda word, /, **_: word.lower() in text))

    return matches


def select_cases(
    profile: Profile,
    scenarios: Mapping[str, Any],
    patterns: Iterable[str],
    expression: str | None,
) -> list[str] | None:
    """The ids of ``profile`` (in its order) that ``--case`` ``patterns`` (ids, globs, comma
    lists) and the ``-k`` ``expression`` select; ``None`` when neither is given (every case).
    A pattern that matches no case of the profile is a usage error, as is an empty result."""
    tokens = [t.strip() for p in patterns for t in p.split(",") if t.strip()]
    if not tokens and expression is None:
        return None
    chosen = list(profile.cases)
    if tokens:
        picked: set[str] = set()
        for token in tokens:
            if any(ch in token for ch in "*?["):
                hits = [c for c in profile.cases if fnmatch.fnmatchcase(c.lower(), token.lower())]
                if not hits:
                    raise UsageError(f"--case {token}: no case of profile {profile.id} matches")
            else:
                hits = [c for c in profile.cases if c == token]
                if not hits:
                    raise UsageError(f"--case {token}: not in profile {profile.id}")
            picked.update(hits)
        chosen = [c for c in chosen if c in picked]
    if expression is not None:
        matches = keyword_filter(expression)
        chosen = [c for c in chosen if matches(_keywords(scenarios[c], profile.is_mandatory(c)))]
        if not chosen:
            raise UsageError(f"-k {expression!r}: no selected case of profile {profile.id} matches")
    return chosen


# -- continuing an earlier run ----------------------------------------------------------


@dataclass
class Continuation:
    """What a run that continues an earlier one keeps and runs: the ``carried`` results (each
    with its ``origin``), the ids to ``run`` (profile order), the ``selected`` ids of the new
    run, its report folder, and the run dict's ``continues`` record."""

    mode: str
    folder: Path
    profile_id: str
    carried: list[dict[str, Any]] = field(default_factory=list)
    run: list[str] = field(default_factory=list)
    out: Path | None = None
    continues: dict[str, Any] = field(default_factory=dict)


def _origin(case: Mapping[str, Any], folder: Path, started: Any) -> dict[str, Any]:
    """``case`` carried into a new run: it keeps its ``origin`` if it already came from an
    earlier one, else it names the run it ran in."""
    kept = dict(case)
    if not kept.get("origin"):
        kept["origin"] = {"report": str(folder), "started": started}
    return kept


def _folder(flag: str, text: str) -> Path:
    folder = Path(text)
    if not folder.is_dir():
        raise UsageError(f"{flag} {text}: no such folder")
    return folder


def rerun_failed(text: str, load_run: Callable[[Path], dict[str, Any]]) -> Continuation:
    """The fail and error cases of the report in ``text`` to run again; every other verdict
    that ran is carried. A folder without results is a usage error (exit 2)."""
    folder = _folder("--rerun-failed", text)
    earlier = load_run(folder)
    cases = [c for c in earlier.get("cases") or [] if isinstance(c, dict)]
    started = earlier.get("started")
    carried = [
        _origin(c, folder, started)
        for c in cases
        if c.get("verdict") not in RERUN_VERDICTS | NOT_RAN
    ]
    again = [str(c["id"]) for c in cases if c.get("verdict") in RERUN_VERDICTS]
    return Continuation(
        mode="rerun-failed",
        folder=folder,
        profile_id=str(earlier.get("profile") or ""),
        carried=carried,
        run=again,
        continues={"mode": "rerun-failed", "report": str(folder), "started": started},
    )


def resume(text: str) -> Continuation:
    """The interrupted run in ``text``'s ``results.jsonl``: the cases that ended are carried
    (a case Ctrl-C cut short runs again), the planned, selected cases left run, into the same
    folder. A run that finished, or a folder without the stream, is a usage error."""
    from pile_interop.reporting.stream import JSONL_NAME, read_runs

    folder = _folder("--resume", text)
    stream = folder / JSONL_NAME
    if not stream.is_file():
        raise UsageError(f"--resume {text}: no {JSONL_NAME} to resume from")
    runs = [r for r in read_runs(stream) if r.header is not None]
    if not runs:
        raise UsageError(f"--resume {text}: {JSONL_NAME} names no run")
    last = runs[-1]
    assert last.header is not None
    if last.end is not None and not last.end.get("interrupted"):
        raise UsageError(
            f"--resume {text}: that run finished; nothing to resume (--rerun-failed runs its "
            "failures again)"
        )
    ended: dict[str, dict[str, Any]] = {}
    for case in last.cases:
        ended[str(case.get("id"))] = case
    cut = [
        case_id
        for case_id, case in ended.items()
        if str(case.get("reason") or "").startswith(INTERRUPTED_PREFIX)
    ]
    for case_id in cut:
        del ended[case_id]
    planned = [str(c) for c in last.header.get("planned") or []]
    selection = last.header.get("selection")
    chosen = planned if selection is None else [c for c in planned if c in set(selection)]
    started = last.header.get("started")
    return Continuation(
        mode="resume",
        folder=folder,
        profile_id=str(last.header.get("profile") or ""),
        carried=[_origin(case, folder, started) for case in ended.values()],
        run=[c for c in chosen if c not in ended],
        out=folder,
        continues={"mode": "resume", "report": str(folder), "started": started},
    )


# -- the report folder ------------------------------------------------------------------


def ensure_writable(out: Path, flag: str = "--out") -> None:
    """A usage error (exit 2, one line) when no report can be written into ``out``: a file
    in the way, no permission, a read-only file system. Leaves no folder behind."""
    created: list[Path] = []
    probe = out / ".pile-interop-write-test"
    try:
        for folder in reversed([out, *out.parents]):
            if not folder.exists():
                folder.mkdir()
                created.append(folder)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(
            f"{flag} {out}: cannot write the report there ({exc.strerror or exc})"
        ) from None
    finally:
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                folder.rmdir()


def same_folder(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def plan(campaign: Any, scenarios: Iterable[Any]) -> list[tuple[str, float]]:
    """Each case to run with its bound: the most real seconds it may take (the watchdog's
    budget), for the progress line's ETA."""
    from pile_interop.scenario.case_info import case_budget

    return [(s.id, case_budget(s, campaign.timing) + campaign.budget_extra(s)) for s in scenarios]
