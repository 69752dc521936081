"""The negative-case generator's search: invalid frames drawn by hypothesis (from the
strategies of :mod:`pile_interop.scenario.negative`) sent one at a time as *probes*; the first
frame the SUT answers otherwise than with an allowed CALLERROR is shrunk to the smallest frame
that still shows the defect.

hypothesis searches in a thread of its own; each probe it judges is sent on the event loop
(every frame exactly as drawn, recorded in the frame log) and its answer handed back.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from hypothesis import HealthCheck, Phase, find
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import NoSuchExample
from hypothesis.strategies import SearchStrategy

from pile_interop.core.frames import CALLERROR, compact
from pile_interop.core.link import CallTimeout, Disconnected, RequestLink
from pile_interop.scenario import negative

#: Extra probes a ``negative:`` step may spend shrinking a failing frame.
SHRINK_PROBES = 30
#: Slack on top of the response bound for one probe handed across threads.
PROBE_SLACK_S = 5.0


@dataclass
class Probe:
    """One invalid frame sent by a ``negative:`` step and how it was answered."""

    payload: dict[str, Any]
    text: str
    seq: int
    answer: str
    ok: bool = False
    lost: bool = False  # no answer at all: the search ends here


@dataclass
class Search:
    """What a search found: the smallest misanswered payload (None: every frame was answered
    as required), every probe sent, and the probes that got no answer at all."""

    smallest: dict[str, Any] | None
    probes: list[Probe]
    lost: list[Probe]


async def probe(
    link: RequestLink,
    action: str,
    payload: dict[str, Any],
    allowed: frozenset[str],
    bound: float,
    text: str | None = None,
    uid: str | None = None,
) -> Probe:
    """Send ``action`` with ``payload`` (or exactly ``text``) and judge the answer: ``ok`` if it
    is a CALLERROR with one of the ``allowed`` codes, ``lost`` if none came within ``bound``."""
    uid = uid or str(uuid.uuid4())
    text = text or negative.frame_text(uid, action, payload)
    seq = link.log.last_seq + 1
    try:
        response = await link.call_raw(text, uid, timeout=bound)
    except CallTimeout:
        return Probe(payload, text, seq, f"no answer within {bound:.3g} s", lost=True)
    except Disconnected as exc:
        return Probe(payload, text, seq, f"the connection closed ({exc})", lost=True)
    if response.type == CALLERROR:
        answer = f"CALLERROR {response.error_code}"
        return Probe(payload, text, seq, answer, ok=response.error_code in allowed)
    return Probe(payload, text, seq, f"{response.type} {compact(response.payload)}")


async def search(
    link: RequestLink,
    action: str,
    strategy: SearchStrategy[dict[str, Any]],
    allowed: frozenset[str],
    bound: float,
    examples: int,
) -> Search:
    """Probe up to ``examples`` frames drawn from ``strategy`` (and up to :data:`SHRINK_PROBES`
    more to shrink a misanswered one). An exception of hypothesis itself propagates."""
    loop = asyncio.get_running_loop()
    probes: list[Probe] = []
    lost: list[Probe] = []
    judged: dict[str, bool] = {}  # a frame is sent once: hypothesis replays its verdict

    def misanswered(payload: dict[str, Any]) -> bool:
        key = json.dumps(payload, sort_keys=True)
        if key in judged:
            return judged[key]
        if lost or len(probes) >= examples + SHRINK_PROBES:
            return False  # no answer any more, or enough probes: the search ends
        future = asyncio.run_coroutine_threadsafe(
            probe(link, action, payload, allowed, bound), loop
        )
        sent = future.result(bound + PROBE_SLACK_S)
        probes.append(sent)
        if sent.lost:
            lost.append(sent)
        judged[key] = sent.lost or not sent.ok
        return judged[key]

    settings = hypothesis_settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate, Phase.shrink],
    )
    # its own thread: the default executor also serves the event loop's (and the ocpp
    # package's) blocking work, which the probes need while the search waits on them
    searcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="negative")
    try:
        smallest = await loop.run_in_executor(
            searcher, partial(find, strategy, misanswered, settings=settings)
        )
    except NoSuchExample:
        smallest = None
    finally:
        searcher.shutdown(wait=False)
    return Search(smallest, probes, lost)
