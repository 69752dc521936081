"""Named bounds: every wait of a case has a name from the profile and a real-time value.

Profile values are protocol seconds. Against a reference SUT running on a scaled clock they are
multiplied by its time scale. Upper bounds (how long to wait for something) never drop below
``floor`` real seconds, so a loaded CI machine does not turn a scaled 30 s response time-out into
a flaky 0.3 s one; lower bounds and windows (how long something must *not* happen) are scaled
exactly, except that a minimum delay counted from a frame of the SUT (``since:``) may come
short by ``receipt_slack`` real seconds: the suite stamps a frame when it reads it, and a frame
read late (a loaded machine, a busy link) shortens the interval measured from it although the
SUT's timer kept its time.
"""

from __future__ import annotations

from dataclasses import dataclass

from pile_interop.core.errors import ConfigError

RECEIPT_SLACK_S = 0.25
"""Real seconds a minimum delay counted from a received frame may come short (its read delay)."""


@dataclass(frozen=True)
class Timing:
    timeouts: dict[str, float]
    scale: float = 1.0
    floor: float = 0.0
    source: str = "profile"
    receipt_slack: float = RECEIPT_SLACK_S

    def _value(self, name: str) -> float:
        try:
            return self.timeouts[name]
        except KeyError:
            known = ", ".join(sorted(self.timeouts))
            raise ConfigError(self.source, f"no timeout named {name!r} (known: {known})") from None

    def upper(self, name: str) -> float:
        """Real seconds to wait at most for ``name``."""
        return max(self._value(name) * self.scale, self.floor)

    def lower(self, name: str) -> float:
        """Real seconds of a window or a minimum delay named ``name``."""
        return self._value(name) * self.scale

    def lower_since_frame(self, name: str) -> float:
        """Real seconds of a minimum delay ``name`` counted from a frame the SUT sent."""
        return max(0.0, self.lower(name) - self.receipt_slack)

    def describe(self, name: str, *, upper: bool = True) -> str:
        value = self._value(name)
        real = self.upper(name) if upper else self.lower(name)
        if self.scale == 1.0 and real == value:
            return f"timeouts.{name} = {value:g} s"
        return f"timeouts.{name} = {value:g} s × time scale {self.scale:g} → {real:.3g} s real"

    def check(self, names: set[str], where: str) -> None:
        unknown = sorted(n for n in names if n not in self.timeouts)
        if unknown:
            known = ", ".join(sorted(self.timeouts))
            raise ConfigError(
                where, f"uses timeout(s) {unknown} the profile does not define ({known})"
            )
