"""The suite as the Central System of an OCPP 1.6 charging station under test."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pile_interop.core.case import CaseContext
from pile_interop.core.verdicts import Failure, HarnessError, NotApplicable, Verdict
from pile_interop.ocpp.csms_security import CsmsSecurity
from pile_interop.ocpp.frames import CALLRESULT, Frame
from pile_interop.ocpp.session import CallTimeout, Disconnected
from pile_interop.ocpp.station_recovery import StationRecovery

log = logging.getLogger(__name__)


class StationUnderTest:
    """Before each case: the station connected, registered (BootNotification Accepted, every
    connector reported), idle, every connector operative — each repaired when it is not, see
    :mod:`pile_interop.ocpp.station_recovery` — and ``before.config`` applied with
    ChangeConfiguration (old values restored after the case). A key the device descriptor
    declares absent makes the case ``na``; one the station answers NotSupported is ``na``, or a
    ``fail`` of the requirement that makes it Required.

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
        self.check_declared_config(run)
        if not run.scenario.before.connected:
            record = run.new_record("before", "connect", "not waiting for the station")
            record.verdict = Verdict.PASS.value
            record.observed = "before.connected: false (the case's steps bring it up)"
            return
        recovery = StationRecovery(self, run)
        with run.before_record("station connected, registered and idle"):
            await recovery.connected()
            await recovery.registered()
            await recovery.idle()
            await recovery.operative()
        for key, value in run.config_values().items():
            await self._configure(run, key, value)

    # -- the version's recovery messages (OCPP 1.6) -----------------------------------------

    def stop_transaction_call(self, tx: Any) -> tuple[str, dict[str, Any]]:
        return "RemoteStopTransaction", {"transactionId": tx}

    def unavailable(self, state: Any) -> list[Any]:
        """The connectors (0: the whole station) the station reports Unavailable."""
        return sorted(c for c, s in state.connectors.items() if s == "Unavailable")

    def operative_call(self, unit: Any) -> tuple[str, dict[str, Any]]:
        return "ChangeAvailability", {"connectorId": unit, "type": "Operative"}

    def still_unavailable(self, state: Any, units: list[Any]) -> list[Any]:
        return [c for c in units if state.connectors.get(c) == "Unavailable"]

    # -- before.config ----------------------------------------------------------------------

    #: configuration key → the device-descriptor feature that declares it (a case setting the
    #: key true on a device declaring the feature false is ``na``); the version packages fill it
    CONFIG_FEATURES: Mapping[str, str] = {}
    #: Required configuration keys → the requirement that makes them Required (one the station
    #: rejects as NotSupported fails it); the version packages fill it
    REQUIRED_CONFIG: Mapping[str, str] = {}
    #: the answers of the write CALL that say the station does not know the key at all
    NOT_SUPPORTED: frozenset[str] = frozenset({"NotSupported"})

    def check_declared_config(self, run: CaseContext) -> None:
        """``before.config`` turns on a feature the device descriptor declares absent (as the
        feature, or as the key itself): ``na``, without asking the station."""
        device = run.env.device
        for key, value in run.scenario.before.config.items():
            if str(value).lower() not in ("true", "1"):
                continue
            for name in (key, self.CONFIG_FEATURES.get(key)):
                if name and device.supports(name) is False:
                    raise NotApplicable(
                        f"the case sets {key} = {value}, but the device descriptor declares "
                        f"{name} false"
                    )

    def required_by(self, key: str) -> str | None:
        """The requirement that makes ``key`` Required, or None for an optional key."""
        return self.REQUIRED_CONFIG.get(key)

    def write_status(self, answer: Frame) -> str:
        """The status of the write CALL's answer (the CALLERROR code when it failed)."""
        if answer.type != CALLRESULT:
            return answer.brief()
        return str((answer.payload or {}).get("status"))

    async def _configure(self, run: CaseContext, key: str, value: str) -> None:
        record = run.new_record("before", "send", f"configure {key} = {value}")
        bound = run.timing.upper("response")
        try:
            old = await self.read_config(run, key, bound)
            fixed = self.read_only_value(key)
            if fixed is not None:  # a read-only key: its value is the station's to choose
                record.verdict = Verdict.PASS.value if fixed == value else Verdict.NA.value
                record.observed = f"{key} is read-only, {fixed!r}"
                if fixed == value:
                    return
                raise NotApplicable(
                    f"the station has {key} read-only at {fixed!r}; the case needs {value!r}"
                )
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
        status = self.write_status(changed)
        if not self.write_accepted(changed) and status in self.NOT_SUPPORTED:
            requirement = self.required_by(key)
            if requirement is None:
                record.verdict = Verdict.NA.value
                raise NotApplicable(
                    f"the station does not support {key} ({self.WRITE_ACTION} answered {status})"
                )
            record.verdict = Verdict.FAIL.value
            raise Failure(
                f"the station does not support the Required configuration {key}",
                requirement=requirement,
                expected=f"{self.WRITE_ACTION} {key} = {value} Accepted ({key} is Required)",
                observed=changed.brief(),
            )
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
        self._read_only = {}
        if old is not None and "value" in old and old.get("readonly") is True:
            self._read_only[key] = str(old["value"])
        if old is None or "value" not in old or old.get("readonly"):
            return None
        return str(old["value"])

    def read_only_value(self, key: str) -> str | None:
        """The value of ``key`` when the last :meth:`read_config` found it read-only."""
        return getattr(self, "_read_only", {}).get(key)

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
