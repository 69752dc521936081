"""Authorization in the reference 2.0.1 station's transaction half (blocks C01, C09 – C12,
C15, C16): presenting a card, the Authorization Cache, master passes and group tokens, which EVSE
a token is for, EVConnectionTimeOut, and ClearCache.

:class:`Authorizer` holds the default behaviour; every decision goes through the
:class:`~pile_interop.ocpp.v201.reference.evse_hooks.EvsesHooks` facade (``Evses``), so that a
mutant overriding a hook there changes it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ocpp.v201 import call, call_result

from pile_interop.ocpp.v201.reference.evse_hooks import EvsesHooks
from pile_interop.ocpp.v201.reference.evse_state import (
    AUTH,
    CACHE,
    TX,
    Authorization,
    Evse,
    logger,
)
from pile_interop.ocpp.v201.reference.station_auth import ACCEPTED, Token, TokenInfo


class Authorizer:
    """Cards, the cache and the authorization of an EVSE."""

    def __init__(self, ev: EvsesHooks) -> None:
        self.ev = ev

    # -- presenting a card ----------------------------------------------------------------

    async def present(self, id_tag: str, evse: int | None) -> None:
        ev = self.ev
        ev._ensure_ticker()
        token = Token(id_tag)
        if evse is not None:
            ev._evse(evse)
        # E_15 / C01: the token that authorized a transaction stops it, without Authorize.
        for e in ev.evses.values():
            auth = e.authorization
            if auth is not None and auth.token.same(token):
                if e.transaction is not None:
                    ev._stop_authorization(e, "StopAuthorized", "Local", token=token)
                else:
                    ev._drop_authorization(e)  # presented again before plugging: cancel
                    ev.report_status(e)
                return
        info = await ev.authorize_token(token)
        if not ev.authorize_outcome(info):
            logger.info("idToken %s not accepted (%s)", id_tag, info.status)
            return
        if ev.is_master_pass(info):
            # C16: a master pass stops transactions, never starts one.
            for e in ev.evses.values():
                if e.transaction is not None and (evse is None or e.id == evse):
                    ev._stop_authorization(e, "StopAuthorized", "MasterPass", token=token)
            return
        for e in ev.evses.values():
            auth = e.authorization
            if e.transaction is not None and auth is not None and ev.stops_by_group(auth, info):
                # C09 / C_39: a token of the same group stops it.
                ev._stop_authorization(e, "StopAuthorized", "Local", token=token)
                return
        reservations = getattr(ev.port, "reservations", None)  # block H: reservations.py
        target, reservation_id = (
            (ev.choose_evse(evse), None)
            if reservations is None
            else reservations.choose_evse(evse, token, info)
        )
        if target is None:
            logger.info(
                "no EVSE free for idToken %s: %s",
                id_tag,
                [e.summary() for e in ev.evses.values()],
            )
            return
        auth = Authorization(token, info, "Authorized", reservation_id=reservation_id)
        ev._authorize_evse(target, auth)

    # -- the cache and Authorize ------------------------------------------------------------

    def cache_enabled(self) -> bool:
        return self.ev._bool(CACHE, "Enabled")

    def remember(self, token: Token, info: TokenInfo) -> None:
        if self.ev._cache_enabled():
            self.ev.cache.put(token, info, self.ev.clock.now())

    def _cached(self, token: Token) -> TokenInfo | None:
        ev = self.ev
        if not ev._cache_enabled():
            return None
        return ev.cache.get(token, ev.clock.now(), ev._int(CACHE, "LifeTime"))

    def _listed(self, token: Token) -> TokenInfo | None:
        """The station's Local Authorization List entry (block D, ``local_list.py``), if the
        station has a list (its port's ``local_list``)."""
        local = getattr(self.ev.port, "local_list", None)
        return local.info(token) if local is not None else None

    async def authorize_token(self, token: Token) -> TokenInfo:
        ev = self.ev
        cached = self._cached(token)
        cached_ok = cached is not None and cached.status == ACCEPTED
        listed = self._listed(token)
        if ev.port.online:
            pre_authorize = ev._bool(AUTH, "LocalPreAuthorize")
            if listed is not None and listed.status == ACCEPTED and pre_authorize:
                return listed  # C14: the list's Accepted entry, no AuthorizeRequest
            if cached_ok and ev._bool(AUTH, "LocalPreAuthorize"):
                assert cached is not None
                return cached
            result = await ev.port.send(call.Authorize(id_token=token.to_type()))
            if result is not None:
                info = TokenInfo.from_payload(result.id_token_info)
                ev.remember(token, info)
                return info
        if listed is not None:  # C13: offline, the list decides (before the cache)
            return listed if ev._bool(AUTH, "LocalAuthorizeOffline") else TokenInfo("Invalid")
        if cached is not None:
            if not cached_ok or ev._bool(AUTH, "LocalAuthorizeOffline"):
                return cached
            return TokenInfo("Invalid", cached.group_id_token)  # C12: cache not used offline
        if ev._bool(AUTH, "OfflineTxForUnknownIdEnabled"):
            return TokenInfo(ACCEPTED)
        return TokenInfo("Invalid")

    def authorize_outcome(self, info: TokenInfo) -> bool:
        return info.status == ACCEPTED

    def stops_by_group(self, auth: Authorization, info: TokenInfo) -> bool:
        return auth.info.same_group(info.group_id_token)

    def is_master_pass(self, info: TokenInfo) -> bool:
        master = self.ev._text(AUTH, "MasterPassGroupId")
        return bool(master) and info.same_group(master)

    def authorize_remote_start(self) -> bool:
        return self.ev._bool(AUTH, "AuthorizeRemoteStart")

    # -- which EVSE -------------------------------------------------------------------------

    def free(self, e: Evse) -> bool:
        return (
            e.transaction is None
            and e.authorization is None
            and not e.fault
            and not e.lock_fault
            and self.ev._available(e)
            and not e.session_ended
            and not e.cable_held
        )

    @staticmethod
    def awaiting_authorization(e: Evse) -> bool:
        return e.transaction is not None and e.authorization is None and e.ev_connected

    def choose_evse(self, evse: int | None) -> Evse | None:
        ev = self.ev
        candidates = [ev.evses[evse]] if evse is not None else list(ev.evses.values())
        waiting = [e for e in candidates if ev._awaiting_authorization(e)]
        free = [e for e in candidates if ev._free(e)]
        plugged = [e for e in free if e.ev_connected]
        for group in (waiting, plugged, free):
            if group:
                return group[0]
        return None

    # -- an EVSE's authorization ------------------------------------------------------------

    def authorize_evse(self, e: Evse, auth: Authorization) -> None:
        e.authorization = auth
        if e.transaction is not None:
            e.transaction.id_token = auth.token.id_token
            if auth.remote_start_id is not None:
                e.transaction.remote_start_id = auth.remote_start_id
            e.transaction.reservation_id = auth.reservation_id
        if not e.ev_connected:
            auth.timer = self.ev._spawn(self._ev_connection_timeout(e, auth), "ev-timeout")
        self.ev._evaluate(e, auth.trigger)

    async def _ev_connection_timeout(self, e: Evse, auth: Authorization) -> None:
        """E03 / F_04: authorized but no cable within TxCtrlr.EVConnectionTimeOut."""
        timeout = self.ev._int(TX, "EVConnectionTimeOut")
        if timeout <= 0:
            return
        await self.ev.clock.sleep(timeout)
        if e.authorization is auth and not e.ev_connected:
            auth.timer = None
            logger.info("EVSE %d: EVConnectionTimeOut", e.id)
            self.ev._stop_authorization(e, "EVConnectTimeout", "Timeout", force=True)

    @staticmethod
    def drop_authorization(e: Evse) -> None:
        auth, e.authorization = e.authorization, None
        if auth is not None and auth.timer is not None:
            if auth.timer is not asyncio.current_task():
                auth.timer.cancel()
            auth.timer = None

    def stop_authorization(
        self,
        e: Evse,
        trigger: str,
        reason: str,
        *,
        token: Token | None = None,
        force: bool = False,
    ) -> None:
        ev = self.ev
        ev._drop_authorization(e)
        if e.transaction is None:
            ev.report_status(e)
            return
        ev._evaluate(e, trigger, reason=reason, token=token)
        if force and e.transaction is not None:
            ev._end_transaction(e, trigger, reason)

    # -- ClearCache (C11) -------------------------------------------------------------------

    def clear_cache_status(self) -> str:
        return "Accepted" if self.ev._cache_enabled() else "Rejected"

    async def clear_cache(self, req: call.ClearCache) -> Any:
        status = self.ev.clear_cache_status()
        if status == "Accepted":
            self.ev.cache.clear()
        return call_result.ClearCache(status=status)  # type: ignore[arg-type]
