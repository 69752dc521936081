"""Mutants that accept only one of the forms the spec allows (issue 14 item 3): written per
defect class, not per case; the suite's seeded variation (``ocpp/variation.py``) meets them
with the other forms. The catalogue runs them with a fixed seed, so the catching case is fixed.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from pile_interop.ocpp.v16.reference.csms import ReferenceCsms
from pile_interop.ocpp.v16.reference.csms_link import CsmsLink
from pile_interop.ocpp.v16.reference.rpc import formation_violation
from pile_interop.ocpp.v16.reference.station import ReferenceStation
from tests.mutants.stations16 import mutant

CSMS = "ocpp16/core-csms"
PROFILES = Path(__file__).resolve().parents[2] / "profiles"


def every_case(profile: str) -> list[str]:
    """A defect of form breaks whichever case meets the form first (the seed decides): it is
    declared to break every case of its profile."""
    cases = yaml.safe_load((PROFILES / f"{profile}.yaml").read_text())["cases"]
    if isinstance(cases, dict):  # mandatory / optional
        return [case for group in cases.values() for case in group or []]
    return list(cases)


#: an RFC 3339 date-time that is not in UTC "Z" form (an offset)
_OFFSET_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")


def is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def offset_date_times(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [t for v in value.values() for t in offset_date_times(v)]
    if isinstance(value, list):
        return [t for v in value for t in offset_date_times(v)]
    return [value] if isinstance(value, str) and _OFFSET_DATE_TIME.match(value) else []


@mutant("TC_002_CS", "OCPP1.6 §4.2", *every_case("ocpp16/core-cs"), defect_class="one-form-only")
class OnlyUuidMessageIds(ReferenceStation):
    """Answers a CALL whose message id is not a UUID with a FormationViolation (OCPP-J allows
    any string of up to 36 characters)."""

    def open_link(self, ws: Any) -> Any:
        link = super().open_link(ws)
        route = link.route_message

        async def strict(raw: str) -> None:
            try:
                frame = json.loads(raw)
            except ValueError:
                frame = None
            if isinstance(frame, list) and frame[:1] == [2] and not is_uuid(frame[1]):
                await link._send(formation_violation(str(frame[1]), "message id is not a UUID"))
                return
            await route(raw)

        link.route_message = strict
        return link


def zulu_only_refusal(raw: str, error: Callable[[str, str], str]) -> str | None:
    """The CALLERROR (made by ``error(unique_id, text)``) a Z-only CSMS answers the CALL
    ``raw`` with when it carries a date-time with an offset; None otherwise."""
    try:
        frame = json.loads(raw)
    except ValueError:
        return None
    if not (isinstance(frame, list) and frame[:1] == [2] and len(frame) > 3):
        return None
    offsets = offset_date_times(frame[3])
    if not offsets:
        return None
    return error(str(frame[1]), f"date-time {offsets[0]!r} is not UTC (expected ...Z)")


class _ZuluOnlyLink(CsmsLink):
    async def route_message(self, raw_msg: str) -> None:
        refusal = zulu_only_refusal(raw_msg, formation_violation)
        if refusal is not None:
            await self._send(refusal)
            return
        await super().route_message(raw_msg)


@mutant(
    "TC_001_CSMS", "OCPP1.6 §4.9", *every_case(CSMS), profile=CSMS, defect_class="one-form-only"
)
class OnlyZuluDateTimes(ReferenceCsms):
    """Parses date-times only in the UTC ``Z`` form: a StatusNotification, StartTransaction …
    whose timestamp carries an offset (+08:00, legal RFC 3339) is answered FormationViolation."""

    def new_link(self, station_id: str, connection: Any) -> CsmsLink:
        return _ZuluOnlyLink(self, station_id, connection)


#: The idTag length of the mutants below: a buffer or a column shorter than CiString20.
SHORT_ID_TAG = 16


@mutant("TC_003_CS", "OCPP1.6 §4.1", *every_case("ocpp16/core-cs"), defect_class="one-form-only")
class TruncatesIdTags(ReferenceStation):
    """Keeps the id tag a user presents in a 16-character buffer: a 20-character idTag (the
    most CiString20 holds) reaches the Central System cut short."""

    async def authorize_id_tag(self, id_tag: str) -> Any:
        return await super().authorize_id_tag(id_tag[:SHORT_ID_TAG])

    def start_transaction_payload(self, tx: Any) -> Any:
        payload = super().start_transaction_payload(tx)
        payload.id_tag = payload.id_tag[:SHORT_ID_TAG]
        return payload


@mutant(
    "TC_003_CSMS", "OCPP1.6 §4.1", *every_case(CSMS), profile=CSMS, defect_class="one-form-only"
)
class ShortIdTagColumn(ReferenceCsms):
    """Stores id tags in a 16-character column: a 20-character tag it was given is looked up
    cut short and is unknown (Invalid)."""

    def id_tag_info(self, id_tag: str | None) -> dict[str, Any]:
        if id_tag is not None and len(id_tag) > SHORT_ID_TAG:
            return {"status": "Invalid"}
        return super().id_tag_info(id_tag)


@mutant("TC_089_CS", "OCPP1.6 §6.33", defect_class="one-form-only")
class RejectsRemoteStartWithoutConnector(ReferenceStation):
    """Answers a RemoteStartTransaction that names no connector Rejected (connectorId is
    optional: the station should choose)."""

    def remote_start_status(self, id_tag: str, connector_id: int | None) -> str:
        if connector_id is None:
            return "Rejected"
        return super().remote_start_status(id_tag, connector_id)


@mutant("TC_089_CS", "OCPP1.6 §6.33", defect_class="one-form-only")
class RemoteStartOnLastFreeConnector(ReferenceStation):
    """Without a connectorId it starts on its last free connector, not on the one the EV is
    plugged into."""

    def choose_connector(self, connector: int | None) -> Any:
        if connector is not None:
            return super().choose_connector(connector)
        free = [c for c in self._outlets() if self.is_free(c)]
        return free[-1] if free else None
