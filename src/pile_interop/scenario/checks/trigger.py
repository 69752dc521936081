"""Checks on what a request made the SUT send: a triggered message is sent when (and only
when) the SUT accepted the request (OCPP 1.6 §5.17 TriggerMessage, 2.0.1 F06)."""

from __future__ import annotations

from typing import Any

from pile_interop.core.frames import IN, is_message
from pile_interop.core.verdicts import Failure
from pile_interop.scenario.checks.registry import CheckContext, register, seq_of
from pile_interop.scenario.values import mismatches


@register(
    "sent_if_accepted",
    "{action} sent after {since} if (and only if) its answer {status} is Accepted",
)
def sent_if_accepted(case: CheckContext, args: dict[str, Any]) -> str:
    """``since``: the saved exchange of the request; ``status``: its answer's status (a
    template); ``action`` and ``match``: the message it asks for. Accepted: the SUT sent
    such a message after the request; any other answer: it sent none."""
    start = seq_of(case, args["since"])
    action, pattern = args["action"], args.get("match", {})
    sent = [
        f
        for f in case.session.log.since(start)
        if f.direction == IN and is_message(f) and f.action == action and f.seq != start
    ]
    fitting = [f for f in sent if not mismatches(pattern, f.payload)]
    status = str(args["status"])
    if status == "Accepted":
        if fitting:
            return f"{status}: #{fitting[0].seq} {fitting[0].brief()}"
        early = [
            f
            for f in case.session.log.since(case.seq0)
            if f.direction == IN and is_message(f) and f.action == action and f.seq < start
        ]
        before = f" ({action} #{early[-1].seq} came before the answer)" if early else ""
        raise Failure(
            f"the request was Accepted but no {action} matching {pattern} followed{before}",
            expected=f"{action} matching {pattern}, after the answer",
            observed="; ".join(f"#{f.seq} {f.brief()}" for f in sent[:3]) or f"no {action}",
        )
    if sent:
        raise Failure(
            f"the request was answered {status} but {action} was sent",
            expected=f"no {action} (the request was not accepted)",
            observed=f"#{sent[0].seq} {sent[0].brief()}",
        )
    return f"{status}: no {action}"
