"""``pile-interop run --max-unreached N``: the run stops after N cases in a row could not
reach their before-state, the rest ``not_run``, the report written, exit code 1."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.selftest.conftest import ROOT, cli, free_port
from tests.selftest.test_cli import one_line_error

CASES = ("TC_003_CS", "TC_012_CS", "TC_013_CS", "TC_040_1_CS")


def _run(quick_root, out, *extra: str, stdin=None):
    args = ["run", "--root", str(quick_root), "--profile", "ocpp16/core-cs"]
    args += ["--listen", f"127.0.0.1:{free_port()}", "--out", str(out)]
    args += ["--device", str(ROOT / "fixtures/devices/example-station16-lab.yaml")]
    for case in CASES:
        args += ["--case", case]
    return cli(*args, *extra, stdin=stdin)


def test_the_run_stops_after_n_unreached_before_states_with_the_rest_not_run(quick_root, tmp_path):
    out = tmp_path / "r"
    tester, terminal = os.openpty()  # a prompt run needs a terminal
    os.write(tester, b"\n")  # the tester confirms the recovery's power cycle
    try:
        result = _run(quick_root, out, "--max-unreached", "2", stdin=terminal)
    finally:
        os.close(tester)
        os.close(terminal)
    assert result.returncode == 1, result.stderr
    assert "stopped: not run: the run stopped after 2 cases in a row" in result.stderr
    run = json.loads((out / "results.json").read_text())
    cases = {c["id"]: c for c in run["cases"] if c["verdict"] != "skipped"}
    for case_id in ("TC_003_CS", "TC_012_CS"):
        assert cases[case_id]["verdict"] == "error"
        assert re.match(r"before-state \w+ not reached: ", cases[case_id]["reason"])
    for case_id in ("TC_013_CS", "TC_040_1_CS"):
        assert cases[case_id]["verdict"] == "not_run"
        assert cases[case_id]["reason"] == run["stopped"]
    assert "before-state charging not reached" in run["stopped"]  # TC_012_CS's
    assert run["profile_verdict"]["met"] is False
    assert not run["profile_verdict"]["text"].startswith("meets")
    assert "the run stopped after 2 cases in a row" in run["profile_verdict"]["text"]
    assert "the run stopped after 2 cases in a row" in (out / "index.html").read_text()
    assert run["summary"]["not_run"] == 2


@pytest.mark.parametrize("value", ["-1", "two", "1.5"])
def test_a_bad_max_unreached_is_exit_2_with_one_line(quick_root, tmp_path, value):
    one_line_error(_run(quick_root, tmp_path / "r", "--max-unreached", value), "--max-unreached")
