"""OCPP 1.6 run-wide invariants of registration, connector status and heartbeat (see
:mod:`pile_interop.ocpp.invariants`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pile_interop.core.frames import Frame
from pile_interop.ocpp.frames import CALL, CALLERROR, CALLRESULT
from pile_interop.ocpp.invariants import CSMS, WARN, Found, Invariant, Seen

_S = (
    "Available",
    "Preparing",
    "Charging",
    "SuspendedEV",
    "SuspendedEVSE",
    "Finishing",
    "Reserved",
    "Unavailable",
    "Faulted",
)
#: 1.6 §4.9: the status transitions of a connector (> 0) the state table allows, as the
#: indices into ``_S`` each status may go to (rows A…I of the table)
_TABLE = {
    0: (1, 2, 3, 4, 6, 7, 8),  # Available: not to Finishing
    1: (0, 2, 3, 4, 5, 8),  # Preparing: not to Reserved, Unavailable
    2: (0, 3, 4, 5, 7, 8),  # Charging: not to Preparing, Reserved
    3: (0, 2, 4, 5, 7, 8),  # SuspendedEV: not to Preparing, Reserved
    4: (0, 2, 3, 5, 7, 8),  # SuspendedEVSE: not to Preparing, Reserved
    5: (0, 1, 7, 8),  # Finishing: to Available, Preparing, Unavailable, Faulted
    6: (0, 1, 7, 8),  # Reserved: to Available, Preparing, Unavailable, Faulted
    7: (0, 1, 2, 3, 4, 8),  # Unavailable: not to Finishing, Reserved
    8: (0, 1, 2, 3, 4, 5, 6, 7),  # Faulted: to any
}
TRANSITIONS: dict[str, frozenset[str]] = {
    _S[row]: frozenset(_S[i] for i in targets) for row, targets in _TABLE.items()
}
#: 1.6 §4.9: the statuses connector 0 (the Charge Point as a whole) may have
CONNECTOR0: frozenset[str] = frozenset({"Available", "Unavailable", "Faulted"})


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class _ConfigWatch:
    """The configuration values the station confirmed: GetConfiguration results and
    ChangeConfiguration requests it answered Accepted."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def observe(self, seen: Seen) -> str | None:
        """Learn from a frame; returns the key whose value changed now."""
        if not seen.from_sut or seen.frame.type != CALLRESULT or seen.call is None:
            return None
        request = seen.call.payload if isinstance(seen.call.payload, dict) else {}
        if seen.action == "ChangeConfiguration" and seen.payload.get("status") == "Accepted":
            key, value = request.get("key"), request.get("value")
            if isinstance(key, str) and isinstance(value, str):
                self.values[key] = value
                return key
        elif seen.action == "GetConfiguration":
            for entry in seen.payload.get("configurationKey") or []:
                if isinstance(entry, dict) and isinstance(entry.get("value"), str):
                    self.values[str(entry.get("key"))] = entry["value"]
        return None


class StatusTransitions(Invariant):
    """Consecutive StatusNotifications of a connector follow the §4.9 state table. The first
    status of each connector after a (re)connection or a BootNotification is free, a repeat
    of the same status is fine, and nothing is judged once the station says it may skip
    short-lived statuses (MinimumStatusDuration > 0)."""

    id = "INV-16-STATUS-TRANSITION"
    title = "connector status changes follow the §4.9 state table"
    requirement = (
        "OCPP1.6 §4.9: the status transitions of a connector are those of the state table "
        "(e.g. no Charging → Preparing, no Finishing → Charging, no Available → Finishing)"
    )

    def __init__(self) -> None:
        self._last: dict[int, tuple[str, int]] = {}
        self._config = _ConfigWatch()

    def observe(self, seen: Seen) -> Iterable[Found]:
        self._config.observe(seen)
        if seen.opened or seen.closed or (seen.from_sut and seen.is_call("BootNotification")):
            self._last.clear()
        if not (seen.from_sut and seen.is_call("StatusNotification")):
            return
        connector, status = seen.payload.get("connectorId"), seen.payload.get("status")
        if not isinstance(connector, int) or connector <= 0 or status not in TRANSITIONS:
            return
        before = self._last.get(connector)
        self._last[connector] = (status, seen.frame.seq)
        if before is None or before[0] == status or status in TRANSITIONS[before[0]]:
            return
        if (_int(self._config.values.get("MinimumStatusDuration")) or 0) > 0:
            return
        yield Found(
            f"connector {connector} went from {before[0]} to {status}, a transition the "
            "state table does not have",
            (before[1],),
        )


class Connector0Status(Invariant):
    """Connector 0 (the Charge Point as a whole) is only ever Available, Unavailable or
    Faulted."""

    id = "INV-16-CONNECTOR0-STATUS"
    title = "connector 0 reports only Available, Unavailable or Faulted"
    requirement = (
        "OCPP1.6 §4.9: for ConnectorId 0 only a limited set of statuses is applicable: "
        "Available, Unavailable and Faulted"
    )

    def observe(self, seen: Seen) -> Iterable[Found]:
        if not (seen.from_sut and seen.is_call("StatusNotification")):
            return
        status = seen.payload.get("status")
        if (
            seen.payload.get("connectorId") == 0
            and isinstance(status, str)
            and (status not in CONNECTOR0)
        ):
            yield Found(f"connector 0 reports status {status}")


class _Registration:
    """The station's registration as the wire shows it: the last BootNotification answer
    (kept across a plain reconnect, as the Central System keeps it) and what a
    TriggerMessage asked for while Pending."""

    def __init__(self) -> None:
        #: Accepted / Pending / Rejected; None: unknown (no answer seen, or a CALLERROR)
        self.status: str | None = None
        #: the frame of that answer
        self.since = 0
        #: what accepted TriggerMessages asked the station to send (while not Accepted)
        self.triggered: set[str] = set()

    def observe(self, seen: Seen, boot_from_sut: bool) -> None:
        """``boot_from_sut``: the station is the SUT (its BootNotification comes in)."""
        frame = seen.frame
        if seen.action == "BootNotification" and frame.type in (CALLRESULT, CALLERROR):
            if seen.from_sut != boot_from_sut:  # the Central System's answer
                status = seen.payload.get("status") if frame.type == CALLRESULT else None
                self.status = status if isinstance(status, str) else None
                self.since = frame.seq
                self.triggered.clear()
        elif (
            seen.is_result("TriggerMessage")
            and seen.payload.get("status") == "Accepted"
            and seen.call is not None
        ):
            request = seen.call.payload if isinstance(seen.call.payload, dict) else {}
            if isinstance(request.get("requestedMessage"), str):
                self.triggered.add(request["requestedMessage"])


class RegistrationRespected(Invariant):
    """Before its registration is Accepted the station sends no other request: on a
    connection, nothing before its BootNotification (a reboot is followed by one, and the
    station may send nothing in between); while Pending only BootNotification and what an
    accepted TriggerMessage asked for (it answers the Central System's requests); while
    Rejected only BootNotification, and no answer to a Central System's request."""

    id = "INV-16-REGISTRATION"
    title = "no request before the registration is Accepted but what Pending / Rejected allow"
    requirement = (
        "OCPP1.6 §4.2: between (re)boot and an Accepted or Pending BootNotification.conf the "
        "Charge Point SHALL NOT send any other request, cached messages included; while "
        "Pending it SHALL NOT send requests unless a TriggerMessage.req asked; while Rejected "
        "it SHALL NOT send any OCPP message nor respond to the Central System"
    )

    def __init__(self) -> None:
        self._registration = _Registration()
        #: the station's requests on this connection before its first BootNotification
        self._before_boot: list[Frame] = []
        self._booted_here = False
        #: the BootNotification of a (re)boot awaiting its answer (None: none)
        self._booting: Frame | None = None

    def observe(self, seen: Seen) -> Iterable[Found]:
        found = list(self._judge(seen))
        self._registration.observe(seen, boot_from_sut=True)
        return found

    def _judge(self, seen: Seen) -> Iterator[Found]:
        frame, reg = seen.frame, self._registration
        if seen.opened:
            self._before_boot, self._booted_here, self._booting = [], False, None
            return
        if seen.action == "BootNotification" and frame.type in (CALLRESULT, CALLERROR):
            self._booting = None
        if not seen.from_sut:
            return
        if frame.type == CALL and frame.action == "BootNotification":
            yield from self._boot(frame, triggered="BootNotification" in reg.triggered)
        elif frame.type == CALL:
            yield from self._request(frame)
        elif (
            frame.type in (CALLRESULT, CALLERROR)
            and reg.status == "Rejected"
            and seen.call is not None
            and seen.call.seq > reg.since
        ):
            yield Found(
                f"answered the Central System's {seen.call.action} while the "
                "registration is Rejected",
                (reg.since, seen.call.seq),
            )

    def _boot(self, frame: Frame, *, triggered: bool) -> Iterator[Found]:
        if not triggered:
            self._booting = frame
            if not self._booted_here and self._before_boot:
                first = self._before_boot[0]
                yield Found(
                    f"{first.action} (and {len(self._before_boot) - 1} more request(s)) sent "
                    "on this connection before the BootNotification that follows a (re)boot",
                    tuple(f.seq for f in self._before_boot[:5]),
                )
        self._booted_here = True

    def _request(self, frame: Frame) -> Iterator[Found]:
        reg = self._registration
        if not self._booted_here:
            self._before_boot.append(frame)
        if self._booting is not None:
            yield Found(
                f"{frame.action} sent before the BootNotification of the (re)boot was answered",
                (self._booting.seq,),
            )
        elif reg.status == "Pending" and frame.action not in reg.triggered:
            yield Found(
                f"{frame.action} sent while the registration is Pending "
                "(no TriggerMessage asked for it)",
                (reg.since,),
            )
        elif reg.status == "Rejected":
            yield Found(f"{frame.action} sent while the registration is Rejected", (reg.since,))


class _CsmsCallsByRegistration(Invariant):
    """A CSMS's requests judged by the registration it gave the station; subclasses say
    which requests a registration status forbids (``forbids``)."""

    judges = (CSMS,)
    #: the registration status judged
    status: str = ""

    def __init__(self) -> None:
        self._registration = _Registration()

    def forbids(self, action: str | None) -> bool:
        raise NotImplementedError

    def observe(self, seen: Seen) -> Iterable[Found]:
        reg = self._registration
        reg.observe(seen, boot_from_sut=False)
        frame = seen.frame
        if (
            seen.from_sut
            and frame.type == CALL
            and reg.status == self.status
            and self.forbids(frame.action)
        ):
            yield Found(f"{frame.action} sent while the station is {self.status}", (reg.since,))


class CsmsRespectsPending(_CsmsCallsByRegistration):
    """While the station's registration is Pending the CSMS sends no RemoteStartTransaction
    or RemoteStopTransaction."""

    id = "INV-16-CSMS-PENDING"
    title = "no RemoteStart/StopTransaction to a station whose registration is Pending"
    requirement = (
        "OCPP1.6 §4.2: while in pending state, RemoteStartTransaction.req and "
        "RemoteStopTransaction.req are not allowed from the Central System"
    )
    status = "Pending"

    def forbids(self, action: str | None) -> bool:
        return action in ("RemoteStartTransaction", "RemoteStopTransaction")


class CsmsQuietWhileRejected(_CsmsCallsByRegistration):
    """While the station's registration is Rejected the CSMS initiates nothing."""

    id = "INV-16-CSMS-REJECTED"
    title = "no request to a station whose registration is Rejected"
    requirement = (
        "OCPP1.6 §4.2: while Rejected … the Central System SHOULD NOT initiate any message"
    )
    severity = WARN
    status = "Rejected"

    def forbids(self, action: str | None) -> bool:
        return True


class HeartbeatInterval(Invariant):
    """Heartbeats come no more often than the interval in force (BootNotification.conf
    interval, or an Accepted ChangeConfiguration HeartbeatInterval) allows: three heartbeats
    on one connection within one interval (two gaps each under half of it) are a warning. A
    Heartbeat a TriggerMessage asked for does not count; the count starts again on every
    (re)connection and every change of the interval."""

    id = "INV-16-HEARTBEAT"
    title = "heartbeats not much more frequent than the heartbeat interval in force"
    requirement = (
        "OCPP1.6 §4.6 / §9.1.10 HeartbeatInterval: the interval of inactivity after which the "
        "Charge Point sends a Heartbeat.req (the Central System sets it in BootNotification.conf "
        "or with ChangeConfiguration)"
    )
    severity = WARN
    #: a gap under this share of the interval is "too early"
    FRACTION = 0.5

    def __init__(self) -> None:
        self._interval: int | None = None
        self._beats: list[Frame] = []
        self._config = _ConfigWatch()
        self._triggered = False

    def observe(self, seen: Seen) -> Iterable[Found]:
        frame = seen.frame
        changed = self._config.observe(seen)
        if changed == "HeartbeatInterval":
            self._set(_int(self._config.values.get(changed)))
        if seen.opened or seen.closed:
            self._beats = []
        elif seen.is_result("BootNotification") and not seen.from_sut:
            if seen.payload.get("status") == "Accepted":
                self._set(_int(seen.payload.get("interval")))
        elif seen.is_result("TriggerMessage") and seen.from_sut and seen.call is not None:
            request = seen.call.payload if isinstance(seen.call.payload, dict) else {}
            if request.get("requestedMessage") == "Heartbeat":
                self._triggered = seen.payload.get("status") == "Accepted"
        elif seen.from_sut and seen.is_call("Heartbeat"):
            if self._triggered:
                self._triggered = False
                return
            yield from self._beat(frame)

    def _set(self, interval: int | None) -> None:
        self._interval, self._beats = interval, []

    def _beat(self, frame: Frame) -> Iterator[Found]:
        self._beats = [*self._beats[-2:], frame]
        if self._interval is None or self._interval <= 0 or len(self._beats) < 3:
            return
        bound = self.FRACTION * self._interval * self.time_scale
        first, middle, last = self._beats
        if middle.mono - first.mono < bound and last.mono - middle.mono < bound:
            yield Found(
                f"three Heartbeats within {last.mono - first.mono:.3g} s, the interval in "
                f"force being {self._interval} s ({self._interval * self.time_scale:.3g} s "
                "real)",
                (first.seq, middle.seq),
            )
            self._beats = []
