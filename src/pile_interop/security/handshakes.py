"""Watching TLS handshakes: what failed and why, who the peer is, whether legacy TLS works.

* :func:`observe_handshakes` — reports every failed server-side TLS handshake (the alert, e.g.
  ``tlsv1 alert unknown ca``) to a callback, since the event loop swallows them;
* :func:`describe_ssl_error` — one line for a TLS failure;
* :func:`peer_common_name` — the subject commonName of the peer's certificate;
* :func:`legacy_tls_problem` — ``None`` when this OpenSSL can still make a TLS 1.1 handshake
  when asked, else why not (OpenSSL builds may refuse TLS < 1.2 whatever the context says).

The contexts themselves and the test PKI are :mod:`pile_interop.security.pki`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable
from typing import Any

from pile_interop.security.pki import TestPki, client_context, pki_server_context

__all__ = [
    "HANDSHAKE_STALL_S",
    "describe_ssl_error",
    "legacy_tls_problem",
    "observe_handshakes",
    "peer_common_name",
    "tls_version_name",
]

#: How many bytes one in-memory handshake round may move (the probe's bound).
_PROBE_ROUNDS = 20


# -- observing -----------------------------------------------------------------------------------


def tls_version_name(version: str | None) -> str:
    """``TLSv1.3`` as OpenSSL reports it, or ``no TLS``."""
    return version or "no TLS"


def peer_common_name(ssl_object: Any) -> str | None:
    """The subject commonName of the certificate the peer presented (None without one)."""
    if ssl_object is None:
        return None
    cert = ssl_object.getpeercert()
    if not cert:
        return None
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


#: A server-side TLS handshake not finished after this long (real seconds) is reported: a
#: peer that rejects our certificate may just close the TCP connection without an alert.
HANDSHAKE_STALL_S = 1.0


def observe_handshakes(
    context: ssl.SSLContext,
    on_failure: Callable[[str], object],
    *,
    stall_after: float = HANDSHAKE_STALL_S,
) -> None:
    """Call ``on_failure(reason)`` for every TLS handshake made with ``context`` that fails
    (the alert the peer sent or what our side refused, e.g. ``tlsv1 alert unknown ca``), or
    that has not finished ``stall_after`` seconds after it began (a Python peer, for one,
    closes the connection on a bad certificate without sending its alert).

    asyncio's TLS layer only logs such failures in debug mode; this hooks the documented
    ``SSLContext.sslobject_class`` (and ``SSLObject._create``, how ``wrap_bio`` makes one)."""

    class ObservedSSLObject(ssl.SSLObject):
        _pile_state = "handshake"

        @classmethod
        def _create(cls, *args: Any, **kwargs: Any) -> Any:
            obj = super()._create(*args, **kwargs)  # type: ignore[misc]
            with contextlib.suppress(RuntimeError):  # no running loop: no stall watch
                asyncio.get_running_loop().call_later(stall_after, obj._pile_stalled)
            return obj

        def _pile_stalled(self) -> None:
            if self._pile_state == "handshake":
                self._pile_state = "failed"
                on_failure(
                    f"not finished within {stall_after:g} s (the peer stalled, or closed the "
                    "connection during the handshake: it refused the certificate or the TLS "
                    "version)"
                )

        def do_handshake(self) -> None:
            try:
                super().do_handshake()
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                raise
            except ssl.SSLError as exc:
                if self._pile_state == "handshake":
                    on_failure(describe_ssl_error(exc))
                self._pile_state = "failed"
                raise
            self._pile_state = "done"

    context.sslobject_class = ObservedSSLObject


def describe_ssl_error(exc: BaseException) -> str:
    """One line for a TLS failure: the OpenSSL reason and, for a certificate, why."""
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return f"certificate verify failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return exc.reason.lower().replace("_", " ")
    return str(exc)


# -- probing -----------------------------------------------------------------------------------


def _handshake(server: ssl.SSLContext, client: ssl.SSLContext, host: str) -> str:
    """Run a TLS handshake in memory between two contexts; the negotiated version."""
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    c = client.wrap_bio(c_in, c_out, server_hostname=host)
    s = server.wrap_bio(s_in, s_out, server_side=True)
    done = {"c": False, "s": False}
    for _ in range(_PROBE_ROUNDS):
        for name, obj in (("c", c), ("s", s)):
            if not done[name]:
                with contextlib.suppress(ssl.SSLWantReadError):
                    obj.do_handshake()
                    done[name] = True
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            return str(c.version())
    raise ssl.SSLError("the handshake did not finish")


def legacy_tls_problem(pki: TestPki) -> str | None:
    """``None`` if this Python/OpenSSL still makes a TLS 1.1 handshake when both sides ask for
    it, else why not (then a "TLS below 1.2" negative cannot offer TLS 1.1 at all)."""
    legacy = ssl.TLSVersion.TLSv1_1
    try:
        server = pki_server_context(pki, max_version=legacy)
        client = client_context(pki.root_ca, max_version=legacy)
        version = _handshake(server, client, "localhost")
    except (ssl.SSLError, ValueError) as exc:
        return f"this OpenSSL ({ssl.OPENSSL_VERSION}) refuses TLS 1.1: {describe_ssl_error(exc)}"
    if version not in ("TLSv1.1", "TLSv1"):
        return f"this OpenSSL ({ssl.OPENSSL_VERSION}) negotiated {version} when capped at 1.1"
    return None
