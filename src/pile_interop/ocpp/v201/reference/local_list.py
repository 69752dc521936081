"""The Local Authorization List of the reference OCPP 2.0.1 station (Part 2 block D, used by C13 /
C14): SendLocalList (Full, Differential), GetLocalListVersion, the LocalAuthListCtrlr variables,
and the list as the authorization sees it.

The list keeps ``idToken`` (case-insensitive) → its ``IdTokenInfo`` and a version number; it
survives reboots. A Full update replaces the list (an empty one clears it); a Differential one
adds or updates every entry with an ``idTokenInfo`` and removes every entry without one (D01). A
Differential update whose version is not above the list's is refused VersionMismatch; an update
the list cannot hold (more entries than ``LocalAuthListCtrlr.ItemsPerMessage`` in one message,
more than the list's capacity afterwards, the same idToken twice) is Failed and changes nothing.
GetLocalListVersion answers the version (0 while the list is empty, D02); the version a
Differential update must exceed stays the last one set.

``LocalAuthListCtrlr.Enabled`` false: the list is kept and updated but not used to authorize.
The authorization (:mod:`~pile_interop.ocpp.v201.reference.authorization`) asks
:meth:`LocalAuthList.info` through the station's ``local_list`` attribute: online with
``AuthCtrlr.LocalPreAuthorize`` an Accepted entry authorizes without an AuthorizeRequest (C14),
offline with ``AuthCtrlr.LocalAuthorizeOffline`` any entry decides (C13).

A station without the feature ``local_auth_list`` (descriptor false) has no list: SendLocalList
and GetLocalListVersion are answered NotSupported and the controller is absent from its device
model. Mutants subclass :class:`LocalAuthList` (the station's ``local_list_class``) and override
one hook: :meth:`LocalAuthList.update_status`, :meth:`LocalAuthList.apply`,
:meth:`LocalAuthList.version_number`, :meth:`LocalAuthList.info`.
"""

from __future__ import annotations

from typing import Any, Protocol

from ocpp.v201 import call, call_result

from pile_interop.ocpp.v201.reference.station_auth import Token, TokenInfo, as_dict
from pile_interop.ocpp.v201.reference.station_model import DeviceModel, Variable

__all__ = ["LOCAL_LIST", "LocalAuthList", "install_local_list"]

#: the device-model component of block D
LOCAL_LIST = "LocalAuthListCtrlr"
#: how many idTokens the list holds at most (maxLimit of LocalAuthListCtrlr.Entries)
CAPACITY = 250
#: entries one SendLocalList may carry (LocalAuthListCtrlr.ItemsPerMessage)
ITEMS_PER_MESSAGE = 50
#: bytes one SendLocalList may carry (LocalAuthListCtrlr.BytesPerMessage)
BYTES_PER_MESSAGE = 65000
#: bytes one entry takes in the station's storage (LocalAuthListCtrlr.Storage counts them)
ENTRY_BYTES = 64

ACCEPTED = "Accepted"
FAILED = "Failed"
VERSION_MISMATCH = "VersionMismatch"


class ListStation(Protocol):
    """What the list needs of the station."""

    model: DeviceModel
    features: dict[str, Any]

    def var(self, component: str, variable: str, evse: int | None = None) -> str: ...


class LocalAuthList:
    """The station's Local Authorization List and its two requests."""

    def __init__(self, station: ListStation) -> None:
        self.st = station
        #: the version of the last update applied (0: never set)
        self.version = 0
        #: idToken (lower case) → (token, info)
        self.entries: dict[str, tuple[Token, TokenInfo]] = {}

    # -- the device model ----------------------------------------------------------------------

    def variables(self) -> list[Variable]:
        """LocalAuthListCtrlr: Enabled (read-write), Entries, Available, ItemsPerMessage,
        BytesPerMessage, Storage (read-only; Entries and Storage computed when read)."""
        ro = "ReadOnly"
        entries = Variable(LOCAL_LIST, "Entries", "0", "integer", ro, max_limit=CAPACITY)
        entries.live = lambda: str(len(self.entries))
        storage = Variable(LOCAL_LIST, "Storage", "0", "integer", ro, unit="B")
        storage.live = lambda: str(len(self.entries) * ENTRY_BYTES)
        return [
            Variable(LOCAL_LIST, "Enabled", "true", "boolean", "ReadWrite"),
            entries,
            Variable(LOCAL_LIST, "Available", "true", "boolean", ro),
            Variable(LOCAL_LIST, "ItemsPerMessage", str(ITEMS_PER_MESSAGE), "integer", ro),
            Variable(LOCAL_LIST, "BytesPerMessage", str(BYTES_PER_MESSAGE), "integer", ro),
            storage,
        ]

    def enabled(self) -> bool:
        return self.st.var(LOCAL_LIST, "Enabled").strip().lower() == "true"

    # -- SendLocalList (D01) ---------------------------------------------------------------------

    async def send_local_list(self, req: call.SendLocalList) -> call_result.SendLocalList:
        status = self.update_status(req)
        if status == ACCEPTED:
            self.apply(req)
        return call_result.SendLocalList(status=status)  # type: ignore[arg-type]

    @staticmethod
    def _items(req: call.SendLocalList) -> list[tuple[Token, TokenInfo | None]]:
        out: list[tuple[Token, TokenInfo | None]] = []
        for item in req.local_authorization_list or []:
            data = as_dict(item)
            token = Token.from_payload(data.get("id_token", data.get("idToken")))
            raw = data.get("id_token_info", data.get("idTokenInfo"))
            out.append((token, TokenInfo.from_payload(raw) if raw else None))
        return out

    def update_status(self, req: call.SendLocalList) -> str:
        """VersionMismatch: a Differential update not above the list's version; Failed: more
        entries than one message may carry, the same idToken twice, or more than the list
        holds afterwards; else Accepted."""
        items = self._items(req)
        if str(req.update_type) == "Differential" and int(req.version_number) <= self.version:
            return VERSION_MISMATCH
        keys = [token.id_token.lower() for token, _ in items]
        if len(items) > ITEMS_PER_MESSAGE or len(set(keys)) != len(keys):
            return FAILED
        if str(req.update_type) == "Full":
            after = {k for k, (_, info) in zip(keys, items, strict=True) if info is not None}
        else:
            after = set(self.entries)
            for key, (_, info) in zip(keys, items, strict=True):
                if info is None:
                    after.discard(key)
                else:
                    after.add(key)
        return FAILED if len(after) > CAPACITY else ACCEPTED

    def apply(self, req: call.SendLocalList) -> None:
        """Full: the list becomes the request's; Differential: an entry with idTokenInfo is
        added or replaced, one without is removed. The version becomes the request's."""
        if str(req.update_type) == "Full":
            self.entries.clear()
        for token, info in self._items(req):
            key = token.id_token.lower()
            if info is None:
                self.entries.pop(key, None)
            else:
                self.entries[key] = (token, info)
        self.version = int(req.version_number)

    # -- GetLocalListVersion (D02) -----------------------------------------------------------

    async def get_local_list_version(
        self, req: call.GetLocalListVersion
    ) -> call_result.GetLocalListVersion:
        return call_result.GetLocalListVersion(version_number=self.version_number())

    def version_number(self) -> int:
        """The version of the list; 0 when the list is empty (D02)."""
        return self.version if self.entries else 0

    # -- the authorization's view (C13, C14) -------------------------------------------------

    def info(self, token: Token) -> TokenInfo | None:
        """The list's IdTokenInfo of ``token`` (None: not on the list, or the list disabled)."""
        if not self.enabled():
            return None
        entry = self.entries.get(token.id_token.lower())
        return entry[1] if entry is not None else None

    def snapshot(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "entries": {t.id_token: info.to_wire() for t, info in self.entries.values()},
        }


def install_local_list(station: Any) -> LocalAuthList | None:
    """Give the station its list (class ``station.local_list_class``, default
    :class:`LocalAuthList`) unless its descriptor says ``local_auth_list: false``: the
    LocalAuthListCtrlr variables join its device model, and ``handle_send_local_list`` /
    ``handle_get_local_list_version`` become its handlers (instance attributes: the link finds
    them by name). Returns the list (None: the station has none)."""
    if station.features.get("local_auth_list", True) is False:
        return None
    cls = getattr(station, "local_list_class", None) or LocalAuthList
    local: LocalAuthList = cls(station)
    for var in local.variables():
        station.model.add(var)
    station.handle_send_local_list = local.send_local_list
    station.handle_get_local_list_version = local.get_local_list_version
    return local
