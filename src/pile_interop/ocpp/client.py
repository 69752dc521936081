"""The WebSocket client the suite runs when it plays a charging station (SUT = CSMS).

:func:`open_station_connection` connects to :func:`station_url` of the CSMS URL offering one
OCPP subprotocol, with optional HTTP Basic credentials (security profiles 1 and 2) and an optional
TLS context (profiles 2 and 3). Every way a connection can fail becomes a
:class:`ConnectFailed` whose text says what happened (HTTP status, TLS alert, refused,
timeout) — the case that needed the connection puts it in its reason.
"""

from __future__ import annotations

import asyncio
import base64
import re
import socket
import ssl as ssl_module
from urllib.parse import quote, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI
from websockets.typing import Subprotocol


class ConnectFailed(Exception):
    """The connection could not be opened. ``kind`` says where it stopped: ``unreachable``
    (no server answered at all), ``timeout``, ``tls`` (the handshake failed), ``http`` (the
    upgrade was refused), ``handshake`` (another WebSocket handshake problem) or
    ``subprotocol`` (accepted without agreeing to the offered subprotocol); ``status`` is the
    HTTP status of a refused upgrade."""

    def __init__(self, reason: str, *, kind: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.status = status

    @property
    def unreachable(self) -> bool:
        return self.kind == "unreachable"

    @property
    def refused(self) -> bool:
        """The server said no (TLS alert / closed handshake, or an HTTP error status)."""
        return self.kind in ("tls", "http")

    @property
    def transient(self) -> bool:
        """Worth another attempt: no answer, a dropped handshake, or an upgrade refused with
        a status that is not about who the station is (not 400, 401, 403, 404)."""
        if self.kind == "http":
            return self.status not in (400, 401, 403, 404)
        return self.kind in ("unreachable", "timeout", "handshake")


def describe_transport(connection: ClientConnection) -> str:
    """``TLSv1.3 TLS_AES_256_GCM_SHA384`` for a wss connection, ``no TLS`` for ws."""
    ssl_object = connection.transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return "no TLS"
    cipher = ssl_object.cipher()
    return f"{ssl_object.version()} {cipher[0] if cipher else ''}".strip()


#: Where a CSMS URL template puts the station identity.
PLACEHOLDER = "{station_id}"
_BRACES = re.compile(r"\{[^{}]*\}")


def station_url(template: str, station_id: str) -> str:
    """The URL the station connects to: ``{station_id}`` in ``template`` replaced by the
    percent-encoded identity (``ws://h/ocpp/{station_id}/ws?token=t`` →
    ``ws://h/ocpp/CS-1/ws?token=t``); without the placeholder the identity is appended as the
    last path segment, the query kept after it (``ws://h/ocpp/?x=1`` → ``ws://h/ocpp/CS-1?x=1``).
    """
    identity = quote(station_id, safe="")
    if PLACEHOLDER in template:
        return template.replace(PLACEHOLDER, identity)
    parts = urlsplit(template)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{identity}"))


def check_url(url: str) -> str | None:
    """Why ``url`` (a CSMS URL, or a template with ``{station_id}`` in its path or query)
    cannot be a CSMS endpoint, or None."""
    for found in _BRACES.findall(url):
        if found != PLACEHOLDER:
            return f"{url!r}: unknown placeholder {found} (the one known is {PLACEHOLDER})"
    if "{" in _BRACES.sub("", url) or "}" in _BRACES.sub("", url):
        return f"{url!r}: unbalanced braces (the identity placeholder is {PLACEHOLDER})"
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        return f"{url!r} is not a ws:// or wss:// URL"
    if PLACEHOLDER in parts.netloc:
        return f"{url!r}: {PLACEHOLDER} may only stand in the path or the query"
    if parts.fragment:
        return f"{url!r}: a WebSocket URL has no #fragment"
    if not parts.hostname:
        return f"{url!r} names no host"
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return f"{url!r} has an invalid port"
    return None


def basic_auth_header(user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return f"Basic {token}"


async def open_station_connection(
    url: str,
    station_id: str,
    subprotocol: str,
    *,
    timeout: float,
    password: str | None = None,
    ssl: ssl_module.SSLContext | None = None,
    max_size: int = 1 << 20,
    username: str | None = None,
    compression: str | None = "deflate",
) -> ClientConnection:
    """Connect as station ``station_id`` (Basic user ``username``, by default the identity);
    :class:`ConnectFailed` saying why not. ``compression=None`` offers no permessage-deflate
    (a fleet station saves its per-connection zlib state)."""
    target = station_url(url, station_id)
    headers = {}
    if password is not None:
        headers["Authorization"] = basic_auth_header(username or station_id, password)
    try:
        connection = await asyncio.wait_for(
            connect(
                target,
                subprotocols=[Subprotocol(subprotocol)],
                additional_headers=headers,
                ssl=ssl if target.startswith("wss:") else None,
                open_timeout=None,  # bounded by wait_for: one bound for TCP + TLS + upgrade
                max_size=max_size,
                ping_interval=None,  # OCPP keep-alive is the Heartbeat
                proxy=None,
                compression=compression,
            ),
            timeout,
        )
    except TimeoutError:
        raise ConnectFailed(
            f"no WebSocket connection to {target} within {timeout:.3g} s "
            "(TCP, TLS and HTTP upgrade)",
            kind="timeout",
        ) from None
    except InvalidStatus as exc:
        status = exc.response.status_code
        phrase = exc.response.reason_phrase
        raise ConnectFailed(
            f"{target} refused the upgrade: HTTP {status} {phrase}", kind="http", status=status
        ) from None
    except InvalidURI as exc:
        raise ConnectFailed(f"invalid URL {target}: {exc}", kind="unreachable") from None
    except ssl_module.SSLCertVerificationError as exc:
        raise ConnectFailed(
            f"TLS handshake with {target} failed: the CSMS certificate was not accepted "
            f"({exc.verify_message})",
            kind="tls",
        ) from None
    except ssl_module.SSLError as exc:
        raise ConnectFailed(
            f"TLS handshake with {target} failed: {exc.reason or exc} (TLS alert)", kind="tls"
        ) from None
    except (ConnectionResetError, EOFError) as exc:
        # a TLS server that refuses our certificate (or none) may just drop the connection
        where = "TLS handshake" if ssl is not None else "connection"
        raise ConnectFailed(
            f"{where} with {target} failed: the server closed the connection "
            f"({type(exc).__name__})",
            kind="tls" if ssl is not None else "handshake",
        ) from None
    except InvalidHandshake as exc:
        cause = exc.__cause__
        if ssl is not None and isinstance(
            cause, ssl_module.SSLError | ConnectionResetError | EOFError
        ):
            # TLS 1.3 checks the client certificate after the handshake: a server refusing it
            # closes the connection before answering the HTTP upgrade
            raise ConnectFailed(
                f"{target} closed the TLS connection before answering the upgrade "
                f"(as a TLS 1.3 server refusing the client certificate does): {cause}",
                kind="tls",
            ) from None
        raise ConnectFailed(
            f"WebSocket handshake with {target} failed: {exc}", kind="handshake"
        ) from None
    except ConnectionRefusedError:
        raise ConnectFailed(f"{target}: connection refused", kind="unreachable") from None
    except socket.gaierror as exc:
        raise ConnectFailed(
            f"{target}: unknown host ({exc.strerror})", kind="unreachable"
        ) from None
    except OSError as exc:
        raise ConnectFailed(f"{target}: {exc.strerror or exc}", kind="unreachable") from None
    if connection.subprotocol != subprotocol:
        await connection.close(1002, f"{subprotocol} required")
        got = connection.subprotocol or "none"
        raise ConnectFailed(
            f"{target} accepted the connection without agreeing to {subprotocol} "
            f"(Sec-WebSocket-Protocol: {got})",
            kind="subprotocol",
        )
    return connection
