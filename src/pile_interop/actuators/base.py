"""How a case's manual action happens ("EV driver plugs in the cable", "present a card")."""

from __future__ import annotations

import logging
from typing import Any, Protocol

log = logging.getLogger(__name__)

#: What each action means, for prompts and webhook receivers.
DESCRIPTIONS = {
    "plug_in": "Plug the EV cable into connector {connector}",
    "unplug": "Unplug the EV cable from connector {connector}",
    "present_id_token": "Present id token {id_token!r} (RFID card) to the station",
    "raise_fault": "Make connector {connector} report a fault ({error_code})",
    "clear_fault": "Clear the fault on connector {connector}",
    "set_lock_failure": "Make the connector lock of connector {connector} fail",
    "power_cycle": "Switch the station off and on again (power cycle)",
    "go_offline": "Disconnect the station from the network",
    "go_online": "Reconnect the station to the network",
    "send_data_transfer": "Make the station send a DataTransfer (vendorId {vendor_id!r})",
    "settle": "End any running charging session, unplug every cable and clear faults",
    "emergency_stop": "Press the emergency stop button",
    "insulation_fault": "Make the insulation monitor report a fault",
    "request_stop": "Stop charging at the SUT (stop button)",
    "pause": "Make the vehicle pause charging (BSM charge permit off)",
    "resume": "Make the vehicle resume charging (BSM charge permit on)",
    # operator actions in a CSMS under test (the suite plays its charging station)
    "remote_start": "In the CSMS, start a transaction remotely for id tag {id_tag!r} "
    "(RemoteStartTransaction, connector {connector})",
    "remote_stop": "In the CSMS, stop the running transaction remotely (RemoteStopTransaction)",
    "reset": "In the CSMS, reset the station ({kind} reset)",
    "unlock": "In the CSMS, unlock connector {connector} (UnlockConnector)",
    "get_configuration": "In the CSMS, read the station's configuration (GetConfiguration, "
    "keys {keys})",
    "change_configuration": "In the CSMS, set configuration key {key!r} to {value!r} "
    "(ChangeConfiguration)",
    "change_availability": "In the CSMS, make connector {connector} {availability} "
    "(ChangeAvailability)",
    "clear_cache": "In the CSMS, clear the station's authorization cache (ClearCache)",
    "data_transfer": "In the CSMS, send a DataTransfer to the station (vendorId {vendor_id!r})",
    "update_password": "In the CSMS, give the station a new HTTP Basic password "
    "(ChangeConfiguration AuthorizationKey)",
    "set_registration": "In the CSMS, make it answer the station's next BootNotification with "
    "{status}",
}


class ActuatorError(Exception):
    """The action could not be performed (or confirmed) in time: the case is an ``error``."""


def describe(action: str, args: dict[str, Any]) -> str:
    template = DESCRIPTIONS.get(action, action.replace("_", " "))
    try:
        defaults = {"connector": 1, "error_code": "OtherError", "keys": "all", "kind": "Hard"}
        return template.format(**{**defaults, **args})
    except (KeyError, IndexError):
        return f"{action} {args}"


class Actuator(Protocol):
    name: str

    async def perform(self, action: str, args: dict[str, Any], timeout: float) -> None:
        """Make ``action`` happen within ``timeout`` real seconds or raise ActuatorError."""
        ...

    async def settle(self, timeout: float) -> None:
        """Bring the SUT back to idle between cases (best effort, bounded)."""
        ...

    async def close(self) -> None: ...
