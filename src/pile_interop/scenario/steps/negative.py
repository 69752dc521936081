"""The ``negative`` step: invalid requests drawn by hypothesis (the search is
:mod:`pile_interop.scenario.negative_search`, the mutations :mod:`pile_interop.scenario.negative`)
must each be answered with an allowed CALLERROR; a frame-level defect (``unknown_action``,
``malformed_json`` …) must leave the link answering a valid request."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from pile_interop.core.frames import Frame
from pile_interop.core.link import RequestLink
from pile_interop.core.verdicts import Failure, HarnessError
from pile_interop.scenario import negative as mutations
from pile_interop.scenario.env import StepRecord
from pile_interop.scenario.model import Step
from pile_interop.scenario.negative_search import SHRINK_PROBES, probe, search
from pile_interop.scenario.steps.registry import StepContext, register, requests
from pile_interop.scenario.timing import Timing

#: The profile parameter with the number of frames a ``negative:`` step draws.
NEGATIVE_PARAM = "negative_examples"


def _budget(step: Step, timing: Timing) -> float:
    examples = step.get("examples", 10)
    per = timing.upper(step.get("timeout", "response"))
    return per * ((examples if isinstance(examples, int) else 50) + SHRINK_PROBES)


@register("negative", _budget)
async def negative(run: StepContext, step: Step, i: int, record: StepRecord) -> None:
    """Invalid CALLs drawn by hypothesis; the first one the SUT answers otherwise than with an
    allowed CALLERROR is shrunk to the smallest such frame."""
    link = requests(run.session, "a negative step")
    action, mutation = step.subject, step.data["mutation"]
    version = link.version.schema_version
    base = run.render(step.get("payload", {}))
    if mutation in mutations.RAW_MUTATIONS:
        await _raw_negative(run, link, step, record, action, mutation, base)
        return
    examples = int(run.render(step.get("examples", run.env.params.get(NEGATIVE_PARAM, 10))))
    codes = step.get("codes")
    allowed = frozenset(codes) if codes else mutations.allowed_codes(mutation, version)
    try:
        strategy = mutations.Mutator(action, version, base).strategy(mutation)
    except mutations.NoSuchMutation as exc:
        raise HarnessError(f"{step.source}: {exc}") from None
    name = step.get("timeout", "response")
    bound = run.timing.upper(name)
    shown = " or ".join(sorted(allowed))
    record.expected = f"CALLERROR {shown} within {bound:.3g} s to each of {examples} frames"
    try:
        found = await search(link, action, strategy, allowed, bound, examples)
    except Exception as exc:  # the search itself broke: not a verdict about the SUT
        raise HarnessError(f"{step.source}: the frame search failed: {exc!r}") from None
    probes, lost = found.probes, found.lost
    if lost:
        record.frames = [lost[0].seq]
        raise Failure(
            f"{action} with {mutation.replace('_', ' ')}: no CALLERROR",
            expected=f"{record.expected} ({run.timing.describe(name)})",
            observed=f"sent {lost[0].text}; {lost[0].answer}",
        )
    if found.smallest is None:
        seen = Counter(p.answer for p in probes)
        record.frames = [p.seq for p in probes[:50]]
        record.observed = f"{len(probes)} invalid frames, answered: " + ", ".join(
            f"{answer} ×{n}" for answer, n in seen.most_common(4)
        )
        return
    failing = [p for p in probes if not p.ok]
    smallest = next((p for p in reversed(failing) if p.payload == found.smallest), failing[-1])
    record.frames = [smallest.seq]
    raise Failure(
        f"{action} with {mutation.replace('_', ' ')} answered {smallest.answer} "
        f"where CALLERROR {shown} is required",
        expected=record.expected,
        observed=f"sent {smallest.text} (the smallest of {len(probes)} frames tried); "
        f"got {smallest.answer}",
    )


async def _raw_negative(
    run: StepContext,
    link: RequestLink,
    step: Step,
    record: StepRecord,
    action: str,
    mutation: str,
    base: dict[str, Any],
) -> None:
    """A frame-level defect (:data:`~pile_interop.scenario.negative.RAW_MUTATIONS`), then
    ``action`` with the valid ``base`` payload, which must still be answered."""
    name = step.get("timeout", "response")
    bound = run.timing.upper(name)
    version = link.version.schema_version
    uid = str(uuid.uuid4())
    if mutation == "unknown_action":
        allowed = mutations.allowed_codes(mutation, version)
        text = mutations.frame_text(uid, mutations.UNKNOWN_ACTION, {})
        record.expected = f"CALLERROR {' or '.join(sorted(allowed))} within {bound:.3g} s"
        unknown = await probe(link, mutations.UNKNOWN_ACTION, {}, allowed, bound, text, uid)
        record.frames = [unknown.seq]
        if not unknown.ok:
            raise Failure(
                f"an unknown action answered {unknown.answer}",
                expected=record.expected,
                observed=f"sent {text}; got {unknown.answer}",
            )
        record.observed = f"sent {text}; got {unknown.answer}"
        return
    connections = link.connections
    try:
        sent = await _send_broken(link, mutation, action, base, uid, bound)
        record.expected = (
            f"{sent.raw[:120]} survived: ignored or answered with a CALLERROR, the connection "
            f"stays open and a valid {action} is answered within {bound:.3g} s"
        )
        check = await probe(link, action, base, frozenset(), bound)
    finally:
        link.forget_error_ids()
    record.frames = [sent.seq, check.seq]
    if check.lost or check.answer.startswith("CALLERROR"):
        raise Failure(
            f"after {mutation.replace('_', ' ')} the SUT no longer answers {action}",
            expected=record.expected,
            observed=f"sent {sent.raw[:200]}; then {check.text}: {check.answer}",
        )
    if link.connections != connections:  # answered, but on a connection opened since
        raise Failure(
            f"after {mutation.replace('_', ' ')} the SUT dropped the connection",
            expected=record.expected,
            observed=f"sent {sent.raw[:200]}; the connection closed and the SUT connected "
            f"again before the valid {action} ({check.text}: {check.answer})",
        )
    record.observed = f"sent {sent.raw[:200]}; a valid {action} then got {check.answer}"


async def _send_broken(
    link: RequestLink,
    mutation: str,
    action: str,
    base: dict[str, Any],
    uid: str,
    bound: float,
) -> Frame:
    """Send the broken frame of a frame-level ``mutation``. A CALLERROR answering a CALL whose
    id is unreadable may carry that id or ``"-1"`` (:data:`~mutations.UNREADABLE_ID`)."""
    unreadable = mutations.UNREADABLE_ID
    if mutation == "malformed_json":
        text = mutations.malformed_text(uid, action, base)
        return await link.send_raw(text, error_ids=(unreadable, uid))
    if mutation == "integer_unique_id":
        text, number = mutations.integer_id_text(action, base)
        return await link.send_raw(text, error_ids=(unreadable, number, str(number)))
    if mutation == "long_unique_id":
        text, long_id = mutations.long_id_text(action, base)
        return await link.send_raw(text, error_ids=(unreadable, long_id))
    if mutation == "unknown_result_id":
        return await link.send_raw(mutations.result_text(uid))
    # duplicate_unique_id: the first CALL is answered as usual, then the same id
    first = await probe(link, action, base, frozenset(), bound, None, uid)
    if first.lost:
        raise Failure(
            f"no answer to a valid {action}",
            expected=f"a CALLRESULT within {bound:.3g} s",
            observed=f"sent {first.text}; {first.answer}",
        )
    return await link.send_raw(mutations.frame_text(uid, action, base))
