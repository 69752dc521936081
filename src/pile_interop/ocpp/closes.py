"""How a WebSocket connection ended, in words: who closed it and with which code."""

from __future__ import annotations

from typing import Any


def how_closed(connection: Any) -> tuple[str, str]:
    """``(by, detail)``: `` by the SUT`` / `` by the suite`` / ``""`` and the close code and
    reason, or what happened instead of a close handshake (``connection`` is a websockets
    connection that has ended)."""
    code = connection.close_code
    reason = connection.close_reason or ""
    first = connection.protocol.close_rcvd_then_sent
    by = {True: " by the SUT", False: " by the suite"}.get(first, "") if first is not None else ""
    sent = connection.protocol.close_sent
    if first is None and sent is not None:
        # the suite closed (a frame too big, invalid UTF-8, a peer that does not read…) and
        # got no close frame back: say which code the suite sent
        detail = f"code {sent.code}" + (f", {sent.reason!r}" if sent.reason else "")
        return " by the suite", detail + "; no close frame from the SUT"
    if code is None or first is None:
        return by, "the TCP connection dropped without a close frame"
    return by, f"code {code}" + (f", {reason!r}" if reason else "")
