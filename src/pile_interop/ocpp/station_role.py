"""The suite as the Central System of an OCPP 1.6 charging station under test."""

from __future__ import annotations

import logging
from typing import Any

from pile_interop.actuators.base import ActuatorError
from pile_interop.core.case import CaseContext
from pile_interop.core.verdicts import HarnessError, Verdict
from pile_interop.ocpp.csms_security import CsmsSecurity
from pile_interop.ocpp.frames import CALLRESULT, Frame
from pile_interop.ocpp.session import CallTimeout, Disconnected

log = logging.getLogger(__name__)


class StationUnderTest:
    """Before each case: the station connected, registered (BootNotification Accepted, every
    connector reported), idle (else the actuator settles it), ``before.config`` applied with
    ChangeConfiguration (old values restored after the case).

    With ``before.connected: false`` the case starts at once (its steps bring the connection
    up, e.g. after a ``peer: security`` step). ``peer:`` actions: ``security`` (serve another
    security mode, see :mod:`pile_interop.ocpp.csms_security`; the baseline comes back after
    the case) and ``disconnect`` (close the open connection)."""

    label = "OCPP-J 1.6 RPC framework"
    #: peer actions that close the connection (see ``scenario.runner.link_resets``)
    LINK_RESETS = frozenset({"security", "disconnect"})

    def __init__(self, responder: Any, security: CsmsSecurity | None = None) -> None:
        self.responder = responder
        self.security = security

    async def prepare(self, run: CaseContext) -> None:
        if not run.scenario.before.connected:
            record = run.new_record("before", "connect", "not waiting for the station")
            record.verdict = Verdict.PASS.value
            record.observed = "before.connected: false (the case's steps bring it up)"
            return
        state = self.responder.state
        env = run.env
        with run.before_record("station connected, registered and idle"):
            bound = run.timing.upper("connect")
            try:
                await run.session.wait_connected(bound)
            except TimeoutError:
                # a station whose connections all close at once did connect, many times over
                storm = run.session.churn.is_storm
                raise HarnessError(
                    f"the station {env.device.station_id!r} did not "
                    f"{'stay connected' if storm else 'connect'} within "
                    f"{bound:.3g} s ({run.timing.describe('connect')}); "
                    f"{run.observed_instead('BootNotification', None, run.seq0)}"
                ) from None
            connectors = env.device.connectors
            grace = run.timing.upper("boot_status")
            await run.wait_until(
                lambda: state.ready(connectors, grace),
                "boot",
                "the station registered (BootNotification Accepted) and reporting the status "
                f"of its {connectors} connector(s)",
                self.responder.changed,
            )
            if not state.is_idle():
                busy = state.busy_connectors()
                try:
                    await env.actuator.settle(run.timing.upper("settle"))
                except ActuatorError as exc:
                    raise HarnessError(f"could not bring the station to idle: {exc}") from None
                await run.wait_until(
                    state.is_idle,
                    "settle",
                    f"the station idle (connectors {busy} were busy, "
                    f"transactions {state.open_transactions()} open)",
                    self.responder.changed,
                )
        for key, value in run.config_values().items():
            await self._configure(run, key, value)

    async def _configure(self, run: CaseContext, key: str, value: str) -> None:
        record = run.new_record("before", "send", f"configure {key} = {value}")
        bound = run.timing.upper("response")
        try:
            old = await self.read_config(run, key, bound)
            changed = await self.write_config(run, key, value, bound)
        except (CallTimeout, Disconnected, ValueError) as exc:
            record.verdict = Verdict.ERROR.value
            record.observed = str(exc)
            raise HarnessError(f"before: could not set {key} = {value}: {exc}") from None
        finally:
            record.duration_s = run._t() - record.t_start
        record.frames = [changed.seq]
        record.expected = f"{self.WRITE_ACTION} status Accepted"
        record.observed = changed.brief()
        if not self.write_accepted(changed):
            record.verdict = Verdict.ERROR.value
            raise HarnessError(
                f"before: the case needs {key} = {value}, the station answered {changed.brief()}"
            )
        record.verdict = Verdict.PASS.value
        if old is not None and old != value:
            run.restore.setdefault(key, old)

    # -- the version's configuration messages (OCPP 1.6: Get/ChangeConfiguration) ----------

    #: the CALL that writes a configuration value, for the records
    WRITE_ACTION = "ChangeConfiguration"
    #: the configuration key of the station's HTTP Basic password
    PASSWORD_KEY = "AuthorizationKey"

    async def read_config(self, run: CaseContext, key: str, bound: float) -> str | None:
        """The station's current value of ``key``, or None when it cannot be restored
        (unknown, read-only)."""
        got = await run.session.call("GetConfiguration", {"key": [key]}, timeout=bound)
        keys = (got.payload or {}).get("configurationKey", []) if got.type == CALLRESULT else []
        old = next((k for k in keys if k.get("key") == key), None)
        if old is None or "value" not in old or old.get("readonly"):
            return None
        return str(old["value"])

    async def write_config(self, run: CaseContext, key: str, value: str, bound: float) -> Frame:
        return await run.session.call(
            "ChangeConfiguration", {"key": key, "value": value}, timeout=bound
        )

    def write_accepted(self, answer: Frame) -> bool:
        return answer.type == CALLRESULT and (answer.payload or {}).get("status") == "Accepted"

    async def restore(self, run: CaseContext) -> None:
        for key, value in run.restore.items():
            if not run.session.is_connected:
                break
            record = run.new_record("after", "send", f"restore {key} = {value}")
            try:
                got = await self.write_config(run, key, value, run.timing.upper("response"))
                record.verdict = Verdict.PASS.value
                record.observed = got.brief()
                record.frames = [got.seq]
            except (CallTimeout, Disconnected, ValueError) as exc:
                record.verdict = Verdict.ERROR.value
                record.observed = str(exc)
            finally:
                record.duration_s = run._t() - record.t_start
        if self.security is not None:
            record = run.new_record("after", "peer", "mock CSMS back to its baseline security")
            try:
                record.observed = await self.security.reset() or "unchanged"
                record.verdict = Verdict.PASS.value
            except Exception as exc:  # recorded, never changes the verdict
                record.verdict = Verdict.ERROR.value
                record.observed = f"{type(exc).__name__}: {exc}"
            finally:
                record.duration_s = run._t() - record.t_start

    async def peer(self, run: CaseContext, action: str, args: dict[str, Any]) -> str:
        if action == "security" and self.security is not None:
            mode = self.security.mode_from_args(args)
            if mode.password == "new" and self.security.device.basic_auth_password:
                # after the case the station gets its own key back (over the new key's
                # connection), then the CSMS demands the old one again
                run.restore.setdefault(self.PASSWORD_KEY, self.security.device.basic_auth_password)
            return await self.security.apply(mode)
        if action == "disconnect":
            await run.session.close(1000, "closed by the test case")
            return "mock CSMS closed the connection"
        raise HarnessError(
            f"peer: {action}: the mock Central System has no such behaviour "
            "(known: security, disconnect)"
        )
