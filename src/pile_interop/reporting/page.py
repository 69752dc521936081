"""What both HTML pages share: the Jinja2 environment, the inline CSS and script with the
Content-Security-Policy that allows exactly them, case anchors and small formatters.

The script lives in ``templates/report.js.j2`` (the ``.j2`` suffix only makes it package
data; it is read as is, never rendered).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

import jinja2
from markupsafe import Markup

from pile_interop.reporting.common import as_float, parse_time, printable

#: What each verdict means, for a reader who has never run the suite.
VERDICT_MEANING: Mapping[str, str] = {
    "pass": "the SUT did what the requirements say",
    "fail": "a mandatory requirement (MUST / SHALL) was broken",
    "warn": "a recommendation (SHOULD) was not met; still conformant",
    "na": "not applicable: the device descriptor declares the feature absent",
    "error": "the suite could not decide (SUT unreachable, configuration problem)",
    "skipped": "not run in this campaign",
    "not_run": "selected, but the run ended (interrupted, killed) before the case did",
}

_NOT_ID_CHAR = re.compile(r"[^A-Za-z0-9_.:-]")


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one (tolerates ``None`` in a run dict)."""
    return value if isinstance(value, Mapping) else {}


def text(value: Any) -> str:
    """``value`` as display text (``None`` is empty; characters XML cannot hold escaped)."""
    return printable(value)


def duration(seconds: Any) -> str:
    """``1.23 s``, ``4.2 ms``, ``2 min 05.0 s``."""
    value = as_float(seconds)
    if value >= 60:
        minutes, rest = divmod(value, 60)
        return f"{int(minutes)} min {rest:04.1f} s"
    if 0 < value < 0.01:
        return f"{value * 1000:.1f} ms"
    return f"{value:.2f} s"


def when(iso: Any) -> str:
    """An ISO timestamp as ``2026-11-24 05:46:00 UTC`` (as given if it does not parse)."""
    value = parse_time(iso)
    if value is None:
        return text(iso or "")
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def clock(iso: Any) -> str:
    """The time of day of an ISO timestamp with milliseconds: ``05:46:00.123``."""
    value = parse_time(iso)
    if value is None:
        return text(iso or "")
    return value.strftime("%H:%M:%S.") + f"{value.microsecond // 1000:03d}"


def slug(value: Any) -> str:
    """``value`` with every character an HTML id or class should not hold replaced by ``_``."""
    return _NOT_ID_CHAR.sub("_", str(value or ""))


def case_anchors(cases: Iterable[Mapping[str, Any]]) -> list[str]:
    """The HTML ids of a run's cases, in order: ``case-<id>``, made unique with ``-2``, ``-3``
    when two ids clean up the same way. Stable across runs, so other pages can link to them."""
    seen: set[str] = set()
    anchors: list[str] = []
    for case in cases:
        base = f"case-{slug(case.get('id')) or 'unnamed'}"
        name, number = base, 1
        while name in seen:
            number += 1
            name = f"{base}-{number}"
        seen.add(name)
        anchors.append(name)
    return anchors


def environment() -> jinja2.Environment:
    """The Jinja2 environment of the report templates (autoescape on, strict)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pile_interop.reporting", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def assets(env: jinja2.Environment) -> dict[str, Any]:
    """The inline CSS and script, and a Content-Security-Policy that allows exactly them."""
    loader = env.loader
    assert loader is not None
    css = loader.get_source(env, "report.css")[0]
    script = loader.get_source(env, "report.js.j2")[0]
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )
    return {"css": Markup(css), "script": Markup(script), "csp": csp}
