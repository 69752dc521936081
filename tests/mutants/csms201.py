"""Mutant OCPP 2.0.1 CSMSs: the reference CSMS with ONE deliberate defect each.

Registered in the same catalogue as every other mutant (see tests/mutants/stations16.py for
the entry: ``mutant(catches, requirement, *also, profile=...)``): profile ``ocpp201/core-csms``
(blocks A-P) and ``ocpp201/advanced-security-csms`` (security profile 3, certificate
renewal). Each names the case meant to catch it, the requirement that case's reason must name,
and every other case its defect breaks (a CSMS mutant runs against its whole profile).
"""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from typing import Any

from ocpp.v201 import call, call_result
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader
from websockets.headers import build_authorization_basic, parse_authorization_basic

from pile_interop.ocpp.server import CsmsServer, station_id_from_path
from pile_interop.ocpp.v201.reference.csms import ReferenceCsms
from pile_interop.ocpp.v201.reference.csms_link import CsmsLink
from pile_interop.security.pki import pki_server_context, server_context, sign_csr
from tests.mutants.stations16 import mutant

CORE = "ocpp201/core-csms"
SECURITY = "ocpp201/advanced-security-csms"


def _ids(*names: str) -> tuple[str, ...]:
    return tuple(f"TC_{n}_CSMS" for n in names)


#: every case of the core profile, in its order (a defect in what every connection needs
#: breaks them all)
_ALL_CORE = _ids(
    *("A_01", "A_02", "A_03", "A_04", "A_06", "A_09", "A_10", "A_90"),
    *("B_01", "B_02", "B_03", "B_06", "B_07", "B_09", "B_10", "B_12", "B_13", "B_14", "B_18"),
    *("B_20", "B_21", "B_22", "B_25", "B_26", "B_27", "B_42", "B_44"),
    *("C_02", "C_06", "C_07", "C_08", "C_20", "C_37", "C_38", "C_39", "C_47", "C_48", "C_49"),
    *("E_01", "E_02", "E_03", "E_04", "E_07", "E_09", "E_14", "E_15", "E_21", "E_29", "E_30"),
    *("E_31", "E_33", "E_34", "E_38", "E_39", "E_53"),
    *("F_01", "F_02", "F_03", "F_04", "F_06", "F_11", "F_12", "F_13", "F_14", "F_15", "F_18"),
    *("F_20", "F_23", "F_24", "F_27", "F_90"),
    *("G_03", "G_04", "G_05", "G_06", "G_07", "G_08", "G_11", "G_14", "G_17"),
    *("J_01", "J_02", "J_03", "J_07", "J_09", "J_10"),
    *("M_01", "M_02", "M_05", "M_13", "M_18", "M_19", "M_20", "M_21", "P_02"),
)
#: every core case that needs the station's connection accepted (A_02 / A_03 pass with a
#: CSMS that refuses every connection: they want theirs refused)
_CONNECTED_CORE = tuple(c for c in _ALL_CORE if c not in _ids("A_02", "A_03"))
#: the cases that start from the `charging` state (Authorize, TransactionEvent Started with
#: the valid idToken answered Accepted, Updated Charging)
_CHARGING = _ids(
    *("B_21", "B_22", "B_26", "B_27", "C_47", "C_48", "C_49", "E_07", "E_14", "E_15", "E_21"),
    *("E_29", "E_30", "E_31", "E_33", "E_53", "F_13", "F_14", "G_11", "G_14", "G_17"),
    *("J_02", "J_03", "J_09", "J_10"),
)
#: every Advanced Security case that needs the station's connection accepted (A_07_2 ..
#: A_07_4 want theirs refused)
_CONNECTED_SECURITY = _ids("A_07", "A_04", "A_06", "A_11", "A_11_2", "A_14", "A_19")


def _tx(payload: dict[str, Any]) -> dict[str, Any]:
    return payload.get("transaction_info") or {}


# -- block A: connection security (core profile: TLS + HTTP Basic auth) ----------------------


@mutant("TC_A_01_CSMS", "A00.FR.204", *_CONNECTED_CORE, profile=CORE)
class ComparesPasswordHashes201(ReferenceCsms):
    """Checks the Basic password against a hash of the configured one (never matches)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.server.password is not None:
            import hashlib

            self.server.password = hashlib.sha256(self.server.password.encode()).hexdigest()


class _AnyUserServer(CsmsServer):
    """Checks only the Basic password: whatever user name comes with it stands for the station
    of the URL."""

    def _process_request(self, connection: Any, request: Any) -> Any:
        header = request.headers.get("Authorization")
        station = station_id_from_path(request.path)
        if header is not None and station is not None:
            try:
                _user, password = parse_authorization_basic(header)
            except InvalidHeader:
                password = None
            if password is not None:
                headers = Headers(request.headers)
                del headers["Authorization"]
                headers["Authorization"] = build_authorization_basic(station, password)
                request.headers = headers
        return super()._process_request(connection, request)


@mutant("TC_A_02_CSMS", "A00.FR.204", profile=CORE)
class IgnoresBasicUserName(ReferenceCsms):
    """Checks the Basic password but not the user name (any user may open the station's URL)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        old = self.server
        self.server = _AnyUserServer(
            old.host,
            old.port,
            self._on_connect,
            subprotocols=list(old.subprotocols),
            station_ids=list(self.passwords) or None,
            password=old.password,
            ssl=old.ssl,
            client_cn_required=old.client_cn_required,
        )


@mutant("TC_A_03_CSMS", "A00.FR.205", "TC_A_02_CSMS", profile=CORE)
class AcceptsAnyPassword201(ReferenceCsms):
    """Accepts any (or no) Basic password: the station identity in the URL is enough."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.server.password = None


def _expired_server(kwargs: dict[str, Any]) -> dict[str, Any]:
    pki = kwargs.get("pki")
    context = kwargs.get("ssl")
    if pki is not None and context is not None:
        required = context.verify_mode == ssl.CERT_REQUIRED
        kwargs["ssl"] = pki_server_context(pki, "expired", require_client_cert=required)
    return kwargs


def _legacy_tls(kwargs: dict[str, Any]) -> dict[str, Any]:
    context: ssl.SSLContext | None = kwargs.get("ssl")
    if context is not None:
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return kwargs


@mutant("TC_A_06_CSMS", "A00.FR.315", profile=CORE)
class AcceptsLegacyTls201(ReferenceCsms):
    """Also accepts TLS 1.0 and 1.1."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_legacy_tls(kwargs))


#: A_09 / A_10 change the station's password: they run only where the descriptor allows it (the
#: reference descriptor does; the mutants meant for them say so themselves)
_PASSWORDS = {"password_update": True}


@mutant("TC_A_09_CSMS", "A00.FR.205", profile=CORE, features=_PASSWORDS)
class ShortDecimalPassword201(ReferenceCsms):
    """Generates new station passwords of 8 decimal digits (not 16 to 40 characters)."""

    def new_password(self) -> str:
        return "12345678"


@mutant(
    "TC_A_10_CSMS",
    "OCPP2.0.1 A01",
    *_ALL_CORE[_ALL_CORE.index("TC_A_10_CSMS") + 1 :],  # the station is locked out
    profile=CORE,
    features=_PASSWORDS,
)
class SwitchesToRejectedPassword(ReferenceCsms):
    """Switches to a new Basic password even when the station rejected it (locks it out)."""

    async def update_password(self, station: str | None = None) -> Any:
        link = self._link(station)
        password = self.new_password()
        answer = await self._call(link, self.update_password_request(password))
        self.store_password(link.id, password)
        return answer


@mutant("TC_A_90_CSMS", "A04.FR.03", profile=CORE)
class RefusesOldSecurityEvents(ReferenceCsms):
    """Answers a SecurityEventNotification older than a minute with a CALLERROR."""

    def note(self, station_id: str, action: str, payload: dict[str, Any]) -> None:
        if action == "SecurityEventNotification":
            stamp = str(payload.get("timestamp", ""))
            when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            if (datetime.now(UTC) - when).total_seconds() > 60:
                raise ValueError("security event too old")
        super().note(station_id, action, payload)


# -- block B: provisioning ---------------------------------------------------------------------


@mutant("TC_B_01_CSMS", "B01.FR.02", *_ids("B_02", "B_03", "B_20", "B_21", "B_22"), profile=CORE)
class BootIntervalZero201(ReferenceCsms):
    """Accepts a station with heartbeat interval 0 (no heartbeat period given)."""

    def boot_reply(self, station_id: str) -> call_result.BootNotification:
        reply = super().boot_reply(station_id)
        if reply.status == "Accepted":
            reply.interval = 0
        return reply


@mutant("TC_B_02_CSMS", "B01.FR.02", profile=CORE)
class PendingWithoutInterval(ReferenceCsms):
    """Answers BootNotification Pending without an interval (its schema check off)."""

    validates_requests = False

    def boot_reply(self, station_id: str) -> call_result.BootNotification:
        reply = super().boot_reply(station_id)
        if reply.status == "Pending":
            reply.interval = None  # type: ignore[assignment]
        return reply


@mutant("TC_B_03_CSMS", "OCPP2.0.1 B03", profile=CORE)
class ConfiguresRejectedStation(ReferenceCsms):
    """Reads the configuration (GetVariables) of a station it has just rejected."""

    async def after_boot(self, link: CsmsLink, payload: dict[str, Any]) -> None:
        if self.record(link.id).registration == "Rejected":
            request = self.get_variables_request(
                [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}]
            )
            await self._call(link, request)


@mutant("TC_B_06_CSMS", "OCPP2.0.1 B06", profile=CORE)
class GetVariablesAddsHeartbeat(ReferenceCsms):
    """Adds OCPPCommCtrlr.HeartbeatInterval to every GetVariables (a dashboard's extra read)."""

    def get_variables_request(self, variables: list[dict[str, Any]]) -> call.GetVariables:
        extra = {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}
        return super().get_variables_request([*variables, extra])


@mutant("TC_B_07_CSMS", "OCPP2.0.1 B06", profile=CORE)
class GetVariablesFirstOnly(ReferenceCsms):
    """Reads only the first of several variables the operator asked for."""

    def get_variables_request(self, variables: list[dict[str, Any]]) -> call.GetVariables:
        return super().get_variables_request(variables[:1])


@mutant("TC_B_09_CSMS", "OCPP2.0.1 B05", "TC_B_10_CSMS", profile=CORE)
class SetVariablesWithUnit(ReferenceCsms):
    """Sends variable values with a unit appended ("45s")."""

    def set_variables_request(self, variables: list[dict[str, Any]]) -> call.SetVariables:
        return super().set_variables_request([{**v, "value": f"{v['value']}s"} for v in variables])


@mutant("TC_B_12_CSMS", "B07.FR.07", "TC_B_14_CSMS", profile=CORE)
class BaseReportAlwaysFull(ReferenceCsms):
    """Asks for the FullInventory whatever report base the operator chose."""

    def get_base_report_request(self, report_base: str, request_id: int) -> call.GetBaseReport:
        return super().get_base_report_request("FullInventory", request_id)


@mutant("TC_B_14_CSMS", "OCPP2.0.1 B07", "TC_B_12_CSMS", "TC_B_13_CSMS", profile=CORE)
class RefusesReportContinuation(ReferenceCsms):
    """Answers a NotifyReport part that is not the first (seqNo > 0) with a CALLERROR."""

    def on_notify_report(self, station_id: str, payload: dict[str, Any]) -> None:
        if int(payload.get("seq_no", 0)) > 0:
            raise ValueError("report already complete")
        super().on_notify_report(station_id, payload)


@mutant("TC_B_18_CSMS", "OCPP2.0.1 B08", profile=CORE)
class GetReportWithoutFilter(ReferenceCsms):
    """Sends GetReport without the component/variables the operator chose (the whole report)."""

    def get_report_request(
        self,
        component_variables: list[dict[str, Any]] | None,
        criteria: list[str] | None,
        request_id: int,
    ) -> call.GetReport:
        return super().get_report_request(None, criteria, request_id)


@mutant("TC_B_20_CSMS", "OCPP2.0.1 B11", "TC_B_21_CSMS", "TC_B_26_CSMS", profile=CORE)
class AlwaysImmediateReset(ReferenceCsms):
    """Sends a Reset type Immediate whatever the operator asked."""

    def reset_request(self, kind: str, evse: int | None) -> call.Reset:
        return super().reset_request("Immediate", evse)


@mutant("TC_B_22_CSMS", "OCPP2.0.1 B12", "TC_B_27_CSMS", profile=CORE)
class AlwaysOnIdleReset(ReferenceCsms):
    """Sends a Reset type OnIdle whatever the operator asked."""

    def reset_request(self, kind: str, evse: int | None) -> call.Reset:
        return super().reset_request("OnIdle", evse)


@mutant("TC_B_25_CSMS", "OCPP2.0.1 B11", "TC_B_26_CSMS", "TC_B_27_CSMS", profile=CORE)
class EvseResetResetsStation(ReferenceCsms):
    """Resets the whole station when the operator resets one EVSE (drops evseId)."""

    def reset_request(self, kind: str, evse: int | None) -> call.Reset:
        return super().reset_request(kind, None)


class _ClosesAfter(ReferenceCsms):
    """Closes the station's connection when an operator request got the answer ``closes_on``
    (a CSMS that treats a legal negative answer as a broken station)."""

    closes_on: tuple[str, str] = ("", "")

    async def _call(self, link: CsmsLink, request: Any) -> Any:
        answer = await super()._call(link, request)
        action, status = self.closes_on
        if type(request).__name__ == action and str(getattr(answer, "status", "")) == status:
            await link._connection.close(1011, f"{action} {status}")
        return answer


@mutant("TC_B_42_CSMS", "OCPP2.0.1 B09", profile=CORE)
class NetworkProfileUrlWithoutScheme(ReferenceCsms):
    """Writes the CSMS URL of a network profile without its scheme (host:port/path)."""

    def set_network_profile_request(
        self, slot: int, security_profile: int
    ) -> call.SetNetworkProfile:
        request = super().set_network_profile_request(slot, security_profile)
        data = dict(request.connection_data)
        data["ocpp_csms_url"] = str(data["ocpp_csms_url"]).split("://", 1)[-1]
        request.connection_data = data
        return request


@mutant("TC_B_44_CSMS", "OCPP2.0.1 B09", profile=CORE)
class ResetsAfterFailedNetworkProfile(ReferenceCsms):
    """Resets the station to activate a network profile the station failed to store."""

    async def set_network_profile(
        self, slot: int = 1, security_profile: int = 1, station: str | None = None
    ) -> Any:
        answer = await super().set_network_profile(slot, security_profile, station)
        if str(getattr(answer, "status", "")) != "Accepted":
            await self.reset("OnIdle", None, station)
        return answer


# -- block C: authorization ----------------------------------------------------------------------


@mutant("TC_C_02_CSMS", "OCPP2.0.1 C01", "TC_C_20_CSMS", profile=CORE)
class AcceptsUnknownIdToken(ReferenceCsms):
    """Authorizes any idToken it does not know (Accepted instead of Invalid)."""

    def id_token_info(self, id_token: dict[str, Any] | None) -> dict[str, Any]:
        if str((id_token or {}).get("id_token", "")) not in self.id_tags:
            return {"status": "Accepted"}
        return super().id_token_info(id_token)


@mutant("TC_C_06_CSMS", "OCPP2.0.1 C01", profile=CORE)
class AcceptsBlockedIdToken(ReferenceCsms):
    """Answers Accepted for a blocked idToken."""

    def id_token_info(self, id_token: dict[str, Any] | None) -> dict[str, Any]:
        info = super().id_token_info(id_token)
        return {"status": "Accepted"} if info["status"] == "Blocked" else info


@mutant("TC_C_07_CSMS", "OCPP2.0.1 C01", profile=CORE)
class IgnoresExpiry201(ReferenceCsms):
    """Answers Accepted for an expired idToken."""

    def id_token_info(self, id_token: dict[str, Any] | None) -> dict[str, Any]:
        info = super().id_token_info(id_token)
        return {"status": "Accepted"} if info["status"] == "Expired" else info


@mutant(
    "TC_C_08_CSMS",
    "OCPP2.0.1 C12",
    *_CHARGING,
    *_ids("C_02", "C_06", "C_07", "C_20", "C_39", "E_01", "E_02", "E_03", "E_04", "E_38"),
    *_ids("E_39", "F_01", "F_02", "F_03", "F_04", "J_07"),
    profile=CORE,
)
class TransactionEventWithoutIdTokenInfo(ReferenceCsms):
    """Answers every TransactionEvent without idTokenInfo, even one with an idToken."""

    def transaction_event_reply(
        self, station_id: str, payload: dict[str, Any]
    ) -> call_result.TransactionEvent:
        return call_result.TransactionEvent()


@mutant("TC_C_37_CSMS", "OCPP2.0.1 C11", "TC_C_38_CSMS", profile=CORE)
class ClearCacheNeverSent201(ReferenceCsms):
    """Its "clear cache" operator action reports success but sends nothing."""

    async def clear_cache(self, station: str | None = None) -> Any:
        self._link(station)
        return call_result.ClearCache(status="Accepted")


@mutant("TC_C_39_CSMS", "OCPP2.0.1 C09", profile=CORE)
class ForgetsGroupIdToken(ReferenceCsms):
    """Answers a group member's idToken without its groupIdToken."""

    def id_token_info(self, id_token: dict[str, Any] | None) -> dict[str, Any]:
        info = super().id_token_info(id_token)
        group = info.get("group_id_token") or {}
        if group.get("id_token") == self.group_id:
            del info["group_id_token"]
        return info


@mutant("TC_C_47_CSMS", "OCPP2.0.1 C16", "TC_C_48_CSMS", "TC_C_49_CSMS", profile=CORE)
class MasterPassWithoutGroup(ReferenceCsms):
    """Answers the master pass idToken without its (master pass) groupIdToken."""

    def id_token_info(self, id_token: dict[str, Any] | None) -> dict[str, Any]:
        info = super().id_token_info(id_token)
        group = info.get("group_id_token") or {}
        if group.get("id_token") == self.master_pass_group_id:
            del info["group_id_token"]
        return info


# -- block E: transactions ------------------------------------------------------------------------


@mutant("TC_E_01_CSMS", "OCPP2.0.1 E01", "TC_E_38_CSMS", profile=CORE)
class RefusesSuspendedEv(ReferenceCsms):
    """Answers a TransactionEvent whose chargingState is SuspendedEV with a CALLERROR."""

    def on_transaction_event(
        self, station_id: str, payload: dict[str, Any]
    ) -> call_result.TransactionEvent:
        if _tx(payload).get("charging_state") == "SuspendedEV":
            raise ValueError("charging state SuspendedEV")
        return super().on_transaction_event(station_id, payload)


@mutant(
    "TC_E_02_CSMS",
    "OCPP2.0.1 E01",
    *_ids("C_39", "C_47", "C_48", "C_49", "J_07"),
    profile=CORE,
)
class RefusesStartWhileCharging(ReferenceCsms):
    """Answers a TransactionEvent Started with chargingState Charging with a CALLERROR."""

    def on_transaction_event(
        self, station_id: str, payload: dict[str, Any]
    ) -> call_result.TransactionEvent:
        if payload.get("event_type") == "Started" and _tx(payload).get("charging_state") == (
            "Charging"
        ):
            raise ValueError("a transaction cannot start while charging")
        return super().on_transaction_event(station_id, payload)


@mutant("TC_E_03_CSMS", "OCPP2.0.1 E02", *_ids("C_02", "C_06", "C_07"), profile=CORE)
class UpdatedWithoutIdTokenInfo(ReferenceCsms):
    """Answers a TransactionEvent Updated carrying an idToken without idTokenInfo."""

    def transaction_event_reply(
        self, station_id: str, payload: dict[str, Any]
    ) -> call_result.TransactionEvent:
        if payload.get("event_type") == "Updated":
            return call_result.TransactionEvent()
        return super().transaction_event_reply(station_id, payload)


@mutant("TC_E_04_CSMS", "OCPP2.0.1 E03", *_ids("E_39", "F_02", "F_03", "F_04"), profile=CORE)
class RefusesIdleStart(ReferenceCsms):
    """Answers a TransactionEvent Started with chargingState Idle with a CALLERROR."""

    def on_transaction_event(
        self, station_id: str, payload: dict[str, Any]
    ) -> call_result.TransactionEvent:
        if payload.get("event_type") == "Started" and _tx(payload).get("charging_state") == (
            "Idle"
        ):
            raise ValueError("no EV connected")
        return super().on_transaction_event(station_id, payload)


@mutant(
    "TC_E_07_CSMS",
    "OCPP2.0.1 E07",
    *_ids("B_21", "B_26", "C_39", "C_47", "C_48", "C_49", "E_15", "E_53", "G_11", "G_14"),
    "TC_G_17_CSMS",
    profile=CORE,
)
class EndedWithoutIdTokenInfo(ReferenceCsms):
    """Answers a TransactionEvent Ended carrying an idToken without idTokenInfo."""

    def transaction_event_reply(
        self, station_id: str, payload: dict[str, Any]
    ) -> call_result.TransactionEvent:
        if payload.get("event_type") == "Ended":
            return call_result.TransactionEvent()
        return super().transaction_event_reply(station_id, payload)


@mutant(
    "TC_E_14_CSMS",
    "OCPP2.0.1 E06",
    *_ids("C_02", "C_06", "C_07", "E_09", "E_31", "J_03", "J_10"),
    profile=CORE,
)
class RefusesEvDisconnectedStop201(ReferenceCsms):
    """Answers a TransactionEvent Ended with stoppedReason EVDisconnected with a CALLERROR."""

    def on_transaction_event(
        self, station_id: str, payload: dict[str, Any]
    ) -> call_result.TransactionEvent:
        if _tx(payload).get("stopped_reason") == "EVDisconnected":
            raise ValueError("stop reason not accepted")
        return super().on_transaction_event(station_id, payload)


@mutant("TC_E_21_CSMS", "OCPP2.0.1 F03", profile=CORE)
class RequestStopWrongTransaction(ReferenceCsms):
    """Sends RequestStopTransaction with its own database key, not the transactionId."""

    def request_stop_request(self, transaction_id: str) -> call.RequestStopTransaction:
        return call.RequestStopTransaction(transaction_id=f"db-{transaction_id}")


@mutant("TC_E_29_CSMS", "OCPP2.0.1 E14", "TC_E_30_CSMS", "TC_E_31_CSMS", profile=CORE)
class TransactionStatusWithoutId(ReferenceCsms):
    """Sends GetTransactionStatus without the transactionId the operator asked about."""

    async def get_transaction_status(
        self, transaction_id: str | None = None, station: str | None = None
    ) -> Any:
        return await super().get_transaction_status(None, station)


@mutant("TC_E_34_CSMS", "OCPP2.0.1 E14", "TC_E_33_CSMS", profile=CORE)
class TransactionStatusEmptyId(ReferenceCsms):
    """Sends GetTransactionStatus with an empty transactionId when none is asked about."""

    async def get_transaction_status(
        self, transaction_id: str | None = None, station: str | None = None
    ) -> Any:
        return await super().get_transaction_status(transaction_id or "", station)


@mutant("TC_E_53_CSMS", "OCPP2.0.1 TransactionEventRequest.seqNo", profile=CORE)
class SeqNoPerEvse(ReferenceCsms):
    """Counts seqNo per EVSE, not per transaction: refuses a new transaction's seqNo 0."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.last_seq: dict[tuple[str, int], int] = {}

    def on_status(self, station_id: str, evse_id: int, connector_id: int, status: str) -> None:
        self.last_seq.pop((station_id, evse_id), None)
        super().on_status(station_id, evse_id, connector_id, status)

    def on_transaction_event(
        self, station_id: str, payload: dict[str, Any]
    ) -> call_result.TransactionEvent:
        tx = self.transactions.get(str(_tx(payload).get("transaction_id", "")))
        evse = (payload.get("evse") or {}).get("id") or (tx.evse_id if tx else None)
        if evse is not None:
            key = (station_id, int(evse))
            seq = int(payload.get("seq_no", 0))
            if seq <= self.last_seq.get(key, -1):
                raise ValueError(f"seqNo {seq} already seen on EVSE {evse}")
            self.last_seq[key] = seq
        return super().on_transaction_event(station_id, payload)


# -- block F: remote control -----------------------------------------------------------------------


@mutant("TC_F_01_CSMS", "OCPP2.0.1 F01", *_ids("F_02", "F_03", "F_04", "F_90"), profile=CORE)
class RequestStartWithoutRemoteStartId(ReferenceCsms):
    """Sends RequestStartTransaction without a remoteStartId (its own schema check off)."""

    def request_start_request(
        self, id_token: dict[str, Any], evse: int | None, remote_start_id: int
    ) -> call.RequestStartTransaction:
        return call.RequestStartTransaction(
            id_token=id_token,
            remote_start_id=None,  # type: ignore[arg-type]
            evse_id=evse,
        )

    async def _call(self, link: CsmsLink, request: Any) -> Any:
        if not isinstance(request, call.RequestStartTransaction):
            return await super()._call(link, request)
        try:
            answer = await link.call(request, suppress=False, skip_schema_validation=True)
        except Exception as exc:  # a CALLERROR comes back as the ocpp package's error
            answer = exc
        self.answers["RequestStartTransaction"] = answer
        return answer


@mutant("TC_F_06_CSMS", "OCPP2.0.1 F05", profile=CORE)
class UnlocksConnectorZero201(ReferenceCsms):
    """Sends UnlockConnector for connector 0 instead of the one asked."""

    def unlock_request(self, evse: int, connector: int) -> call.UnlockConnector:
        return call.UnlockConnector(evse_id=evse, connector_id=0)


@mutant("TC_F_11_CSMS", "F06.FR.01", *_ids("F_13", "F_23", "F_24"), profile=CORE)
class TriggerWithoutEvse(ReferenceCsms):
    """Sends TriggerMessage without the EVSE the operator chose (for the whole station)."""

    def trigger_message_request(
        self, requested_message: str, evse: int | None
    ) -> call.TriggerMessage:
        return super().trigger_message_request(requested_message, None)


@mutant("TC_F_12_CSMS", "F06.FR.01", *_ids("F_14", "F_15", "F_18", "F_20"), profile=CORE)
class TriggerAlwaysEvseOne(ReferenceCsms):
    """Sends TriggerMessage for EVSE 1 when the operator chose none (the whole station)."""

    def trigger_message_request(
        self, requested_message: str, evse: int | None
    ) -> call.TriggerMessage:
        return super().trigger_message_request(requested_message, 1 if evse is None else evse)


@mutant("TC_F_27_CSMS", "OCPP2.0.1 G02", profile=CORE)
class ClosesOnNotImplementedTrigger(_ClosesAfter):
    """Drops the station's connection when it answers a TriggerMessage NotImplemented."""

    closes_on = ("TriggerMessage", "NotImplemented")


# -- block G: availability -------------------------------------------------------------------------


@mutant(
    "TC_G_03_CSMS", "OCPP2.0.1 G03", *_ids("G_04", "G_07", "G_08", "G_11", "G_17"), profile=CORE
)
class AvailabilityForWholeStation201(ReferenceCsms):
    """Sends ChangeAvailability for the whole station whatever EVSE / connector was chosen."""

    def change_availability_request(
        self, operational_status: str, evse: int | None, connector: int | None
    ) -> call.ChangeAvailability:
        return super().change_availability_request(operational_status, None, None)


@mutant("TC_G_04_CSMS", "OCPP2.0.1 G03", "TC_G_06_CSMS", "TC_G_08_CSMS", profile=CORE)
class CannotMakeOperative(ReferenceCsms):
    """Its "make operative" action sends Inoperative again (a UI bound to the wrong value)."""

    def change_availability_request(
        self, operational_status: str, evse: int | None, connector: int | None
    ) -> call.ChangeAvailability:
        return super().change_availability_request("Inoperative", evse, connector)


@mutant("TC_G_05_CSMS", "OCPP2.0.1 G04", "TC_G_06_CSMS", "TC_G_14_CSMS", profile=CORE)
class StationAvailabilityForEvseOne(ReferenceCsms):
    """Sends ChangeAvailability for EVSE 1 when the operator chose the whole station."""

    def change_availability_request(
        self, operational_status: str, evse: int | None, connector: int | None
    ) -> call.ChangeAvailability:
        return super().change_availability_request(
            operational_status, 1 if evse is None else evse, connector
        )


# -- block J: meter values ------------------------------------------------------------------------


@mutant("TC_J_01_CSMS", "OCPP2.0.1 J01", "TC_J_02_CSMS", profile=CORE)
class RefusesMainMeterValues(ReferenceCsms):
    """Answers MeterValues of evseId 0 (the station's main meter) with a CALLERROR."""

    def on_meter_values(self, station_id: str, evse_id: int, values: list[Any]) -> None:
        if evse_id == 0:
            raise ValueError("unknown EVSE 0")
        super().on_meter_values(station_id, evse_id, values)


@mutant("TC_J_02_CSMS", "OCPP2.0.1 J02", "TC_J_03_CSMS", profile=CORE)
class RefusesClockAlignedEvents(ReferenceCsms):
    """Answers a TransactionEvent with triggerReason MeterValueClock with a CALLERROR."""

    def on_transaction_event(
        self, station_id: str, payload: dict[str, Any]
    ) -> call_result.TransactionEvent:
        if payload.get("trigger_reason") == "MeterValueClock":
            raise ValueError("trigger reason not accepted")
        return super().on_transaction_event(station_id, payload)


@mutant(
    "TC_J_09_CSMS",
    "OCPP2.0.1 J02",
    *_ids("C_48", "E_29", "E_30", "E_33"),
    profile=CORE,
)
class RefusesPeriodicEvents(ReferenceCsms):
    """Answers a TransactionEvent with triggerReason MeterValuePeriodic with a CALLERROR."""

    def on_transaction_event(
        self, station_id: str, payload: dict[str, Any]
    ) -> call_result.TransactionEvent:
        if payload.get("trigger_reason") == "MeterValuePeriodic":
            raise ValueError("trigger reason not accepted")
        return super().on_transaction_event(station_id, payload)


# -- block M: certificate management ---------------------------------------------------------------


@mutant("TC_M_01_CSMS", "OCPP2.0.1 M05", *_ids("M_02", "M_05", "M_20", "M_21"), profile=CORE)
class SwapsRootCertificateTypes(ReferenceCsms):
    """Installs CSMS root CA certificates as manufacturer roots and vice versa."""

    def install_certificate_request(
        self, certificate_type: str, certificate: str
    ) -> call.InstallCertificate:
        swapped = {
            "CSMSRootCertificate": "ManufacturerRootCertificate",
            "ManufacturerRootCertificate": "CSMSRootCertificate",
        }
        certificate_type = swapped.get(certificate_type, certificate_type)
        return super().install_certificate_request(certificate_type, certificate)


@mutant("TC_M_13_CSMS", "OCPP2.0.1 M03", "TC_M_18_CSMS", "TC_M_19_CSMS", profile=CORE)
class InstalledCertificatesCsmsRootOnly(ReferenceCsms):
    """Asks only for the installed CSMSRootCertificates whatever types the operator chose."""

    async def get_installed_certificates(
        self, types: list[str] | None = None, station: str | None = None
    ) -> Any:
        return await super().get_installed_certificates(["CSMSRootCertificate"], station)


@mutant("TC_M_20_CSMS", "OCPP2.0.1 M04", "TC_M_21_CSMS", profile=CORE)
class DeleteCertificateBase64Hashes(ReferenceCsms):
    """Names the certificate to delete with its hashes in base64 instead of hex."""

    def delete_certificate_request(self, hash_data: dict[str, Any]) -> call.DeleteCertificate:
        import base64

        data = dict(hash_data)
        for key in ("issuerNameHash", "issuerKeyHash", "issuer_name_hash", "issuer_key_hash"):
            if key in data:
                data[key] = base64.b64encode(bytes.fromhex(str(data[key]))).decode()
        return super().delete_certificate_request(data)


# -- block P: data transfer ------------------------------------------------------------------------


@mutant("TC_P_02_CSMS", "OCPP2.0.1 P02", profile=CORE)
class AcceptsEveryVendor201(ReferenceCsms):
    """Answers Accepted to a DataTransfer of any vendor."""

    def data_transfer_status(self, vendor_id: str, message_id: str | None) -> str:
        return "Accepted"


# -- Advanced Security (security profile 3, certificate renewal) ---------------------------------


@mutant("TC_A_07_CSMS", "A00.FR.403", *_CONNECTED_SECURITY, profile=SECURITY)
class TrustsTheWrongCa201(ReferenceCsms):
    """Verifies client certificates against another CA than the one it issued them with."""

    def __init__(self, **kwargs: Any) -> None:
        pki = kwargs.get("pki")
        if pki is not None:
            kwargs["ssl"] = server_context(pki.server["valid"], client_ca=pki.untrusted_root_ca)
        super().__init__(**kwargs)


@mutant("TC_A_07_2_CSMS", "A00.FR.405", profile=SECURITY)
class IgnoresClientCertificateName201(ReferenceCsms):
    """Accepts any client certificate of its CA, whatever station identity it was issued to."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**{**kwargs, "client_cn_required": False})


@mutant("TC_A_07_3_CSMS", "A00.FR.407", profile=SECURITY)
class IgnoresCertificateExpiry201(ReferenceCsms):
    """Does not check the validity period of client certificates."""

    def __init__(self, **kwargs: Any) -> None:
        context = kwargs.get("ssl")
        if context is not None:
            no_check_time = 0x200000  # OpenSSL X509_V_FLAG_NO_CHECK_TIME
            context.verify_flags = ssl.VerifyFlags(context.verify_flags | no_check_time)
        super().__init__(**kwargs)


@mutant("TC_A_07_4_CSMS", "A00.FR.401", "TC_A_07_2_CSMS", profile=SECURITY)
class ClientCertificateOptional201(ReferenceCsms):
    """Asks for a client certificate but accepts a station without one (or with any name)."""

    def __init__(self, **kwargs: Any) -> None:
        context = kwargs.get("ssl")
        if context is not None:
            context.verify_mode = ssl.CERT_OPTIONAL
        super().__init__(**{**kwargs, "client_cn_required": False})


@mutant("TC_A_04_CSMS", "A00.FR.306", *_CONNECTED_SECURITY, profile=SECURITY)
class ServesExpiredCertificateSecure201(ReferenceCsms):
    """Serves a server certificate that expired yesterday (security profile 3)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_expired_server(kwargs))


@mutant("TC_A_06_CSMS", "A00.FR.315", profile=SECURITY)
class AcceptsLegacyTlsSecure201(ReferenceCsms):
    """Also accepts TLS 1.0 and 1.1 (security profile 3)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_legacy_tls(kwargs))


@mutant("TC_A_11_CSMS", "OCPP2.0.1 A02", profile=SECURITY)
class SignsForItsOwnName(ReferenceCsms):
    """Has the station's CSR signed with the CSMS's own name as the certificate's CN."""

    def sign(self, csr: str, station_id: str) -> str:
        return sign_csr(self.signing_pki(station_id), csr, common_name="pile-interop-csms")


@mutant("TC_A_11_2_CSMS", "OCPP2.0.1 A02", profile=SECURITY)
class SignsAnyCommonName(ReferenceCsms):
    """Has a station's CSR signed whatever CN it asks for (another station's identity too)."""

    def should_sign(self, csr: str, station_id: str) -> bool:
        return True


@mutant("TC_A_14_CSMS", "OCPP2.0.1 G02", profile=SECURITY)
class ClosesOnRejectedCertificate(_ClosesAfter):
    """Drops the station's connection when it answers CertificateSigned Rejected."""

    closes_on = ("CertificateSigned", "Rejected")


@mutant("TC_A_19_CSMS", "A05.FR.04", profile=SECURITY, features={"basic_auth": True})
class UpgradeCappedAtProfile2(ReferenceCsms):
    """Never writes a security profile above 2 into a network connection profile."""

    def set_network_profile_request(
        self, slot: int, security_profile: int
    ) -> call.SetNetworkProfile:
        return super().set_network_profile_request(slot, min(int(security_profile), 2))


@mutant("TC_F_90_CSMS", "OCPP2.0.1 F01", profile=CORE, defect_class="one-form-only")
class RequestStartOnEvseZero(ReferenceCsms):
    """Fills a remote start the operator gave no EVSE with evseId 0."""

    def request_start_request(
        self, id_token: dict[str, Any], evse: int | None, remote_start_id: int
    ) -> call.RequestStartTransaction:
        return super().request_start_request(id_token, 0 if evse is None else evse, remote_start_id)
