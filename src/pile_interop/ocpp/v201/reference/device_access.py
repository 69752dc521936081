"""How the reference OCPP 2.0.1 station is set up and read: the first device model and network
profile, the names of its request handlers, the device-model values the station computes when
they are read (AvailabilityState as the EVSE half sees it, CertificateEntries), settling back to
idle, and the station's snapshot.

:class:`DeviceAccess` is typed against :class:`AccessStation` (what it reads of the station);
it never imports the station.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, Protocol

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.reference.station_base import StationBase
from pile_interop.ocpp.v201.reference.certificates import InstalledCertificate
from pile_interop.ocpp.v201.reference.smart_charging import smart_charging_variables
from pile_interop.ocpp.v201.reference.station_model import (
    WRITE_ONLY,
    DeviceModel,
    StationFacts,
    Variable,
    station_variables,
)

#: The CSMS's requests the station answers (the last six: the EVSE half's)
HANDLED_ACTIONS = (
    *("GetVariables", "SetVariables", "GetBaseReport", "GetReport", "Reset"),
    *("SetNetworkProfile", "TriggerMessage", "DataTransfer", "InstallCertificate"),
    *("GetInstalledCertificateIds", "DeleteCertificate", "CertificateSigned"),
    *("RequestStartTransaction", "RequestStopTransaction", "UnlockConnector"),
    *("ChangeAvailability", "GetTransactionStatus", "ClearCache"),
    # block K (handlers_smart_charging.py)
    *("SetChargingProfile", "GetChargingProfiles", "ClearChargingProfile", "GetCompositeSchedule"),
)


#: The requests of the optional blocks (D, H): handled when the station has the handler (an
#: instance attribute its component installed, e.g. ``local_list.install_local_list``)
OPTIONAL_ACTIONS = ("SendLocalList", "GetLocalListVersion", "ReserveNow", "CancelReservation")


def handler_names(station: Any = None) -> dict[str, str]:
    """CSMS action → the station's handler method (``handle_<snake_case action>``); with
    ``station``, also the optional actions it has a handler for."""
    names = {a: "handle_" + re.sub(r"(?<!^)(?=[A-Z])", "_", a).lower() for a in HANDLED_ACTIONS}
    for action in OPTIONAL_ACTIONS:
        method = "handle_" + re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()
        if station is not None and getattr(station, method, None) is not None:
            names[action] = method
    return names


class StationFacts201(Protocol):
    """What the station's first device model is made of."""

    station_id: str
    vendor: str
    model_name: str
    serial: str
    firmware: str
    evse_count: int
    features: dict[str, Any]


def default_security_profile(url: str, password: str | None, features: dict[str, Any]) -> int:
    """A wss:// URL: 2 (TLS + Basic auth), or 3 without a password when the descriptor says the
    TLS context presents a client certificate; else 1."""
    if not url.startswith("wss://"):
        return 1
    return 3 if features.get("client_certificate") and not password else 2


def station_device_model(st: StationFacts201, security_profile: int) -> DeviceModel:
    """The device model of a new station (the EVSE half adds its variables)."""
    facts = StationFacts(
        station_id=st.station_id,
        vendor=st.vendor,
        model=st.model_name,
        serial=st.serial,
        firmware=st.firmware,
        evses=st.evse_count,
        security_profile=security_profile,
        reset_evse=bool(st.features.get("reset_evse", False)),
    )
    return DeviceModel(station_variables(facts) + smart_charging_variables(st.features))


def first_network_profile(url: str, security_profile: int) -> dict[str, Any]:
    """NetworkConnectionProfile slot 1 (camelCase NetworkConnectionProfileType): the URL given
    to the constructor."""
    return {
        "ocppVersion": "OCPP20",
        "ocppTransport": "JSON",
        "ocppCsmsUrl": url,
        "messageTimeout": 30,
        "securityProfile": security_profile,
        "ocppInterface": "Wired0",
    }


class AccessStation(Protocol):
    """What the computed values and the snapshot read of the station."""

    station_id: str
    model: DeviceModel
    #: the transaction half (``Evses``)
    evses: Any
    base: StationBase
    registration: str | None
    boot_reason: str
    network_profiles: dict[int, dict[str, Any]]
    active_slot: int
    certificates: list[InstalledCertificate]
    client_certificate: str | None

    def _target(self, slot: int) -> tuple[str, dict[str, Any]]: ...
    async def go_online(self) -> None: ...


class DeviceAccess:
    """Computed device-model values, the snapshot, and settling back to idle."""

    def __init__(self, station: AccessStation) -> None:
        self.st = station

    def attach_live_values(self) -> None:
        """CertificateEntries counts the installed certificates; AvailabilityState is the EVSE
        half's view."""
        st = self.st
        entries = st.model.find("SecurityCtrlr", "CertificateEntries")
        if entries is not None:
            entries.live = lambda: str(len(st.certificates))
        for var in st.model:
            if var.variable == "AvailabilityState" and var.component in (
                "ChargingStation",
                "EVSE",
                "Connector",
            ):
                var.live = self._availability_reader(var)

    def _availability_reader(self, var: Variable) -> Any:
        def read() -> str:
            return self.availability_state(var.evse) or var.value

        return read

    def availability_state(self, evse: int | None) -> str | None:
        """AvailabilityState of the station (``evse`` None) or of an EVSE and its connector,
        as the EVSE half sees it (None: unknown, the stored value is reported)."""
        evses = self.st.evses
        try:
            if evse is None:
                operative = getattr(evses, "station_operative", True)
                return "Available" if operative else "Unavailable"
            status = getattr(evses, "connector_status", None)
            slots = getattr(evses, "evses", None)
            if status is None or not isinstance(slots, dict) or evse not in slots:
                return None
            return str(status(slots[evse]))
        except Exception:  # the EVSE half's internals are not part of the port
            return None

    async def settle(self, timeout: float) -> None:
        """Online, registered, the EVSE half idle, nothing left to send (TimeoutError after
        ``timeout`` real seconds)."""
        st = self.st
        connected, outbox = st.base.connected, st.base.outbox

        async def _settle() -> None:
            await st.go_online()
            await connected.wait()
            await st.evses.settle(timeout)
            while not (connected.is_set() and outbox.drained.is_set()):
                await outbox.drained.wait()
                await connected.wait()

        await asyncio.wait_for(_settle(), timeout)

    def snapshot(self) -> dict[str, Any]:
        """The station's state, for debugging and tests (no password, no key)."""
        st = self.st
        return {
            "stationId": st.station_id,
            "url": st._target(st.active_slot)[0],
            "online": st.base.network_up.is_set(),
            "connected": st.base.connected.is_set(),
            "registration": st.registration,
            "bootReason": st.boot_reason,
            "clock": utc_iso(st.base.clock.now()),
            "queue": st.base.outbox.actions(),
            "variables": {
                var.name: var.actual() for var in st.model if var.mutability != WRITE_ONLY
            },
            "networkProfiles": {slot: dict(p) for slot, p in st.network_profiles.items()},
            "activeSlot": st.active_slot,
            "certificates": [
                {"certificateType": c.certificate_type, **c.hash_data} for c in st.certificates
            ],
            "clientCertificate": st.client_certificate is not None,
            "evses": st.evses.snapshot(),
        }
