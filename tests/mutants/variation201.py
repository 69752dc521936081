"""OCPP 2.0.1 mutants that accept only one of the forms the spec allows (issue 14 item 3),
written per defect class, not per case."""

from __future__ import annotations

import json
from typing import Any

from pile_interop.ocpp.v201.reference.csms import ReferenceCsms
from pile_interop.ocpp.v201.reference.csms_link import CsmsLink
from pile_interop.ocpp.v201.reference.station_tx import Evses
from tests.mutants.stations16 import mutant
from tests.mutants.stations201_tx import evses_mutant
from tests.mutants.variation16 import every_case, zulu_only_refusal

CSMS = "ocpp201/core-csms"


@evses_mutant(
    "TC_F_91_CS", "OCPP2.0.1 RequestStartTransactionRequest.evseId", defect_class="one-form-only"
)
class RejectsRequestStartWithoutEvse(Evses):
    """Answers a RequestStartTransaction that names no EVSE Rejected (evseId is optional: the
    station should choose)."""

    def remote_start_decision(self, req: Any) -> tuple[str, Any]:
        if req.evse_id is None:
            return "Rejected", None
        return super().remote_start_decision(req)


def _format_violation(unique_id: str, text: str) -> str:
    return json.dumps([4, unique_id, "FormatViolation", text, {}])


class _ZuluOnlyLink(CsmsLink):
    async def route_message(self, raw_msg: str) -> None:
        refusal = zulu_only_refusal(raw_msg, _format_violation)
        if refusal is not None:
            await self._send(refusal)
            return
        await super().route_message(raw_msg)


@mutant(
    "TC_B_01_CSMS",
    "OCPP2.0.1 G01",
    *every_case(CSMS),
    profile=CSMS,
    defect_class="one-form-only",
)
class OnlyZuluDateTimes201(ReferenceCsms):
    """Parses date-times only in the UTC ``Z`` form: a request whose timestamp carries an
    offset (+08:00, legal RFC 3339) is answered FormatViolation."""

    def new_link(self, station_id: str, connection: Any) -> CsmsLink:
        return _ZuluOnlyLink(self, station_id, connection)
