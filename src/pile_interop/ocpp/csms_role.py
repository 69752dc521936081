"""The suite as a charging station of an OCPP 1.6 CSMS under test."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Protocol

from pile_interop.core.case import CaseContext
from pile_interop.core.clock import utc_iso
from pile_interop.core.verdicts import BeforeStateNotReached, Failure, HarnessError, Verdict
from pile_interop.ocpp.client import ConnectFailed
from pile_interop.ocpp.frames import CALLRESULT, Frame
from pile_interop.ocpp.reconnect import EARLY_CLOSE_S, Attempts
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

    async def pause_before_connect(self) -> str:
        """Wait what the CSMS needs after the last close (the descriptor's
        ``reconnect_pause_s``); what was waited ("" if nothing)."""
        ...

    def boot_payload(self) -> dict[str, Any]: ...


class _ClosedBeforeBoot(Exception):
    """The connection closed before the CSMS answered the station's BootNotification."""


class CsmsUnderTest:
    """Before each case: the mock station connected (reconnecting with a bounded back-off,
    after the descriptor's ``reconnect_pause_s``), registered (BootNotification Accepted,
    every connector reported Available), and idle: no transaction left by an earlier case
    (also none the CSMS alone still has open: they are stopped with StopTransaction, reason
    Local) and every connector Available again (one left Inoperative or in another status is
    reported Available); ``before.config`` sets the mock station's own configuration keys
    (what its GetConfiguration answers). With ``before.connected: false`` the case starts
    disconnected and connects in its steps. A before-state that cannot be reached is
    :class:`BeforeStateNotReached` ("before-state booted not reached: …")."""

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
        with run.before_record("station connected, registered and idle") as record:
            await self._connect_and_register(run)
            done = await self._ensure_idle(run)
            if done:
                record.observed = "; ".join(done)
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

    def connector_ids(self) -> range:
        """The connectors whose status the station reports (0 = the station itself)."""
        return range(0, self.connectors + 1)

    def available_call(self, connector: int) -> tuple[str, dict[str, Any]]:
        """How the station reports ``connector`` Available."""
        return ("StatusNotification", _status(connector, "Available"))

    # -- before: connected and registered ----------------------------------------------

    async def _connect_and_register(self, run: CaseContext) -> None:
        """Connected (with a bounded back-off: :mod:`~pile_interop.ocpp.reconnect`) and
        registered; a connection the CSMS closes before it answered the BootNotification is
        one more failed attempt. :class:`BeforeStateNotReached` saying what was not."""
        state_name = run.scenario.before.state
        attempts: Attempts | None = None
        record = None
        try:
            while True:
                if not run.session.is_connected:
                    if attempts is None:
                        attempts, record = self._attempts(run)
                    await self._reconnect(run, attempts, state_name)
                try:
                    await self._ensure_registered(run)
                    break
                except _ClosedBeforeBoot as exc:
                    if attempts is None:
                        attempts, record = self._attempts(run)
                    attempts.closed_before_boot(str(exc), run.session.last_close_detail)
                    delay = attempts.next_delay()
                    if delay is None:
                        raise BeforeStateNotReached(state_name, attempts.summary()) from None
                    await asyncio.sleep(delay)  # bounded by timeouts.connect (next_delay)
            if record is not None:
                record.verdict = Verdict.PASS.value
        finally:
            if record is not None and attempts is not None:
                record.observed = attempts.record()
                record.duration_s = run._t() - record.t_start
                if record.verdict != Verdict.PASS.value:
                    record.verdict = Verdict.ERROR.value

    def _attempts(self, run: CaseContext) -> tuple[Attempts, Any]:
        bound_text = run.timing.describe("connect")
        record = run.new_record(
            "before", "connect", "reconnect to the CSMS (back-off within timeouts.connect)"
        )
        record.expected = (
            f"a connection the CSMS keeps open ({bound_text}; a close within "
            f"{EARLY_CLOSE_S:g} s of opening is a failed attempt)"
        )
        return Attempts(run.timing.upper("connect"), bound_text), record

    async def _reconnect(self, run: CaseContext, attempts: Attempts, state_name: str) -> None:
        while True:
            waited = await self.link.pause_before_connect()
            if waited:
                attempts.notes.append(waited)
            at = attempts.elapsed
            try:
                description = await self.link.connect(max(attempts.time_left(), EARLY_CLOSE_S))
            except ConnectFailed as exc:
                attempts.failed(exc.reason, at=at)
                if not exc.transient:
                    raise BeforeStateNotReached(state_name, attempts.summary()) from None
            else:
                opened = time.monotonic()
                with contextlib.suppress(TimeoutError):
                    await run.session.wait_disconnected(EARLY_CLOSE_S)
                if run.session.is_connected:
                    attempts.connected(description, at=at)
                    return
                after = time.monotonic() - opened
                attempts.failed(
                    f"the CSMS closed it {after:.2f} s after it opened ({run.session.last_closed})",
                    at=at,
                    closed_after=after,
                    close=run.session.last_close_detail,
                )
            delay = attempts.next_delay()
            if delay is None:
                raise BeforeStateNotReached(state_name, attempts.summary())
            await asyncio.sleep(delay)  # bounded by timeouts.connect (next_delay)

    async def _call(self, run: CaseContext, action: str, payload: dict[str, Any]) -> Frame:
        bound = run.timing.upper("response")
        try:
            return await run.session.call(action, payload, timeout=bound)
        except (CallTimeout, Disconnected) as exc:
            raise BeforeStateNotReached(run.scenario.before.state, f"{action}: {exc}") from None

    async def _ensure_registered(self, run: CaseContext) -> None:
        state = self.responder.state
        if state.registration == "Accepted":
            return
        name = run.scenario.before.state
        bound = run.timing.upper("boot")
        deadline = time.monotonic() + bound
        answers: list[str] = []
        while True:
            try:
                got = await run.session.call(
                    "BootNotification",
                    self.link.boot_payload(),
                    timeout=run.timing.upper("response"),
                )
            except Disconnected as exc:
                raise _ClosedBeforeBoot(str(exc)) from None
            except CallTimeout as exc:
                raise BeforeStateNotReached(name, f"BootNotification: {exc}") from None
            answers.append(got.brief())
            if got.type != CALLRESULT:
                raise BeforeStateNotReached(name, f"BootNotification answered {got.brief()}")
            if state.registration == "Accepted":
                break
            if state.registration == "Rejected" or state.interval is None:
                raise BeforeStateNotReached(
                    name,
                    f"the CSMS did not accept the station's BootNotification: "
                    f"{got.brief()} (is station {run.env.device.station_id!r} known to it?)",
                )
            # Pending: retry after the interval it gave (its own business meanwhile)
            wait = max(1.0, float(state.interval))
            if time.monotonic() + wait > deadline:
                raise BeforeStateNotReached(
                    name,
                    f"awaited an accepted registration for {bound:.3g} s "
                    f"({run.timing.describe('boot')}); the CSMS answered: {'; '.join(answers)}",
                )
            await asyncio.sleep(wait)  # bounded by timeouts.boot (the deadline above)
        for action, payload in self.registered_calls():
            await self._call(run, action, payload)

    # -- before: idle ------------------------------------------------------------------

    async def _ensure_idle(self, run: CaseContext) -> list[str]:
        """End every transaction the station or the CSMS still has open (also one the mock
        forgot in a reboot, or started with an id tag the CSMS did not accept), then report
        every connector Available that was left otherwise (a status an earlier case reported,
        or Inoperative after a ChangeAvailability). Returns what was done."""
        state = self.responder.state
        done: list[str] = []
        open_ = {**state.unended, **state.transactions}
        for tx, connector in sorted(open_.items(), key=lambda item: str(item[0])):
            where = "open" if tx in state.transactions else "open at the CSMS only"
            for action, payload in self.end_transaction_calls(tx, connector):
                await self._call(run, action, payload)
            state.transactions.pop(tx, None)
            state.unended.pop(tx, None)
            done.append(f"ended transaction {tx} on {connector} ({where}, left by an earlier case)")
        for connector in self.connector_ids():
            reported = state.reported.get(connector, "Available")
            if connector not in state.inoperative and reported == "Available":
                continue
            why = (
                "Inoperative after a ChangeAvailability"
                if connector in state.inoperative
                else f"last reported {reported}"
            )
            state.inoperative.discard(connector)
            action, payload = self.available_call(connector)
            await self._call(run, action, payload)
            done.append(f"connector {connector} reported Available ({why})")
        return done

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
        waited = await self.link.pause_before_connect()
        after = f" ({waited})" if waited else ""
        try:
            description = await self.link.connect(bound, presented)
        except ConnectFailed as exc:
            if expect == "refused" and exc.refused:
                return f"the CSMS refused the connection ({shown}): {exc.reason}{after}"
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
        return f"connected: {description}{after}"


def _status(connector: int, status: str) -> dict[str, Any]:
    return {
        "connectorId": connector,
        "errorCode": "NoError",
        "status": status,
        "timestamp": utc_iso(),
    }
