"""Mutant OCPP 2.0.1 stations of the optional blocks: D (Local Authorization List) and the
TriggerMessages F06 asks of the core profile. The reference station with ONE defect each.

Registered in the catalogue of :mod:`tests.mutants.stations16`. A block D mutant subclasses
:class:`~pile_interop.ocpp.v201.reference.local_list.LocalAuthList` (``list_mutant`` builds the
station around it: ``ReferenceStation.local_list_class``), profile
``ocpp201/local-auth-list-cs``.
"""

from __future__ import annotations

from typing import Any

from ocpp.v201 import call

from pile_interop.ocpp.v201.reference.local_list import LocalAuthList
from pile_interop.ocpp.v201.reference.station import ReferenceStation
from pile_interop.ocpp.v201.reference.station_auth import Token, TokenInfo
from tests.mutants.stations16 import mutant

LOCAL_LIST = "ocpp201/local-auth-list-cs"


def list_mutant(catches: str, requirement: str, *also: str, defect_class: str = "case"):  # type: ignore[no-untyped-def]
    """Register a reference station whose Local Authorization List is the decorated
    ``LocalAuthList`` subclass (same name and docstring) as a mutant of the D profile."""

    def register(list_cls: type[LocalAuthList]) -> type[LocalAuthList]:
        station = type(
            list_cls.__name__,
            (ReferenceStation,),
            {"local_list_class": list_cls, "__doc__": list_cls.__doc__, "__module__": __name__},
        )
        mutant(catches, requirement, *also, profile=LOCAL_LIST, defect_class=defect_class)(station)
        return list_cls

    return register


# -- block D: the list ----------------------------------------------------------------------


@list_mutant("TC_D_90_CS", "OCPP2.0.1 D02", defect_class="setting-not-applied")
class ListVersionNotKept(LocalAuthList):
    """Applies every update but always reports version 0 (the version is not kept)."""

    def version_number(self) -> int:
        return 0


@list_mutant("TC_D_91_CS", "OCPP2.0.1 D01", defect_class="setting-not-applied")
class DifferentialReplacesList(LocalAuthList):
    """Treats a Differential update as a Full one: the list becomes the update's entries."""

    def apply(self, req: call.SendLocalList) -> None:
        self.entries.clear()
        super().apply(req)


@list_mutant("TC_D_92_CS", "OCPP2.0.1 D01")
class AcceptsOlderDifferential(LocalAuthList):
    """Applies a Differential update whatever its version (never VersionMismatch)."""

    def update_status(self, req: call.SendLocalList) -> str:
        status = super().update_status(req)
        return "Accepted" if status == "VersionMismatch" else status


@list_mutant("TC_D_93_CS", "OCPP2.0.1 D01")
class FullWithoutListKeepsEntries(LocalAuthList):
    """Takes a Full update without localAuthorizationList as "no change" (the list stays)."""

    def apply(self, req: call.SendLocalList) -> None:
        if str(req.update_type) == "Full" and not req.local_authorization_list:
            self.version = int(req.version_number)
            return
        super().apply(req)


@list_mutant("TC_D_94_CS", "OCPP2.0.1 C13")
class ListIgnoredOffline(LocalAuthList):
    """Consults its list only while online: offline every listed idToken is unknown."""

    def info(self, token: Token) -> TokenInfo | None:
        return super().info(token) if getattr(self.st, "online", True) else None


@list_mutant("TC_D_95_CS", "OCPP2.0.1 C14")
class ListOnlyOffline(LocalAuthList):
    """Uses its list only when offline: online it always asks the CSMS (LocalPreAuthorize is
    not applied to the list)."""

    def info(self, token: Token) -> TokenInfo | None:
        return None if getattr(self.st, "online", False) else super().info(token)


# -- F06: the triggers of TC_F_15_CS / TC_F_18_CS (profile ocpp201/core-cs) ------------------


@mutant("TC_F_18_CS", "L01.FR.25", profile="ocpp201/core-cs")
class TriggeredFirmwareStatusNeverSent(ReferenceStation):
    """Answers TriggerMessage FirmwareStatusNotification Accepted but never sends it."""

    async def send(self, request: Any) -> Any:
        if isinstance(request, call.FirmwareStatusNotification):
            return None
        return await super().send(request)


@mutant("TC_F_15_CS", "OCPP2.0.1 LogStatusNotificationRequest.status", profile="ocpp201/core-cs")
class TriggeredLogStatusNotIdle(ReferenceStation):
    """Answers a triggered LogStatusNotification with status Uploaded though no upload ran."""

    async def send(self, request: Any) -> Any:
        if isinstance(request, call.LogStatusNotification):
            request = call.LogStatusNotification(status="Uploaded", request_id=1)
        return await super().send(request)
