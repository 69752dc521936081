"""The raw-frame session: every frame recorded, nothing swallowed.

A :class:`Session` is the suite's end of one OCPP link (one station identity). It outlives
single WebSocket connections: when the SUT reconnects (after a reset, a power cycle, a network
loss) the same session goes on, so a case can await a BootNotification across the reconnect and
the frame log shows the connection events in between.

What it does for a case:

* **Await a CALL** by action and payload predicate (:meth:`arm` returns an
  :class:`Expectation`). Expectations are armed *before* the stimulus, so a frame that arrives
  while a manual action is still being performed is answered at once with the expectation's reply.
* **Answer** with a CALLRESULT or a CALLERROR (or any raw text).
* **Send a CALL** and await its CALLRESULT or CALLERROR (:meth:`call` returns the response frame,
  a CALLERROR is never turned into ``None``).
* **Send a raw frame** (:meth:`send_raw`), for negative tests.

CALLs nobody awaits are answered by the version's default :class:`Responder` (a mock CSMS or a
mock station). Every inbound frame is checked against the OCPP JSON schemas of the ``ocpp``
package; problems (schema violations, a response with a unique id the suite never sent, a
malformed frame, an undefined CALLERROR code) are attached to the frame as *findings*, never
raised. An answer to a CALL the suite stopped waiting for is no finding: it is a *late answer*
(:meth:`Session.take_late_answers`) of the case that sent the CALL (:attr:`Session.case_tag`),
and a note on the frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

from ocpp.messages import Call, CallError, CallResult, MessageType
from websockets.asyncio.connection import Connection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from pile_interop.core.churn import Churn

# the link-level errors and answers are the runner's (core.link); importable from here too
from pile_interop.core.link import (
    CallTimeout,
    Disconnected,
    Exchange,
    Expectation,
    Expectations,
    LateAnswer,
    Predicate,
    Reply,
    ReplyFn,
)
from pile_interop.ocpp import schemas
from pile_interop.ocpp.closes import how_closed
from pile_interop.ocpp.frames import CALL, CALLERROR, CALLRESULT, IN, OUT, Frame, FrameLog, parse
from pile_interop.ocpp.versions import OcppVersion

log = logging.getLogger(__name__)

#: Bound on one ``send`` when the peer stops reading (its TCP window full).
SEND_TIMEOUT_S = 10.0
#: Frames one case keeps in its log (a flooding SUT's further frames are counted, not kept;
#: a campaign empties the log after each case).
MAX_FRAMES_PER_CASE = 10_000
#: How many timed-out unique ids are remembered, to tell a late response from an unknown one.
_LATE_MEMORY = 256


class Responder(Protocol):
    """The default behaviour of the side the suite plays (e.g. a CSMS that accepts everything)."""

    def reply(self, call: Frame) -> Reply:
        """The answer to a CALL no expectation claimed."""
        ...

    def observe(self, call: Frame, reply: Frame | None) -> None:
        """Track state after any exchange the SUT started, whoever answered it."""
        ...

    def observe_response(self, call: Frame, response: Frame) -> None:
        """Track state after a CALL the suite sent was answered."""
        ...

    def connection_opened(self) -> None:
        """A new connection is open (e.g. a rebooted station may be about to boot)."""
        ...

    def connection_lost(self) -> None:
        """The connection closed (e.g. forget the registration status)."""
        ...


@dataclass
class _Pending:
    call: Frame
    #: the case that sent the CALL (:attr:`Session.case_tag` then)
    tag: str = ""
    future: asyncio.Future[Frame] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    #: how long the suite waited before it gave up (a late answer says so)
    waited: float = 0.0


#: What OCPP-J says about the unique id of an answer (the "message ID" of the RPC framework).
UNIQUE_ID_RULE = {
    "1.6": "OCPP-J 1.6 §4.1.3",
    "2.0.1": "OCPP-J 2.0.1 §4.1",
    "2.1": "OCPP-J 2.1 §4.1",
}
_UNIQUE_ID_TEXT = (
    "a message ID for a CALLRESULT or CALLERROR message MUST be equal to that of the CALL "
    "message that the CALLRESULT or CALLERROR message is a response to"
)


class Session:
    """One OCPP link to the SUT, across reconnects."""

    def __init__(
        self,
        version: OcppVersion,
        responder: Responder,
        *,
        name: str = "SUT",
        frame_log: FrameLog | None = None,
        check_schemas: bool = True,
        send_timeout: float = SEND_TIMEOUT_S,
    ) -> None:
        self.version = version
        self.responder = responder
        self.name = name
        self.log = frame_log or FrameLog(max_frames=MAX_FRAMES_PER_CASE)
        self.check_schemas = check_schemas
        self.send_timeout = send_timeout
        self.connected = asyncio.Event()
        self.connections = 0
        #: connections opened and closed in the current case (a reconnect storm)
        self.churn = Churn()
        self._disconnected = asyncio.Event()
        self._disconnected.set()
        self._connection: Connection | None = None
        self._expectations = Expectations()
        self._pending: dict[str, _Pending] = {}
        self._late: OrderedDict[str, _Pending] = OrderedDict()
        #: the case whose CALLs go out now (the runner sets it): a late answer belongs to it
        self.case_tag = ""
        #: late answers not yet taken by a case (:meth:`take_late_answers`)
        self._late_answers: list[LateAnswer] = []
        #: unique ids (JSON values) a CALLERROR answering a broken raw frame may carry
        self._error_ids: list[tuple[object, Frame]] = []
        #: how the last connection ended (the event's text), for "not connected" reasons
        self.last_closed = ""
        #: its close code and reason alone ("code 1000, 'bye'"), for attempt records
        self.last_close_detail = ""
        self.listeners: list[Callable[[Frame], None]] = []
        #: makes the message id of a CALL the suite sends (a campaign varies the forms)
        self.message_id: Callable[[], str] = lambda: str(uuid.uuid4())

    # -- connection ---------------------------------------------------------------------

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol agreed on the open connection (None: none open, or none agreed)."""
        return self._connection.subprotocol if self._connection is not None else None

    async def wait_connected(self, timeout: float) -> None:
        """Wait until a connection is open; :class:`TimeoutError` after ``timeout`` s."""
        await asyncio.wait_for(self.connected.wait(), timeout)

    async def wait_disconnected(self, timeout: float) -> None:
        await asyncio.wait_for(self._disconnected.wait(), timeout)

    async def serve(self, connection: Connection, description: str) -> None:
        """Run the session on ``connection`` until it closes. Replaces an older connection."""
        old = self._connection
        self._connection = connection
        self.connections += 1
        opened = self.churn.opened()
        self._disconnected.clear()
        self.connected.set()
        self.responder.connection_opened()
        if old is not None:
            self._event(f"a new connection replaces the open one ({description})")
            self.responder.connection_lost()
            await self._close(old, 1000, "replaced by a new connection")
        self._event(f"connected: {description}")
        try:
            async for raw in connection:
                await self._receive(raw)
        except (ConnectionClosed, Disconnected):  # closed under us, e.g. while answering
            # read on, unrecorded, while the connection closes: a SUT that floods the suite
            # would otherwise keep its close frame queued behind unread frames until the
            # close timeout (websockets' ``close_timeout`` bounds this)
            with contextlib.suppress(ConnectionClosed):
                async for _raw in connection:
                    pass
        finally:
            self._lost(connection, opened)

    def _lost(self, connection: Connection, opened: float) -> None:
        self.churn.closed(opened)
        by, detail = how_closed(connection)
        self.last_closed = f"connection closed{by} ({detail})"
        self.last_close_detail = detail
        self._event(self.last_closed)
        if self._connection is connection:
            self._connection = None
            self.connected.clear()
            self._disconnected.set()
            self.responder.connection_lost()
            for uid, pending in list(self._pending.items()):
                if not pending.future.done():
                    pending.future.set_exception(
                        Disconnected(
                            f"connection closed while awaiting the response to "
                            f"{pending.call.action} ({uid}){by}: {detail}"
                        )
                    )
                    # the caller may be gone already (its send failed): no "never retrieved"
                    pending.future.exception()
                # an answer on the next connection is late, not an id the suite never sent
                self._remember_late(uid, pending)
            self._pending.clear()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the current connection (if any) from the suite's side."""
        if self._connection is not None:
            await self._close(self._connection, code, reason)

    async def _close(self, connection: Connection, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(connection.close(code, reason), self.send_timeout)

    def _event(self, text: str) -> Frame:
        frame = self.log.event(text)
        log.debug("%s: %s", self.name, text)
        self._notify(frame)
        return frame

    def _notify(self, frame: Frame) -> None:
        for listener in self.listeners:
            listener(frame)

    # -- expectations -------------------------------------------------------------------

    def arm(
        self,
        action: str,
        predicate: Predicate | None = None,
        reply: ReplyFn | None = None,
        label: str = "",
        on_claim: Callable[[Exchange], None] | None = None,
    ) -> Expectation:
        """Wait for a CALL ``action`` matching ``predicate``; answer it with ``reply``."""
        return self._expectations.arm(action, predicate, reply, label, on_claim)

    def disarm(self, expectation: Expectation) -> None:
        self._expectations.disarm(expectation)

    # -- inbound ------------------------------------------------------------------------

    async def _receive(self, raw: str | bytes) -> None:
        kind, uid, action, payload, code, desc, problem = parse(raw)
        text = raw if isinstance(raw, str) else raw.decode("utf-8", "backslashreplace")
        frame = self.log.add(
            IN,
            text,
            type=kind,
            unique_id=uid,
            action=action,
            payload=payload,
            error_code=code,
            error_description=desc,
        )
        if kind in (CALLRESULT, CALLERROR) and self._answers_broken_frame(frame):
            self._notify(frame)
            return
        if problem:
            frame.findings.append(f"frame: {problem}")
        if kind == CALL:
            await self._on_call(frame, problem)
        elif kind in (CALLRESULT, CALLERROR) and uid is not None:
            self._on_response(frame)
        self._notify(frame)

    async def _on_call(self, frame: Frame, problem: str) -> None:
        if problem:
            if frame.unique_id is not None:  # answerable: say what is wrong with it
                await self._answer(frame, Reply.call_error(self._code_for(problem), problem))
            return
        assert frame.action is not None
        if self.check_schemas:
            frame.findings.extend(
                schemas.violations(
                    MessageType.Call, frame.action, frame.payload, self.version.schema_version
                )
            )
        expectation = self._expectations.take(frame)
        reply_fn = expectation.reply if expectation and expectation.reply else None
        try:
            # an expectation's reply may return None: "answer as the default responder would"
            reply = (reply_fn(frame) if reply_fn else None) or self.responder.reply(frame)
        except Exception as exc:  # a broken reply template: the case errors, the SUT gets an answer
            log.debug("reply to %s failed", frame.action, exc_info=True)
            reply = Reply.call_error("InternalError", "test harness could not build the reply")
            reply_frame = await self._answer(frame, reply)
            if expectation is not None:
                expectation.future.set_exception(exc)
            return
        reply_frame = await self._answer(frame, reply)
        self.responder.observe(frame, reply_frame)
        if expectation is not None:
            expectation.claim(Exchange(frame, reply_frame))

    def _code_for(self, problem: str) -> str:
        return self.version.format_violation if "JSON" in problem else "ProtocolError"

    async def _answer(self, call: Frame, reply: Reply) -> Frame | None:
        if reply.silent:
            return None
        assert call.unique_id is not None
        if reply.raw is not None:
            text = reply.raw
            kind, payload, code = "RAW", None, None
        elif reply.error is not None:
            code, description, details = reply.error
            text = CallError(call.unique_id, code, description, details).to_json()
            kind, payload = CALLERROR, details
        else:
            payload = reply.payload or {}
            text = CallResult(call.unique_id, payload).to_json()
            kind, code = CALLRESULT, None
        frame = self.log.add(
            OUT,
            text,
            type=kind if kind != "RAW" else parse(text)[0],
            unique_id=call.unique_id,
            action=call.action,
            payload=payload,
            error_code=code,
        )
        if kind == CALLRESULT and self.check_schemas and call.action:
            frame.findings.extend(
                f"suite {v}"
                for v in schemas.violations(
                    MessageType.CallResult, call.action, payload, self.version.schema_version
                )
            )
        await self._send(text)
        self._notify(frame)
        return frame

    def _on_response(self, frame: Frame) -> None:
        assert frame.unique_id is not None
        pending = self._pending.pop(frame.unique_id, None)
        if pending is None:
            late = self._late.get(frame.unique_id)
            if late is not None:
                self._on_late(frame, late)
            else:
                rule = UNIQUE_ID_RULE.get(self.version.name, "OCPP-J §4.1")
                frame.findings.append(
                    f"{frame.type} with unique id {frame.unique_id!r} that the suite never "
                    f"sent: no CALL with that id is outstanding or was awaited ({rule}: "
                    f"{_UNIQUE_ID_TEXT})"
                )
            return
        frame.action = pending.call.action
        if frame.type == CALLRESULT and self.check_schemas and frame.action:
            frame.findings.extend(
                schemas.violations(
                    MessageType.CallResult,
                    frame.action,
                    frame.payload,
                    self.version.schema_version,
                )
            )
        elif frame.type == CALLERROR and frame.error_code not in self.version.error_codes:
            frame.findings.append(
                f"CALLERROR code {frame.error_code!r} is not defined by OCPP {self.version.name}"
            )
        self.responder.observe_response(pending.call, frame)
        if not pending.future.done():
            pending.future.set_result(frame)

    def _on_late(self, frame: Frame, late: _Pending) -> None:
        """An answer to a CALL the suite stopped waiting for: recorded for the case that sent
        the CALL (:meth:`take_late_answers`) and noted on the frame, never a finding (it must
        not fail the case running now)."""
        call = late.call
        frame.action = call.action
        answer = LateAnswer(
            case=late.tag,
            action=call.action or "?",
            unique_id=frame.unique_id or "",
            type=frame.type,
            delay_s=frame.mono - call.mono,
            waited_s=late.waited,
            call_seq=call.seq,
            seq=frame.seq,
            time=frame.wall,
        )
        sender = f"case {late.tag}" if late.tag else "no case"
        frame.notes.append(f"{answer.text()}; belongs to {sender} (frame #{call.seq})")
        self._late_answers.append(answer)

    def take_late_answers(self) -> list[LateAnswer]:
        """The late answers recorded since the last call (each returned once)."""
        taken, self._late_answers = self._late_answers, []
        return taken

    # -- outbound -----------------------------------------------------------------------

    async def call(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        timeout: float,
        unique_id: str | None = None,
        check_schema: bool = True,
    ) -> Frame:
        """Send a CALL and return the CALLRESULT or CALLERROR frame that answers it.

        Raises :class:`ValueError` if our own payload breaks the schema (a broken case),
        :class:`Disconnected` if there is no connection or it closes, :class:`CallTimeout`.
        """
        if check_schema and self.check_schemas:
            problems = schemas.violations(
                MessageType.Call, action, payload, self.version.schema_version
            )
            if problems:
                raise ValueError("; ".join(problems))
        uid = unique_id or self.message_id()
        text = Call(uid, action, payload).to_json()
        if self._connection is None:
            raise Disconnected(f"not connected{self._why_not()}: cannot send {action}")
        frame = self.log.add(OUT, text, type=CALL, unique_id=uid, action=action, payload=payload)
        pending = _Pending(frame, self.case_tag)
        self._pending[uid] = pending
        self._notify(frame)
        try:
            await self._send(text)
        except BaseException:
            pending.future.cancel()
            raise
        return await self._response_to(pending, timeout)

    async def _response_to(self, pending: _Pending, timeout: float) -> Frame:
        """The CALLRESULT or CALLERROR answering ``pending`` within ``timeout`` s."""
        frame = pending.call
        uid = frame.unique_id or ""
        try:
            return await asyncio.wait_for(asyncio.shield(pending.future), timeout)
        except TimeoutError:
            self._pending.pop(uid, None)
            pending.waited = timeout
            self._remember_late(uid, pending)
            raise CallTimeout(
                f"no CALLRESULT or CALLERROR for {frame.action} ({uid}) within {timeout:.3g} s"
                f"{self._meanwhile(frame.seq)}"
            ) from None
        finally:
            if not pending.future.done():
                pending.future.cancel()

    def _why_not(self) -> str:
        """`` (connection closed by the SUT (code 1011, 'go away'))`` or nothing; during a
        reconnect storm, the storm too."""
        said = [text for text in (self.last_closed, self.churn.storm()) if text]
        return f" ({'; '.join(said)})" if said else ""

    def _meanwhile(self, seq: int) -> str:
        """What the SUT sent after frame ``seq`` instead of the awaited response."""
        came = Counter(
            f.action if f.type == CALL and f.action else f.type
            for f in self.log.since(seq)
            if f.direction == IN
        )
        if not came:
            return "; nothing came from the SUT meanwhile"
        listed = ", ".join(f"{what} ×{n}" for what, n in came.most_common(5))
        more = f" and {len(came) - 5} more kinds" if len(came) > 5 else ""
        # the near misses: answers that came, but with another unique id
        answers = [f for f in self.log.since(seq) if f.type in (CALLRESULT, CALLERROR)]
        answers = [f for f in answers if f.direction == IN]
        misses = ", ".join(
            f"{f.type} #{f.seq} with unique id {f.unique_id!r}"
            + (f" (answers {f.action})" if f.action else "")
            for f in answers[:3]
        )
        if len(answers) > 3:
            misses += f" and {len(answers) - 3} more"
        other = f"; answers with another unique id: {misses}" if answers else ""
        return f"; the SUT sent meanwhile: {listed}{more}{other}"

    def _remember_late(self, uid: str, pending: _Pending) -> None:
        """A CALL we stopped waiting for: its response is then "late", not "unknown"."""
        self._late[uid] = pending
        while len(self._late) > _LATE_MEMORY:
            self._late.popitem(last=False)

    async def call_raw(self, text: str, unique_id: str, *, timeout: float) -> Frame:
        """Send exactly ``text`` (a CALL with ``unique_id``, deliberately broken for a negative
        test) and return the CALLRESULT or CALLERROR that answers it; :class:`CallTimeout`,
        :class:`Disconnected` as :meth:`call`."""
        await self.send_raw(text)
        pending = self._pending.get(unique_id)
        if pending is None:  # not a CALL we can await: the frame is recorded, nothing to wait for
            raise ValueError(f"not a CALL with unique id {unique_id!r}: {text[:80]}")
        return await self._response_to(pending, timeout)

    def _answers_broken_frame(self, frame: Frame) -> bool:
        """Whether ``frame`` answers a broken frame of ours (and then name its action): a
        CALLERROR carrying a unique id :meth:`send_raw` allowed, or a CALLRESULT echoing the
        broken CALL's own id (a receiver may process a CALL whose id breaks OCPP-J's rule for
        the *sender*; its answer must carry that id, so the id's defect is ours, not a
        finding)."""
        if not self._error_ids:
            return False
        try:
            uid = json.loads(frame.raw)[1]
        except (ValueError, TypeError, IndexError, KeyError):
            return False
        for allowed, sent in self._error_ids:
            if type(uid) is not type(allowed) or uid != allowed:
                continue
            if frame.type == CALLRESULT and not _is_id_of(uid, sent):
                continue
            frame.action = sent.action
            return True
        return False

    def forget_error_ids(self) -> None:
        self._error_ids.clear()

    async def send_raw(self, text: str, *, error_ids: Collection[object] = ()) -> Frame:
        """Send exactly ``text`` (negative tests); it is recorded like any frame. A CALLERROR
        carrying one of ``error_ids`` answers it (no finding) until :meth:`forget_error_ids`."""
        if self._connection is None:
            raise Disconnected(f"not connected{self._why_not()}: cannot send a raw frame")
        kind, uid, action, payload, code, _desc, _problem = parse(text)
        frame = self.log.add(
            OUT, text, type=kind, unique_id=uid, action=action, payload=payload, error_code=code
        )
        if kind == CALL and uid is not None:
            self._pending[uid] = _Pending(frame, self.case_tag)
        self._error_ids.extend((allowed, frame) for allowed in error_ids)
        self._notify(frame)
        await self._send(text)
        return frame

    async def _send(self, text: str) -> None:
        connection = self._connection
        if connection is None:
            raise Disconnected("not connected")
        if connection.protocol.state is not State.OPEN:
            # websockets' send() on a closing connection waits for the close to finish: the
            # receive loop would stop reading and the SUT's close frame would never get in
            raise Disconnected("the connection is closing")
        try:
            # asyncio.timeout, not wait_for: send() must start now, while the state is OPEN
            # (wait_for runs it in a new task, after a close may have begun)
            async with asyncio.timeout(self.send_timeout):
                await connection.send(text)
        except ConnectionClosed as exc:
            raise Disconnected(f"connection closed while sending: {exc}") from None
        except TimeoutError:
            await self._close(connection, 1011, "peer does not read")
            raise Disconnected(
                f"the SUT did not read for {self.send_timeout:.3g} s; closed the connection"
            ) from None


def _is_id_of(uid: object, sent: Frame) -> bool:
    """Whether ``uid`` is, exactly, the unique id written in the raw CALL ``sent``."""
    try:
        frame = json.loads(sent.raw)
    except (ValueError, TypeError):
        return False
    return (
        isinstance(frame, list)
        and len(frame) > 1
        and type(frame[1]) is type(uid)
        and frame[1] == uid
    )
