"""OCPP 2.0.1 run-wide invariants of registration and heartbeats (see
:mod:`pile_interop.ocpp.invariants`): what a station may send while its BootNotification is
Pending or Rejected, what a CSMS may send to a station it holds Pending or Rejected, and how
often a station sends heartbeats.

The registration state is the status of the last BootNotificationResponse of the run; it
outlives a plain reconnect (a station registered Accepted resumes without booting, B04; one
still Pending or Rejected boots again first). Before the run's first BootNotification the
state is unknown and nothing is judged (a real station may have registered before the run).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pile_interop.ocpp.frames import CALLRESULT, IN, OUT
from pile_interop.ocpp.invariants import CS, CSMS, WARN, Found, Invariant, Seen

ACCEPTED, PENDING, REJECTED = "Accepted", "Pending", "Rejected"

#: TriggerMessageRequest.requestedMessage → the CALL it asks for.
TRIGGERED: dict[str, str] = {
    "BootNotification": "BootNotification",
    "LogStatusNotification": "LogStatusNotification",
    "FirmwareStatusNotification": "FirmwareStatusNotification",
    "Heartbeat": "Heartbeat",
    "MeterValues": "MeterValues",
    "SignChargingStationCertificate": "SignCertificate",
    "SignV2GCertificate": "SignCertificate",
    "SignCombinedCertificate": "SignCertificate",
    "StatusNotification": "StatusNotification",
    "TransactionEvent": "TransactionEvent",
    "PublishFirmwareStatusNotification": "PublishFirmwareStatusNotification",
}
#: A CSMS request → the CALLs of the station it asks for (B02.FR.09 names the reports of
#: GetBaseReport / GetReport; the others are allowed too: the CSMS asked).
ASKED: dict[str, tuple[str, ...]] = {
    "GetBaseReport": ("NotifyReport",),
    "GetReport": ("NotifyReport",),
    "GetMonitoringReport": ("NotifyMonitoringReport",),
    "CustomerInformation": ("NotifyCustomerInformation",),
    "GetLog": ("LogStatusNotification",),
    "UpdateFirmware": ("FirmwareStatusNotification",),
    "PublishFirmware": ("PublishFirmwareStatusNotification",),
}


def boot_status(seen: Seen) -> str | None:
    """The status a BootNotificationResponse in this frame gives, if it is one."""
    if seen.frame.type != CALLRESULT or seen.action != "BootNotification":
        return None
    status = seen.payload.get("status")
    return status if isinstance(status, str) else None


class NothingBeforeRegistration(Invariant):
    """While Pending the station sends only BootNotification and what the CSMS asked for; while
    Rejected only BootNotification. Its answers to the CSMS's requests are not judged here."""

    id = "INV-201-REGISTRATION"
    title = "until Accepted: no request but BootNotification (and, while Pending, what was asked)"
    requirement = (
        "OCPP 2.0.1 B02.FR.02 / B02.FR.09: while Pending the Charging Station sends no CALL "
        "other than BootNotificationRequest or one triggered by TriggerMessageRequest, "
        "GetBaseReportRequest or GetReportRequest; B03.FR.02: while Rejected it SHALL NOT send "
        "any OCPP message (but a BootNotificationRequest) until the retry interval expired"
    )
    judges = (CS,)

    def __init__(self) -> None:
        self.status: str | None = None
        #: what the CSMS asked for while not Accepted
        self.asked: set[str] = set()
        self.since = 0  # the frame of the answer that set the status

    def observe(self, seen: Seen) -> Iterable[Found]:
        frame = seen.frame
        status = boot_status(seen) if frame.direction == OUT else None
        if status is not None:
            self.status, self.since = status, frame.seq
            self.asked.clear()
            return
        if frame.direction == OUT and frame.type == "CALL":
            self._asked(seen)
            return
        if not seen.from_sut or frame.type != "CALL" or self.status in (None, ACCEPTED):
            return
        action = frame.action or ""
        if action == "BootNotification":
            return
        if self.status == PENDING and action in self.asked:
            return
        yield Found(
            f"{action} sent while the registration is {self.status} (BootNotificationResponse "
            f"frame #{self.since})"
            + ("" if self.status != PENDING else "; the CSMS did not ask for it"),
            (self.since,),
        )

    def _asked(self, seen: Seen) -> None:
        action = seen.frame.action or ""
        if action == "TriggerMessage":
            wanted = TRIGGERED.get(str(seen.payload.get("requestedMessage")))
            if wanted is not None:
                self.asked.add(wanted)
        self.asked.update(ASKED.get(action, ()))


class CsmsPendingNoTransactionRequests(Invariant):
    """A CSMS that answered Pending does not ask the station to start or stop a transaction."""

    id = "INV-201-CSMS-PENDING"
    title = "no RequestStartTransaction / RequestStopTransaction to a station held Pending"
    requirement = (
        "OCPP 2.0.1 B02: while Pending the CSMS may only retrieve information or change the "
        "configuration (B02.FR.01); RequestStartTransactionRequest and "
        "RequestStopTransactionRequest are not allowed (the station rejects them, B02.FR.05)"
    )
    judges = (CSMS,)
    #: what the CSMS may not send while the station is Pending
    FORBIDDEN = frozenset({"RequestStartTransaction", "RequestStopTransaction"})

    def __init__(self) -> None:
        self.status: str | None = None
        self.since = 0

    def observe(self, seen: Seen) -> Iterable[Found]:
        frame = seen.frame
        if seen.opened:
            self.status = None  # judged on the connection the answer was given on
            return
        status = boot_status(seen) if frame.direction == IN else None
        if status is not None:
            self.status, self.since = status, frame.seq
            return
        if not seen.from_sut or frame.type != "CALL" or not self.forbidden(seen):
            return
        yield Found(
            f"the CSMS sent {frame.action} to a station whose registration it answered "
            f"{self.status} (frame #{self.since})",
            (self.since,),
        )

    def forbidden(self, seen: Seen) -> bool:
        return self.status == PENDING and seen.frame.action in self.FORBIDDEN


class CsmsRejectedSilent(CsmsPendingNoTransactionRequests):
    """A CSMS that answered Rejected initiates nothing on that connection but a
    TriggerMessage for a BootNotification."""

    id = "INV-201-CSMS-REJECTED"
    title = "no request to a station whose BootNotification was Rejected"
    requirement = (
        "OCPP 2.0.1 B03: while the registration is Rejected the CSMS does not initiate "
        "messages (the station answers them with a SecurityError CALLERROR, B03.FR.08)"
    )
    severity = WARN

    def forbidden(self, seen: Seen) -> bool:
        if self.status != REJECTED:
            return False
        trigger = seen.is_call("TriggerMessage")
        return not (trigger and seen.payload.get("requestedMessage") == "BootNotification")


#: A heartbeat closer than this share of the interval to the previous one is too early.
HEARTBEAT_EARLY_SHARE = 0.5
#: A heartbeat sent within this share of the interval after the answer to the previous one
#: was waiting in the station's queue (a burst of queued messages, not its timer): not judged.
HEARTBEAT_QUEUED_SHARE = 0.05


def _heartbeat_interval(seen: Seen) -> int | None:
    """The heartbeat interval (protocol s) an answer puts in force: an Accepted
    BootNotificationResponse, or a SetVariables answer Accepting OCPPCommCtrlr.HeartbeatInterval."""
    if seen.frame.type != CALLRESULT:
        return None
    payload = seen.payload
    if seen.action == "BootNotification" and payload.get("status") == ACCEPTED:
        interval = payload.get("interval")
        return interval if isinstance(interval, int) else None
    if seen.action != "SetVariables" or seen.call is None:
        return None
    wanted = _asked_interval(seen.call.payload if isinstance(seen.call.payload, dict) else {})
    if wanted is None:
        return None
    for result in payload.get("setVariableResult") or []:
        if _is_heartbeat_interval(result) and result.get("attributeStatus") == ACCEPTED:
            return wanted
    return None


def _is_heartbeat_interval(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    component = (item.get("component") or {}).get("name")
    variable = (item.get("variable") or {}).get("name")
    kind = item.get("attributeType", "Actual")
    return component == "OCPPCommCtrlr" and variable == "HeartbeatInterval" and kind == "Actual"


def _asked_interval(request: dict[str, Any]) -> int | None:
    for item in request.get("setVariableData") or []:
        if _is_heartbeat_interval(item):
            try:
                return int(str(item.get("attributeValue")))
            except ValueError:
                return None
    return None


class HeartbeatNotTooOften(Invariant):
    """Two heartbeats in a row on one connection are not much closer than the interval in force.

    Not measured: across a new connection, a boot or an interval change (the station restarts
    its timer); from or to a heartbeat a TriggerMessage asked for; from a heartbeat that got no
    CALLRESULT (a station may retry it); from or to a heartbeat sent at once after the answer to
    the previous one (queued heartbeats going out in a burst, e.g. after the queue was held)."""

    id = "INV-201-HEARTBEAT"
    title = "heartbeats are not sent much more often than the heartbeat interval in force"
    requirement = (
        "OCPP 2.0.1 B01.FR.04 / G02 and OCPPCommCtrlr.HeartbeatInterval: the Charging Station "
        "sends a HeartbeatRequest every interval (from the BootNotificationResponse or as set)"
    )
    severity = WARN
    judges = (CS,)

    def __init__(self) -> None:
        self.interval: int | None = None
        #: the last answered, untriggered heartbeat (its frame, real monotonic time)
        self.last: tuple[int, float] | None = None
        self.pending: tuple[int, float] | None = None
        #: when the last heartbeat was answered (real monotonic time)
        self.answered: float | None = None
        self.triggered = False

    def observe(self, seen: Seen) -> Iterable[Found]:
        frame = seen.frame
        if seen.opened or seen.closed:
            self.last = self.pending = None
            return
        interval = _heartbeat_interval(seen)
        if interval is not None or (seen.from_sut and seen.is_call("BootNotification")):
            self.interval = interval if interval is not None else self.interval
            self.last = self.pending = None
            return
        if frame.direction == OUT and seen.is_call("TriggerMessage"):
            self.triggered = self.triggered or seen.payload.get("requestedMessage") == "Heartbeat"
            return
        if frame.direction == OUT and frame.type == CALLRESULT and seen.action == "Heartbeat":
            self.last, self.pending, self.answered = self.pending, None, frame.mono
            return
        if not (seen.from_sut and seen.is_call("Heartbeat")):
            return
        if self.triggered:
            self.triggered = False
            self.last = self.pending = None
            return
        previous, self.pending, self.last = self.last, (frame.seq, frame.mono), None
        if previous is None or not self.interval or self.interval <= 0:
            return
        real = self.interval * self.time_scale
        answered, self.answered = self.answered, None
        if answered is not None and frame.mono - answered < HEARTBEAT_QUEUED_SHARE * real:
            self.pending = None  # a burst from the queue: measure again from the next one
            return
        gap = frame.mono - previous[1]
        if gap < HEARTBEAT_EARLY_SHARE * real:
            yield Found(
                f"Heartbeat {gap:.3g} s after the one of frame #{previous[0]}; the interval in "
                f"force is {self.interval} s (× time scale {self.time_scale:g} = "
                f"{self.interval * self.time_scale:.3g} s real)",
                (previous[0],),
            )


#: The registration and heartbeat invariants, in the order the report lists them.
LINK_INVARIANTS: list[type[Invariant]] = [
    NothingBeforeRegistration,
    CsmsPendingNoTransactionRequests,
    CsmsRejectedSilent,
    HeartbeatNotTooOften,
]
