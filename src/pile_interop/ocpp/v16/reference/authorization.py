"""Authorization at the reference OCPP 1.6J station (§3.5): the Authorization Cache,
Authorize.req or the offline rules, the connector a new session goes to, the wait for the EV
(§9.1.6 ConnectionTimeOut), and ClearCache (§5.4).

:class:`Authorizer` holds the default behaviour; every hook goes through the station
(:class:`AuthorizerPort`), so that a mutant overriding one there changes it everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from ocpp.v16 import call, call_result
from ocpp.v16.enums import AuthorizationStatus, ClearCacheStatus, RegistrationStatus

from pile_interop.ocpp.v16.reference.station_hooks import StationState
from pile_interop.ocpp.v16.reference.station_model import (
    Connector,
    PendingAuthorization,
    TagInfo,
)


class AuthorizerPort(StationState, Protocol):
    """What authorization needs from the station."""

    def remember(self, id_tag: str, info: TagInfo) -> None: ...
    def local_list_lookup(self, id_tag: str) -> TagInfo | None: ...
    def is_free(self, conn: Connector) -> bool: ...
    def begin_transaction(self, conn: Connector, id_tag: str, info: TagInfo) -> None: ...
    def clear_cache_status(self) -> str: ...


class Authorizer:
    """Who may charge, and on which connector."""

    def __init__(self, station: AuthorizerPort) -> None:
        self.station = station

    def _cache_enabled(self) -> bool:
        return self.station.config.get_bool("AuthorizationCacheEnabled")

    def remember(self, id_tag: str, info: TagInfo) -> None:
        if self._cache_enabled():
            self.station.cache.put(id_tag, info)

    async def authorize_id_tag(self, id_tag: str) -> TagInfo:
        st = self.station
        if st.registration == RegistrationStatus.accepted and not st.outbox.open.is_set():
            # Accepted, still sending the boot StatusNotifications: online in a moment, so
            # ask the Central System rather than fall back to the offline rules.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(st.outbox.open.wait(), st.response_timeout())
        now = st.clock.now()
        # §3.5.3: an entry of the Local Authorization List wins over the cache
        cached = st.local_list_lookup(id_tag)
        if cached is None and self._cache_enabled():
            cached = st.cache.get(id_tag)
        cached_ok = (
            cached is not None and cached.effective_status(now) == AuthorizationStatus.accepted
        )
        if st.outbox.open.is_set():
            if cached is not None and cached_ok and st.config.get_bool("LocalPreAuthorize"):
                return cached  # §3.5.1: start at once, no Authorize.req
            result = await st.request("Authorize", lambda: call.Authorize(id_tag=id_tag))
            if result is not None:
                info = TagInfo.from_payload(result.id_tag_info)
                st.remember(id_tag, info)
                return info
        # Offline (§3.5.2): the cache if LocalAuthorizeOffline, unknown ids if allowed.
        if cached is not None:
            if cached_ok and st.config.get_bool("LocalAuthorizeOffline"):
                return cached
            return TagInfo(cached.effective_status(now), cached.parent_id_tag, cached.expiry_date)
        if st.config.get_bool("AllowOfflineTxForUnknownId"):
            return TagInfo(AuthorizationStatus.accepted)
        return TagInfo(AuthorizationStatus.invalid)

    def authorize_outcome(self, info: TagInfo) -> bool:
        return info.effective_status(self.station.clock.now()) == AuthorizationStatus.accepted

    def is_free(self, conn: Connector) -> bool:
        station = self.station.connectors[0]
        return (
            conn.transaction is None
            and conn.authorization is None
            and conn.fault is None
            and station.fault is None
            and conn.operative
            and station.operative
            and conn.scheduled_operative is None
            and not conn.session_ended
            and not conn.cable_held
        )

    def choose_connector(self, connector: int | None) -> Connector | None:
        """The connector for a new session: the given one if free; else the plugged-in free
        one; else the first free one."""
        st = self.station
        if connector is not None:
            conn = st.connectors.get(connector)
            return conn if conn is not None and connector > 0 and st.is_free(conn) else None
        free = [c for c in st._outlets() if st.is_free(c)]
        plugged = [c for c in free if c.ev_connected]
        candidates = plugged or free
        return candidates[0] if candidates else None

    def authorized(self, conn: Connector, id_tag: str, info: TagInfo) -> None:
        st = self.station
        if conn.ev_connected:
            st.begin_transaction(conn, id_tag, info)
            return
        auth = PendingAuthorization(id_tag, info)
        conn.authorization = auth
        auth.timer = st.base.spawn(
            self._connection_timeout(conn, auth), "conn-timeout", st.base.boot_tasks
        )
        st.update_status(conn)

    async def _connection_timeout(self, conn: Connector, auth: PendingAuthorization) -> None:
        # §9.1.6 ConnectionTimeOut: from successful authorization until the incipient session
        # is cancelled because the EV was not plugged in. 0 = no time-out.
        st = self.station
        timeout = st.config.get_int("ConnectionTimeOut")
        if timeout <= 0:
            return
        await st.clock.sleep(timeout)
        if conn.authorization is auth:
            st.log.info("%s: ConnectionTimeOut on connector %d", st.station_id, conn.id)
            conn.authorization = None
            st.update_status(conn)

    @staticmethod
    def take_authorization(conn: Connector) -> PendingAuthorization:
        auth = conn.authorization
        assert auth is not None
        conn.authorization = None
        if auth.timer is not None and auth.timer is not asyncio.current_task():
            auth.timer.cancel()
        return auth

    # -- ClearCache (§5.4) --------------------------------------------------------------------

    async def handle_clear_cache(self) -> call_result.ClearCache:
        st = self.station
        status = st.clear_cache_status()
        if status == ClearCacheStatus.accepted:
            st.cache.clear()
        return call_result.ClearCache(status=status)  # type: ignore[arg-type]

    def clear_cache_status(self) -> str:
        if not self._cache_enabled():
            return ClearCacheStatus.rejected
        return ClearCacheStatus.accepted
