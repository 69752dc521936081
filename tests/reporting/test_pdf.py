"""report.pdf: the certificate-file document, built from the run dict with fpdf2."""

from __future__ import annotations

from pile_interop.reporting.pdf import latin1, render_pdf, write_pdf

from .conftest import LEAKS


def test_the_pdf_names_the_verdict_the_sut_the_signer_and_every_case(run, redactor):
    signed = dict(
        run,
        signature={"signer": "ACME Lab", "key_fingerprint": "sha256:abcd", "signed": "2026"},
    )
    data = render_pdf(redactor.redact(signed), results_sha256="f00d", compress=False)
    assert data.startswith(b"%PDF-")
    for needle in (run["profile_verdict"]["text"], "Acme", "ACME Lab", "sha256:abcd", "f00d"):
        assert latin1(needle).encode("latin-1") in data, needle
    for case in run["cases"]:
        assert case["id"].encode() in data


def test_no_secret_reaches_the_pdf(run, redactor, tmp_path):
    path = write_pdf(tmp_path / "report.pdf", run, redactor=redactor)
    assert path.read_bytes().startswith(b"%PDF-")
    data = render_pdf(redactor.redact(run), compress=False)
    for leak in LEAKS:
        assert leak.encode() not in data


def test_text_outside_latin1_is_written_as_its_nearest_ascii():
    assert latin1("interrupted — no verdict … → ≤ 5 s §4.8 ×") == (
        "interrupted - no verdict ... -> <= 5 s §4.8 ×"
    )
    assert latin1("充电桩") == "???"
