"""The default behaviour of the mock charging station for OCPP 2.0.1 (what the suite answers
when a CSMS under test sends a CALL no case step awaits), and what it learns about the CSMS.

The mock is a well-behaved station with ``evses`` EVSEs of one connector each that only
answers (docs/ocpp201.md, "SUT = CSMS: the mock station"): it accepts remote start/stop,
resets, unlocks, availability changes, report requests and triggers, keeps a small device model
(the variables a CSMS typically reads or changes) and the CA certificates a CSMS installs. It
never sends anything on its own: the cases say which CALL the station sends and when, so a
case's frames are exactly its steps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from ocpp.v201.enums import Action

from pile_interop.ocpp.frames import CALLRESULT, Frame
from pile_interop.ocpp.mock_station import MockStationBase
from pile_interop.ocpp.session import Reply
from pile_interop.ocpp.v201.mock_smart_charging import smart_charging_reply
from pile_interop.ocpp.v201.mock_station_optional import OptionalBlocks
from pile_interop.security.certhash import certificate_hash_data, same_certificate

#: The write-only variable holding the station's Basic auth password (security profiles 1, 2).
BASIC_AUTH_PASSWORD = "SecurityCtrlr.BasicAuthPassword"
HEARTBEAT_INTERVAL = "OCPPCommCtrlr.HeartbeatInterval"
#: Every OCPP 2.0.1 action: one the mock has no answer for is NotSupported, others NotImplemented.
ACTIONS_201 = frozenset(str(a.value) for a in Action)
_TX_POINTS = {
    "ParkingBayOccupancy",
    "EVConnected",
    "Authorized",
    "DataSigned",
    "PowerPathClosed",
    "EnergyTransfer",
}


@dataclass
class Variable:
    """One variable of the mock's device model (attribute Actual only)."""

    value: str
    readonly: bool = False
    kind: str = "string"  # integer, boolean, sequence (of integers), members (TxStart/StopPoint)
    writeonly: bool = False


def default_device_model() -> dict[str, Variable]:
    """The mock station's device model: ``Component.Variable[Instance]`` → :class:`Variable`."""
    return {
        HEARTBEAT_INTERVAL: Variable("300", kind="integer"),
        "OCPPCommCtrlr.NetworkConfigurationPriority": Variable("1", kind="sequence"),
        "AuthCtrlr.AuthorizeRemoteStart": Variable("true", kind="boolean"),
        "AuthCtrlr.LocalPreAuthorize": Variable("false", kind="boolean"),
        "AuthCacheCtrlr.Enabled": Variable("true", kind="boolean"),
        "TxCtrlr.EVConnectionTimeOut": Variable("60", kind="integer"),
        "TxCtrlr.TxStartPoint": Variable("PowerPathClosed", kind="members"),
        "TxCtrlr.TxStopPoint": Variable("EVConnected,Authorized", kind="members"),
        "SampledDataCtrlr.TxUpdatedInterval": Variable("0", kind="integer"),
        "AlignedDataCtrlr.Interval": Variable("0", kind="integer"),
        "SecurityCtrlr.SecurityProfile": Variable("1", readonly=True, kind="integer"),
        BASIC_AUTH_PASSWORD: Variable("", writeonly=True),
        "DeviceDataCtrlr.ItemsPerMessage[GetVariables]": Variable(
            "50", readonly=True, kind="integer"
        ),
        "DeviceDataCtrlr.ItemsPerMessage[SetVariables]": Variable(
            "50", readonly=True, kind="integer"
        ),
        "ChargingStation.Model": Variable("MockStation201", readonly=True),
        "ChargingStation.VendorName": Variable("pile-interop", readonly=True),
    }


def variable_name(component: Mapping[str, Any], variable: Mapping[str, Any]) -> str:
    """``{name: TxCtrlr}``, ``{name: ItemsPerMessage, instance: GetVariables}`` →
    ``TxCtrlr.ItemsPerMessage[GetVariables]`` (component instance and EVSE are ignored)."""
    name = f"{component.get('name', '')}.{variable.get('name', '')}"
    instance = variable.get("instance")
    return f"{name}[{instance}]" if instance else name


def valid_value(kind: str, value: str) -> bool:
    """Whether ``value`` is a valid value of a variable of ``kind`` (Part 2 §2, dataType)."""
    if kind == "integer":
        return value.isdigit() and len(value) < 10
    if kind == "boolean":
        return value in ("true", "false")
    if kind == "sequence":
        return all(p.strip().isdigit() for p in value.split(",")) and value != ""
    if kind == "members":
        return value == "" or all(p.strip() in _TX_POINTS for p in value.split(","))
    return True


def certificate_common_name(chain_pem: str) -> str | None:
    """The subject commonName of the first certificate of a PEM chain (None: not a PEM
    certificate, or no commonName)."""
    try:
        certs = x509.load_pem_x509_certificates(chain_pem.encode())
    except ValueError:
        return None
    names = certs[0].subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


@dataclass
class CsmsState:
    """What the mock station knows about the CSMS under test, from the frames it saw."""

    registration: str | None = None  # status of the last BootNotification response
    interval: int | None = None  # its heartbeat / retry interval
    transactions: dict[str, int] = field(default_factory=dict)  # open: transactionId → evseId
    seq_nos: dict[str, int] = field(default_factory=dict)  # transactionId → last seqNo sent
    #: every transaction the station told the CSMS of (Started) and never Ended
    unended: dict[str, int] = field(default_factory=dict)
    reported: dict[int, str] = field(default_factory=dict)  # evseId → last connectorStatus sent
    inoperative: set[int] = field(default_factory=set)  # ChangeAvailability Inoperative (0: all)


@dataclass
class InstalledCertificate:
    certificate_type: str
    pem: str
    hash_data: dict[str, str]


class MockStation(MockStationBase):
    """Default answers of a mock OCPP 2.0.1 charging station."""

    def __init__(
        self,
        evses: int = 2,
        *,
        basic_auth: bool = False,
        station_id: str = "",
        security_profile: int | None = None,
    ) -> None:
        self.evses = evses
        #: whether the station authenticates with HTTP Basic (then BasicAuthPassword is set)
        self.basic_auth = basic_auth
        #: the station identity: CertificateSigned must carry a certificate with this CN
        self.station_id = station_id
        #: called with a new BasicAuthPassword the station accepted (its next password)
        self.on_new_password: Callable[[str], None] | None = None
        self.model = default_device_model()
        if security_profile is not None:
            self.model["SecurityCtrlr.SecurityProfile"].value = str(security_profile)
        self.installed: list[InstalledCertificate] = []
        self.state = CsmsState()
        self.optional = OptionalBlocks(evses)

    # -- device model -------------------------------------------------------------------

    def set_variable(self, name: str, value: str) -> None:
        """Set ``Component.Variable`` (a case's ``before.config``; added if unknown)."""
        if name in self.model:
            self.model[name].value = str(value)
        else:
            self.model[name] = Variable(str(value))

    def get_variable(self, name: str) -> str | None:
        variable = self.model.get(name)
        return None if variable is None or variable.writeonly else variable.value

    def _lookup(self, component: Mapping[str, Any], variable: Mapping[str, Any]) -> str:
        """``Accepted`` when the model has the variable, else UnknownComponent/UnknownVariable."""
        if variable_name(component, variable) in self.model:
            return "Accepted"
        prefix = f"{component.get('name', '')}."
        return (
            "UnknownVariable"
            if any(k.startswith(prefix) for k in self.model)
            else ("UnknownComponent")
        )

    def get_variable_result(self, item: Mapping[str, Any]) -> dict[str, Any]:
        component, variable = item.get("component") or {}, item.get("variable") or {}
        attribute = item.get("attributeType", "Actual")
        result: dict[str, Any] = {
            "attributeType": attribute,
            "component": component,
            "variable": variable,
        }
        status = self._lookup(component, variable)
        name = variable_name(component, variable)
        if status == "Accepted" and attribute != "Actual":
            status = "NotSupportedAttributeType"
        elif status == "Accepted" and self.model[name].writeonly:
            status = "Rejected"
        result["attributeStatus"] = status
        if status == "Accepted":
            result["attributeValue"] = self.model[name].value
        return result

    def set_variable_status(self, item: Mapping[str, Any]) -> str:
        """What SetVariables answers for one item (B05: read-only or invalid → Rejected)."""
        component, variable = item.get("component") or {}, item.get("variable") or {}
        status = self._lookup(component, variable)
        if status != "Accepted":
            return status
        if item.get("attributeType", "Actual") != "Actual":
            return "NotSupportedAttributeType"
        name = variable_name(component, variable)
        value = str(item.get("attributeValue", ""))
        if name == BASIC_AUTH_PASSWORD:
            ok = self.basic_auth and 16 <= len(value) <= 40
            return "Accepted" if ok and value.isascii() and value.isprintable() else "Rejected"
        target = self.model[name]
        if target.readonly or not valid_value(target.kind, value):
            return "Rejected"
        return "Accepted"

    def set_variable_result(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "attributeType": item.get("attributeType", "Actual"),
            "attributeStatus": self.set_variable_status(item),
            "component": item.get("component") or {},
            "variable": item.get("variable") or {},
        }

    # -- certificates -------------------------------------------------------------------

    def install_status(self, certificate: str) -> str:
        try:
            x509.load_pem_x509_certificates(certificate.encode())
        except ValueError:
            return "Rejected"
        return "Accepted"

    def installed_ids(self, types: list[str] | None) -> dict[str, Any]:
        chain = [
            {"certificateType": c.certificate_type, "certificateHashData": c.hash_data}
            for c in self.installed
            if not types or c.certificate_type in types
        ]
        if not chain:
            return {"status": "NotFound"}
        return {"status": "Accepted", "certificateHashDataChain": chain}

    def _installed_index(self, hash_data: Mapping[str, Any]) -> int | None:
        for i, cert in enumerate(self.installed):
            if same_certificate(cert.hash_data, dict(hash_data)):
                return i
        return None

    # -- identity -----------------------------------------------------------------------

    def boot_payload(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The BootNotification the mock sends (the profile's params name the station)."""
        from pile_interop import __version__

        model = str(params.get("station_model", "MockStation201"))[:20]
        vendor = str(params.get("station_vendor", "pile-interop"))[:50]
        self.model["ChargingStation.Model"].value = model
        self.model["ChargingStation.VendorName"].value = vendor
        return {
            "reason": "PowerUp",
            "chargingStation": {
                "model": model,
                "vendorName": vendor,
                "serialNumber": "PI-MOCK-0001",
                "firmwareVersion": str(__version__)[:50],
            },
        }

    # -- answers ------------------------------------------------------------------------

    def _evse_ok(self, evse: Any, *, zero: bool = False) -> bool:
        return evse is None or (isinstance(evse, int) and (0 if zero else 1) <= evse <= self.evses)

    def reply(self, call: Frame) -> Reply:
        payload = call.payload or {}
        action = call.action or ""
        evse = (payload.get("evse") or {}).get("id") if "evse" in payload else None
        if action == "GetVariables":
            items = payload.get("getVariableData") or []
            return Reply.result({"getVariableResult": [self.get_variable_result(i) for i in items]})
        if action == "SetVariables":
            items = payload.get("setVariableData") or []
            return Reply.result({"setVariableResult": [self.set_variable_result(i) for i in items]})
        if action == "RequestStartTransaction":
            ok = self._evse_ok(payload.get("evseId"))
            return Reply.result({"status": "Accepted" if ok else "Rejected"})
        if action == "RequestStopTransaction":
            known = payload.get("transactionId") in self.state.transactions
            return Reply.result({"status": "Accepted" if known else "Rejected"})
        if action == "Reset":
            ok = self._evse_ok(payload.get("evseId"))
            return Reply.result({"status": "Accepted" if ok else "Rejected"})
        if action == "UnlockConnector":
            ok = self._evse_ok(payload.get("evseId")) and payload.get("connectorId") == 1
            return Reply.result({"status": "Unlocked" if ok else "UnknownConnector"})
        if action == "ChangeAvailability":
            ok = self._evse_ok(evse, zero=True)
            return Reply.result({"status": "Accepted" if ok else "Rejected"})
        if action == "TriggerMessage":
            ok = self._evse_ok(evse)
            return Reply.result({"status": "Accepted" if ok else "Rejected"})
        if action in ("ClearCache", "GetBaseReport", "GetReport", "SetNetworkProfile"):
            return Reply.result({"status": "Accepted"})
        if action == "DataTransfer":
            return Reply.result({"status": "UnknownVendorId"})
        if action == "InstallCertificate":
            return Reply.result({"status": self.install_status(str(payload.get("certificate")))})
        if action == "GetInstalledCertificateIds":
            return Reply.result(self.installed_ids(payload.get("certificateType")))
        if action == "DeleteCertificate":
            found = self._installed_index(payload.get("certificateHashData") or {})
            return Reply.result({"status": "NotFound" if found is None else "Accepted"})
        if action == "CertificateSigned":
            cn = certificate_common_name(str(payload.get("certificateChain", "")))
            ok = cn is not None and cn == self.station_id
            return Reply.result({"status": "Accepted" if ok else "Rejected"})
        if action == "GetTransactionStatus":
            answer: dict[str, Any] = {"messagesInQueue": False}
            if "transactionId" in payload:
                answer["ongoingIndicator"] = payload["transactionId"] in self.state.transactions
            return Reply.result(answer)
        optional = self.optional.reply(action, payload)  # blocks D and H
        if optional is not None:
            return optional
        smart = smart_charging_reply(action, payload, self.evses)
        if smart is not None:
            return Reply.result(smart)
        if action in ACTIONS_201:
            return Reply.call_error(
                "NotSupported", f"{action}: this mock station does not support it"
            )
        return Reply.call_error("NotImplemented", f"{action} is not an OCPP 2.0.1 action")

    # -- learning -----------------------------------------------------------------------

    def observe(self, call: Frame, reply: Frame | None) -> None:
        """A CALL from the CSMS was answered: remember variables set, certificates installed or
        deleted, and a new Basic password."""
        payload = call.payload or {}
        answer = reply.payload if reply is not None and reply.type == CALLRESULT else None
        if not answer:
            return
        if call.action == "ChangeAvailability" and answer.get("status") != "Rejected":
            evse = int((payload.get("evse") or {}).get("id", 0))
            if payload.get("operationalStatus") == "Inoperative":
                self.state.inoperative.add(evse)
            else:
                self.state.inoperative.discard(evse)
        elif call.action == "SetVariables":
            items = payload.get("setVariableData") or []
            results = answer.get("setVariableResult") or []
            for item, result in zip(items, results, strict=False):
                if result.get("attributeStatus") not in ("Accepted", "RebootRequired"):
                    continue
                name = variable_name(item.get("component") or {}, item.get("variable") or {})
                value = str(item.get("attributeValue", ""))
                if name == BASIC_AUTH_PASSWORD:
                    if self.on_new_password is not None:
                        self.on_new_password(value)
                else:
                    self.set_variable(name, value)
        elif call.action == "InstallCertificate" and answer.get("status") == "Accepted":
            pem = str(payload.get("certificate", ""))
            try:
                hash_data = certificate_hash_data(pem)
            except ValueError:
                return
            if self._installed_index(hash_data) is None:
                kind = str(payload.get("certificateType", ""))
                self.installed.append(InstalledCertificate(kind, pem, hash_data))
        elif call.action == "DeleteCertificate" and answer.get("status") == "Accepted":
            found = self._installed_index(payload.get("certificateHashData") or {})
            if found is not None:
                del self.installed[found]

    def observe_response(self, call: Frame, response: Frame) -> None:
        """The CSMS answered one of our CALLs: track registration and transactions."""
        payload = call.payload or {}
        state = self.state
        if call.action == "StatusNotification":  # the station's report, whatever the answer
            state.reported[int(payload.get("evseId", 0))] = str(payload.get("connectorStatus"))
            return
        if call.action == "TransactionEvent":  # the station's view, whatever the CSMS answered
            info = payload.get("transactionInfo") or {}
            tx = info.get("transactionId")
            if isinstance(tx, str):
                if isinstance(payload.get("seqNo"), int):
                    state.seq_nos[tx] = payload["seqNo"]
                if payload.get("eventType") == "Started":
                    evse = int((payload.get("evse") or {}).get("id", 0))
                    state.transactions[tx] = evse
                    state.unended[tx] = evse
                elif payload.get("eventType") == "Ended":
                    state.transactions.pop(tx, None)
                    state.unended.pop(tx, None)
            return
        answer = response.payload if response.type == CALLRESULT else None
        if answer is None or call.action != "BootNotification":
            return
        state.registration = answer.get("status")
        interval = answer.get("interval")
        state.interval = interval if isinstance(interval, int) else None
        if state.registration == "Accepted" and isinstance(interval, int) and interval > 0:
            self.set_variable(HEARTBEAT_INTERVAL, str(interval))

    def next_seq_no(self, transaction_id: str) -> int:
        """The seqNo of the next TransactionEvent of ``transaction_id`` (one more than the
        last the cases sent)."""
        return self.state.seq_nos.get(transaction_id, -1) + 1
