"""What the reference CSMSs of every OCPP version share: the server and its operator plumbing.

:class:`CsmsBase` runs the :class:`~pile_interop.ocpp.server.CsmsServer` (TLS, Basic
passwords, client-certificate CN check), keeps one link per connected station, waits for a
station to connect, answers the registration status the operator chose, and sends operator
requests (a CALLERROR answer mapped as its version wants). A version's ``ReferenceCsms``
derives from it once, directly, and fills in its port: :meth:`CsmsBase.new_link` (the
version's ``ocpp`` handler of one connection, a :class:`ConnectionLink`) and
:meth:`CsmsBase.new_record` (what it keeps of one station, a :class:`StationRecord`).

The names the mutants override or reach (``server``, ``_on_connect``, ``_link``, ``_send``,
``_call``, ``store_password``, ``registration``, ``passwords``) are this class's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from ocpp.exceptions import OCPPError
from websockets.asyncio.server import ServerConnection

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.server import CsmsServer

#: Our own DataTransfer vendor id; any other is UnknownVendorId.
VENDOR_ID = "org.pile-interop"
#: The registration answers an operator may choose for BootNotification.
REGISTRATION_STATUSES = ("Accepted", "Pending", "Rejected")
#: Heartbeat / retry interval answered with Pending or Rejected.
RETRY_INTERVAL_S = 10
#: Bound on closing one station connection when the CSMS stops.
CLOSE_TIMEOUT_S = 5.0


class ConnectionLink(Protocol):
    """What the base needs of a version's link (an ``ocpp`` ChargePoint of one connection)."""

    id: str
    _connection: Any

    async def start(self) -> None: ...

    async def call(self, payload: Any, suppress: bool = True) -> Any: ...


class StationRecord(Protocol):
    """What the base keeps in a version's record of one station."""

    station_id: str
    registration: str | None
    boot: dict[str, Any]
    last_heartbeat: str | None


LinkT = TypeVar("LinkT", bound=ConnectionLink)
RecordT = TypeVar("RecordT", bound=StationRecord)


def new_basic_password() -> str:
    """A new Basic password: 20 random bytes as 40 hex characters (1.6: hex, 16 to 20 bytes,
    the OCA validation of TC_073; 2.0.1: a passwordString of 16 to 40 characters, A00)."""
    return secrets.token_hex(20)


class CsmsBase(Generic[LinkT, RecordT]):
    """A reference CSMS without its version: server lifecycle, links, operator plumbing."""

    #: a CALLERROR answering an operator request is returned as the answer (else raised)
    callerror_is_answer = False

    def __init__(
        self,
        *,
        host: str,
        port: int,
        subprotocols: Sequence[str],
        log: logging.Logger,
        passwords: dict[str, str] | None = None,
        heartbeat_interval: int = 300,
        ssl: Any = None,
        client_cn_required: bool = False,
        pki: Any = None,
    ) -> None:
        self.log = log
        #: the test PKI ``ssl`` was made from, if any (security mutants serve other files)
        self.pki = pki
        self.passwords = dict(passwords or {})
        self.heartbeat_interval = heartbeat_interval
        #: called with (station id, password) when a station accepted a new Basic password
        self.on_new_password: Callable[[str, str], Any] | None = None
        #: registration answer per station (``*``: every station), set by ``set_registration``
        self.registration: dict[str, str] = {}
        self.stations: dict[str, RecordT] = {}
        self.links: dict[str, LinkT] = {}
        #: the last answer (or CALLERROR) of each operator request, by action
        self.answers: dict[str, Any] = {}
        self._arrivals: dict[str, list[asyncio.Future[LinkT]]] = {}
        password = next(iter(self.passwords.values())) if len(self.passwords) == 1 else None
        self.server = CsmsServer(
            host,
            port,
            self._on_connect,
            subprotocols=list(subprotocols),
            station_ids=list(self.passwords) or None,
            password=password,
            ssl=ssl,
            client_cn_required=client_cn_required,
        )

    # -- the version's port ---------------------------------------------------------------

    def new_link(self, station_id: str, connection: ServerConnection) -> LinkT:
        """The version's ``ocpp`` handler of a station's new connection."""
        raise NotImplementedError

    def new_record(self, station_id: str) -> RecordT:
        """What the version keeps of a station it has not seen before."""
        raise NotImplementedError

    # -- server lifecycle ------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.server.url

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        for link in list(self.links.values()):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    link._connection.close(1001, "CSMS stopping"), CLOSE_TIMEOUT_S
                )
        await self.server.stop()

    async def _on_connect(self, connection: ServerConnection, station_id: str, sub: str) -> None:
        link = self.new_link(station_id, connection)
        self.links[station_id] = link
        self.record(station_id)
        for waiter in self._arrivals.pop(station_id, []):
            if not waiter.done():
                waiter.set_result(link)
        try:
            await link.start()
        except Exception as exc:
            self.log.info("%s: connection ended (%s)", station_id, type(exc).__name__)
        finally:
            if self.links.get(station_id) is link:
                del self.links[station_id]

    async def wait_for_station(self, station_id: str, timeout: float) -> LinkT:
        """The link of ``station_id`` once it is connected (TimeoutError after ``timeout``)."""
        if station_id in self.links:
            return self.links[station_id]
        waiter: asyncio.Future[LinkT] = asyncio.get_running_loop().create_future()
        self._arrivals.setdefault(station_id, []).append(waiter)
        try:
            return await asyncio.wait_for(waiter, timeout)
        finally:
            waiting = self._arrivals.get(station_id, [])
            if waiter in waiting:
                waiting.remove(waiter)

    def record(self, station_id: str) -> RecordT:
        if station_id not in self.stations:
            self.stations[station_id] = self.new_record(station_id)
        return self.stations[station_id]

    # -- answers the versions share --------------------------------------------------------

    def on_boot(self, station_id: str, payload: dict[str, Any]) -> Any:
        record = self.record(station_id)
        record.boot = dict(payload)
        reply = self.boot_reply(station_id)
        record.registration = str(reply.status)
        return reply

    def boot_reply(self, station_id: str) -> Any:
        """The version's BootNotification answer (see :meth:`registration_terms`)."""
        raise NotImplementedError

    def registration_terms(self, station_id: str) -> tuple[str, int]:
        """(status, interval) a BootNotification of ``station_id`` is answered with: the
        operator's choice (default Accepted) and the heartbeat interval, else the retry one."""
        status = self.registration.get(station_id, self.registration.get("*", "Accepted"))
        return status, self.heartbeat_interval if status == "Accepted" else RETRY_INTERVAL_S

    def heartbeat_time(self, station_id: str) -> str:
        """The current time a Heartbeat is answered with, kept as the station's last one."""
        now = utc_iso()
        self.record(station_id).last_heartbeat = now
        return now

    def data_transfer_status(self, vendor_id: str, message_id: str | None) -> str:
        if vendor_id != VENDOR_ID:
            return "UnknownVendorId"
        return "Accepted" if message_id in (None, "ping") else "UnknownMessageId"

    # -- operator plumbing -----------------------------------------------------------------

    def _link(self, station: str | None) -> LinkT:
        """The link of ``station``, default the station connected last."""
        if station is not None:
            if station not in self.links:
                raise ValueError(f"station {station!r} is not connected")
            return self.links[station]
        if not self.links:
            raise ValueError("no station is connected")
        return next(reversed(self.links.values()))

    async def _call(self, link: LinkT, request: Any) -> Any:
        """Send ``request``; its answer is returned and kept in :attr:`answers`. A CALLERROR
        (an ``OCPPError``) is the answer if :attr:`callerror_is_answer`, else raised. The link
        bounds the wait."""
        action = type(request).__name__
        try:
            answer = await link.call(request, suppress=False)
        except OCPPError as exc:
            self.answers[action] = exc
            if not self.callerror_is_answer:
                raise
            self.log.info(
                "%s: %s answered with a CALLERROR (%s)", link.id, action, type(exc).__name__
            )
            return exc
        self.answers[action] = answer
        return answer

    async def _send(self, request: Any, station: str | None) -> Any:
        return await self._call(self._link(station), request)

    async def _change_password(
        self, station: str | None, request: Any, password: str, accepted: Callable[[Any], bool]
    ) -> Any:
        """Send the request giving the station ``password``; once its answer is ``accepted``
        only that password is accepted on the station's next connections."""
        link = self._link(station)
        answer = await self._send(request, link.id)
        if accepted(answer):
            self.store_password(link.id, password)
            if self.on_new_password is not None:
                self.on_new_password(link.id, password)
        return answer

    def store_password(self, station_id: str, password: str) -> None:
        self.passwords[station_id] = password
        if len(self.passwords) == 1:
            self.server.password = password

    async def set_registration(self, status: str, station: str | None = None) -> None:
        """How the next BootNotifications of ``station`` (default: of every station) are
        answered: Accepted, Pending or Rejected."""
        if status not in REGISTRATION_STATUSES:
            raise ValueError(f"registration status {status!r}")
        if station is None:
            self.registration.clear()
        self.registration[station or "*"] = status

    async def settle(self, timeout: float) -> None:
        """Back to the operator's defaults between cases: every station answered Accepted."""
        self.registration.clear()

    def connections(self) -> dict[str, Any]:
        """The head of a snapshot: where the CSMS listens and who is connected."""
        return {"url": self.url, "connected": sorted(self.links)}
