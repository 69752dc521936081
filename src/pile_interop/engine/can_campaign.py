"""A GB/T 27930 campaign: the suite plays the BMS of a charger under test (SUT role
``charger``) or the charger of a BMS under test (``bms``) on a CAN bus.

``--against reference`` puts the reference charger (or BMS) on a fresh python-can ``virtual``
channel; ``--can SPEC`` (or ``gbt27930.can`` in the device descriptor) reaches a real bench.
The suite listens with a :class:`~pile_interop.gbt27930.link.CanLink` on its own bus handle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import can

from pile_interop import __version__
from pile_interop.core.clock import Clock
from pile_interop.core.config import Device, Profile
from pile_interop.core.errors import UsageError
from pile_interop.engine.base import CampaignBase, Target
from pile_interop.engine.lab import choose_actuator
from pile_interop.gbt27930.bms import Bms27930
from pile_interop.gbt27930.bus import open_bus
from pile_interop.gbt27930.charger import Charger27930
from pile_interop.gbt27930.ids import BMS_ADDRESS, CHARGER_ADDRESS
from pile_interop.gbt27930.link import CanLink
from pile_interop.gbt27930.pair import virtual_channel
from pile_interop.gbt27930.peer import Peer27930
from pile_interop.gbt27930.role import PeerRole
from pile_interop.reporting.redact import Redactor
from pile_interop.scenario.timing import Timing

log = logging.getLogger(__name__)

#: Bound on stopping the peers and closing the buses.
STOP_BOUND_S = 10.0

#: The class the suite plays, and the reference SUT, per SUT role.
_SIDES: dict[str, tuple[type[Peer27930], type[Peer27930], int]] = {
    "charger": (Bms27930, Charger27930, CHARGER_ADDRESS),
    "bms": (Charger27930, Bms27930, BMS_ADDRESS),
}


class GbtCampaign(CampaignBase):
    """The suite on a GB/T 27930 bus, one side of the conversation."""

    BOUNDS = frozenset({"settle", "manual", "message", "quiet"})

    def __init__(
        self,
        profile: Profile,
        device: Device,
        target: Target,
        *,
        strict: bool = False,
        actuator: Any = None,
        bus_spec: str | None = None,
        sut_class: type[Peer27930] | None = None,
    ) -> None:
        if profile.sut not in _SIDES or not profile.gbt27930:
            raise UsageError(f"profile {profile.id} is not a GB/T 27930 profile")
        if device.role != profile.sut:
            raise UsageError(
                f"--device {device.path}: describes a {device.role}, profile {profile.id} "
                f"tests a {profile.sut}"
            )
        self.profile = profile
        self.device = device
        self.target = target
        self.strict = strict
        self.actuator = actuator
        self.variant = device.gbt_variant or profile.gbt27930
        self.bus_spec = bus_spec or device.can
        self.sut_class = sut_class
        self.tokens: dict[str, str] = {}
        self.last_partial: dict[str, Any] | None = None
        self._never_connected_after: float | None = None
        self.clock = Clock(target.time_scale)
        self.timing = Timing(
            profile.timeouts, scale=target.time_scale, floor=target.floor, source=profile.path
        )
        self.redactor = Redactor(device.secret_values())
        self.sut: Peer27930 | None = None
        self.mock: Peer27930 | None = None
        self.session: CanLink
        self.role: PeerRole
        self._buses: list[can.BusABC] = []

    def _open(self, spec: str) -> can.BusABC:
        try:
            bus = open_bus(spec)
        except ValueError as exc:
            raise UsageError(f"--can {spec}: {exc}") from None
        self._buses.append(bus)
        return bus

    async def start(self) -> None:
        mock_class, reference_class, sut_address = _SIDES[self.profile.sut]
        if self.target.against == "reference":
            spec = f"virtual:{virtual_channel('pile-interop')}"
            sut_class = self.sut_class or reference_class
            self.sut = sut_class(
                self._open(spec), variant=self.variant, clock=self.clock, name=f"{self.profile.sut}"
            )
            await self.sut.start()
            self.actuator = choose_actuator(self.actuator, self.device, self.sut)
        else:
            if not self.bus_spec:
                raise UsageError(
                    "a GB/T 27930 SUT needs a bus: --can SPEC or gbt27930.can in the device"
                )
            spec = self.bus_spec
            self.target.url = spec
            self.actuator = choose_actuator(self.actuator, self.device, who=self.profile.sut)
        self.mock = mock_class(self._open(spec), variant=self.variant, clock=self.clock)
        await self.mock.start()
        self.session = CanLink(self._open(spec), variant=self.variant, sut_address=sut_address)
        await self.session.start()
        self.role = PeerRole(self.mock, self.session, self.variant)

    async def stop(self) -> None:
        for peer in (self.mock, self.sut):
            if peer is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(peer.stop(), STOP_BOUND_S)
        if hasattr(self, "session"):
            await self.session.stop()
        for bus in self._buses:
            with contextlib.suppress(Exception):
                bus.shutdown()
        self._buses.clear()

    def sut_info(self) -> dict[str, Any]:
        device = self.device
        return {
            "role": self.profile.sut,
            "vendor": device.vendor,
            "model": device.model,
            "serial": device.serial,
            "firmware": device.firmware or (__version__ if self.sut is not None else ""),
            "station_id": device.name or self.profile.sut,
            "ocpp": "",
            "protocol": f"GB/T 27930-{self.variant}",
            "device": device.path,
            "declared": device.public(),
        }
