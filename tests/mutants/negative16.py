"""Mutant OCPP 1.6 SUTs that mishandle invalid requests (profiles ``ocpp16/negative-cs`` and
``ocpp16/negative-csms``), registered in the same catalogue as every other mutant."""

from __future__ import annotations

from pile_interop.ocpp.v16.reference.csms import ReferenceCsms
from pile_interop.ocpp.v16.reference.station import ReferenceStation
from tests.mutants.stations16 import mutant

CS = "ocpp16/negative-cs"
CSMS = "ocpp16/negative-csms"
#: the cases that validate a payload (the schema-drawn ones)
_ALL_CS = tuple(f"NEG_{n:02d}_CS" for n in range(1, 9))
_ALL_CSMS = tuple(f"NEG_{n:02d}_CSMS" for n in range(1, 8))


@mutant("NEG_02_CS", "OCPP-J1.6 §4.2.3 TypeConstraintViolation", *_ALL_CS, profile=CS)
class StationSkipsValidation(ReferenceStation):
    """Does not validate requests: a broken frame reaches the handler (and is answered as if
    it were valid, or with an InternalError)."""

    validates_requests = False


@mutant("NEG_05_CS", "OCPP-J1.6 §4.2.3 FormationViolation", "NEG_04_CS", profile=CS)
class StationNames201Errors(ReferenceStation):
    """Answers schema violations with the 2.0.1 code names (FormatViolation) on a 1.6 link,
    as the ocpp package does unless told otherwise."""

    names_16_errors = False


@mutant("NEG_03_CSMS", "OCPP-J1.6 §4.2.3 TypeConstraintViolation", *_ALL_CSMS, profile=CSMS)
class CsmsSkipsValidation(ReferenceCsms):
    """Does not validate the station's requests."""

    validates_requests = False


@mutant("NEG_05_CSMS", "OCPP-J1.6 §4.2.3 FormationViolation", "NEG_04_CSMS", profile=CSMS)
class CsmsNames201Errors(ReferenceCsms):
    """Answers schema violations with the 2.0.1 code names (FormatViolation) on a 1.6 link."""

    names_16_errors = False


@mutant("NEG_09_CS", "OCPP-J1.6 §4.2.3 NotImplemented", profile=CS)
class StationUnknownActionNotSupported(ReferenceStation):
    """Answers an unknown action NotSupported (the ocpp package's swap of the two codes)."""

    answers_unknown_actions = False


@mutant("NEG_08_CSMS", "OCPP-J1.6 §4.2.3 NotImplemented", profile=CSMS)
class CsmsUnknownActionNotSupported(ReferenceCsms):
    """Answers an unknown action NotSupported."""

    answers_unknown_actions = False


@mutant("NEG_10_CS", "OCPP-J1.6 RPC robustness", profile=CS)
class StationDropsOnMalformedJson(ReferenceStation):
    """Closes the connection when a frame is not JSON."""

    drops_connection_on = frozenset({"malformed"})


@mutant("NEG_09_CSMS", "OCPP-J1.6 RPC robustness", profile=CSMS)
class CsmsDropsOnMalformedJson(ReferenceCsms):
    """Closes the connection when a frame is not JSON."""

    drops_connection_on = frozenset({"malformed"})


@mutant("NEG_11_CS", "OCPP-J1.6 RPC robustness", profile=CS)
class StationDropsOnUnknownResult(ReferenceStation):
    """Closes the connection on a CALLRESULT it did not ask for."""

    drops_connection_on = frozenset({"unknown_result"})


@mutant("NEG_10_CSMS", "OCPP-J1.6 RPC robustness", profile=CSMS)
class CsmsDropsOnUnknownResult(ReferenceCsms):
    """Closes the connection on a CALLRESULT it did not ask for."""

    drops_connection_on = frozenset({"unknown_result"})


@mutant("NEG_12_CS", "OCPP-J1.6 RPC robustness", profile=CS)
class StationDropsOnDuplicateId(ReferenceStation):
    """Closes the connection when a CALL reuses a recent unique id."""

    drops_connection_on = frozenset({"duplicate_id"})


@mutant("NEG_11_CSMS", "OCPP-J1.6 RPC robustness", profile=CSMS)
class CsmsDropsOnDuplicateId(ReferenceCsms):
    """Closes the connection when a CALL reuses a recent unique id."""

    drops_connection_on = frozenset({"duplicate_id"})


@mutant("NEG_13_CS", "OCPP-J1.6 §4.1.3", profile=CS)
class StationDropsOnIntegerId(ReferenceStation):
    """Closes the connection when a CALL's unique id is a number, not a string."""

    drops_connection_on = frozenset({"integer_id"})


@mutant("NEG_14_CS", "OCPP-J1.6 §4.1.3", profile=CS)
class StationDropsOnLongId(ReferenceStation):
    """Closes the connection when a CALL's unique id is longer than 36 characters."""

    drops_connection_on = frozenset({"long_id"})


@mutant("NEG_12_CSMS", "OCPP-J1.6 §4.1.3", profile=CSMS)
class CsmsDropsOnIntegerId(ReferenceCsms):
    """Closes the connection when a CALL's unique id is a number, not a string."""

    drops_connection_on = frozenset({"integer_id"})


@mutant("NEG_13_CSMS", "OCPP-J1.6 §4.1.3", profile=CSMS)
class CsmsDropsOnLongId(ReferenceCsms):
    """Closes the connection when a CALL's unique id is longer than 36 characters."""

    drops_connection_on = frozenset({"long_id"})
