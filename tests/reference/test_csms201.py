"""The reference OCPP 2.0.1 CSMS, driven by a minimal station on ``ocpp.v201.ChargePoint``:
registration answers, the idToken table, transactions, report parts, certificate signing,
Basic-password rotation and every operator action reaching the station."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from pile_interop.ocpp.client import basic_auth_header
from pile_interop.ocpp.v201.reference.csms import ReferenceCsms
from pile_interop.security.certhash import certificate_hash_data, same_certificate
from pile_interop.security.pki import pki_client_context, pki_server_context, temporary_pki

STATION = "CS-201"
BOUND_S = 10.0
TOKENS = {
    "valid": "AA11",
    "valid2": "AA12",
    "invalid": "FF00",
    "blocked": "BB22",
    "expired": "EE33",
    "group_a": "GA01",
    "group_b": "GB01",
    "master": "MM99",
}


class MiniStation(ChargePoint):
    """Answers every CSMS request Accepted and records it."""

    def __init__(self, station_id: str, connection: Any) -> None:
        super().__init__(station_id, connection, response_timeout=BOUND_S)
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.installed: list[str] = []
        self.got_chain = asyncio.Event()

    def _note(self, action: str, payload: dict[str, Any]) -> None:
        self.received.append((action, payload))

    @on(Action.request_start_transaction)
    def _start(self, **p: Any) -> Any:
        self._note("RequestStartTransaction", p)
        return call_result.RequestStartTransaction(status="Accepted")

    @on(Action.request_stop_transaction)
    def _stop(self, **p: Any) -> Any:
        self._note("RequestStopTransaction", p)
        return call_result.RequestStopTransaction(status="Accepted")

    @on(Action.reset)
    def _reset(self, **p: Any) -> Any:
        self._note("Reset", p)
        return call_result.Reset(status="Accepted")

    @on(Action.unlock_connector)
    def _unlock(self, **p: Any) -> Any:
        self._note("UnlockConnector", p)
        return call_result.UnlockConnector(status="Unlocked")

    @on(Action.get_variables)
    def _get(self, get_variable_data: list[dict[str, Any]], **p: Any) -> Any:
        self._note("GetVariables", {"get_variable_data": get_variable_data})
        return call_result.GetVariables(
            get_variable_result=[
                {
                    "attribute_status": "Accepted",
                    "attribute_value": "1",
                    "component": d["component"],
                    "variable": d["variable"],
                }
                for d in get_variable_data
            ]
        )

    @on(Action.set_variables)
    def _set(self, set_variable_data: list[dict[str, Any]], **p: Any) -> Any:
        self._note("SetVariables", {"set_variable_data": set_variable_data})
        return call_result.SetVariables(
            set_variable_result=[
                {
                    "attribute_status": "Accepted",
                    "component": d["component"],
                    "variable": d["variable"],
                }
                for d in set_variable_data
            ]
        )

    @on(Action.get_base_report)
    def _base_report(self, **p: Any) -> Any:
        self._note("GetBaseReport", p)
        return call_result.GetBaseReport(status="Accepted")

    @on(Action.get_report)
    def _report(self, **p: Any) -> Any:
        self._note("GetReport", p)
        return call_result.GetReport(status="Accepted")

    @on(Action.change_availability)
    def _availability(self, **p: Any) -> Any:
        self._note("ChangeAvailability", p)
        return call_result.ChangeAvailability(status="Accepted")

    @on(Action.clear_cache)
    def _clear(self, **p: Any) -> Any:
        self._note("ClearCache", p)
        return call_result.ClearCache(status="Accepted")

    @on(Action.trigger_message)
    def _trigger(self, **p: Any) -> Any:
        self._note("TriggerMessage", p)
        return call_result.TriggerMessage(status="Accepted")

    @on(Action.data_transfer)
    def _data(self, **p: Any) -> Any:
        self._note("DataTransfer", p)
        return call_result.DataTransfer(status="UnknownVendorId")

    @on(Action.set_network_profile)
    def _network(self, **p: Any) -> Any:
        self._note("SetNetworkProfile", p)
        return call_result.SetNetworkProfile(status="Accepted")

    @on(Action.install_certificate)
    def _install(self, certificate: str, **p: Any) -> Any:
        self._note("InstallCertificate", p)
        self.installed.append(certificate)
        return call_result.InstallCertificate(status="Accepted")

    @on(Action.get_installed_certificate_ids)
    def _ids(self, **p: Any) -> Any:
        self._note("GetInstalledCertificateIds", p)
        return call_result.GetInstalledCertificateIds(status="NotFound")

    @on(Action.delete_certificate)
    def _delete(self, **p: Any) -> Any:
        self._note("DeleteCertificate", p)
        wanted = p["certificate_hash_data"]
        camel = {
            "hashAlgorithm": wanted["hash_algorithm"],
            "issuerNameHash": wanted["issuer_name_hash"],
            "issuerKeyHash": wanted["issuer_key_hash"],
            "serialNumber": wanted["serial_number"],
        }
        known = any(same_certificate(certificate_hash_data(c), camel) for c in self.installed)
        return call_result.DeleteCertificate(status="Accepted" if known else "NotFound")

    @on(Action.get_transaction_status)
    def _tx_status(self, **p: Any) -> Any:
        self._note("GetTransactionStatus", p)
        return call_result.GetTransactionStatus(messages_in_queue=False)

    @on(Action.certificate_signed)
    def _signed(self, certificate_chain: str, **p: Any) -> Any:
        self._note("CertificateSigned", {"certificate_chain": certificate_chain})
        self.got_chain.set()
        return call_result.CertificateSigned(status="Accepted")


@contextlib.asynccontextmanager
async def running(**kwargs: Any) -> AsyncIterator[ReferenceCsms]:
    csms = ReferenceCsms(**kwargs)
    await csms.start()
    try:
        yield csms
    finally:
        await asyncio.wait_for(csms.stop(), BOUND_S)


@contextlib.asynccontextmanager
async def station(
    csms: ReferenceCsms,
    station_id: str = STATION,
    *,
    password: str | None = None,
    ssl: Any = None,
) -> AsyncIterator[MiniStation]:
    headers = {"Authorization": basic_auth_header(station_id, password)} if password else {}
    ws = await asyncio.wait_for(
        connect(
            f"{csms.url}/{station_id}",
            subprotocols=["ocpp2.0.1"],  # type: ignore[list-item]
            additional_headers=headers,
            ssl=ssl,
            proxy=None,
        ),
        BOUND_S,
    )
    cs = MiniStation(station_id, ws)
    task = asyncio.create_task(cs.start())
    try:
        await csms.wait_for_station(station_id, BOUND_S)  # its link, once the handshake is done
        yield cs
    finally:
        await ws.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, BOUND_S)


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


def boot() -> call.BootNotification:
    return call.BootNotification(
        charging_station={"model": "Mini", "vendor_name": "pile-interop"}, reason="PowerUp"
    )


def token(value: str) -> dict[str, str]:
    return {"id_token": value, "type": "ISO14443"}


def csr_for(common_name: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def test_waiting_for_a_station_ends_when_it_connects_or_at_the_bound():
    async def scenario() -> None:
        async with running() as csms:
            with pytest.raises(TimeoutError):
                await csms.wait_for_station(STATION, 0.05)
            waiting = asyncio.create_task(csms.wait_for_station(STATION, BOUND_S))
            async with station(csms):
                link = await asyncio.wait_for(waiting, BOUND_S)
                assert link is csms.links[STATION] and link.id == STATION

    run(scenario())


@pytest.mark.parametrize(
    ("status", "interval"), [("Accepted", 300), ("Pending", 10), ("Rejected", 10)]
)
def test_boot_notification_is_answered_as_the_operator_set(status, interval):
    async def scenario() -> None:
        async with running() as csms, station(csms) as cs:
            await csms.set_registration(status)
            answer = await cs.call(boot())
            assert (answer.status, answer.interval) == (status, interval)
            assert csms.stations[STATION].registration == status
            if status == "Pending":  # B02: the CSMS may configure a Pending station
                got = await csms.get_variables(
                    [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}]
                )
                assert got.get_variable_result[0]["attribute_status"] == "Accepted"
            await csms.settle(1.0)
            assert (await cs.call(boot())).status == "Accepted"

    run(scenario())


def test_authorize_answers_by_the_token_table_with_group_and_master_pass():
    async def scenario() -> None:
        id_tags = ReferenceCsms.id_tags_from(TOKENS)
        async with running(id_tags=id_tags) as csms, station(csms) as cs:
            infos = {}
            for role, value in TOKENS.items():
                infos[role] = (await cs.call(call.Authorize(id_token=token(value)))).id_token_info
            infos["unknown"] = (await cs.call(call.Authorize(id_token=token("NOPE")))).id_token_info
        status = {role: info["status"] for role, info in infos.items()}
        assert status == {
            "valid": "Accepted",
            "valid2": "Accepted",
            "invalid": "Invalid",
            "blocked": "Blocked",
            "expired": "Expired",
            "group_a": "Accepted",
            "group_b": "Accepted",
            "master": "Accepted",
            "unknown": "Invalid",
        }
        group = {"id_token": "PI-GROUP-01", "type": "Central"}
        assert infos["group_a"]["group_id_token"] == group == infos["group_b"]["group_id_token"]
        assert infos["master"]["group_id_token"]["id_token"] == "PI-MASTER-GROUP"
        assert "group_id_token" not in infos["valid"]

    run(scenario())


def test_a_transaction_started_updated_ended_is_kept_with_its_events():
    async def scenario() -> None:
        id_tags = ReferenceCsms.id_tags_from(TOKENS)
        async with running(id_tags=id_tags) as csms, station(csms) as cs:
            await cs.call(boot())
            common = {"timestamp": "2025-01-01T00:00:00Z", "trigger_reason": "Authorized"}
            started = await cs.call(
                call.TransactionEvent(
                    event_type="Started",
                    seq_no=0,
                    transaction_info={"transaction_id": "TX-1"},
                    evse={"id": 1, "connector_id": 1},
                    id_token=token(TOKENS["valid"]),
                    **common,
                )
            )
            assert started.id_token_info["status"] == "Accepted"
            updated = await cs.call(
                call.TransactionEvent(
                    event_type="Updated",
                    seq_no=1,
                    transaction_info={"transaction_id": "TX-1", "charging_state": "Charging"},
                    **common,
                )
            )
            assert updated.id_token_info is None
            assert csms.open_transaction(STATION, 1) is not None
            await csms.request_stop()  # the open one
            assert cs.received[-1] == ("RequestStopTransaction", {"transaction_id": "TX-1"})
            await cs.call(
                call.TransactionEvent(
                    event_type="Ended",
                    seq_no=2,
                    transaction_info={"transaction_id": "TX-1", "stopped_reason": "Remote"},
                    **common,
                )
            )
            tx = csms.transactions["TX-1"]
            assert [e["event_type"] for e in tx.events] == ["Started", "Updated", "Ended"]
            assert (tx.evse_id, tx.id_token, tx.ended, tx.stopped_reason) == (
                1,
                TOKENS["valid"],
                True,
                "Remote",
            )
            assert csms.open_transaction(STATION, None) is None

    run(scenario())


def test_every_operator_action_reaches_the_station():
    async def scenario() -> None:
        async with running() as csms, station(csms) as cs:
            await cs.call(boot())
            await csms.request_start("AA11", evse=1)
            await csms.request_start(id_tag="AA11")  # the reference actuator's argument name
            await csms.reset("OnIdle", evse=1)
            await csms.unlock(evse=1, connector=1)
            await csms.get_variables([{"component": "TxCtrlr", "variable": "TxStartPoint"}])
            await csms.set_variables(
                [{"component": "TxCtrlr", "variable": "EVConnectionTimeOut", "value": 30}]
            )
            await csms.get_base_report("ConfigurationInventory")
            await csms.get_report(component_variables=[{"component": "TxCtrlr"}])
            await csms.change_availability("Inoperative", evse=1, connector=1)
            await csms.clear_cache()
            await csms.trigger_message("StatusNotification", evse=1)
            await csms.data_transfer(message_id="ping", data="x")
            await csms.set_network_profile(slot=2, security_profile=2)
            await csms.get_installed_certificates(types=["CSMSRootCertificate"])
            await csms.get_transaction_status("TX-9")
            await csms.renew_station_certificate()
        actions = [a for a, _ in cs.received]
        assert actions == [
            "RequestStartTransaction",
            "RequestStartTransaction",
            "Reset",
            "UnlockConnector",
            "GetVariables",
            "SetVariables",
            "GetBaseReport",
            "GetReport",
            "ChangeAvailability",
            "ClearCache",
            "TriggerMessage",
            "DataTransfer",
            "SetNetworkProfile",
            "GetInstalledCertificateIds",
            "GetTransactionStatus",
            "TriggerMessage",
        ]
        starts = [p for a, p in cs.received if a == "RequestStartTransaction"]
        assert starts[0]["remote_start_id"] != starts[1]["remote_start_id"]
        assert starts[0]["id_token"] == token("AA11") and starts[0]["evse_id"] == 1
        assert cs.received[-1][1]["requested_message"] == "SignChargingStationCertificate"
        assert cs.received[5][1]["set_variable_data"][0]["attribute_value"] == "30"
        assert csms.answers["GetTransactionStatus"].messages_in_queue is False

    run(scenario())


def test_install_then_delete_the_last_installed_certificate_by_its_hash():
    async def scenario() -> None:
        async with running() as csms, station(csms) as cs:
            answer = await csms.install_certificate("CSMSRootCertificate")
            assert answer.status == "Accepted"
            assert "BEGIN CERTIFICATE" in cs.installed[0]
            deleted = await csms.delete_certificate()
            assert deleted.status == "Accepted"
            assert csms.installed == []
            with pytest.raises(ValueError, match="no certificate installed"):
                await csms.delete_certificate()

    run(scenario())


def test_update_password_switches_the_password_the_csms_accepts():
    async def scenario() -> None:
        learned: list[tuple[str, str]] = []
        passwords = {STATION: "0123456789abcdef-old"}
        async with running(passwords=passwords) as csms:
            csms.on_new_password = lambda sid, pw: learned.append((sid, pw))
            with pytest.raises(InvalidStatus) as refused:
                async with station(csms, password="wrong-password-123"):
                    pass
            assert refused.value.response.status_code == 401
            async with station(csms, password="0123456789abcdef-old") as cs:
                answer = await csms.update_password()
                assert answer.set_variable_result[0]["attribute_status"] == "Accepted"
                sent = cs.received[-1][1]["set_variable_data"][0]
            assert sent["component"] == {"name": "SecurityCtrlr"}
            assert sent["variable"] == {"name": "BasicAuthPassword"}
            new = sent["attribute_value"]
            assert 16 <= len(new) <= 40 and learned == [(STATION, new)]
            with pytest.raises(InvalidStatus):
                async with station(csms, password="0123456789abcdef-old"):
                    pass
            async with station(csms, password=new) as cs:
                assert (await cs.call(boot())).status == "Accepted"

    run(scenario())


def test_sign_certificate_is_signed_only_for_the_station_identity():
    async def scenario() -> None:
        with temporary_pki(STATION) as pki:
            async with running(pki=pki) as csms, station(csms) as cs:
                answer = await cs.call(call.SignCertificate(csr=csr_for(STATION)))
                assert answer.status == "Accepted"
                await asyncio.wait_for(cs.got_chain.wait(), BOUND_S)
                chain = cs.received[-1][1]["certificate_chain"]
                leaf = x509.load_pem_x509_certificates(chain.encode())[0]
                cn = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
                assert cn == STATION
                root = x509.load_pem_x509_certificate(pki.root_ca.read_bytes())
                leaf.verify_directly_issued_by(root)
                for _ in range(100):
                    if csms.signing and csms.signing[-1].answer:
                        break
                    await asyncio.sleep(0.01)
                assert csms.signing[-1].answer == "Accepted"

                cs.got_chain.clear()
                answer = await cs.call(call.SignCertificate(csr=csr_for("SOMEONE-ELSE")))
                assert answer.status == "Accepted"
                for _ in range(100):
                    if len(csms.signing) == 2:
                        break
                    await asyncio.sleep(0.01)
                assert not csms.signing[-1].signed and "SOMEONE-ELSE" in csms.signing[-1].why
                assert not cs.got_chain.is_set()

    run(scenario())


def test_security_profile_3_needs_the_station_identity_as_client_certificate_cn():
    async def scenario() -> None:
        with temporary_pki(STATION) as pki:
            ssl = pki_server_context(pki, require_client_cert=True)
            async with running(ssl=ssl, client_cn_required=True, pki=pki) as csms:
                good = pki_client_context(pki, client="valid")
                async with station(csms, ssl=good) as cs:
                    assert (await cs.call(boot())).status == "Accepted"
                wrong = pki_client_context(pki, client="wrong_cn")
                with pytest.raises(InvalidStatus) as refused:
                    async with station(csms, ssl=wrong):
                        pass
                assert refused.value.response.status_code == 403

    run(scenario())


def test_report_parts_notifications_and_unsupported_actions():
    async def scenario() -> None:
        async with running() as csms, station(csms) as cs:
            for seq, tbc in ((0, True), (1, False)):
                await cs.call(
                    call.NotifyReport(
                        request_id=7, generated_at="2025-01-01T00:00:00Z", seq_no=seq, tbc=tbc
                    )
                )
            assert [p["seq_no"] for p in csms.reports[7]] == [0, 1]
            assert 7 in csms.reports_done
            ours = await cs.call(call.DataTransfer(vendor_id="org.pile-interop", message_id="ping"))
            theirs = await cs.call(call.DataTransfer(vendor_id="com.example"))
            assert (ours.status, theirs.status) == ("Accepted", "UnknownVendorId")
            await cs.call(
                call.SecurityEventNotification(
                    type="FirmwareUpdated", timestamp="2025-01-01T00:00:00Z"
                )
            )
            assert csms.stations[STATION].notes[-1][0] == "SecurityEventNotification"
            # NotSupported: a known 2.0.1 action without handler; NotImplemented: unknown
            ws = cs._connection
            await ws.send(json.dumps([2, "u1", "NotifyEVChargingNeeds", {}]))
            await ws.send(json.dumps([2, "u2", "NoSuchAction", {}]))
            codes = {}
            for _ in range(2):
                error = await asyncio.wait_for(cs._response_queue.get(), BOUND_S)
                codes[error.unique_id] = error.error_code
            assert codes == {"u1": "NotSupported", "u2": "NotImplemented"}
            assert json.loads(json.dumps(csms.snapshot()))["connected"] == [STATION]

    run(scenario())


def test_terminal_commands_of_the_201_csms_parse_to_operator_actions():
    from pile_interop.ocpp.serve import parse_command
    from pile_interop.ocpp.v201.serve import CSMS_COMMANDS

    def parse(line: str) -> Any:
        return parse_command(line, CSMS_COMMANDS)

    assert parse("start AA11 2") == ("request_start", {"id_token": "AA11", "evse": 2})
    assert parse("stop TX-1") == ("request_stop", {"transaction_id": "TX-1"})
    assert parse("setvar TxCtrlr.EVConnectionTimeOut 30") == (
        "set_variables",
        {"variables": [{"component": "TxCtrlr", "variable": "EVConnectionTimeOut", "value": "30"}]},
    )
    assert parse("getvar OCPPCommCtrlr.HeartbeatInterval")[1]["variables"][0]["variable"] == (
        "HeartbeatInterval"
    )
    with pytest.raises(ValueError, match=r"COMPONENT\.VARIABLE"):
        parse("getvar HeartbeatInterval")


def test_serve_reference_csms_ocpp_201_serves_it_with_the_http_control(tmp_path):
    """``serve-reference csms --ocpp 2.0.1``: a station boots, an action posted to the control
    API reaches it, the snapshot shows it; the process is ended by its pid."""
    import socket
    import subprocess
    import sys
    import urllib.request

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    listen, control = free_port(), free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pile_interop",
            "serve-reference",
            "csms",
            "--ocpp",
            "2.0.1",
            "--listen",
            f"127.0.0.1:{listen}",
            "--control",
            f"127.0.0.1:{control}",
            "--id-tag",
            "AA11=Accepted",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )

    def http(method: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{control}/actions",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=BOUND_S) as answer:
            return dict(json.loads(answer.read()))

    async def scenario() -> None:
        url = f"ws://127.0.0.1:{listen}/ocpp/{STATION}"
        for _ in range(200):  # the process imports and starts listening
            try:
                ws = await connect(url, subprotocols=["ocpp2.0.1"], proxy=None)  # type: ignore[list-item]
                break
            except OSError:
                await asyncio.sleep(0.05)
        else:
            raise AssertionError("serve-reference never listened")
        cs = MiniStation(STATION, ws)
        task = asyncio.create_task(cs.start())
        try:
            assert (await cs.call(boot())).status == "Accepted"
            authorized = await cs.call(call.Authorize(id_token=token("AA11")))
            assert authorized.id_token_info["status"] == "Accepted"
            posted = await asyncio.to_thread(
                http, "POST", {"action": "request_start", "args": {"id_token": "AA11", "evse": 1}}
            )
            assert posted == {"status": "ok", "done": "request_start"}
            assert cs.received[-1][0] == "RequestStartTransaction"
            snapshot = await asyncio.to_thread(http, "GET")
            assert snapshot["connected"] == [STATION]
            assert snapshot["stations"][STATION]["registration"] == "Accepted"
        finally:
            await ws.close()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, BOUND_S)

    try:
        run(scenario())
    finally:
        proc.terminate()
        try:
            proc.wait(BOUND_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(BOUND_S)
