"""Report writers: results stream (JSONL), results.json, JUnit XML, Allure results, HTML and
console progress.

They read the plain run and case dicts of ``docs/results-format.md`` and never import the
engine, pytest or case modules. Entry points: :func:`pile_interop.reporting.writer.write_all`,
:func:`pile_interop.reporting.html.write_merge_html` (several runs side by side),
:class:`pile_interop.reporting.stream.ResultsStream`,
:class:`pile_interop.reporting.console.Progress`,
:class:`pile_interop.reporting.redact.Redactor`,
:func:`pile_interop.reporting.allure_labels.labels` (the Allure labels of a case, for the
pytest plugin too).
"""
