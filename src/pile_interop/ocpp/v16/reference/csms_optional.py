"""The reference OCPP 1.6J Central System's operator actions of the optional feature profiles:
Smart Charging, Local Auth List Management, Reservation and Remote Trigger.

:class:`OptionalProfiles` is a mixin of
:class:`~pile_interop.ocpp.v16.reference.csms.ReferenceCsms`: one method per operator action,
named as the actuator action (``set_charging_profile``, ``send_local_list``, ``reserve_now``,
``trigger_message`` …), each building its request with a ``*_request`` hook the mutants
(tests/mutants/csms16_optional.py) override; and what the CSMS keeps of these profiles per
station (the charging profiles it set, the local list version it knows, its reservations).

The operator names a charging profile by its parts (:func:`charging_profile`: purpose, stack
level, kind, limit, rate unit, …) or gives the whole ``csChargingProfiles`` object as OCPP
JSON (``profile``), which is sent as given.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.v16 import call

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.schemas import violations

#: Purposes a 1.6 charging profile may have.
PURPOSES = ("ChargePointMaxProfile", "TxDefaultProfile", "TxProfile")
#: Messages a 1.6 TriggerMessage.req may ask for.
TRIGGERABLE = (
    "BootNotification",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StatusNotification",
)
#: A reservation's default lifetime (seconds from now) when the operator names none.
RESERVATION_S = 3600
#: An absolute profile's default validity and schedule duration (seconds).
PROFILE_S = 3600


@dataclass
class Reservation:
    reservation_id: int
    station_id: str
    connector_id: int
    id_tag: str
    expiry: str
    parent_id_tag: str | None = None
    status: str = "Requested"  # the station's answer, then Used once a transaction took it


def charging_profile(
    profile_id: int,
    purpose: str,
    stack_level: int = 0,
    *,
    kind: str | None = None,
    limit: float = 16.0,
    unit: str = "A",
    transaction_id: int | None = None,
    duration: int | None = None,
    number_phases: int | None = None,
    recurrency: str | None = None,
) -> dict[str, Any]:
    """A 1.6 ``ChargingProfile`` (OCPP JSON) from its parts. Kind defaults to Relative, or
    Absolute for a ChargePointMaxProfile; an Absolute or Recurring profile starts now, is valid
    for ``duration`` (default :data:`PROFILE_S`) and has a startSchedule, a Relative one has
    none (OCPP1.6 §7.13)."""
    if purpose not in PURPOSES:
        raise ValueError(f"chargingProfilePurpose {purpose!r} (one of {', '.join(PURPOSES)})")
    if unit not in ("A", "W"):
        raise ValueError(f"chargingRateUnit {unit!r} (A or W)")
    kind = kind or ("Absolute" if purpose == "ChargePointMaxProfile" else "Relative")
    now = datetime.now(UTC).replace(microsecond=0)
    period: dict[str, Any] = {"startPeriod": 0, "limit": round(float(limit), 1)}
    if number_phases is not None:
        period["numberPhases"] = int(number_phases)
    schedule: dict[str, Any] = {"chargingRateUnit": unit, "chargingSchedulePeriod": [period]}
    profile: dict[str, Any] = {
        "chargingProfileId": int(profile_id),
        "stackLevel": int(stack_level),
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": schedule,
    }
    if transaction_id is not None:
        profile["transactionId"] = int(transaction_id)
    if kind in ("Absolute", "Recurring"):
        length = int(duration or PROFILE_S)
        schedule["startSchedule"] = utc_iso(now)
        schedule["duration"] = length
        profile["validFrom"] = utc_iso(now)
        profile["validTo"] = utc_iso(now + timedelta(seconds=length))
        if kind == "Recurring":
            profile["recurrencyKind"] = recurrency or "Daily"
    elif duration is not None:
        schedule["duration"] = int(duration)
    return profile


def checked_profile(profile: dict[str, Any], action: str = "SetChargingProfile") -> dict[str, Any]:
    """The operator's whole charging profile, refused (ValueError: the operator's mistake, not
    the CSMS's) when it breaks the 1.6 schema."""
    key = "csChargingProfiles" if action == "SetChargingProfile" else "chargingProfile"
    base = {"connectorId": 1} if action == "SetChargingProfile" else {"idTag": "X"}
    problems = violations(2, action, {**base, key: profile}, "1.6")
    if problems:
        raise ValueError(f"the operator's charging profile: {'; '.join(problems)}")
    return dict(profile)


class OptionalProfiles:
    """The optional-profile operator actions of the reference 1.6 Central System (a mixin: it
    uses the CSMS's ``_send``, ``_link``, ``id_tags``, ``id_tag_info`` and ``open_transaction``)."""

    _send: Any
    _link: Any
    id_tags: dict[str, str]
    id_tag_info: Any
    open_transaction: Any

    def _optional_state(self) -> None:
        if not hasattr(self, "_profile_ids"):
            self._profile_ids = itertools.count(1)
            self._reservation_ids = itertools.count(1)
            #: charging profiles the CSMS set that the station accepted: station → id → request
            self.charging_profiles: dict[str, dict[int, dict[str, Any]]] = {}
            #: the local list version each station reported or accepted last
            self.local_list_versions: dict[str, int] = {}
            self.reservations: dict[int, Reservation] = {}

    # -- Smart Charging ---------------------------------------------------------------------

    def new_profile_id(self) -> int:
        self._optional_state()
        return next(self._profile_ids)

    def set_charging_profile_request(
        self, connector: int, profile: dict[str, Any]
    ) -> call.SetChargingProfile:
        return call.SetChargingProfile(connector_id=connector, cs_charging_profiles=profile)

    async def set_charging_profile(
        self,
        connector: int,
        purpose: str = "TxDefaultProfile",
        stack_level: int = 0,
        profile_id: int | None = None,
        kind: str | None = None,
        limit: float = 16.0,
        unit: str = "A",
        transaction_id: int | None = None,
        duration: int | None = None,
        number_phases: int | None = None,
        profile: dict[str, Any] | None = None,
        station: str | None = None,
    ) -> Any:
        """SetChargingProfile on ``connector`` (0: the whole station): the operator's
        ``profile`` as given, else one built from its parts. A TxProfile without a
        ``transaction_id`` is for the open transaction on the connector."""
        self._optional_state()
        link = self._link(station)
        connector = int(connector)
        if profile is not None:
            profile = checked_profile(profile)
        else:
            if purpose == "TxProfile" and transaction_id is None:
                tx = self.open_transaction(link.id, connector)
                if tx is None:
                    raise ValueError(f"no open transaction on {link.id} connector {connector}")
                transaction_id = tx.transaction_id
            profile = charging_profile(
                int(profile_id) if profile_id is not None else self.new_profile_id(),
                purpose,
                int(stack_level),
                kind=kind,
                limit=float(limit),
                unit=unit,
                transaction_id=transaction_id,
                duration=duration,
                number_phases=number_phases,
            )
        answer = await self._send(self.set_charging_profile_request(connector, profile), link.id)
        if str(getattr(answer, "status", "")) == "Accepted":
            stored = {"connectorId": connector, **profile}
            self.charging_profiles.setdefault(link.id, {})[profile["chargingProfileId"]] = stored
        return answer

    def clear_charging_profile_request(
        self,
        profile_id: int | None,
        connector: int | None,
        purpose: str | None,
        stack_level: int | None,
    ) -> call.ClearChargingProfile:
        return call.ClearChargingProfile(
            id=profile_id,
            connector_id=connector,
            charging_profile_purpose=purpose,
            stack_level=stack_level,
        )

    async def clear_charging_profile(
        self,
        profile_id: int | None = None,
        connector: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
        station: str | None = None,
    ) -> Any:
        """ClearChargingProfile by id, or by criteria (connector, purpose, stack level; none
        given: every profile)."""
        self._optional_state()
        link = self._link(station)
        ints = [None if v is None else int(v) for v in (profile_id, connector, stack_level)]
        request = self.clear_charging_profile_request(ints[0], ints[1], purpose, ints[2])
        answer = await self._send(request, link.id)
        if str(getattr(answer, "status", "")) == "Accepted":
            kept = self.charging_profiles.get(link.id, {})
            for pid, stored in list(kept.items()):
                if _cleared(stored, ints[0], ints[1], purpose, ints[2]):
                    del kept[pid]
        return answer

    def get_composite_schedule_request(
        self, connector: int, duration: int, unit: str | None
    ) -> call.GetCompositeSchedule:
        return call.GetCompositeSchedule(
            connector_id=connector, duration=duration, charging_rate_unit=unit
        )

    async def get_composite_schedule(
        self,
        connector: int,
        duration: int = PROFILE_S,
        charging_rate_unit: str | None = None,
        station: str | None = None,
    ) -> Any:
        request = self.get_composite_schedule_request(
            int(connector), int(duration), charging_rate_unit
        )
        return await self._send(request, station)

    def remote_start_profile(self, spec: dict[str, Any]) -> dict[str, Any]:
        """The chargingProfile of a RemoteStartTransaction: the operator's ``profile`` as given,
        else a TxProfile without a transactionId (OCPP1.6 §5.11) from the spec's parts."""
        if "profile" in spec:
            return checked_profile(spec["profile"], "RemoteStartTransaction")
        return charging_profile(
            int(spec.get("profile_id") or self.new_profile_id()),
            "TxProfile",
            int(spec.get("stack_level", 0)),
            kind=spec.get("kind"),
            limit=float(spec.get("limit", 16.0)),
            unit=str(spec.get("unit", "A")),
            duration=spec.get("duration"),
        )

    # -- Local Auth List Management ---------------------------------------------------------

    def local_list_entry(self, id_tag: str) -> dict[str, Any]:
        """One localAuthorizationList entry: the id tag and what the CSMS knows of it."""
        info = self.id_tag_info(id_tag)
        return {"idTag": id_tag, "idTagInfo": {_camel(k): v for k, v in info.items()}}

    def send_local_list_request(
        self, update_type: str, version: int, entries: list[dict[str, Any]]
    ) -> call.SendLocalList:
        return call.SendLocalList(
            list_version=version, update_type=update_type, local_authorization_list=entries
        )

    async def send_local_list(
        self,
        update_type: str = "Full",
        version: int | None = None,
        id_tags: list[str] | None = None,
        station: str | None = None,
    ) -> Any:
        """SendLocalList: a Full list (``id_tags``, default every id tag the CSMS knows) or a
        Differential update of ``id_tags``; the version defaults to one above the version the
        station last reported or accepted."""
        self._optional_state()
        if update_type not in ("Full", "Differential"):
            raise ValueError(f"updateType {update_type!r} (Full or Differential)")
        link = self._link(station)
        known = self.local_list_versions.get(link.id, 0)
        version = int(version) if version is not None else max(known, 0) + 1
        tags = list(self.id_tags) if id_tags is None else [str(t) for t in id_tags]
        entries = [self.local_list_entry(tag) for tag in tags]
        answer = await self._send(
            self.send_local_list_request(update_type, version, entries), link.id
        )
        if str(getattr(answer, "status", "")) == "Accepted":
            self.local_list_versions[link.id] = version
        return answer

    async def get_local_list_version(self, station: str | None = None) -> Any:
        self._optional_state()
        link = self._link(station)
        answer = await self._send(call.GetLocalListVersion(), link.id)
        version = getattr(answer, "list_version", None)
        if isinstance(version, int):
            self.local_list_versions[link.id] = version
        return answer

    # -- Reservation ------------------------------------------------------------------------

    def reservation_expiry(self, seconds: float) -> str:
        """The expiryDate of a reservation ``seconds`` from now (UTC, RFC 3339)."""
        return utc_iso(datetime.now(UTC) + timedelta(seconds=float(seconds)))

    def reserve_now_request(
        self,
        connector: int,
        id_tag: str,
        expiry: str,
        reservation_id: int,
        parent_id_tag: str | None,
    ) -> call.ReserveNow:
        return call.ReserveNow(
            connector_id=connector,
            expiry_date=expiry,
            id_tag=id_tag,
            reservation_id=reservation_id,
            parent_id_tag=parent_id_tag,
        )

    async def reserve_now(
        self,
        id_tag: str,
        connector: int = 0,
        parent_id_tag: str | None = None,
        expiry_s: float = RESERVATION_S,
        reservation_id: int | None = None,
        station: str | None = None,
    ) -> Any:
        """ReserveNow of ``connector`` (0: any connector of the station) for ``id_tag``,
        expiring ``expiry_s`` seconds from now."""
        self._optional_state()
        link = self._link(station)
        rid = int(reservation_id) if reservation_id is not None else next(self._reservation_ids)
        expiry = self.reservation_expiry(expiry_s)
        request = self.reserve_now_request(int(connector), id_tag, expiry, rid, parent_id_tag)
        self.reservations[rid] = Reservation(
            rid, link.id, int(connector), id_tag, expiry, parent_id_tag
        )
        answer = await self._send(request, link.id)
        self.reservations[rid].status = str(getattr(answer, "status", "?"))
        return answer

    def cancel_reservation_request(self, reservation_id: int) -> call.CancelReservation:
        return call.CancelReservation(reservation_id=reservation_id)

    async def cancel_reservation(
        self, reservation_id: int | None = None, station: str | None = None
    ) -> Any:
        """CancelReservation of ``reservation_id`` (default: the station's last reservation)."""
        self._optional_state()
        link = self._link(station)
        if reservation_id is None:
            mine = [r for r in self.reservations.values() if r.station_id == link.id]
            if not mine:
                raise ValueError(f"no reservation made on {link.id}")
            reservation_id = mine[-1].reservation_id
        answer = await self._send(self.cancel_reservation_request(int(reservation_id)), link.id)
        kept = self.reservations.get(int(reservation_id))
        if kept is not None and str(getattr(answer, "status", "")) == "Accepted":
            kept.status = "Cancelled"
        return answer

    def on_reservation_used(
        self, station_id: str, connector_id: int, reservation_id: int | None
    ) -> None:
        """A StartTransaction.req named ``reservation_id``: the reservation is used."""
        self._optional_state()
        kept = self.reservations.get(reservation_id) if reservation_id is not None else None
        if kept is not None and kept.station_id == station_id:
            kept.status = "Used"

    # -- Remote Trigger ---------------------------------------------------------------------

    def trigger_message_request(
        self, requested_message: str, connector: int | None
    ) -> call.TriggerMessage:
        return call.TriggerMessage(requested_message=requested_message, connector_id=connector)

    async def trigger_message(
        self,
        requested_message: str,
        connector: int | None = None,
        station: str | None = None,
    ) -> Any:
        """TriggerMessage of ``requested_message`` (for ``connector`` if given)."""
        if requested_message not in TRIGGERABLE:
            raise ValueError(
                f"requestedMessage {requested_message!r} (one of {', '.join(TRIGGERABLE)})"
            )
        where = None if connector is None else int(connector)
        return await self._send(self.trigger_message_request(requested_message, where), station)


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


def _cleared(
    stored: dict[str, Any],
    profile_id: int | None,
    connector: int | None,
    purpose: str | None,
    stack_level: int | None,
) -> bool:
    """Whether ClearChargingProfile with these fields clears the stored profile (§6.13)."""
    if profile_id is not None:
        return bool(stored.get("chargingProfileId") == profile_id)
    return (
        (connector is None or stored.get("connectorId") == connector)
        and (purpose is None or stored.get("chargingProfilePurpose") == purpose)
        and (stack_level is None or stored.get("stackLevel") == stack_level)
    )
