"""The reference OCPP 2.0.1 CSMS, on top of ``ocpp.v201.ChargePoint``.

It is what a 2.0.1 CSMS profile run ``--against reference`` tests (and what
``serve-reference csms --ocpp 2.0.1`` serves): an idToken table (Accepted / Blocked / Expired,
group and master-pass tokens with their groupIdToken; anything else Invalid), transactions
kept by ``transactionId`` with their events, NotifyReport parts collected by ``requestId``,
configurable registration answers (Accepted / Pending / Rejected), certificate signing with its
PKI (SignCertificate → CertificateSigned, only for a CSR whose CN is the station identity), and
a control surface with one method per operator action, named as in docs/ocpp201.md
("Operator actions in a CSMS").

The server, the station links (:mod:`~pile_interop.ocpp.v201.reference.csms_link`) and the
operator plumbing are :class:`~pile_interop.ocpp.reference.csms_base.CsmsBase`'s; what it keeps
is in :mod:`~pile_interop.ocpp.v201.reference.csms_records`.

Mutants override single hooks: the answers ``on_boot``, ``boot_reply``, ``heartbeat_reply``,
``id_token_info``, ``authorize_reply``, ``transaction_event_reply``, ``sign_certificate_reply``,
``should_sign``, ``data_transfer_status``, ``on_status``, ``on_meter_values``,
``on_notify_report``, ``note``, ``after_boot``, and the ``*_request`` builders of the control
surface.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any

from ocpp.v201 import call, call_result
from websockets.asyncio.server import ServerConnection

from pile_interop.core.clock import utc_iso
from pile_interop.ocpp.reference.csms_base import (
    RETRY_INTERVAL_S,
    VENDOR_ID,
    CsmsBase,
    new_basic_password,
)
from pile_interop.ocpp.v201.reference.csms_link import CsmsLink
from pile_interop.ocpp.v201.reference.csms_optional import OptionalActions, OptionalOperator
from pile_interop.ocpp.v201.reference.csms_records import (
    TOKEN_TYPE,
    CsmsTransaction,
    SigningRecord,
    StationRecord,
    component,
    csr_common_name,
    to_id_token,
    variable_data,
)
from pile_interop.ocpp.v201.reference.csms_smart_charging import SmartChargingOperator
from pile_interop.security.certhash import certificate_hash_data
from pile_interop.security.pki import TestPki, generate_pki, sign_csr

__all__ = [
    "RETRY_INTERVAL_S",
    "TOKEN_TYPE",
    "VENDOR_ID",
    "CsmsLink",
    "CsmsTransaction",
    "ReferenceCsms",
    "SigningRecord",
    "StationRecord",
    "csr_common_name",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

#: Token role (device descriptor ``tokens:``) → idTokenInfo status; ``invalid`` is unknown.
_ROLE_STATUS = {
    "valid": "Accepted",
    "valid2": "Accepted",
    "blocked": "Blocked",
    "expired": "Expired",
}
_GROUP_ROLES = ("group_a", "group_b")


def _set_variable_accepted(answer: Any) -> bool:
    results = getattr(answer, "set_variable_result", None) or []
    return bool(results) and str(results[0].get("attribute_status")) == "Accepted"


class ReferenceCsms(SmartChargingOperator, CsmsBase[CsmsLink, StationRecord], OptionalOperator):
    """The reference OCPP 2.0.1 CSMS: a WebSocket server plus an operator control surface."""

    #: an operator request answered with a CALLERROR returns it (kept in :attr:`answers`)
    callerror_is_answer = True

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        id_tags: dict[str, dict[str, Any]] | None = None,
        passwords: dict[str, str] | None = None,
        heartbeat_interval: int = 300,
        ssl: Any = None,
        client_cn_required: bool = False,
        pki: TestPki | None = None,
        group_id: str = "PI-GROUP-01",
        master_pass_group_id: str = "PI-MASTER-GROUP",
    ) -> None:
        super().__init__(
            host=host,
            port=port,
            subprotocols=["ocpp2.0.1", "ocpp2.1"],
            log=log,
            passwords=passwords,
            heartbeat_interval=heartbeat_interval,
            ssl=ssl,
            client_cn_required=client_cn_required,
            pki=pki,
        )
        #: the test PKI ``ssl`` was made from (:attr:`pki`), else one made when first needed
        self._own_pki: TestPki | None = None
        #: idToken → idTokenInfo (snake_case, as the ocpp package takes it)
        self.id_tags = {k: dict(v) for k, v in (id_tags or {}).items()}
        self.group_id = group_id
        self.master_pass_group_id = master_pass_group_id
        self.transactions: dict[str, CsmsTransaction] = {}
        #: NotifyReport parts by requestId (snake_case payloads) and the requestIds complete
        self.reports: dict[int, list[dict[str, Any]]] = {}
        self.reports_done: set[int] = set()
        self.signing: list[SigningRecord] = []
        #: CA certificates this CSMS installed: (certificateType, CertificateHashData)
        self.installed: list[tuple[str, dict[str, str]]] = []
        self._request_ids = itertools.count(1)
        self._remote_start_ids = itertools.count(1)
        self._signing_tasks: set[asyncio.Task[Any]] = set()
        #: blocks D and H: the local list versions and reservations per station
        self.optional = OptionalActions()
        # a station upgraded to security profile 3 (A05) connects with its client certificate
        # and without Basic credentials
        self.server.client_cert_replaces_password = True

    @classmethod
    def id_tags_from(
        cls,
        tokens: dict[str, str],
        group_id: str = "PI-GROUP-01",
        master_pass_group_id: str = "PI-MASTER-GROUP",
    ) -> dict[str, dict[str, Any]]:
        """A device descriptor's ``tokens`` (role → idToken) → the CSMS's idToken table."""
        table: dict[str, dict[str, Any]] = {}
        for role, token in tokens.items():
            if role in _ROLE_STATUS:
                table[token] = {"status": _ROLE_STATUS[role]}
            elif role in _GROUP_ROLES or role == "master":
                group = master_pass_group_id if role == "master" else group_id
                table[token] = {
                    "status": "Accepted",
                    "group_id_token": {"id_token": group, "type": "Central"},
                }
        return table

    def new_link(self, station_id: str, connection: ServerConnection) -> CsmsLink:
        return CsmsLink(self, station_id, connection)

    def new_record(self, station_id: str) -> StationRecord:
        return StationRecord(station_id)

    async def stop(self) -> None:
        for task in list(self._signing_tasks):
            task.cancel()
        await super().stop()
        if self._own_pki is not None:
            self._own_pki.cleanup()
            self._own_pki = None

    def signing_pki(self, station_id: str) -> TestPki:
        """The PKI that signs CSRs and whose root is installed: the run's, else our own."""
        if self.pki is not None:
            return self.pki
        if self._own_pki is None:
            self._own_pki = generate_pki(station_id or "reference-csms201")
        return self._own_pki

    # -- answers (mutants override these) ----------------------------------------------

    async def after_boot(self, link: CsmsLink, payload: dict[str, Any]) -> None:
        """Once the BootNotification answer is sent: nothing (a CSMS may read or configure the
        station now; a mutant's hook)."""
        return None

    def boot_reply(self, station_id: str) -> call_result.BootNotification:
        status, interval = self.registration_terms(station_id)
        return call_result.BootNotification(
            current_time=utc_iso(), interval=interval, status=status
        )

    def heartbeat_reply(self, station_id: str) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=self.heartbeat_time(station_id))

    def on_status(self, station_id: str, evse_id: int, connector_id: int, status: str) -> None:
        self.record(station_id).connectors[(evse_id, connector_id)] = status

    def id_token_info(self, id_token: dict[str, Any] | None) -> dict[str, Any]:
        """The idTokenInfo of ``{id_token, type}`` by the table; unknown → Invalid."""
        token = str((id_token or {}).get("id_token", ""))
        return dict(self.id_tags.get(token, {"status": "Invalid"}))

    def authorize_reply(
        self, station_id: str, id_token: dict[str, Any], payload: dict[str, Any]
    ) -> call_result.Authorize:
        return call_result.Authorize(id_token_info=self.id_token_info(id_token))

    def on_transaction_event(
        self, station_id: str, payload: dict[str, Any]
    ) -> call_result.TransactionEvent:
        info = payload.get("transaction_info") or {}
        tx_id = str(info.get("transaction_id", ""))
        evse = (payload.get("evse") or {}).get("id")
        tx = self.transactions.get(tx_id)
        if tx is None or (payload.get("event_type") == "Started" and tx.ended):
            tx = CsmsTransaction(tx_id, station_id, evse)
            self.transactions[tx_id] = tx
        tx.events.append(dict(payload))
        if tx.evse_id is None and evse is not None:
            tx.evse_id = evse
        if payload.get("id_token"):
            tx.id_token = str(payload["id_token"].get("id_token"))
        if payload.get("event_type") == "Ended":
            tx.ended = True
            tx.stopped_reason = info.get("stopped_reason")
        return self.transaction_event_reply(station_id, payload)

    def transaction_event_reply(
        self, station_id: str, payload: dict[str, Any]
    ) -> call_result.TransactionEvent:
        if payload.get("id_token"):
            return call_result.TransactionEvent(
                id_token_info=self.id_token_info(payload["id_token"])
            )
        return call_result.TransactionEvent()

    def on_meter_values(self, station_id: str, evse_id: int, values: list[Any]) -> None:
        self.record(station_id).meter_values.setdefault(evse_id, []).extend(values)

    def on_notify_report(self, station_id: str, payload: dict[str, Any]) -> None:
        request_id = int(payload.get("request_id", 0))
        self.reports.setdefault(request_id, []).append(dict(payload))
        if not payload.get("tbc", False):
            self.reports_done.add(request_id)

    def note(self, station_id: str, action: str, payload: dict[str, Any]) -> None:
        """Keep a notification the CSMS only acknowledges."""
        self.record(station_id).notes.append((action, dict(payload)))

    def sign_certificate_reply(self, station_id: str, csr: str) -> call_result.SignCertificate:
        return call_result.SignCertificate(status="Accepted")

    def should_sign(self, csr: str, station_id: str) -> bool:
        """Sign only a CSR whose subject CN is the station identity (A02.FR.06 / A03)."""
        return csr_common_name(csr) == station_id

    def sign(self, csr: str, station_id: str) -> str:
        """The PEM certificate chain for ``csr`` (leaf first)."""
        return sign_csr(self.signing_pki(station_id), csr)

    def certificate_signed_request(
        self, chain: str, certificate_type: str | None
    ) -> call.CertificateSigned:
        return call.CertificateSigned(certificate_chain=chain, certificate_type=certificate_type)

    async def sign_and_send(self, link: CsmsLink, csr: str, certificate_type: str | None) -> None:
        """After answering SignCertificate: sign the CSR and send CertificateSigned, or record
        why not (the operator's view: :attr:`signing`)."""
        cn = csr_common_name(csr)
        if not self.should_sign(csr, link.id):
            why = f"not signed: the CSR's CN {cn!r} is not the station identity {link.id!r}"
            log.warning("%s: %s", link.id, why)
            self.signing.append(SigningRecord(link.id, cn, False, why))
            return
        try:
            chain = self.sign(csr, link.id)
        except ValueError as exc:
            why = f"not signed: {exc}"
            log.warning("%s: %s", link.id, why)
            self.signing.append(SigningRecord(link.id, cn, False, why))
            return
        entry = SigningRecord(link.id, cn, True, "signed")
        self.signing.append(entry)
        answer = await self._call(link, self.certificate_signed_request(chain, certificate_type))
        entry.answer = str(getattr(answer, "status", answer))

    # -- control surface: one method per operator action --------------------------------

    def open_transaction(self, station_id: str, evse: int | None) -> CsmsTransaction | None:
        open_ = [
            t
            for t in self.transactions.values()
            if t.station_id == station_id and not t.ended and (evse is None or t.evse_id == evse)
        ]
        return open_[-1] if open_ else None

    def request_start_request(
        self, id_token: dict[str, Any], evse: int | None, remote_start_id: int
    ) -> call.RequestStartTransaction:
        return call.RequestStartTransaction(
            id_token=id_token, remote_start_id=remote_start_id, evse_id=evse
        )

    async def request_start(
        self,
        id_token: Any = None,
        evse: int | None = None,
        station: str | None = None,
        id_tag: Any = None,
        charging_limit: Any = None,
        unit: str = "A",
    ) -> Any:
        """RequestStartTransaction with a fresh remoteStartId (``id_tag``: the actuator's
        name for ``id_token``); with ``charging_limit`` a TxProfile (K05)."""
        token = id_token if id_token is not None else id_tag
        if token is None:
            raise ValueError("request_start needs an id_token")
        request = self.request_start_request(to_id_token(token), evse, next(self._remote_start_ids))
        if charging_limit is not None:
            request.charging_profile = self.start_profile(float(charging_limit), unit)
        return await self._send(request, station)

    def request_stop_request(self, transaction_id: str) -> call.RequestStopTransaction:
        return call.RequestStopTransaction(transaction_id=transaction_id)

    async def request_stop(
        self, transaction_id: str | None = None, evse: int | None = None, station: str | None = None
    ) -> Any:
        """RequestStopTransaction of ``transaction_id`` (default: the last open one)."""
        link = self._link(station)
        if transaction_id is None:
            tx = self.open_transaction(link.id, evse)
            if tx is None:
                raise ValueError(f"no open transaction on {link.id}")
            transaction_id = tx.transaction_id
        return await self._call(link, self.request_stop_request(str(transaction_id)))

    def reset_request(self, kind: str, evse: int | None) -> call.Reset:
        return call.Reset(type=kind, evse_id=evse)

    async def reset(
        self, kind: str = "Immediate", evse: int | None = None, station: str | None = None
    ) -> Any:
        return await self._send(self.reset_request(kind, evse), station)

    def unlock_request(self, evse: int, connector: int) -> call.UnlockConnector:
        return call.UnlockConnector(evse_id=evse, connector_id=connector)

    async def unlock(self, evse: int = 1, connector: int = 1, station: str | None = None) -> Any:
        return await self._send(self.unlock_request(int(evse), int(connector)), station)

    def get_variables_request(self, variables: list[dict[str, Any]]) -> call.GetVariables:
        return call.GetVariables(get_variable_data=[variable_data(item) for item in variables])

    async def get_variables(
        self, variables: list[dict[str, Any]], station: str | None = None
    ) -> Any:
        return await self._send(self.get_variables_request(variables), station)

    def set_variables_request(self, variables: list[dict[str, Any]]) -> call.SetVariables:
        data = [variable_data(item, attribute_value=str(item["value"])) for item in variables]
        return call.SetVariables(set_variable_data=data)

    async def set_variables(
        self, variables: list[dict[str, Any]], station: str | None = None
    ) -> Any:
        return await self._send(self.set_variables_request(variables), station)

    def get_base_report_request(self, report_base: str, request_id: int) -> call.GetBaseReport:
        return call.GetBaseReport(request_id=request_id, report_base=report_base)

    async def get_base_report(
        self, report_base: str = "FullInventory", station: str | None = None
    ) -> Any:
        request = self.get_base_report_request(report_base, next(self._request_ids))
        return await self._send(request, station)

    def get_report_request(
        self,
        component_variables: list[dict[str, Any]] | None,
        criteria: list[str] | None,
        request_id: int,
    ) -> call.GetReport:
        pairs = None
        if component_variables:
            pairs = []
            for item in component_variables:
                pair = {"component": component(item["component"])}
                if item.get("variable") is not None:
                    pair["variable"] = component(item["variable"])
                pairs.append(pair)
        return call.GetReport(
            request_id=request_id, component_variable=pairs, component_criteria=criteria or None
        )

    async def get_report(
        self,
        component_variables: list[dict[str, Any]] | None = None,
        criteria: list[str] | None = None,
        station: str | None = None,
    ) -> Any:
        request = self.get_report_request(component_variables, criteria, next(self._request_ids))
        return await self._send(request, station)

    def change_availability_request(
        self, operational_status: str, evse: int | None, connector: int | None
    ) -> call.ChangeAvailability:
        target = None
        if evse is not None:
            target = {"id": int(evse)}
            if connector is not None:
                target["connector_id"] = int(connector)
        return call.ChangeAvailability(operational_status=operational_status, evse=target)

    async def change_availability(
        self,
        operational_status: str,
        evse: int | None = None,
        connector: int | None = None,
        station: str | None = None,
    ) -> Any:
        request = self.change_availability_request(operational_status, evse, connector)
        return await self._send(request, station)

    async def clear_cache(self, station: str | None = None) -> Any:
        return await self._send(call.ClearCache(), station)

    def trigger_message_request(
        self, requested_message: str, evse: int | None
    ) -> call.TriggerMessage:
        return call.TriggerMessage(
            requested_message=requested_message,
            evse={"id": int(evse)} if evse is not None else None,
        )

    async def trigger_message(
        self, requested_message: str, evse: int | None = None, station: str | None = None
    ) -> Any:
        return await self._send(self.trigger_message_request(requested_message, evse), station)

    async def data_transfer(
        self,
        vendor_id: str = VENDOR_ID,
        message_id: str | None = None,
        data: Any = None,
        station: str | None = None,
    ) -> Any:
        request = call.DataTransfer(vendor_id=vendor_id, message_id=message_id, data=data)
        return await self._send(request, station)

    def set_network_profile_request(
        self, slot: int, security_profile: int
    ) -> call.SetNetworkProfile:
        return call.SetNetworkProfile(
            configuration_slot=int(slot),
            connection_data={
                "ocpp_version": "OCPP20",
                "ocpp_transport": "JSON",
                "ocpp_csms_url": self.url,
                "message_timeout": 30,
                "security_profile": int(security_profile),
                "ocpp_interface": "Wired0",
            },
        )

    async def set_network_profile(
        self, slot: int = 1, security_profile: int = 1, station: str | None = None
    ) -> Any:
        return await self._send(self.set_network_profile_request(slot, security_profile), station)

    def new_password(self) -> str:
        """A new Basic password (40 hex characters: a passwordString of 16 to 40 characters,
        A00 / Part 2 §2)."""
        return new_basic_password()

    def update_password_request(self, password: str) -> call.SetVariables:
        return call.SetVariables(
            set_variable_data=[
                {
                    "attribute_value": password,
                    "component": {"name": "SecurityCtrlr"},
                    "variable": {"name": "BasicAuthPassword"},
                }
            ]
        )

    async def update_password(self, station: str | None = None) -> Any:
        """Give the station a new Basic password (SetVariables SecurityCtrlr.BasicAuthPassword);
        once it accepted, only the new one is accepted on its next connections."""
        password = self.new_password()
        request = self.update_password_request(password)
        return await self._change_password(station, request, password, _set_variable_accepted)

    def install_certificate_request(
        self, certificate_type: str, certificate: str
    ) -> call.InstallCertificate:
        return call.InstallCertificate(certificate_type=certificate_type, certificate=certificate)

    async def install_certificate(
        self, certificate_type: str = "CSMSRootCertificate", station: str | None = None
    ) -> Any:
        """InstallCertificate of its PKI's root CA certificate."""
        link = self._link(station)
        pem = self.signing_pki(link.id).root_ca.read_text()
        answer = await self._call(link, self.install_certificate_request(certificate_type, pem))
        if str(getattr(answer, "status", "")) == "Accepted":
            self.installed.append((certificate_type, certificate_hash_data(pem)))
        return answer

    async def get_installed_certificates(
        self, types: list[str] | None = None, station: str | None = None
    ) -> Any:
        if isinstance(types, str):
            types = [types]
        request = call.GetInstalledCertificateIds(certificate_type=types or None)
        return await self._send(request, station)

    def delete_certificate_request(self, hash_data: dict[str, Any]) -> call.DeleteCertificate:
        return call.DeleteCertificate(certificate_hash_data=hash_data)

    async def delete_certificate(
        self, hash: dict[str, Any] | None = None, station: str | None = None
    ) -> Any:
        """DeleteCertificate of ``hash`` (CertificateHashData), default the last installed."""
        if hash is None:
            if not self.installed:
                raise ValueError("no certificate installed by this CSMS to delete")
            hash = self.installed[-1][1]
        answer = await self._send(self.delete_certificate_request(dict(hash)), station)
        if str(getattr(answer, "status", "")) == "Accepted":
            self.installed = [c for c in self.installed if c[1] != hash]
        return answer

    async def get_transaction_status(
        self, transaction_id: str | None = None, station: str | None = None
    ) -> Any:
        request = call.GetTransactionStatus(transaction_id=transaction_id)
        return await self._send(request, station)

    async def renew_station_certificate(self, station: str | None = None) -> Any:
        """TriggerMessage SignChargingStationCertificate; the SignCertificate that follows is
        signed (or refused, see :attr:`signing`) by :meth:`sign_and_send`."""
        request = self.trigger_message_request("SignChargingStationCertificate", None)
        return await self._send(request, station)

    def snapshot(self) -> dict[str, Any]:
        return {
            **self.connections(),
            "stations": {
                s.station_id: {
                    "registration": s.registration,
                    "connectors": {f"{e}/{c}": v for (e, c), v in s.connectors.items()},
                }
                for s in self.stations.values()
            },
            "transactions": {
                t.transaction_id: {
                    "station": t.station_id,
                    "evse": t.evse_id,
                    "id_token": t.id_token,
                    "events": len(t.events),
                    "open": not t.ended,
                }
                for t in self.transactions.values()
            },
            "reports": {rid: len(parts) for rid, parts in self.reports.items()},
            "answers": {action: str(answer) for action, answer in self.answers.items()},
            "signing": [
                {"station": r.station_id, "signed": r.signed, "why": r.why, "answer": r.answer}
                for r in self.signing
            ],
        }
