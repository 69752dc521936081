"""The WebSocket server the suite runs when it plays the CSMS.

* the station identity is the last segment of the URL path (``ws://host:port/ocpp/CS-001``),
  or the segment at ``identity_segment`` (``-2`` for ``/ocpp/CS-001/ws``); the query is ignored;
* the subprotocol is negotiated from the ones the suite speaks (``ocpp1.6``, ``ocpp2.0.1``,
  ``ocpp2.1``); a client that offers none of them is refused during the handshake (HTTP 400);
* optional HTTP Basic authentication (security profile 1): the user name must be the station
  identity and the password the one from the device descriptor (HTTP 401 otherwise);
* optional TLS (security profiles 2 and 3, ``ssl``): a failed TLS handshake (the alert the
  station sent, or why the suite refused it) is reported like any refusal; with
  ``client_cn_required`` (profile 3) the client certificate's subject commonName must be the
  station identity of the URL (HTTP 403 otherwise);
* ``agree_subprotocol`` makes the server answer a subprotocol of its choosing (or none), for the
  "wrong subprotocol" negatives;
* :meth:`restart` applies changed settings (a new ``ssl`` context…) on the same port, closing
  the open connections;
* every refused attempt is reported to ``on_refused`` so the case that waited for the
  connection can say why it never came.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import logging
import ssl as ssl_module
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader
from websockets.headers import parse_authorization_basic, parse_subprotocol
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from pile_interop.core.errors import UsageError
from pile_interop.security.handshakes import observe_handshakes, peer_common_name

log = logging.getLogger(__name__)

#: Bound on the opening handshake of one client.
HANDSHAKE_TIMEOUT_S = 10.0

OnConnect = Callable[[ServerConnection, str, str], Awaitable[None]]
OnRefused = Callable[[str], object]
#: ``agree_subprotocol`` value: pick the best subprotocol both sides speak (the normal case).
NEGOTIATE = "negotiate"


def station_id_from_path(path: str, segment: int = -1) -> str | None:
    """The non-empty segment ``segment`` (by default the last) of the request path without its
    query, URL-decoded; None when the path has no such segment."""
    segments = [s for s in urlsplit(path).path.split("/") if s]
    try:
        return unquote(segments[segment])
    except IndexError:
        return None


def offered_subprotocols(headers: Headers) -> list[str]:
    offered: list[str] = []
    for value in headers.get_all("Sec-WebSocket-Protocol"):
        with contextlib.suppress(InvalidHeader):
            offered.extend(parse_subprotocol(value))
    return offered


class CsmsServer:
    """Accepts charging-station connections and hands each to ``on_connect``."""

    def __init__(
        self,
        host: str,
        port: int,
        on_connect: OnConnect,
        *,
        subprotocols: Sequence[str] = ("ocpp1.6", "ocpp2.0.1", "ocpp2.1"),
        station_ids: Sequence[str] | None = None,
        password: str | None = None,
        ssl: ssl_module.SSLContext | None = None,
        client_cn_required: bool = False,
        agree_subprotocol: str | None = NEGOTIATE,
        on_refused: OnRefused | None = None,
        max_size: int = 1 << 20,
        identity_segment: int = -1,
    ) -> None:
        self.host = host
        self.port = port
        self.on_connect = on_connect
        self.subprotocols = [Subprotocol(s) for s in subprotocols]
        self.station_ids = set(station_ids) if station_ids else None
        self.password = password
        self.ssl = ssl
        self.client_cn_required = client_cn_required
        #: security profile 3 after an upgrade: a client certificate naming the station stands
        #: in for the Basic credentials (OCPP 2.0.1 A05)
        self.client_cert_replaces_password = False
        self.agree_subprotocol = agree_subprotocol
        self.on_refused = on_refused or (lambda _reason: None)
        self.max_size = max_size
        #: which non-empty path segment holds the station identity (-1: the last)
        self.identity_segment = identity_segment
        self._server: Server | None = None

    @property
    def bound_port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        scheme = "wss" if self.ssl else "ws"
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"{scheme}://{host}:{self.bound_port}/ocpp"

    async def start(self) -> None:
        if self.ssl is not None:
            observe_handshakes(self.ssl, self._tls_failed)
        try:
            self._server = await serve(
                self._handle,
                self.host,
                self.port,
                subprotocols=self.subprotocols,
                select_subprotocol=self._select_subprotocol,
                process_request=self._process_request,
                ssl=self.ssl,
                open_timeout=HANDSHAKE_TIMEOUT_S,
                max_size=self.max_size,
                ping_interval=None,  # OCPP keep-alive is the station's business (Heartbeat)
            )
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UsageError(f"--listen {self.host}:{self.port}: port already in use") from None
            raise UsageError(f"--listen {self.host}:{self.port}: {exc.strerror or exc}") from None
        log.info("CSMS listening on %s", self.url)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), HANDSHAKE_TIMEOUT_S)
            self._server = None

    async def restart(self) -> None:
        """Apply changed settings: close the listener and every open connection, listen again
        on the same port."""
        if self._server is not None:
            self.port = self.bound_port
        await self.stop()
        await self.start()

    async def __aenter__(self) -> CsmsServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- handshake ----------------------------------------------------------------------

    def _refuse(self, connection: ServerConnection, status: HTTPStatus, why: str) -> Response:
        peer = _peer(connection)
        self.on_refused(f"refused a connection from {peer} with HTTP {status.value}: {why}")
        log.info("refused %s: %s", peer, why)
        return connection.respond(status, why + "\n")

    def _tls_failed(self, why: str) -> None:
        if "alert" in why:
            why = f"{why} (the station's alert: it refused the suite's TLS offer)"
        self.on_refused(f"refused a connection: TLS handshake failed: {why}")
        log.info("TLS handshake failed: %s", why)

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        station_id = station_id_from_path(request.path, self.identity_segment)
        if station_id is None:
            return self._refuse(connection, HTTPStatus.NOT_FOUND, "no station identity in the URL")
        if self.station_ids is not None and station_id not in self.station_ids:
            return self._refuse(
                connection, HTTPStatus.NOT_FOUND, f"unknown station identity {station_id!r}"
            )
        common_name = None
        if self.ssl is not None:
            common_name = peer_common_name(connection.transport.get_extra_info("ssl_object"))
        if self.ssl is not None and self.client_cn_required and common_name != station_id:
            return self._refuse(
                connection,
                HTTPStatus.FORBIDDEN,
                f"client certificate CN {common_name!r} is not the station identity {station_id!r}",
            )
        by_certificate = self.client_cert_replaces_password and common_name == station_id
        if self.password is not None and not by_certificate:
            header = request.headers.get("Authorization")
            if header is None:
                return self._unauthorized(connection, "no HTTP Basic credentials")
            try:
                user, password = parse_authorization_basic(header)
            except InvalidHeader:
                return self._unauthorized(connection, "malformed Authorization header")
            if user != station_id:
                return self._unauthorized(connection, "user name is not the station identity")
            if not hmac.compare_digest(password.encode(), self.password.encode()):
                return self._unauthorized(connection, "wrong password")
        offered = offered_subprotocols(request.headers)
        if not any(p in self.subprotocols for p in offered):
            return self._refuse(
                connection,
                HTTPStatus.BAD_REQUEST,
                f"no supported OCPP subprotocol offered ({', '.join(offered) or 'none'}; "
                f"expected one of {', '.join(self.subprotocols)})",
            )
        return None

    def _unauthorized(self, connection: ServerConnection, why: str) -> Response:
        response = self._refuse(connection, HTTPStatus.UNAUTHORIZED, why)
        response.headers["WWW-Authenticate"] = 'Basic realm="OCPP", charset="UTF-8"'
        return response

    def _select_subprotocol(
        self, _connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        if self.agree_subprotocol != NEGOTIATE:
            agreed = self.agree_subprotocol
            return Subprotocol(agreed) if agreed else None
        for mine in self.subprotocols:  # our preference order: the profile's version first
            if mine in offered:
                return mine
        return None  # unreachable: _process_request refused such clients

    def describe_transport(self, connection: ServerConnection) -> str:
        """How a connection came in: TLS version, client certificate, Basic auth user."""
        ssl_object = connection.transport.get_extra_info("ssl_object")
        if ssl_object is None:
            parts = ["no TLS"]
        else:
            parts = [f"TLS {ssl_object.version()}"]
            common_name = peer_common_name(ssl_object)
            parts.append(
                f"client certificate CN={common_name}" if common_name else "no client certificate"
            )
        header = connection.request.headers.get("Authorization") if connection.request else None
        user = None
        if header is not None:
            with contextlib.suppress(InvalidHeader):
                user, _password = parse_authorization_basic(header)
        parts.append(f"HTTP Basic auth as {user}" if user else "no HTTP Basic auth")
        return ", ".join(parts)

    async def _handle(self, connection: ServerConnection) -> None:
        path = connection.request.path if connection.request else ""
        station_id = station_id_from_path(path, self.identity_segment)
        subprotocol = connection.subprotocol or ""
        await self.on_connect(connection, station_id or "", subprotocol)


def _peer(connection: ServerConnection) -> str:
    address = connection.remote_address
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)
