"""Checks on the SUT's connections: how it last connected, and that it tried to connect when the
suite refused it."""

from __future__ import annotations

import re
from typing import Any

from pile_interop.core.verdicts import Failure, HarnessError
from pile_interop.scenario.checks.registry import CheckContext, events, register


@register("connection", "the SUT's last connection: {matches}")
def connection(case: CheckContext, args: dict[str, Any]) -> str:
    """The description of the last connection the SUT opened during the case (transport, TLS
    version, client certificate, Basic auth user…) matches every regular expression of
    ``matches``."""
    opened = events(case, args, "connected: ")
    if not opened:
        raise Failure(
            "the SUT opened no connection during the case",
            expected=f"a connection matching {args.get('matches', [])}",
            observed="no connection",
        )
    last = opened[-1]
    for pattern in args.get("matches", []):
        if not re.search(pattern, last):
            raise Failure(
                f"the connection does not match {pattern!r}",
                expected=f"a connection matching {pattern!r}",
                observed=last,
            )
    return last


@register("refused", "the suite refused a connection attempt of the SUT matching {matching}")
def refused(case: CheckContext, args: dict[str, Any]) -> str:
    """The SUT did try to connect during the case and the suite (or a failed TLS handshake)
    refused it: without an attempt, a case that forbids the connection cannot decide."""
    pattern = args.get("matching", "")
    attempts = [e for e in events(case, args, "refused ") if re.search(pattern, e)]
    if not attempts:
        others = events(case, args, "") or ["none"]
        raise HarnessError(
            f"the SUT made no connection attempt the suite refused ({pattern!r}); "
            f"connection events: {'; '.join(others[-3:])}"
        )
    return f"{len(attempts)} refused: {attempts[-1]}"
