"""``report.pdf``: the report for a certificate file, made with fpdf2 (pure Python, no browser).

Not a print of ``index.html`` (its diagrams and filters are for the screen): a document built
from the run dict — the profile verdict, the SUT and run identity, the evidence digest and the
signer (when the folder is signed), the counts, and one table row per case with its verdict and
reason. It uses the PDF core fonts, which cover Latin-1 only: other characters are written as
their nearest ASCII (dashes, quotes, arrows, ellipsis) or ``?``.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from pile_interop.reporting.common import atomic_write_bytes, one_line, shown_verdicts
from pile_interop.reporting.redact import Redactor, resolve
from pile_interop.reporting.results_json import run_verdict, summarize

logger = logging.getLogger(__name__)

PDF_NAME = "report.pdf"
REASON_LIMIT = 240

_ASCII = str.maketrans(
    {
        "—": "-",
        "–": "-",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "…": "...",
        "→": "->",
        "←": "<-",
        "≤": "<=",
        "≥": ">=",
        "•": "-",
        "\u00a0": " ",
    }
)

_LABELS = {"ocpp": "OCPP", "station_id": "Station ID", "url": "URL"}

_VERDICT_COLOUR = {
    "pass": (22, 120, 52),
    "warn": (170, 110, 0),
    "fail": (180, 30, 30),
    "error": (140, 30, 140),
}


def latin1(value: Any) -> str:
    """``value`` as text the core fonts can write."""
    text = unicodedata.normalize("NFC", "" if value is None else str(value)).translate(_ASCII)
    return text.encode("latin-1", errors="replace").decode("latin-1")


class _Document(FPDF):
    generator = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, latin1(f"{self.generator} - page {self.page_no()}/{{nb}}"), align="C")


def _pairs(doc: FPDF, heading: str, rows: list[tuple[str, Any]]) -> None:
    rows = [(k, v) for k, v in rows if v not in (None, "")]
    if not rows:
        return
    doc.set_font("Helvetica", "B", 11)
    doc.cell(0, 8, latin1(heading), new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", size=9)
    with doc.table(col_widths=(45, 135), first_row_as_headings=False, text_align="LEFT") as table:
        for key, value in rows:
            table.row([latin1(key), latin1(value)])
    doc.ln(3)


def render_pdf(
    run: Mapping[str, Any], results_sha256: str | None = None, *, compress: bool = True
) -> bytes:
    """The PDF of ``run`` (already redacted) as bytes (``compress=False``: its text readable
    in the bytes, for tests)."""
    cases = [c for c in run.get("cases") or [] if isinstance(c, Mapping)]
    summary = run.get("summary") or summarize(cases)
    verdict = run.get("profile_verdict") or run_verdict(run)
    title = str(run.get("profile_title") or run.get("profile") or "pile-interop")
    doc = _Document(format="A4")
    doc.set_compression(compress)
    doc.generator = f"{run.get('suite') or 'pile-interop'} {run.get('version') or ''}".strip()
    doc.set_title(latin1(f"{title} - conformance report"))
    doc.set_creator(latin1(doc.generator))
    doc.set_auto_page_break(auto=True, margin=15)
    doc.add_page()
    doc.set_font("Helvetica", "B", 16)
    doc.multi_cell(0, 8, latin1(f"{title} - conformance report"), new_x="LMARGIN", new_y="NEXT")
    doc.ln(2)
    doc.set_font("Helvetica", "B", 12)
    doc.set_text_color(
        *(_VERDICT_COLOUR["pass"] if verdict.get("met") else _VERDICT_COLOUR["fail"])
    )
    doc.multi_cell(0, 7, latin1(verdict.get("text") or ""), new_x="LMARGIN", new_y="NEXT")
    doc.set_text_color(0, 0, 0)
    doc.ln(3)
    sut = run.get("sut") or {}
    _pairs(
        doc,
        "System under test",
        [
            (_LABELS.get(key, key.replace("_", " ").capitalize()), value)
            for key, value in sut.items()
            if not isinstance(value, Mapping | list)  # declared features: in index.html
        ],
    )
    continues = run.get("continues") or {}
    _pairs(
        doc,
        "Run",
        [
            ("Profile", run.get("profile")),
            ("Test suite", doc.generator),
            ("Started", run.get("started")),
            ("Finished", run.get("finished") or "no (interrupted)"),
            ("Duration", f"{run['duration_s']:.1f} s" if run.get("duration_s") else None),
            ("SUT reached by", run.get("against")),
            ("Time scale", run.get("time_scale")),
            ("Variation seed", (run.get("variation") or {}).get("seed")),
            (
                "Continues",
                f"{continues.get('mode')} of {continues.get('report')}" if continues else None,
            ),
        ],
    )
    signature = run.get("signature") or {}
    _pairs(
        doc,
        "Evidence",
        [
            ("results.json SHA-256", results_sha256),
            ("Signed by", signature.get("signer") or ("(not named)" if signature else None)),
            ("Key fingerprint", signature.get("key_fingerprint")),
            ("Signed", signature.get("signed")),
            ("Check", "pile-interop verify DIR --key <lab public key>" if signature else None),
        ],
    )
    counts = ", ".join(f"{summary.get(v, 0)} {v}" for v in shown_verdicts(summary))
    _pairs(doc, "Summary", [("Cases", f"{len(cases)}: {counts}")])
    doc.set_font("Helvetica", "B", 11)
    doc.cell(0, 8, "Cases", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", size=8)
    with doc.table(
        col_widths=(28, 52, 10, 14, 76),
        text_align="LEFT",
        headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)),
        repeat_headings=1,
    ) as table:
        table.row(["Case", "Title", "M/O", "Verdict", "Reason"])
        for case in cases:
            name = str(case.get("verdict") or "?")
            row = table.row()
            row.cell(latin1(case.get("id") or "?"))
            row.cell(latin1(case.get("title") or ""))
            row.cell("M" if case.get("mandatory") else "O")
            colour = _VERDICT_COLOUR.get(name)
            style = FontFace(color=colour, emphasis="BOLD") if colour else None
            row.cell(latin1(name), style=style)
            row.cell(latin1(one_line(case.get("reason") or "", REASON_LIMIT)))
    return bytes(doc.output())


def write_pdf(
    path: Path,
    run: Mapping[str, Any],
    *,
    redactor: Redactor | None = None,
    results_sha256: str | None = None,
) -> Path:
    """Write ``report.pdf`` for ``run`` (redacted first) to ``path``, atomically."""
    data = render_pdf(resolve(redactor).redact(run), results_sha256=results_sha256)
    atomic_write_bytes(Path(path), data)
    logger.debug("wrote %s", path)
    return Path(path)
