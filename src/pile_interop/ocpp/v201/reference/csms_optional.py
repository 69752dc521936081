"""The reference OCPP 2.0.1 CSMS's operator actions of the optional blocks: D (SendLocalList,
GetLocalListVersion) and H (ReserveNow, CancelReservation), and what it keeps of them per
station: the version of the station's local list as it last knew it, and the reservations it made.

A Full list carries every idToken of the CSMS's table (or the ones named) with its idTokenInfo;
its version is one above the version the CSMS knew. A Differential update carries the named
idTokens with their idTokenInfo and the removed ones without, also one version up (D01). A
reservation lasts :data:`RESERVATION_S` seconds unless the operator gives an expiry, has a new
id, and is remembered until the station reports it Expired or Removed, or it is cancelled.

The request builders are the CSMS's hooks (``send_local_list_request``,
``reserve_now_request``): :class:`OptionalActions` only keeps the state and does the plumbing.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.v201 import call

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.v201.reference.csms_records import to_id_token

#: How long a reservation lasts when the operator gives no expiry (seconds).
RESERVATION_S = 3600


@dataclass
class OptionalState:
    """What the CSMS keeps of one station's list and reservations."""

    #: the version of the station's local list as the CSMS last knew it (sent or read)
    list_version: int = 0
    #: reservationId → the ReserveNow payload (snake_case) of the reservations it made
    reservations: dict[int, dict[str, Any]] = field(default_factory=dict)
    last_reservation: int | None = None


class OptionalActions:
    """The state of blocks D and H and the requests they send."""

    def __init__(self) -> None:
        self.states: dict[str, OptionalState] = {}
        self._reservation_ids = itertools.count(1)

    def state(self, station_id: str) -> OptionalState:
        return self.states.setdefault(station_id, OptionalState())

    # -- block D --------------------------------------------------------------------------------

    def local_list_request(
        self,
        station_id: str,
        id_tags: dict[str, dict[str, Any]],
        update_type: str,
        id_tokens: list[str] | None,
        remove: list[str] | None,
        version_number: int | None,
    ) -> call.SendLocalList:
        """SendLocalList one version above the one the CSMS knows (D01)."""
        tokens = list(id_tokens) if id_tokens else []
        if update_type == "Full" and not tokens:
            tokens = list(id_tags)
        entries: list[dict[str, Any]] = [
            {
                "id_token": to_id_token(token),
                "id_token_info": dict(id_tags.get(token, {"status": "Invalid"})),
            }
            for token in tokens
        ]
        if update_type == "Differential":
            entries += [{"id_token": to_id_token(token)} for token in remove or []]
        version = version_number or self.state(station_id).list_version + 1
        return call.SendLocalList(
            version_number=int(version),
            update_type=update_type,  # type: ignore[arg-type]
            local_authorization_list=entries or None,
        )

    def local_list_sent(self, station_id: str, request: call.SendLocalList, answer: Any) -> None:
        if str(getattr(answer, "status", "")) == "Accepted":
            self.state(station_id).list_version = int(request.version_number)

    def version_read(self, station_id: str, answer: Any) -> None:
        version = getattr(answer, "version_number", None)
        if isinstance(version, int):
            self.state(station_id).list_version = version

    # -- block H --------------------------------------------------------------------------------

    def reserve_now_request(
        self,
        id_token: Any,
        evse: int | None,
        connector_type: str | None,
        expiry: int | None,
        reservation_id: int | None,
    ) -> call.ReserveNow:
        """ReserveNow with a new id and an expiry ``expiry`` (default RESERVATION_S) s ahead."""
        seconds = int(expiry) if expiry else RESERVATION_S
        return call.ReserveNow(
            id=int(reservation_id) if reservation_id else next(self._reservation_ids),
            expiry_date_time=utc_iso(datetime.now(UTC) + timedelta(seconds=seconds)),
            id_token=to_id_token(id_token),
            connector_type=connector_type,
            evse_id=int(evse) if evse is not None else None,
        )

    def reserved(self, station_id: str, request: call.ReserveNow, answer: Any) -> None:
        state = self.state(station_id)
        state.last_reservation = int(request.id)
        if str(getattr(answer, "status", "")) == "Accepted":
            state.reservations[int(request.id)] = {"evse_id": request.evse_id}

    def to_cancel(self, station_id: str, reservation_id: int | None) -> int:
        """The reservation to cancel: the one given, else the last one made."""
        if reservation_id is not None:
            return int(reservation_id)
        last = self.state(station_id).last_reservation
        if last is None:
            raise ValueError("no reservation was made: name the reservation_id")
        return last

    def ended(self, station_id: str, reservation_id: int) -> None:
        """Cancelled, or reported Expired / Removed (ReservationStatusUpdate)."""
        self.state(station_id).reservations.pop(int(reservation_id), None)


class OptionalOperator:
    """The operator actions of blocks D and H, mixed into the reference CSMS (whose
    ``_link``, ``_send``, ``id_tags``, ``note`` and ``optional`` they use); the ``*_request``
    builders and :meth:`reservation_status_update` are hooks mutants override."""

    optional: OptionalActions
    id_tags: dict[str, dict[str, Any]]

    def _link(self, station: str | None) -> Any: ...  # CsmsBase's

    async def _send(self, request: Any, station: str | None) -> Any: ...  # CsmsBase's

    def note(self, station_id: str, action: str, payload: dict[str, Any]) -> None: ...

    def send_local_list_request(self, station_id: str, update_type: str, **kw: Any) -> Any:
        """SendLocalList (``id_tokens``, ``remove``, ``version_number``), one version up."""
        return self.optional.local_list_request(station_id, self.id_tags, update_type, **kw)

    async def send_local_list(
        self,
        update_type: str = "Full",
        id_tokens: list[str] | None = None,
        remove: list[str] | None = None,
        version: int | None = None,
        station: str | None = None,
    ) -> Any:
        """SendLocalList; ``version`` (default: one above the list's) as 1.6's action names it."""
        sid = self._link(station).id
        request = self.send_local_list_request(
            sid, update_type, id_tokens=id_tokens, remove=remove, version_number=version
        )
        answer = await self._send(request, sid)
        self.optional.local_list_sent(sid, request, answer)
        return answer

    async def get_local_list_version(self, station: str | None = None) -> Any:
        sid = self._link(station).id
        answer = await self._send(call.GetLocalListVersion(), sid)
        self.optional.version_read(sid, answer)
        return answer

    def reserve_now_request(self, id_token: Any, **kw: Any) -> call.ReserveNow:
        """ReserveNow (``evse``, ``connector_type``, ``expiry`` s ahead, ``reservation_id``)."""
        return self.optional.reserve_now_request(id_token, **kw)

    async def reserve_now(
        self,
        id_token: Any,
        evse: int | None = None,
        connector_type: str | None = None,
        expiry_s: int | None = None,
        reservation_id: int | None = None,
        station: str | None = None,
    ) -> Any:
        """ReserveNow; ``expiry_s`` (seconds ahead) as 1.6's action names it."""
        sid = self._link(station).id
        request = self.reserve_now_request(
            id_token,
            evse=evse,
            connector_type=connector_type,
            expiry=expiry_s,
            reservation_id=reservation_id,
        )
        answer = await self._send(request, sid)
        self.optional.reserved(sid, request, answer)
        return answer

    async def cancel_reservation(
        self, reservation_id: int | None = None, station: str | None = None
    ) -> Any:
        sid = self._link(station).id
        rid = self.optional.to_cancel(sid, reservation_id)
        answer = await self._send(call.CancelReservation(reservation_id=rid), sid)
        self.optional.ended(sid, rid)
        return answer

    def reservation_status_update(self, station_id: str, payload: dict[str, Any]) -> None:
        """H04: a reservation the station ended (Expired / Removed) is forgotten."""
        self.note(station_id, "ReservationStatusUpdate", payload)
        self.optional.ended(station_id, int(payload.get("reservation_id", -1)))
