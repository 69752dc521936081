"""The mock 2.0.1 station's answers of the optional blocks D (SendLocalList, GetLocalListVersion)
and H (ReserveNow, CancelReservation), and what it keeps of them: its list's version and the
reservations it holds (:class:`OptionalBlocks`, owned by
:class:`~pile_interop.ocpp.v201.mock_station.MockStation`).

SendLocalList is Accepted (a Differential update whose version is not above the list's:
VersionMismatch) and sets the version; GetLocalListVersion answers it (0 while the list is
empty). ReserveNow is Accepted for an EVSE the station has or none, Rejected otherwise;
CancelReservation is Accepted for a reservation it holds, else Rejected. A case's own ``expect``
reply overrides any of these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pile_interop.ocpp.session import Reply

#: The actions answered here.
ACTIONS = ("SendLocalList", "GetLocalListVersion", "ReserveNow", "CancelReservation")


@dataclass
class OptionalBlocks:
    """A mock station's local list and reservations."""

    evses: int
    list_version: int = 0
    list_entries: set[str] = field(default_factory=set)
    #: reservationId → its ReserveNow payload (camelCase)
    reservations: dict[int, dict[str, Any]] = field(default_factory=dict)

    def reply(self, action: str, payload: dict[str, Any]) -> Reply | None:
        """The answer to ``action`` (None: not one of these)."""
        if action == "SendLocalList":
            return Reply.result({"status": self._send_local_list(payload)})
        if action == "GetLocalListVersion":
            version = self.list_version if self.list_entries else 0
            return Reply.result({"versionNumber": version})
        if action == "ReserveNow":
            evse = payload.get("evseId")
            ok = evse is None or (isinstance(evse, int) and 1 <= evse <= self.evses)
            if ok:
                self.reservations[int(payload.get("id", -1))] = dict(payload)
            return Reply.result({"status": "Accepted" if ok else "Rejected"})
        if action == "CancelReservation":
            known = self.reservations.pop(payload.get("reservationId", -1), None) is not None
            return Reply.result({"status": "Accepted" if known else "Rejected"})
        return None

    def _send_local_list(self, payload: dict[str, Any]) -> str:
        version = payload.get("versionNumber")
        full = payload.get("updateType") == "Full"
        if not isinstance(version, int) or (not full and version <= self.list_version):
            return "VersionMismatch"
        if full:
            self.list_entries.clear()
        for entry in payload.get("localAuthorizationList") or []:
            token = str((entry.get("idToken") or {}).get("idToken", "")).lower()
            if entry.get("idTokenInfo") is None:
                self.list_entries.discard(token)
            else:
                self.list_entries.add(token)
        self.list_version = version
        return "Accepted"
