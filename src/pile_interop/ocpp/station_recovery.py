"""The recovery step of a charging station's before-phase: every case starts from its
before-state, or says why it could not.

Between cases a station may be left connected but not Accepted (a boot case answered it
Pending or Rejected; it reconnected without a BootNotification), disconnected, with a
transaction open, or with a connector Unavailable. :class:`StationRecovery` repairs each in
turn, recording every action it takes as a before-phase record:

1. **connected** within ``connect``; else the actuator's ``power_cycle`` (once) and ``connect``
   again;
2. **registered** (BootNotification Accepted, every connector reported): the station's own
   boot first; when it is Pending, Rejected or unknown, TriggerMessage(BootNotification) (the
   mock CSMS answers the next boot Accepted) and ``boot``; then ``power_cycle`` and ``boot``
   again;
3. **idle**: every transaction the mock CSMS knows open is stopped (RemoteStopTransaction /
   RequestStopTransaction), then the actuator's ``settle``, then the station idle within
   ``settle``;
4. **operative**: a connector the station reports Unavailable gets ChangeAvailability Operative
   and must report Available within ``message``.

What cannot be repaired ends the case with :class:`~pile_interop.core.verdicts.
BeforeStateNotReached` ("before-state <name> not reached: <what is still wrong>"). The
version's messages come from the role (:class:`RecoveryMessages`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from pile_interop.actuators.base import ActionUnsupported, ActuatorError
from pile_interop.core.case import CaseContext
from pile_interop.core.verdicts import BeforeStateNotReached, HarnessError, Verdict
from pile_interop.ocpp.frames import CALLRESULT, Frame
from pile_interop.ocpp.session import CallTimeout, Disconnected

#: answers of a CALL that mean "done" or "will be done"
_OK = ("Accepted", "Scheduled")
#: the trigger of a new BootNotification (OCPP 1.6 §5.17, OCPP 2.0.1 F06: the same payload)
TRIGGER_BOOT = {"requestedMessage": "BootNotification"}


class RecoveryMessages(Protocol):
    """What the recovery needs of the version (the role provides it)."""

    responder: Any

    def stop_transaction_call(self, tx: Any) -> tuple[str, dict[str, Any]]: ...

    def unavailable(self, state: Any) -> list[Any]: ...

    def operative_call(self, unit: Any) -> tuple[str, dict[str, Any]]: ...

    def still_unavailable(self, state: Any, units: list[Any]) -> list[Any]: ...


def answer_text(frame: Frame) -> str:
    """A CALL's answer in a few words: its status, or the CALLERROR code."""
    if frame.type == CALLRESULT:
        status = (frame.payload or {}).get("status")
        return str(status) if status is not None else frame.brief()
    return frame.brief()


class StationRecovery:
    """The recovery of one case's before-phase (see the module text)."""

    def __init__(self, role: RecoveryMessages, run: CaseContext) -> None:
        self.role = role
        self.run = run
        self.state = role.responder.state
        self.changed = role.responder.changed
        self.name = str(run.scenario.before.state or "booted")
        self.power_cycled = False

    def unreached(self, wrong: str) -> BeforeStateNotReached:
        return BeforeStateNotReached(self.name, wrong)

    # -- records ---------------------------------------------------------------------------

    async def _call(
        self,
        title: str,
        action: str,
        payload: dict[str, Any],
        moot: Callable[[], Awaitable[bool]] | None = None,
    ) -> str:
        """Send a CALL as a recorded before-phase action; its answer in a few words. A refusal
        is no warning when ``await moot()`` says the CALL's aim came about anyway (a transaction
        the station had ended by itself, its end still on the way when it refused the stop)."""
        run = self.run
        record = run.new_record("before", "send", title)
        record.expected = f"{action} answered"
        try:
            got = await run.session.call(action, payload, timeout=run.timing.upper("response"))
        except (CallTimeout, Disconnected, ValueError) as exc:
            record.verdict = Verdict.ERROR.value
            record.observed = str(exc)
            return f"no answer ({exc})"
        finally:
            record.duration_s = run._t() - record.t_start
        record.frames = [got.seq]
        record.observed = got.brief()
        text = answer_text(got)
        record.verdict = Verdict.PASS.value if text in _OK else Verdict.WARN.value
        if text not in _OK and moot is not None and await moot():
            record.verdict = Verdict.PASS.value
            record.observed += " (it had already come about)"
        return text

    async def power_cycle(self, why: str) -> str | None:
        """Ask the actuator for ``power_cycle`` (once per case); None when done, else why not."""
        run = self.run
        if self.power_cycled:
            return "already power-cycled in this case"
        self.power_cycled = True
        record = run.new_record("before", "act", f"recover: power_cycle ({why})")
        try:
            if "power_cycle" in run.env.device.actuator.unsupported:
                raise ActionUnsupported(
                    "the bench cannot power_cycle (device descriptor: actuator.unsupported)"
                )
            await run.env.actuator.perform(
                "power_cycle", {"phase": "before"}, run.timing.upper("manual")
            )
        except ActuatorError as exc:
            record.verdict = Verdict.ERROR.value
            record.observed = str(exc)
            return str(exc)
        finally:
            record.duration_s = run._t() - record.t_start
        record.verdict = Verdict.PASS.value
        record.observed = "done"
        return None

    async def _wait(self, predicate: Callable[[], bool], bound: str, what: str) -> str | None:
        """Wait for ``predicate`` within the named bound; None when it holds, else what was
        observed instead."""
        try:
            await self.run.wait_until(predicate, bound, what, self.changed)
        except HarnessError as exc:
            return exc.reason
        return None

    # -- 1. connected ----------------------------------------------------------------------

    async def connected(self) -> None:
        run = self.run
        station = run.env.device.station_id
        bound = run.timing.upper("connect")
        try:
            await run.session.wait_connected(bound)
            return
        except TimeoutError:
            # a station whose connections all close at once did connect, many times over
            verb = "stay connected" if run.session.churn.is_storm else "connect"
            first = (
                f"the station {station!r} did not {verb} within {bound:.3g} s "
                f"({run.timing.describe('connect')}); "
                f"{run.observed_instead('BootNotification', None, run.seq0)}"
            )
        problem = await self.power_cycle("the station is not connected")
        if problem is not None:
            raise self.unreached(f"{first}; power_cycle: {problem}")
        try:
            await run.session.wait_connected(bound)
        except TimeoutError:
            raise self.unreached(
                f"{first}; after power_cycle it did not connect within {bound:.3g} s either"
            ) from None

    def _no_storm(self) -> None:
        """A station that keeps reconnecting cannot be repaired by asking it things: the
        before-state is not reached, and the reason is the storm."""
        churn = getattr(self.run.session, "churn", None)
        if churn is not None and churn.is_storm:
            raise self.unreached(f"{churn.storm()}; it does not stay connected to register")

    # -- 2. registered ---------------------------------------------------------------------

    async def registered(self) -> None:
        run, state = self.run, self.state
        connectors = run.env.device.connectors
        grace = run.timing.upper("boot_status")

        def ready() -> bool:
            return bool(state.ready(connectors, grace))

        what = (
            "the station registered (BootNotification Accepted) and reporting the status "
            f"of its {connectors} connector(s)"
        )
        if ready():
            return
        self._no_storm()
        if state.registration is None:  # its own boot first (one in flight, a reboot's)
            await self._wait(lambda: state.registration is not None, "boot_status", what)
        if state.registration == "Accepted":
            missed = await self._wait(
                lambda: ready() or state.registration != "Accepted", "boot", what
            )
            if missed is None and ready():
                return
        self._no_storm()
        was = state.registration
        status = f"{was}" if was else "not registered (no BootNotification seen)"
        if was == "Accepted":
            status = "Accepted but has not reported the status of every connector"
        trigger = await self._call(
            f"recover: TriggerMessage BootNotification (the station is {status})",
            "TriggerMessage",
            dict(TRIGGER_BOOT),
        )
        missed = await self._wait(ready, "boot", what)
        if missed is None:
            return
        bound = run.timing.upper("boot")
        wrong = (
            f"the station is {status}: it answered TriggerMessage(BootNotification) {trigger} "
            f"and was not registered within {bound:.3g} s ({missed})"
        )
        problem = await self.power_cycle(f"the station is {status}")
        if problem is not None:
            raise self.unreached(f"{wrong}; power_cycle: {problem}")
        missed = await self._wait(ready, "boot", what)
        if missed is not None:
            raise self.unreached(f"{wrong}; after power_cycle: {missed}")

    # -- 3. idle ---------------------------------------------------------------------------

    async def idle(self) -> None:
        run, state = self.run, self.state
        open_txs = list(state.open_transactions())
        for tx in open_txs:
            action, payload = self.role.stop_transaction_call(tx)

            async def ended(tx: Any = tx) -> bool:
                gone = await self._wait(
                    lambda: tx not in state.open_transactions(),
                    "message",
                    f"the end of transaction {tx}",
                )
                return gone is None

            await self._call(f"recover: {action} {tx} (left open)", action, payload, moot=ended)
        if not open_txs and state.is_idle():
            return
        busy = state.busy_connectors()
        record = run.new_record("before", "act", "recover: settle")
        try:
            await run.env.actuator.settle(run.timing.upper("settle"))
            record.verdict = Verdict.PASS.value
            record.observed = "done"
        except ActuatorError as exc:
            record.verdict = Verdict.ERROR.value
            record.observed = str(exc)
            raise self.unreached(f"could not bring the station to idle: {exc}") from None
        finally:
            record.duration_s = run._t() - record.t_start
        missed = await self._wait(
            state.is_idle,
            "settle",
            f"the station idle (connectors {busy} were busy, transactions {open_txs} open)",
        )
        if missed is not None:
            raise self.unreached(missed)
        still = [tx for tx in open_txs if tx in state.open_transactions()]
        if still:  # idle as the station reports it: give the stop a moment to arrive
            await self._wait(
                lambda: not any(tx in state.open_transactions() for tx in still),
                "message",
                f"the end of transaction(s) {still}",
            )
        still = [tx for tx in still if tx in state.open_transactions()]
        if still:
            record = run.new_record("before", "check", "recover: transactions left open")
            record.verdict = Verdict.WARN.value
            record.observed = (
                f"the station reports idle but never ended transaction(s) {still}: no longer "
                "counted as open"
            )
            for tx in still:
                state.transactions.pop(tx, None)

    # -- 4. operative ----------------------------------------------------------------------

    async def operative(self) -> None:
        state = self.state
        units = list(self.role.unavailable(state))
        if not units:
            return
        answers, refused = [], []
        for unit in units:
            action, payload = self.role.operative_call(unit)
            answer = await self._call(f"recover: {action} Operative ({unit})", action, payload)
            answers.append(f"{unit}: {answer}")
            if answer not in _OK:
                refused.append(unit)
        started = time.monotonic()
        missed = await self._wait(
            lambda: not self.role.still_unavailable(state, units),
            "message",
            f"connector(s) {units} Available again",
        )
        if missed is None:
            return
        left = self.role.still_unavailable(state, units)
        wrong = (
            f"{left} still Unavailable {time.monotonic() - started:.3g} s after "
            f"ChangeAvailability Operative (answered {', '.join(answers)})"
        )
        if any(unit in refused for unit in left):
            raise self.unreached(wrong)
        # accepted, but not reported: caught by the case that checks the report, not by every
        # case after it (as the mock's ``ready`` does for a boot's StatusNotifications)
        record = self.run.new_record("before", "check", "recover: connectors Available")
        record.verdict = Verdict.WARN.value
        record.observed = f"{wrong}: the station accepted, going on"
