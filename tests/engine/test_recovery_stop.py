"""The recovery's stop of a transaction left open: Rejected is a warning, unless the station
had already ended the transaction by itself while the stop was on its way."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from pile_interop.core.frames import CALLRESULT, IN, Frame
from pile_interop.core.verdicts import Verdict
from pile_interop.ocpp.station_recovery import StationRecovery


class _Record(SimpleNamespace):
    pass


def _answer(value: bool):  # type: ignore[no-untyped-def]
    async def moot() -> bool:
        return value

    return moot


def _recovery(status: str) -> tuple[StationRecovery, list[_Record]]:
    records: list[_Record] = []

    async def call(action: str, payload: dict[str, Any], timeout: float) -> Frame:
        return Frame(7, IN, "", type=CALLRESULT, payload={"status": status})

    def new_record(phase: str, kind: str, title: str) -> _Record:
        records.append(_Record(title=title, t_start=0.0, verdict="", observed=""))
        return records[-1]

    run = SimpleNamespace(
        scenario=SimpleNamespace(before=SimpleNamespace(state="booted")),
        session=SimpleNamespace(call=call),
        timing=SimpleNamespace(upper=lambda name: 1.0),
        new_record=new_record,
        _t=lambda: 0.0,
    )
    role = SimpleNamespace(responder=SimpleNamespace(state=None, changed=None))
    return StationRecovery(role, run), records  # type: ignore[arg-type]


def test_a_refused_stop_is_a_warning_while_the_transaction_is_open():
    recovery, records = _recovery("Rejected")
    text = asyncio.run(recovery._call("stop", "RequestStopTransaction", {}, moot=_answer(False)))
    assert text == "Rejected"
    assert records[0].verdict == Verdict.WARN.value


def test_a_refused_stop_of_a_transaction_already_ended_is_no_warning():
    recovery, records = _recovery("Rejected")
    text = asyncio.run(recovery._call("stop", "RequestStopTransaction", {}, moot=_answer(True)))
    assert text == "Rejected"
    assert records[0].verdict == Verdict.PASS.value
    assert "already come about" in records[0].observed


def test_an_accepted_stop_passes_without_asking():
    recovery, records = _recovery("Accepted")
    asked: list[bool] = []

    async def ended() -> bool:
        asked.append(True)
        return True

    asyncio.run(
        recovery._call(
            "stop", "RequestStopTransaction", {}, moot=lambda: asked.append(True) or True
        )
    )
    assert records[0].verdict == Verdict.PASS.value and not asked
