"""Tokens and the Authorization Cache of the reference OCPP 2.0.1 station (Part 2 block C).

The station keeps every ``IdTokenInfo`` it receives (AuthorizeResponse, TransactionEventResponse)
in its cache when ``AuthCacheCtrlr.Enabled`` is true (C10); an entry stops counting as Accepted
after its ``cacheExpiryDateTime`` or ``AuthCacheCtrlr.LifeTime`` (C10.FR.08 / C10.FR.10).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ocpp.v201.datatypes import IdTokenType

from pile_interop.core.clock import parse_iso, utc_iso

#: Token type of a card presented at the reader (``present_id_tag``).
LOCAL_TOKEN_TYPE = "ISO14443"
ACCEPTED = "Accepted"


def as_dict(value: Any) -> dict[str, Any]:
    """A payload part as a snake_case dict: the ``ocpp`` package hands nested objects over as
    dicts (snake_case keys); tests may hand dataclasses."""
    if value is None:
        return {}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: v for k, v in dataclasses.asdict(value).items() if v is not None}
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"not a payload object: {value!r}")


def _get(data: Mapping[str, Any], snake: str, camel: str) -> Any:
    return data.get(snake, data.get(camel))


@dataclass(frozen=True)
class Token:
    """An ``IdTokenType``: the identifier and its type. ``idToken`` is case-insensitive."""

    id_token: str
    type: str = LOCAL_TOKEN_TYPE

    @classmethod
    def from_payload(cls, data: Any) -> Token:
        d = as_dict(data)
        return cls(str(_get(d, "id_token", "idToken")), str(d.get("type", LOCAL_TOKEN_TYPE)))

    def same(self, other: Token | None) -> bool:
        return other is not None and self.id_token.lower() == other.id_token.lower()

    def to_type(self) -> IdTokenType:
        return IdTokenType(id_token=self.id_token, type=self.type)  # type: ignore[arg-type]


@dataclass
class TokenInfo:
    """An ``IdTokenInfoType`` as the station keeps it."""

    status: str
    group_id_token: str | None = None
    cache_expiry: datetime | None = None

    @classmethod
    def from_payload(cls, data: Any) -> TokenInfo:
        d = as_dict(data)
        group = _get(d, "group_id_token", "groupIdToken")
        expiry = _get(d, "cache_expiry_date_time", "cacheExpiryDateTime")
        return cls(
            status=str(d.get("status", "Invalid")),
            group_id_token=str(_get(as_dict(group), "id_token", "idToken")) if group else None,
            cache_expiry=parse_iso(expiry) if expiry else None,
        )

    def same_group(self, group: str | None) -> bool:
        return bool(group and self.group_id_token and self.group_id_token.lower() == group.lower())

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.group_id_token:
            out["groupIdToken"] = self.group_id_token
        if self.cache_expiry is not None:
            out["cacheExpiryDateTime"] = utc_iso(self.cache_expiry)
        return out


@dataclass
class CacheEntry:
    info: TokenInfo
    stored_at: datetime


class AuthCache:
    """Token → last ``IdTokenInfo``. Persistent: survives reboots; ClearCache empties it."""

    def __init__(self) -> None:
        self._entries: dict[str, CacheEntry] = {}

    def put(self, token: Token, info: TokenInfo, now: datetime) -> None:
        self._entries[token.id_token.lower()] = CacheEntry(info, now)

    def get(self, token: Token, now: datetime, lifetime_s: int = 0) -> TokenInfo | None:
        """The cached info, with an Accepted entry past its expiry (or older than
        ``lifetime_s`` when > 0) reported as Expired."""
        entry = self._entries.get(token.id_token.lower())
        if entry is None:
            return None
        info = entry.info
        expired = (info.cache_expiry is not None and info.cache_expiry <= now) or (
            lifetime_s > 0 and entry.stored_at + timedelta(seconds=lifetime_s) <= now
        )
        if expired and info.status == ACCEPTED:
            return TokenInfo("Expired", info.group_id_token, info.cache_expiry)
        return info

    def clear(self) -> None:
        self._entries.clear()

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {token: entry.info.to_wire() for token, entry in self._entries.items()}
