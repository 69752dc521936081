"""The suite as a charging station of an OCPP 1.6 CSMS under test."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

from pile_interop.core.case import CaseContext
from pile_interop.core.clock import utc_iso
from pile_interop.core.verdicts import Failure, HarnessError
from pile_interop.ocpp.client import ConnectFailed
from pile_interop.ocpp.frames import CALLRESULT, Frame
from pile_interop.ocpp.session import CallTimeout, Disconnected
from pile_interop.security.station_tls import Presented

log = logging.getLogger(__name__)


class MockStationLink(Protocol):
    """How the role reaches the CSMS (the campaign opens and closes the connection)."""

    baseline: Presented  # what the station presents by default (its security profile)
    url: str | None

    async def connect(self, timeout: float, presented: Presented | None = None) -> str:
        """Open a connection presenting ``presented`` (default: the baseline);
        :class:`ConnectFailed`. Returns a description (subprotocol, TLS, credentials)."""
        ...

    async def disconnect(self, reason: str) -> None: ...

    def boot_payload(self) -> dict[str, Any]: ...


class CsmsUnderTest:
    """Before each case: the mock station connected, registered (BootNotification Accepted,
    every connector reported Available), and without transactions left by an earlier case
    (they are stopped with StopTransaction, reason Local); ``before.config`` sets the mock
    station's own configuration keys (what its GetConfiguration answers). With
    ``before.connected: false`` the case starts disconnected and connects in its steps."""

    label = "OCPP-J 1.6 RPC framework"

    def __init__(self, responder: Any, link: MockStationLink, connectors: int) -> None:
        self.responder = responder
        self.link = link
        self.connectors = connectors

    # -- before -------------------------------------------------------------------------

    async def prepare(self, run: CaseContext) -> None:
        if not run.scenario.before.connected:
            # the case makes the connection itself (a security case: a refusal is its verdict)
            with run.before_record("not connected: the case's steps connect"):
                if run.session.is_connected:
                    await self.link.disconnect("the case connects by itself")
            return
        with run.before_record("station connected, registered and idle"):
            await self._ensure_connected(run)
            await self._ensure_registered(run)
            await self._ensure_idle(run)
        for key, value in run.config_values().items():
            old = self.own_config(key)
            if old is not None:
                run.restore.setdefault(key, old)
            self.set_own_config(key, value)

    # -- the version's messages (OCPP 1.6) ------------------------------------------------

    def own_config(self, key: str) -> str | None:
        """The mock station's own configuration value of ``key`` (None: it has none)."""
        old = self.responder.config.get(key)
        return None if old is None else str(old[0])

    def set_own_config(self, key: str, value: str) -> None:
        self.responder.set_config(key, value)

    def registered_calls(self) -> list[tuple[str, dict[str, Any]]]:
        """What a registered station reports: every connector (0 = the station) Available."""
        return [
            ("StatusNotification", _status(connector, "Available"))
            for connector in range(0, self.connectors + 1)
        ]

    def end_transaction_calls(self, tx: Any, connector: int) -> list[tuple[str, dict[str, Any]]]:
        """How the station ends a transaction an earlier case left open."""
        return [
            (
                "StopTransaction",
                {"transactionId": tx, "meterStop": 0, "timestamp": utc_iso(), "reason": "Local"},
            ),
            ("StatusNotification", _status(connector, "Available")),
        ]

    async def _ensure_connected(self, run: CaseContext) -> None:
        if run.session.is_connected:
            return
        bound = run.timing.upper("connect")
        try:
            await self.link.connect(bound)
        except ConnectFailed as exc:
            raise HarnessError(f"could not connect to the CSMS: {exc.reason}") from None

    async def _call(self, run: CaseContext, action: str, payload: dict[str, Any]) -> Frame:
        bound = run.timing.upper("response")
        try:
            return await run.session.call(action, payload, timeout=bound)
        except (CallTimeout, Disconnected) as exc:
            raise HarnessError(f"before: {action}: {exc}") from None

    async def _ensure_registered(self, run: CaseContext) -> None:
        state = self.responder.state
        if state.registration == "Accepted":
            return
        bound = run.timing.upper("boot")
        deadline = time.monotonic() + bound
        answers: list[str] = []
        while True:
            got = await self._call(run, "BootNotification", self.link.boot_payload())
            answers.append(got.brief())
            if got.type != CALLRESULT:
                raise HarnessError(f"before: BootNotification answered {got.brief()}")
            if state.registration == "Accepted":
                break
            if state.registration == "Rejected" or state.interval is None:
                raise HarnessError(
                    f"before: the CSMS did not accept the station's BootNotification: "
                    f"{got.brief()} (is station {run.env.device.station_id!r} known to it?)"
                )
            # Pending: retry after the interval it gave (its own business meanwhile)
            wait = max(1.0, float(state.interval))
            if time.monotonic() + wait > deadline:
                raise HarnessError(
                    f"before: awaited an accepted registration for {bound:.3g} s "
                    f"({run.timing.describe('boot')}); the CSMS answered: {'; '.join(answers)}"
                )
            await asyncio.sleep(wait)  # bounded by timeouts.boot (the deadline above)
        for action, payload in self.registered_calls():
            await self._call(run, action, payload)

    async def _ensure_idle(self, run: CaseContext) -> None:
        state = self.responder.state
        for tx, connector in sorted(state.transactions.items()):
            for action, payload in self.end_transaction_calls(tx, connector):
                await self._call(run, action, payload)
            state.transactions.pop(tx, None)

    async def restore(self, run: CaseContext) -> None:
        for key, value in run.restore.items():
            self.set_own_config(key, value)

    # -- peer ---------------------------------------------------------------------------

    async def peer(self, run: CaseContext, action: str, args: dict[str, Any]) -> str:
        """``disconnect`` (the station loses its network); ``connect`` (it connects again,
        presenting the baseline credentials or the ones ``args`` change: ``password: right |
        old | wrong | none``, ``client_cert: valid | expired | wrong_cn | none``,
        ``tls_max: "1.1"``, ``subprotocol``; ``expect: accepted`` (default) or ``refused``);
        ``reboot`` (it restarts: a new connection, unregistered, nothing in memory; the case
        sends the BootNotification)."""
        if action == "disconnect":
            await self.link.disconnect("the station goes offline")
            return "the mock station closed its connection"
        if action == "reboot":
            await self.link.disconnect("the station reboots")
            self.responder.rebooted()
            return await self._connect(run, self.link.baseline, "accepted")
        if action == "connect":
            try:
                presented = self.link.baseline.changed(args)
            except ValueError as exc:
                raise HarnessError(f"peer connect: {exc}") from None
            expect = args.get("expect", "accepted")
            if expect not in ("accepted", "refused"):
                raise HarnessError(f"peer connect: expect {expect!r} (accepted or refused)")
            if run.session.is_connected:
                await self.link.disconnect("a new connection attempt")
            return await self._connect(run, presented, expect)
        raise HarnessError(
            f"peer: {action}: the mock charging station has no such behaviour "
            "(known: connect, disconnect, reboot)"
        )

    async def _connect(self, run: CaseContext, presented: Presented, expect: str) -> str:
        bound = run.timing.upper("connect")
        shown = presented.describe() or "no credentials"
        try:
            description = await self.link.connect(bound, presented)
        except ConnectFailed as exc:
            if expect == "refused" and exc.refused:
                return f"the CSMS refused the connection ({shown}): {exc.reason}"
            if expect == "refused":
                raise Failure(
                    "the CSMS did not refuse the connection",
                    expected=f"the TLS handshake or the HTTP upgrade refused ({shown})",
                    observed=exc.reason,
                ) from None
            raise Failure(
                "the CSMS refused the station's connection",
                expected=f"a WebSocket connection within {bound:.3g} s ({shown})",
                observed=exc.reason,
            ) from None
        if expect == "refused":
            await self.link.disconnect("the CSMS should have refused this connection")
            raise Failure(
                "the CSMS accepted a connection it must refuse",
                expected=f"the TLS handshake or the HTTP upgrade refused ({shown})",
                observed=f"connected: {description}",
            )
        url = self.link.url or ""
        if url.startswith("wss:") and not any(v in description for v in ("TLSv1.2", "TLSv1.3")):
            await self.link.disconnect("TLS below 1.2")
            raise Failure(
                "the CSMS negotiated TLS below 1.2",
                expected="TLS 1.2 or higher",
                observed=description,
            )
        return f"connected: {description}"


def _status(connector: int, status: str) -> dict[str, Any]:
    return {
        "connectorId": connector,
        "errorCode": "NoError",
        "status": status,
        "timestamp": utc_iso(),
    }
