"""Write the whole report folder for a run: one writer failing does not stop the others."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pile_interop.reporting.allure import ALLURE_DIR, write_allure, write_allure_config
from pile_interop.reporting.evidence import evidence_sha256
from pile_interop.reporting.html import HTML_NAME, write_html
from pile_interop.reporting.junit import JUNIT_NAME, write_junit
from pile_interop.reporting.redact import Redactor, resolve
from pile_interop.reporting.results_json import RESULTS_NAME, write_results_json

logger = logging.getLogger(__name__)


def write_all(
    out_dir: Path, run: Mapping[str, Any], *, redactor: Redactor | None = None
) -> list[str]:
    """Write ``results.json``, ``junit.xml``, ``allure-results/`` (with ``allurerc.json`` for
    Allure 3) and ``index.html`` (in that order) into ``out_dir``.

    ``index.html`` shows the SHA-256 of the ``results.json`` bytes just written (if writing it
    failed, the SHA-256 of the run as canonical JSON, and the page says so).

    Each writer runs on its own: an exception is logged and reported in the returned list of
    problems (``"<file>: <error>"``, empty when all went well), never raised.
    ``results.jsonl`` is not written here: :class:`~pile_interop.reporting.stream.ResultsStream`
    appends to it while the run goes on.
    """
    out_dir = Path(out_dir)
    redactor = resolve(redactor)
    problems: list[str] = []
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        # Redact once here; each writer redacts again (cheap on clean data) for direct callers.
        run = redactor.redact(run)
    except Exception as exc:
        logger.exception("cannot prepare the report folder %s", out_dir)
        return [f"{out_dir}: {exc}"]
    digest: dict[str, str] = {}

    def results() -> None:
        path = write_results_json(out_dir, run, redactor=redactor)
        # the exact bytes on disk, so `sha256sum results.json` prints what the page says
        digest["sha256"] = evidence_sha256(path.read_bytes())

    writers: list[tuple[str, Callable[[], object]]] = [
        (RESULTS_NAME, results),
        (JUNIT_NAME, lambda: write_junit(out_dir / JUNIT_NAME, run, redactor=redactor)),
        (ALLURE_DIR, lambda: write_allure(out_dir / ALLURE_DIR, run, redactor=redactor)),
        ("allurerc.json", lambda: write_allure_config(out_dir, run)),
        (
            HTML_NAME,
            lambda: write_html(
                out_dir / HTML_NAME, run, redactor=redactor, results_sha256=digest.get("sha256")
            ),
        ),
    ]
    for name, write in writers:
        try:
            write()
        except Exception as exc:
            logger.exception("writing %s failed", out_dir / name)
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
    return problems
