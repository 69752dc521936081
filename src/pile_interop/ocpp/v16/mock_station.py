"""The default behaviour of the mock charging station for OCPP 1.6 (what the suite answers when
a CSMS under test sends a CALL no case step awaits), and what it learns about the CSMS.

The mock is a well-behaved Core station that only answers: it accepts remote start/stop,
resets, unlocks, availability changes, clears its cache, and keeps a small configuration (the
Core keys a CSMS typically reads or changes). The optional profiles' CALLs (charging profiles,
local list, reservations, TriggerMessage) are answered by :mod:`.mock_station_optional`. It
never sends anything on its own: the cases say which CALL the station sends and when, so a
case's frames are exactly its steps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pile_interop.ocpp.frames import CALLRESULT, Frame
from pile_interop.ocpp.mock_station import MockStationBase
from pile_interop.ocpp.session import Reply
from pile_interop.ocpp.v16.mock_station_optional import OPTIONAL_CONFIG, OptionalStation

#: The Security Whitepaper's write-only key holding the station's Basic auth password.
AUTHORIZATION_KEY = "AuthorizationKey"
#: The mock station's configuration: key → (value, read-only).
DEFAULT_CONFIG: dict[str, tuple[str, bool]] = {
    "AllowOfflineTxForUnknownId": ("false", False),
    "AuthorizationCacheEnabled": ("true", False),
    "AuthorizeRemoteTxRequests": ("true", False),
    "ClockAlignedDataInterval": ("0", False),
    "ConnectionTimeOut": ("60", False),
    "GetConfigurationMaxKeys": ("50", True),
    "HeartbeatInterval": ("300", False),
    "LocalAuthorizeOffline": ("true", False),
    "LocalPreAuthorize": ("false", False),
    "MeterValuesAlignedData": ("Energy.Active.Import.Register", False),
    "MeterValuesSampledData": ("Energy.Active.Import.Register", False),
    "MeterValueSampleInterval": ("0", False),
    "NumberOfConnectors": ("2", True),
    "ResetRetries": ("1", False),
    "StopTransactionOnEVSideDisconnect": ("true", False),
    "StopTransactionOnInvalidId": ("true", False),
    "StopTxnAlignedData": ("Energy.Active.Import.Register", False),
    "StopTxnSampledData": ("Energy.Active.Import.Register", False),
    "SupportedFeatureProfiles": ("Core", True),
    "TransactionMessageAttempts": ("3", False),
    "TransactionMessageRetryInterval": ("60", False),
    "UnlockConnectorOnEVSideDisconnect": ("true", False),
}
_INTEGER_KEYS = {
    "ClockAlignedDataInterval",
    "ConnectionTimeOut",
    "HeartbeatInterval",
    "MeterValueSampleInterval",
    "ResetRetries",
    "TransactionMessageAttempts",
    "TransactionMessageRetryInterval",
}
_BOOLEAN_KEYS = {k for k, (v, _) in DEFAULT_CONFIG.items() if v in ("true", "false")}
#: CSMS-initiated 1.6 actions outside Core: answered NotSupported (recognised, not supported)
#: unless mock_station_optional answers them
_NOT_CORE = {
    "CancelReservation",
    "ClearChargingProfile",
    "GetCompositeSchedule",
    "GetDiagnostics",
    "GetLocalListVersion",
    "ReserveNow",
    "SendLocalList",
    "SetChargingProfile",
    "TriggerMessage",
    "UpdateFirmware",
    "CertificateSigned",
    "DeleteCertificate",
    "ExtendedTriggerMessage",
    "GetInstalledCertificateIds",
    "GetLog",
    "InstallCertificate",
    "SignedUpdateFirmware",
}


@dataclass
class CsmsState:
    """What the mock station knows about the CSMS under test, from the frames it saw."""

    registration: str | None = None  # status of the last BootNotification.conf
    interval: int | None = None  # its heartbeat / retry interval
    transactions: dict[int, int] = field(default_factory=dict)  # open: transactionId → connector
    #: every transactionId the CSMS gave (whatever idTagInfo said) and no StopTransaction ended
    unended: dict[int, int] = field(default_factory=dict)
    reported: dict[int, str] = field(default_factory=dict)  # connectorId → last status sent
    inoperative: set[int] = field(default_factory=set)  # ChangeAvailability Inoperative taken


class MockStation(MockStationBase):
    """Default answers of a mock OCPP 1.6 charging station (Core profile)."""

    def __init__(self, connectors: int = 2, *, basic_auth: bool = False) -> None:
        self.connectors = connectors
        #: whether the station authenticates with HTTP Basic (then AuthorizationKey exists)
        self.basic_auth = basic_auth
        #: called with a new AuthorizationKey the station accepted (its next password)
        self.on_new_password: Callable[[str], None] | None = None
        self.config: dict[str, tuple[str, bool]] = dict(DEFAULT_CONFIG)
        self.config["NumberOfConnectors"] = (str(connectors), True)
        self.config.update(OPTIONAL_CONFIG)
        self.state = CsmsState()
        #: the optional profiles' answers and what they set (mock_station_optional)
        self.optional = OptionalStation(connectors, lambda: self.state.transactions)

    def boot_payload(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The BootNotification the mock sends (the profile's params name the station)."""
        from pile_interop import __version__

        return {
            "chargePointVendor": str(params.get("station_vendor", "pile-interop"))[:20],
            "chargePointModel": str(params.get("station_model", "MockStation16"))[:20],
            "chargePointSerialNumber": "PI-MOCK-0001",
            "firmwareVersion": __version__,
        }

    # -- configuration ------------------------------------------------------------------

    def configuration_status(self, key: str, value: str) -> str:
        """What ChangeConfiguration of ``key`` to ``value`` answers (§5.3, §9.1; the write-only
        AuthorizationKey of the Security Whitepaper when the station uses Basic auth)."""
        if key == AUTHORIZATION_KEY:
            if not self.basic_auth:
                return "NotSupported"
            ok = 16 <= len(value) <= 40 and value.isascii() and value.isprintable()
            return "Accepted" if ok else "Rejected"
        if key not in self.config:
            return "NotSupported"
        if self.config[key][1]:
            return "Rejected"
        if key in _INTEGER_KEYS and not (value.isdigit() and len(value) < 10):
            return "Rejected"
        if key in _BOOLEAN_KEYS and value.lower() not in ("true", "false"):
            return "Rejected"
        return "Accepted"

    def set_config(self, key: str, value: str) -> None:
        """Set a key the case's ``before.config`` names (added if the mock lacks it)."""
        readonly = self.config.get(key, ("", False))[1]
        self.config[key] = (value, readonly)

    def get_configuration(self, keys: list[str] | None) -> dict[str, Any]:
        wanted = keys or sorted(self.config)
        known = [
            {"key": k, "readonly": self.config[k][1], "value": self.config[k][0]}
            for k in wanted
            if k in self.config
        ]
        answer: dict[str, Any] = {"configurationKey": known}
        unknown = [k for k in wanted if k not in self.config]
        if unknown:
            answer["unknownKey"] = unknown
        return answer

    # -- answers ------------------------------------------------------------------------

    def reply(self, call: Frame) -> Reply:
        payload = call.payload or {}
        action = call.action or ""
        if action == "GetConfiguration":
            return Reply.result(self.get_configuration(payload.get("key")))
        if action == "ChangeConfiguration":
            return Reply.result(
                {"status": self.configuration_status(payload["key"], str(payload["value"]))}
            )
        if action == "RemoteStartTransaction":
            connector = payload.get("connectorId")
            ok = connector is None or 1 <= connector <= self.connectors
            return Reply.result({"status": "Accepted" if ok else "Rejected"})
        if action == "RemoteStopTransaction":
            known = payload.get("transactionId") in self.state.transactions
            return Reply.result({"status": "Accepted" if known else "Rejected"})
        if action == "Reset":
            return Reply.result({"status": "Accepted"})
        if action == "UnlockConnector":
            connector = payload.get("connectorId", 0)
            ok = 1 <= connector <= self.connectors
            return Reply.result({"status": "Unlocked" if ok else "NotSupported"})
        if action == "ChangeAvailability":
            connector = payload.get("connectorId", 0)
            ok = 0 <= connector <= self.connectors
            return Reply.result({"status": "Accepted" if ok else "Rejected"})
        if action == "ClearCache":
            return Reply.result({"status": "Accepted"})
        if action == "DataTransfer":
            return Reply.result({"status": "UnknownVendorId"})
        optional = self.optional.reply(call)
        if optional is not None:
            return optional
        if action in _NOT_CORE:
            return Reply.call_error("NotSupported", f"{action}: this station supports Core only")
        return Reply.call_error(
            "NotImplemented", f"{action} is not a CALL a Central System sends in OCPP 1.6"
        )

    # -- learning -----------------------------------------------------------------------

    def observe(self, call: Frame, reply: Frame | None) -> None:
        """A CALL from the CSMS was answered: remember configuration changes."""
        payload = call.payload or {}
        answer = reply.payload if reply is not None and reply.type == CALLRESULT else None
        self.optional.observe(call, reply)
        if (
            call.action == "ChangeConfiguration"
            and answer
            and answer.get("status") in ("Accepted", "RebootRequired")
        ):
            if payload["key"] == AUTHORIZATION_KEY:
                if self.on_new_password is not None:
                    self.on_new_password(str(payload["value"]))
            else:
                self.set_config(str(payload["key"]), str(payload["value"]))
        elif call.action == "ChangeAvailability" and answer and answer.get("status") != "Rejected":
            connector = payload.get("connectorId", 0)
            if payload.get("type") == "Inoperative":
                self.state.inoperative.add(connector)
            else:
                self.state.inoperative.discard(connector)

    def observe_response(self, call: Frame, response: Frame) -> None:
        """The CSMS answered one of our CALLs: track registration and transactions."""
        payload = call.payload or {}
        answer = response.payload if response.type == CALLRESULT else None
        state = self.state
        if call.action == "StatusNotification":  # the station's report, whatever the answer
            state.reported[int(payload.get("connectorId", 0))] = str(payload.get("status"))
        if answer is None:
            return
        if call.action == "BootNotification":
            state.registration = answer.get("status")
            interval = answer.get("interval")
            state.interval = interval if isinstance(interval, int) else None
            if state.registration == "Accepted" and isinstance(interval, int) and interval > 0:
                self.set_config("HeartbeatInterval", str(interval))
        elif call.action == "StartTransaction":
            tx = answer.get("transactionId")
            status = (answer.get("idTagInfo") or {}).get("status")
            if isinstance(tx, int):
                state.unended[tx] = int(payload.get("connectorId", 0))
            if isinstance(tx, int) and status == "Accepted":
                state.transactions[tx] = int(payload.get("connectorId", 0))
        elif call.action == "StopTransaction":
            tx = payload.get("transactionId")
            if isinstance(tx, int):
                state.transactions.pop(tx, None)
                state.unended.pop(tx, None)
