"""Thin per-version adapters: everything that differs between OCPP 1.6, 2.0.1 and 2.1.

The engine asks the adapter; it never branches on a version string itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from ocpp import v16, v21, v201
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v21 import call as call21
from ocpp.v21 import call_result as result21
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201


@dataclass(frozen=True)
class OcppVersion:
    name: str  # "1.6"
    subprotocol: str  # "ocpp1.6"
    schema_version: str  # the ocpp package's schema folder key
    call: ModuleType  # request dataclasses
    call_result: ModuleType  # response dataclasses
    package: ModuleType
    #: CALLERROR code for a payload that breaks the message format
    format_violation: str
    #: CALLERROR codes this version defines (OCPP-J §4.2.3 / 2.0.1 Part 4 §4.3)
    error_codes: frozenset[str]


_COMMON_CODES = {
    "NotImplemented",
    "NotSupported",
    "InternalError",
    "ProtocolError",
    "SecurityError",
    "PropertyConstraintViolation",
    "TypeConstraintViolation",
    "GenericError",
}

V16 = OcppVersion(
    name="1.6",
    subprotocol="ocpp1.6",
    schema_version="1.6",
    call=call16,
    call_result=result16,
    package=v16,
    format_violation="FormationViolation",
    # the 1.6 specification spells it "Occurence"
    error_codes=frozenset(_COMMON_CODES | {"FormationViolation", "OccurenceConstraintViolation"}),
)
V201 = OcppVersion(
    name="2.0.1",
    subprotocol="ocpp2.0.1",
    schema_version="2.0.1",
    call=call201,
    call_result=result201,
    package=v201,
    format_violation="FormatViolation",
    error_codes=frozenset(
        _COMMON_CODES
        | {
            "FormatViolation",
            "MessageTypeNotSupported",
            "RpcFrameworkError",
            "OccurrenceConstraintViolation",
        }
    ),
)
V21 = OcppVersion(
    name="2.1",
    subprotocol="ocpp2.1",
    schema_version="2.1",
    call=call21,
    call_result=result21,
    package=v21,
    format_violation="FormatViolation",
    error_codes=V201.error_codes,
)

BY_NAME = {v.name: v for v in (V16, V201, V21)}
BY_SUBPROTOCOL = {v.subprotocol: v for v in (V16, V201, V21)}


def by_name(name: str) -> OcppVersion:
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown OCPP version {name!r} (known: {sorted(BY_NAME)})") from None
