"""The suite as a charging station of an OCPP 1.6 CSMS under test."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

from pile_interop.core.clock import utc_iso
from pile_interop.core.verdicts import HarnessError, Verdict
from pile_interop.ocpp.client import ConnectFailed
from pile_interop.ocpp.cs16 import Station16Responder
from pile_interop.ocpp.frames import CALLRESULT, Frame
from pile_interop.ocpp.session import CallTimeout, Disconnected
from pile_interop.scenario.runner import CaseRun

log = logging.getLogger(__name__)


class StationLink(Protocol):
    """How the role reaches the CSMS (the campaign opens and closes the connection)."""

    async def connect(self, timeout: float) -> str:
        """Open a connection (replacing none); :class:`ConnectFailed`. Returns a description."""
        ...

    async def disconnect(self, reason: str) -> None: ...

    def boot_payload(self) -> dict[str, Any]: ...


class CsmsUnderTest:
    """Before each case: the mock station connected, registered (BootNotification Accepted,
    every connector reported Available), and without transactions left by an earlier case
    (they are stopped with StopTransaction, reason Local); ``before.config`` sets the mock
    station's own configuration keys (what its GetConfiguration answers)."""

    label = "OCPP-J 1.6 RPC framework"

    def __init__(self, responder: Station16Responder, link: StationLink, connectors: int) -> None:
        self.responder = responder
        self.link = link
        self.connectors = connectors

    # -- before -------------------------------------------------------------------------

    async def prepare(self, run: CaseRun) -> None:
        record = run.new_record("before", "connect", "station connected, registered and idle")
        try:
            await self._ensure_connected(run)
            await self._ensure_registered(run)
            await self._ensure_idle(run)
            record.verdict = Verdict.PASS.value
        except HarnessError as exc:
            record.verdict = Verdict.ERROR.value
            record.observed = exc.reason
            raise
        finally:
            record.duration_s = run._t() - record.t_start
        for key, value in run.scenario.before.config.items():
            rendered = run.render(value)
            if isinstance(rendered, bool):
                rendered = "true" if rendered else "false"
            old = self.responder.config.get(key)
            if old is not None:
                run.restore.setdefault(key, old[0])
            self.responder.set_config(key, str(rendered))

    async def _ensure_connected(self, run: CaseRun) -> None:
        if run.session.is_connected:
            return
        bound = run.timing.upper("connect")
        try:
            await self.link.connect(bound)
        except ConnectFailed as exc:
            raise HarnessError(f"could not connect to the CSMS: {exc.reason}") from None

    async def _call(self, run: CaseRun, action: str, payload: dict[str, Any]) -> Frame:
        bound = run.timing.upper("response")
        try:
            return await run.session.call(action, payload, timeout=bound)
        except (CallTimeout, Disconnected) as exc:
            raise HarnessError(f"before: {action}: {exc}") from None

    async def _ensure_registered(self, run: CaseRun) -> None:
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
        for connector in range(0, self.connectors + 1):
            await self._call(run, "StatusNotification", _status(connector, "Available"))

    async def _ensure_idle(self, run: CaseRun) -> None:
        state = self.responder.state
        for tx, connector in sorted(state.transactions.items()):
            await self._call(
                run,
                "StopTransaction",
                {"transactionId": tx, "meterStop": 0, "timestamp": utc_iso(), "reason": "Local"},
            )
            state.transactions.pop(tx, None)
            await self._call(run, "StatusNotification", _status(connector, "Available"))

    async def restore(self, run: CaseRun) -> None:
        for key, value in run.restore.items():
            self.responder.set_config(key, value)

    # -- peer ---------------------------------------------------------------------------

    async def peer(self, run: CaseRun, action: str, args: dict[str, Any]) -> str:
        """``disconnect`` (the station loses its network), ``connect`` (it comes back),
        ``reboot`` (it restarts: a new connection, unregistered, nothing in memory; the case
        sends the BootNotification)."""
        if action == "disconnect":
            await self.link.disconnect("the station goes offline")
            return "the mock station closed its connection"
        if action in ("connect", "reboot"):
            if action == "reboot":
                await self.link.disconnect("the station reboots")
                self.responder.rebooted()
            bound = run.timing.upper("connect")
            try:
                description = await self.link.connect(bound)
            except ConnectFailed as exc:
                raise HarnessError(f"peer {action}: {exc.reason}") from None
            return f"{action}: connected again ({description})"
        raise HarnessError(
            f"peer: {action}: the mock charging station has no such behaviour "
            "(known: connect, disconnect, reboot)"
        )


def _status(connector: int, status: str) -> dict[str, Any]:
    return {
        "connectorId": connector,
        "errorCode": "NoError",
        "status": status,
        "timestamp": utc_iso(),
    }
