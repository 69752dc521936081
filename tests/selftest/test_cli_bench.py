"""A bench session on the CLI: `profiles`, selection by glob / comma list / expression,
`--rerun-failed`, `--resume`, progress with an ETA on stderr and the outcome on stdout, `-v`
after the subcommand, per-kind `serve-reference` help, an `--out` that cannot be written."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pile_interop.cli import bench
from pile_interop.core.config import find_root, load_profile
from pile_interop.core.errors import UsageError
from pile_interop.reporting.stream import read_runs
from pile_interop.scenario.loader import CaseLibrary
from tests.mutants.catalogue import run_sut
from tests.mutants.stations16 import WrongStopTransactionId
from tests.selftest.conftest import ROOT, cli
from tests.selftest.test_cli import CTRL_C_BOUND_S, POLL_S, _default_sigint, one_line_error

PROFILE = "ocpp16/core-cs"
#: Real seconds a two-case run against a mutant may take (its bounds at the reference scale).
MUTANT_RUN_BOUND_S = 120


def test_profiles_lists_id_sut_case_count_and_title():
    result = cli("profiles")
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith(f"{PROFILE} "))
    profile = load_profile(ROOT / "profiles" / "ocpp16" / "core-cs.yaml")
    assert line.split()[:3] == [PROFILE, "cs", str(len(profile.cases))]
    assert line.endswith(profile.title)
    rows = json.loads(cli("profiles", "--json").stdout)
    assert {r["id"] for r in rows} == set(find_root(str(ROOT)).profile_ids())
    assert {"id": PROFILE, "sut": "cs", "cases": len(profile.cases)}.items() <= next(
        r for r in rows if r["id"] == PROFILE
    ).items()


@pytest.fixture(scope="module")
def core_cs():
    root = find_root(str(ROOT))
    profile = load_profile(root.profile_path(PROFILE))
    library = CaseLibrary(root.conformance)
    return profile, {c: library.get(c) for c in profile.cases}


def test_selection_by_id_glob_comma_list_and_expression(core_cs):
    profile, scenarios = core_cs
    assert bench.select_cases(profile, scenarios, [], None) is None  # every case
    assert bench.select_cases(profile, scenarios, ["TC_003_CS"], None) == ["TC_003_CS"]
    globbed = bench.select_cases(profile, scenarios, ["tc_01[23]*"], None)
    assert globbed == ["TC_012_CS", "TC_013_CS"]  # profile order, case-insensitive
    assert bench.select_cases(profile, scenarios, ["TC_013_CS,TC_003_CS", "TC_012*"], None) == [
        "TC_003_CS",
        "TC_012_CS",
        "TC_013_CS",
    ]
    resets = bench.select_cases(profile, scenarios, [], "reset and not soft")
    assert resets and all("reset" in scenarios[c].title.lower() for c in resets)
    assert not any("soft" in scenarios[c].title.lower() for c in resets)
    both = bench.select_cases(profile, scenarios, ["TC_01*"], "hard and reset")
    assert both == ["TC_013_CS", "TC_015_CS"]


@pytest.mark.parametrize(
    ("patterns", "expression", "needle"),
    [
        (["TC_999*"], None, "--case TC_999*: no case of profile ocpp16/core-cs matches"),
        (["TC_003_CS,NOPE"], None, "--case NOPE: not in profile ocpp16/core-cs"),
        ([], "and (", "-k 'and ('"),
        ([], "nosuchword", "-k 'nosuchword': no selected case"),
    ],
)
def test_a_selection_that_selects_nothing_is_a_usage_error(core_cs, patterns, expression, needle):
    profile, scenarios = core_cs
    with pytest.raises(UsageError) as caught:
        bench.select_cases(profile, scenarios, patterns, expression)
    assert needle in str(caught.value)


def test_a_selected_run_prints_progress_on_stderr_and_the_outcome_on_stdout(tmp_path):
    out = tmp_path / "report"
    result = cli(
        "run", "-v", "--profile", PROFILE, "--against", "reference", "--out", str(out),
        "--case", "TC_012*,TC_003_CS", "-k", "not TC_012",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    run = json.loads((out / "results.json").read_text())
    assert [c["id"] for c in run["cases"] if c["verdict"] != "skipped"] == ["TC_003_CS"]
    progress = [x for x in result.stderr.splitlines() if x.startswith("[")]
    assert len(progress) == 1 and progress[0].startswith("[1/1] TC_003_CS  Regular")
    assert " pass " in progress[0]
    assert " INFO " in result.stderr  # -v after the subcommand: INFO logs
    assert result.stdout.splitlines() == [
        x for x in result.stdout.splitlines() if not x.startswith("[")
    ]
    assert result.stdout.strip().endswith(f"report: {out}")
    assert run["profile_verdict"]["text"] in result.stdout
    assert "[1/1]" not in result.stdout


def test_an_out_folder_that_cannot_be_written_is_exit_2_and_leaves_nothing(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for out in (blocker, blocker / "report"):
        one_line_error(
            cli("run", "--profile", PROFILE, "--against", "reference", "--out", str(out)),
            f"--out {out}: cannot write the report there",
        )
    one_line_error(
        cli("report", "--merge", str(tmp_path), str(tmp_path), "--out", str(blocker)),
        f"--out {blocker}: cannot write the report there",
    )
    missing = tmp_path / "new" / "deeper"
    bench.ensure_writable(missing)
    assert not (tmp_path / "new").exists()


def test_serve_reference_help_shows_only_that_kinds_options():
    csms = cli("serve-reference", "csms", "--help").stdout
    station = cli("serve-reference", "station", "--help").stdout
    charger = cli("serve-reference", "charger", "--help").stdout
    assert "--id-tag" in csms and "--can" not in csms and "--csms-url" not in csms
    assert "--csms-url" in station and "--id-tag" not in station and "--variant" not in station
    assert "--can" in charger and "--variant" in charger and "--ocpp" not in charger


# -- --rerun-failed ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def failed_report(tmp_path_factory) -> Path:
    """The report of a station that sends the wrong transaction id: TC_012_CS fails, TC_003_CS
    passes (the mutant's own catalogue entry)."""
    out = tmp_path_factory.mktemp("failed") / "report"
    cases = asyncio.run(
        asyncio.wait_for(
            run_sut(WrongStopTransactionId, ["TC_003_CS", "TC_012_CS"], out=out),
            MUTANT_RUN_BOUND_S,
        )
    )
    assert {k: v["verdict"] for k, v in cases.items()} == {
        "TC_003_CS": "pass",
        "TC_012_CS": "fail",
    }
    return out


def test_rerun_failed_runs_the_failures_again_and_names_each_verdicts_run(failed_report, tmp_path):
    earlier = json.loads((failed_report / "results.json").read_text())
    out = tmp_path / "again"
    result = cli("run", "--rerun-failed", str(failed_report), "--against", "reference",
                 "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr  # the fixed station passes TC_012_CS
    progress = [x for x in result.stderr.splitlines() if x.startswith("[")]
    assert len(progress) == 1 and progress[0].startswith("[1/1] TC_012_CS")
    run = json.loads((out / "results.json").read_text())
    verdicts = {c["id"]: c for c in run["cases"] if c["verdict"] != "skipped"}
    assert {k: c["verdict"] for k, c in verdicts.items()} == {
        "TC_003_CS": "pass",
        "TC_012_CS": "pass",
    }
    origin = {"report": str(failed_report), "started": earlier["started"]}
    assert verdicts["TC_003_CS"]["origin"] == origin  # carried from the earlier run
    assert "origin" not in verdicts["TC_012_CS"]  # this run's
    assert run["continues"] == {"mode": "rerun-failed", **origin}
    assert "1 verdicts carried from an earlier run" in result.stdout
    page = (out / "index.html").read_text()
    assert page.count("Verdict carried from the run of") == 1  # TC_003_CS's
    assert f"re-run of the failed cases of {failed_report}" in page
    # the earlier report is untouched, and the new one rebuilds from its stream alone
    assert json.loads((failed_report / "results.json").read_text()) == earlier
    (out / "results.json").unlink()
    assert cli("report", str(out)).returncode == 0
    rebuilt = json.loads((out / "results.json").read_text())
    assert {c["id"]: c.get("origin") for c in rebuilt["cases"] if c["verdict"] == "pass"} == {
        "TC_003_CS": origin,
        "TC_012_CS": None,
    }


def test_rerun_failed_needs_a_folder_with_results(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(
        cli("run", "--rerun-failed", str(empty), "--against", "reference"),
        f"{empty}: no results.json or results.jsonl",
    )
    one_line_error(
        cli("run", "--rerun-failed", str(tmp_path / "nope"), "--against", "reference"),
        "no such folder",
    )


def test_rerun_failed_refuses_its_own_folder_and_another_profile(failed_report):
    args = ("run", "--rerun-failed", str(failed_report), "--against", "reference")
    one_line_error(cli(*args, "--out", str(failed_report)), "--out must be another folder")
    one_line_error(
        cli(*args, "--profile", "ocpp16/security-cs"),
        f"the run in {failed_report} is of {PROFILE}",
    )


# -- --resume ---------------------------------------------------------------------------


def _kill_after(out: Path, ended: int) -> None:
    """Make ``out`` the folder of a run killed (SIGKILL) after ``ended`` cases: its stream
    keeps the header and those cases, no end line; nothing else was written."""
    stream = out / "results.jsonl"
    lines = stream.read_text().splitlines()
    stream.write_text("\n".join(lines[: 1 + ended]) + "\n")
    for name in ("results.json", "junit.xml", "index.html"):
        (out / name).unlink()


def test_resume_runs_what_a_killed_run_left_into_the_same_folder(tmp_path):
    out = tmp_path / "report"
    first = cli("run", "--profile", PROFILE, "--against", "reference", "--out", str(out),
                "--case", "TC_003_CS,TC_012_CS,TC_040_1_CS")  # fmt: skip
    assert first.returncode == 0, first.stderr
    _kill_after(out, 1)
    [killed] = read_runs(out / "results.jsonl")
    assert [c["id"] for c in killed.cases] == ["TC_003_CS"] and killed.end is None

    result = cli("run", "--resume", str(out), "--against", "reference")
    assert result.returncode == 0, result.stderr
    progress = [x.split()[:2] for x in result.stderr.splitlines() if x.startswith("[")]
    assert progress == [["[1/2]", "TC_012_CS"], ["[2/2]", "TC_040_1_CS"]]
    run = json.loads((out / "results.json").read_text())
    ran = [c for c in run["cases"] if c["verdict"] != "skipped"]
    assert [(c["id"], c["verdict"]) for c in ran] == [
        ("TC_003_CS", "pass"),
        ("TC_012_CS", "pass"),
        ("TC_040_1_CS", "pass"),
    ]
    assert ran[0]["origin"] == {"report": str(out), "started": killed.header["started"]}
    assert run["continues"]["mode"] == "resume"
    assert run["selection"]["selected"] == 3  # the killed run's selection, kept
    assert run["interrupted"] is False and run["profile_verdict"]["met"] is True
    assert (out / "index.html").is_file()
    # a run that finished has nothing to resume
    one_line_error(cli("run", "--resume", str(out), "--against", "reference"), "that run finished")


def test_resume_runs_again_the_case_ctrl_c_cut_short(tmp_path):
    header = {"record": "run", "profile": PROFILE, "started": "2026-01-01T00:00:00Z",
              "planned": ["A", "B", "C"], "selection": None}  # fmt: skip
    lines = [
        header,
        {"id": "A", "verdict": "pass", "reason": ""},
        {"id": "B", "verdict": "error", "reason": "interrupted (Ctrl-C)"},
        {"record": "end", "interrupted": True},
    ]
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    again = bench.resume(str(tmp_path))
    assert [c["id"] for c in again.carried] == ["A"]
    assert again.run == ["B", "C"]
    assert again.out == tmp_path and again.profile_id == PROFILE


def test_resume_needs_a_stream(tmp_path):
    one_line_error(
        cli("run", "--resume", str(tmp_path), "--against", "reference"),
        "no results.jsonl to resume from",
    )


def test_resume_after_ctrl_c_runs_the_cut_case_and_the_rest(tmp_path):
    """Ctrl-C during the second of four cases (each takes 2 s or more of protocol waits): the
    resumed run keeps the first, runs the cut one and the rest again, and meets the profile."""
    out = tmp_path / "report"
    chosen = "TC_001_CS,TC_004_2_CS,TC_007_CS,TC_011_2_CS"
    process = subprocess.Popen(
        [sys.executable, "-m", "pile_interop", "run", "--profile", PROFILE, "--against",
         "reference", "--out", str(out), "--case", chosen],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=_default_sigint,
    )  # fmt: skip
    jsonl = out / "results.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the header and the first case
        if jsonl.is_file() and len(jsonl.read_text().splitlines()) >= 2:
            break
        time.sleep(POLL_S)  # polling a file another process writes
    process.send_signal(signal.SIGINT)
    _stdout, stderr = process.communicate(timeout=CTRL_C_BOUND_S)
    assert process.returncode == 130, stderr
    [cut] = read_runs(jsonl)
    assert cut.end is not None and cut.end["interrupted"] is True
    kept = [c["id"] for c in cut.cases if not c["reason"].startswith("interrupted")]
    assert kept and kept == [c for c in chosen.split(",")][: len(kept)]

    result = cli("run", "--resume", str(out), "--against", "reference")
    assert result.returncode == 0, result.stderr
    run = json.loads((out / "results.json").read_text())
    ran = {c["id"]: c for c in run["cases"] if c["verdict"] != "skipped"}
    assert sorted(ran) == sorted(chosen.split(","))
    assert all(c["verdict"] == "pass" for c in ran.values())
    assert sorted(k for k, c in ran.items() if c.get("origin")) == sorted(kept)
    assert run["interrupted"] is False and run["profile_verdict"]["met"] is True


def test_rerun_failed_of_a_run_without_failures_runs_nothing(tmp_path):
    earlier = tmp_path / "green"
    earlier.mkdir()
    run = {
        "profile": PROFILE,
        "started": "2026-01-01T00:00:00Z",
        "finished": "2026-01-01T00:01:00Z",
        "cases": [{"id": "TC_003_CS", "verdict": "pass"}],
    }
    (earlier / "results.json").write_text(json.dumps(run))
    result = cli("run", "--rerun-failed", str(earlier), "--against", "reference",
                 "--out", str(tmp_path / "new"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "nothing to run again" in result.stderr
    assert not (tmp_path / "new").exists()
