"""Mutant OCPP 1.6 SUTs that mishandle invalid requests (profiles ``ocpp16/negative-cs`` and
``ocpp16/negative-csms``), registered in the same catalogue as every other mutant."""

from __future__ import annotations

from pile_interop.reference.csms16 import ReferenceCsms16
from pile_interop.reference.station16 import ReferenceStation16
from tests.mutants.stations16 import mutant

CS = "ocpp16/negative-cs"
CSMS = "ocpp16/negative-csms"
_ALL_CS = tuple(f"NEG_{n:02d}_CS" for n in range(1, 9))
_ALL_CSMS = tuple(f"NEG_{n:02d}_CSMS" for n in range(1, 8))


@mutant("NEG_02_CS", "OCPP-J1.6 §4.2.3 TypeConstraintViolation", *_ALL_CS, profile=CS)
class StationSkipsValidation(ReferenceStation16):
    """Does not validate requests: a broken frame reaches the handler (and is answered as if
    it were valid, or with an InternalError)."""

    validates_requests = False


@mutant("NEG_05_CS", "OCPP-J1.6 §4.2.3 FormationViolation", "NEG_04_CS", profile=CS)
class StationNames201Errors(ReferenceStation16):
    """Answers schema violations with the 2.0.1 code names (FormatViolation) on a 1.6 link,
    as the ocpp package does unless told otherwise."""

    names_16_errors = False


@mutant("NEG_03_CSMS", "OCPP-J1.6 §4.2.3 TypeConstraintViolation", *_ALL_CSMS, profile=CSMS)
class CsmsSkipsValidation(ReferenceCsms16):
    """Does not validate the station's requests."""

    validates_requests = False


@mutant("NEG_05_CSMS", "OCPP-J1.6 §4.2.3 FormationViolation", "NEG_04_CSMS", profile=CSMS)
class CsmsNames201Errors(ReferenceCsms16):
    """Answers schema violations with the 2.0.1 code names (FormatViolation) on a 1.6 link."""

    names_16_errors = False
