"""The Local Authorization List of the reference OCPP 1.6J station (§3.5.3, §5.10
GetLocalListVersion, §5.15 SendLocalList, §9.2 keys).

The list holds an ``IdTagInfo`` per idTag and a version: 0 when it is empty, -1 when the
station has no list (the profile off, or LocalAuthListEnabled false). A Full update replaces
it; a Differential one adds or updates the entries that carry an ``idTagInfo`` and removes
those that do not, and is refused with VersionMismatch unless its version is higher than the
list's. An update that would break SendLocalListMaxLength or LocalAuthListMaxLength, or that
names an idTag twice, is Failed and changes nothing. The list survives a reboot (§3.5.3).

:class:`LocalListManager` holds the default behaviour; the decisions are hooks on the station
(:class:`LocalListPort`), so that a mutant overriding one there changes it everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ocpp.exceptions import NotSupportedError
from ocpp.v16 import call_result
from ocpp.v16.enums import UpdateStatus, UpdateType

from pile_interop.ocpp.v16.reference.station_hooks import StationState
from pile_interop.ocpp.v16.reference.station_model import TagInfo

#: §5.10: the version a station without a list reports
NO_LIST_VERSION = -1


@dataclass
class LocalAuthList:
    """The list: idTag (lower case: IdToken is a CiString) → IdTagInfo, and its version."""

    version: int = 0
    entries: dict[str, TagInfo] = field(default_factory=dict)

    def get(self, id_tag: str) -> TagInfo | None:
        return self.entries.get(id_tag.lower())


@dataclass(frozen=True)
class ListUpdate:
    """One SendLocalList.req: version, Full / Differential, idTag → IdTagInfo (None: remove)."""

    version: int
    update_type: str
    entries: tuple[tuple[str, TagInfo | None], ...]

    @classmethod
    def from_request(
        cls, version: int, update_type: str, items: Sequence[Mapping[str, Any]] | None
    ) -> ListUpdate:
        entries = []
        for item in items or []:
            tag = str(item.get("id_tag", item.get("idTag", "")))
            info = item.get("id_tag_info", item.get("idTagInfo"))
            entries.append((tag, TagInfo.from_payload(info) if info else None))
        return cls(int(version), str(update_type), tuple(entries))


class LocalListPort(StationState, Protocol):
    """What the list needs from the station."""

    local_list: LocalAuthList

    def local_list_supported(self) -> bool: ...
    def local_list_version(self) -> int: ...
    def send_local_list_status(self, update: ListUpdate) -> str: ...
    def apply_local_list(self, update: ListUpdate) -> None: ...


class LocalListManager:
    """GetLocalListVersion, SendLocalList, and the lookup authorization uses."""

    def __init__(self, station: LocalListPort, supported: bool) -> None:
        self.station = station
        self.supported = supported

    def enabled(self) -> bool:
        """The profile is on and LocalAuthListEnabled is true."""
        st = self.station
        return st.local_list_supported() and st.config.get_bool("LocalAuthListEnabled")

    def lookup(self, id_tag: str) -> TagInfo | None:
        """The list's entry for ``id_tag`` while the list is in use (§3.5.3), else None."""
        return self.station.local_list.get(id_tag) if self.enabled() else None

    # -- GetLocalListVersion (§5.10) ----------------------------------------------------------

    async def handle_get_local_list_version(self) -> call_result.GetLocalListVersion:
        if not self.station.local_list_supported():
            raise NotSupportedError(description="Local Auth List Management is not supported")
        return call_result.GetLocalListVersion(list_version=self.station.local_list_version())

    def local_list_version(self) -> int:
        """-1 without a list in use, 0 for an empty one, else the version last set."""
        if not self.enabled():
            return NO_LIST_VERSION
        lst = self.station.local_list
        return lst.version if lst.entries else 0

    # -- SendLocalList (§5.15) ----------------------------------------------------------------

    async def handle_send_local_list(
        self, list_version: int, update_type: str, items: Sequence[Mapping[str, Any]] | None
    ) -> call_result.SendLocalList:
        st = self.station
        if not st.local_list_supported():
            raise NotSupportedError(description="Local Auth List Management is not supported")
        update = ListUpdate.from_request(list_version, update_type, items)
        status = st.send_local_list_status(update)
        if status == UpdateStatus.accepted:
            st.apply_local_list(update)
        return call_result.SendLocalList(status=status)  # type: ignore[arg-type]

    def send_local_list_status(self, update: ListUpdate) -> str:
        st = self.station
        if not self.enabled():
            return UpdateStatus.not_supported
        tags = [tag.lower() for tag, _ in update.entries]
        if len(tags) != len(set(tags)) or len(tags) > st.config.get_int("SendLocalListMaxLength"):
            return UpdateStatus.failed
        if update.update_type == UpdateType.differential:
            if update.version <= st.local_list.version:
                return UpdateStatus.version_mismatch
            after = dict(st.local_list.entries)
            for tag, info in update.entries:
                if info is None:
                    after.pop(tag.lower(), None)
                else:
                    after[tag.lower()] = info
            size = len(after)
        else:
            size = sum(info is not None for _, info in update.entries)
        if size > st.config.get_int("LocalAuthListMaxLength"):
            return UpdateStatus.failed
        return UpdateStatus.accepted

    def apply_local_list(self, update: ListUpdate) -> None:
        lst = self.station.local_list
        if update.update_type == UpdateType.full:
            lst.entries = {}
        for tag, info in update.entries:
            if info is None:
                lst.entries.pop(tag.lower(), None)
            else:
                lst.entries[tag.lower()] = info
        lst.version = update.version
