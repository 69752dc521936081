"""Mutant OCPP 2.0.1 stations for the settings that must take effect (issue 14): each accepts a
SetVariables change — and reads the new value back — but keeps behaving as before.
"""

from __future__ import annotations

from pile_interop.ocpp.v201.reference.station_tx import Evses
from tests.mutants.stations201_tx import evses_mutant


class _PinnedAtRegistration(Evses):
    """Base of the mutants whose variables in ``pinned`` are read once, when the station
    registers: SetVariables stores a new value (GetVariables returns it), the EVSEs keep
    working with the value they read at boot. The before-phase's values are not applied either,
    so the cases that set them break too (declared with each mutant)."""

    pinned: frozenset[tuple[str, str]] = frozenset()
    boot_values: dict[tuple[str, str], str] | None = None

    async def on_registered(self) -> None:
        read = super()._text  # (no zero-argument super() inside a comprehension)
        self.boot_values = {key: read(*key) for key in self.pinned}
        await super().on_registered()

    def _text(self, component: str, variable: str) -> str:
        if self.boot_values is not None and (component, variable) in self.boot_values:
            return self.boot_values[(component, variable)]
        return super()._text(component, variable)


@evses_mutant("TC_J_92_CS", "B05.FR.10", defect_class="setting-not-applied")
class TxUpdatedIntervalAcceptedNotApplied(Evses):
    """Accepts a new SampledDataCtrlr.TxUpdatedInterval and reads it back, but a running sampler
    keeps the interval it was started with (a change applies only after it was 0)."""

    running_interval = 0

    def _int(self, component: str, variable: str) -> int:
        value = super()._int(component, variable)
        if (component, variable) != ("SampledDataCtrlr", "TxUpdatedInterval"):
            return value
        if value <= 0 or self.running_interval <= 0:
            self.running_interval = max(0, value)
            return value
        return self.running_interval


@evses_mutant(
    "TC_E_92_CS",
    "B05.FR.10",
    *("TC_C_08_CS", "TC_C_37_CS", "TC_C_90_CS", "TC_E_39_CS", "TC_F_04_CS"),
    defect_class="setting-not-applied",
)
class EVConnectionTimeOutAcceptedNotApplied(_PinnedAtRegistration):
    """Accepts a new TxCtrlr.EVConnectionTimeOut and reads it back, but ends an authorization
    without a cable after the time-out it read at boot."""

    pinned = frozenset({("TxCtrlr", "EVConnectionTimeOut")})


@evses_mutant("TC_E_93_CS", "B05.FR.10", "TC_E_26_CS", defect_class="setting-not-applied")
class StopTxOnEVSideDisconnectAcceptedNotApplied(_PinnedAtRegistration):
    """Accepts TxCtrlr.StopTxOnEVSideDisconnect false and reads it back, but still ends the
    transaction when the cable is unplugged at the EV (the value it read at boot)."""

    pinned = frozenset({("TxCtrlr", "StopTxOnEVSideDisconnect")})


@evses_mutant("TC_E_94_CS", "B05.FR.10", "TC_E_14_CS", defect_class="setting-not-applied")
class TxStopPointAcceptedNotApplied(_PinnedAtRegistration):
    """Accepts a new TxCtrlr.TxStopPoint and reads it back, but ends transactions at the stop
    points it read at boot."""

    pinned = frozenset({("TxCtrlr", "TxStopPoint")})


@evses_mutant(
    "TC_C_90_CS",
    "B05.FR.10",
    *("TC_C_08_CS", "TC_C_20_CS", "TC_E_01_CS"),
    defect_class="setting-not-applied",
)
class LocalPreAuthorizeAcceptedNotApplied(_PinnedAtRegistration):
    """Accepts AuthCtrlr.LocalPreAuthorize true and reads it back, but still sends an
    AuthorizeRequest for a cached Accepted idToken (the value it read at boot)."""

    pinned = frozenset({("AuthCtrlr", "LocalPreAuthorize")})


@evses_mutant(
    "TC_E_95_CS",
    "B05.FR.10",
    *("TC_E_02_CS", "TC_E_09_CS", "TC_E_39_CS", "TC_E_91_CS", "TC_E_92_CS"),
    defect_class="setting-not-applied",
)
class TxStartPointAcceptedNotApplied(_PinnedAtRegistration):
    """Accepts a new TxCtrlr.TxStartPoint and reads it back, but starts transactions at the
    start points it read at boot."""

    pinned = frozenset({("TxCtrlr", "TxStartPoint")})
