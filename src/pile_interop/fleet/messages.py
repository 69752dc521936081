"""What a fleet station says, per OCPP version: its requests, and its answers to the CSMS.

The requests are built fresh each time from a few station fields (nothing is kept per
station). The answers to the CSMS's CALLs are the suite's mock station's default answers
(``ocpp/v16/mock_station``, ``ocpp/v201/mock_station`` through the dialect registry): one
shared mock per version, so a fleet station holds none of the mock's configuration; the few
answers that depend on the station itself (remote stop of its transaction, remote start and
reset, which it then carries out) are the station's.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from pile_interop.core.clock import utc_iso
from pile_interop.core.config import Device
from pile_interop.ocpp.dialects import for_device
from pile_interop.ocpp.frames import CALL, IN, Frame

VENDOR = "pile-interop"
MODEL = "FleetStation"
_REQUEST_IDS = itertools.count(1)


def _energy(value: int) -> dict[str, Any]:
    return {"value": str(value), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}


def _energy201(value: int) -> dict[str, Any]:
    return {
        "value": value,
        "measurand": "Energy.Active.Import.Register",
        "unitOfMeasure": {"unit": "Wh"},
    }


@dataclass(frozen=True)
class Speech:
    """One version's requests. ``tx`` is the transaction's id (1.6: the CSMS's int; 2.0.1:
    the station's string)."""

    version: str
    subprotocol: str
    #: the 2.0.1 StopTransaction of a running transaction is a TransactionEvent
    tx_action: str
    stop_action: str
    meter_action: str
    remote_stop: str
    remote_start: str

    def boot(self, serial: str) -> dict[str, Any]:
        if self.version == "1.6":
            return {
                "chargePointVendor": VENDOR,
                "chargePointModel": MODEL,
                "chargePointSerialNumber": serial[:25],
            }
        return {
            "reason": "PowerUp",
            "chargingStation": {"vendorName": VENDOR, "model": MODEL, "serialNumber": serial[:25]},
        }

    def status(self, connector: int, plugged: bool, charging: bool = False) -> dict[str, Any]:
        if self.version == "1.6":
            status = "Charging" if charging else "Preparing" if plugged else "Available"
            return {
                "connectorId": connector,
                "errorCode": "NoError",
                "status": status,
                "timestamp": utc_iso(),
            }
        return {
            "timestamp": utc_iso(),
            "connectorStatus": "Occupied" if plugged else "Available",
            "evseId": connector,
            "connectorId": 1,
        }

    def authorize(self, id_tag: str) -> dict[str, Any]:
        if self.version == "1.6":
            return {"idTag": id_tag}
        return {"idToken": {"idToken": id_tag, "type": "ISO14443"}}

    def start(self, connector: int, id_tag: str, meter: int, tx: str, seq: int) -> dict[str, Any]:
        if self.version == "1.6":
            return {
                "connectorId": connector,
                "idTag": id_tag,
                "meterStart": meter,
                "timestamp": utc_iso(),
            }
        return {
            "eventType": "Started",
            "timestamp": utc_iso(),
            "triggerReason": "Authorized",
            "seqNo": seq,
            "transactionInfo": {"transactionId": tx, "chargingState": "Charging"},
            "idToken": {"idToken": id_tag, "type": "ISO14443"},
            "evse": {"id": connector, "connectorId": 1},
            "meterValue": [{"timestamp": utc_iso(), "sampledValue": [_energy201(meter)]}],
        }

    def meter(self, connector: int, tx: Any, meter: int, seq: int) -> dict[str, Any]:
        if self.version == "1.6":
            return {
                "connectorId": connector,
                "transactionId": tx,
                "meterValue": [{"timestamp": utc_iso(), "sampledValue": [_energy(meter)]}],
            }
        return {
            "eventType": "Updated",
            "timestamp": utc_iso(),
            "triggerReason": "MeterValuePeriodic",
            "seqNo": seq,
            "transactionInfo": {"transactionId": tx, "chargingState": "Charging"},
            "meterValue": [{"timestamp": utc_iso(), "sampledValue": [_energy201(meter)]}],
        }

    def stop(
        self, connector: int, tx: Any, id_tag: str, meter: int, seq: int, reason: str
    ) -> dict[str, Any]:
        if self.version == "1.6":
            return {
                "transactionId": tx,
                "idTag": id_tag,
                "meterStop": meter,
                "timestamp": utc_iso(),
                "reason": reason,
            }
        return {
            "eventType": "Ended",
            "timestamp": utc_iso(),
            "triggerReason": "StopAuthorized" if reason == "Local" else "AbnormalCondition",
            "seqNo": seq,
            "transactionInfo": {
                "transactionId": tx,
                "chargingState": "Idle",
                "stoppedReason": "Local" if reason == "Local" else "PowerLoss",
            },
            "evse": {"id": connector, "connectorId": 1},
            "meterValue": [
                {
                    "timestamp": utc_iso(),
                    "sampledValue": [_energy201(meter) | {"context": "Transaction.End"}],
                }
            ],
        }


SPEECH = {
    "1.6": Speech(
        "1.6",
        "ocpp1.6",
        tx_action="StartTransaction",
        stop_action="StopTransaction",
        meter_action="MeterValues",
        remote_stop="RemoteStopTransaction",
        remote_start="RemoteStartTransaction",
    ),
    "2.0.1": Speech(
        "2.0.1",
        "ocpp2.0.1",
        tx_action="TransactionEvent",
        stop_action="TransactionEvent",
        meter_action="TransactionEvent",
        remote_stop="RequestStopTransaction",
        remote_start="RequestStartTransaction",
    ),
}


class Answers:
    """The mock station's default answers, one shared mock per version and security profile."""

    def __init__(self) -> None:
        self._mocks: dict[tuple[str, int, int], Any] = {}

    def mock(self, version: str, security_profile: int, connectors: int) -> Any:
        key = (version, security_profile, connectors)
        found = self._mocks.get(key)
        if found is None:
            device = Device(
                path="fleet",
                role="csms",
                ocpp=version,
                connectors=connectors,
                security_profile=security_profile,
                basic_auth_password="x" * 16 if security_profile else None,
            )
            found = self._mocks[key] = for_device(version).mock_station(device)
        return found

    def answer(
        self,
        version: str,
        security_profile: int,
        connectors: int,
        unique_id: str,
        action: str,
        payload: dict[str, Any],
    ) -> tuple[dict[str, Any] | None, tuple[str, str] | None]:
        """(CALLRESULT payload, None) or (None, (error code, description))."""
        frame = Frame(
            seq=0,
            direction=IN,
            raw="",
            type=CALL,
            unique_id=unique_id,
            action=action,
            payload=payload,
        )
        reply = self.mock(version, security_profile, connectors).reply(frame)
        if reply.error is not None:
            return None, (reply.error[0], reply.error[1])
        return dict(reply.payload or {}), None
