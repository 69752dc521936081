"""Open a python-can bus from a spec string (``--can``) or a device-descriptor mapping.

Spec strings:

``virtual:<channel>``
    python-can's in-process virtual bus: every bus opened on the same channel in one process
    sees the others' frames. The CI default.
``udp_multicast:<group>``
    python-can's ``udp_multicast`` interface between processes on one host (or a LAN): the
    channel is the multicast group, e.g. ``239.74.163.2`` (IPv4) or ``ff15:7079:…`` (IPv6);
    ``udp_multicast`` alone takes python-can's IPv6 default group. Needs ``msgpack``.
``socketcan:<interface>``
    Linux SocketCAN (``can0``, ``vcan0``); bitrate is set on the interface, not here.
``<interface>:<channel>``
    any other python-can interface (``pcan:PCAN_USBBUS1``, ``kvaser:0``, ``vector:0`` …), opened
    at GB/T 27930's 250 kbit/s unless the spec says otherwise.

Options follow the channel after commas: ``pcan:PCAN_USBBUS1,bitrate=500000``. Values that
look like integers (``0x…`` too), floats or booleans are converted.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import can

logger = logging.getLogger(__name__)

GBT_BITRATE = 250_000
"""GB/T 27930 §5: 250 kbit/s."""
DEFAULT_UDP_GROUP = "ff15:7079:7468:6f6e:6465:6d6f:6d63:6173"
"""python-can's default IPv6 multicast group for ``udp_multicast``."""

_NO_BITRATE = frozenset({"virtual", "socketcan", "udp_multicast", "socketcand"})
"""Interfaces whose bitrate is not set by the opener (or that have none)."""
_NEEDS_CHANNEL = frozenset({"virtual", "socketcan"})


@dataclass(frozen=True)
class BusSpec:
    """Which python-can interface, which channel, and extra keyword arguments."""

    interface: str
    channel: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        opts = "".join(f",{k}={v}" for k, v in self.options.items())
        return f"{self.interface}:{self.channel}{opts}"

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``can.Bus``."""
        out: dict[str, Any] = {"interface": self.interface, "channel": self.channel}
        if self.interface not in _NO_BITRATE:
            out["bitrate"] = GBT_BITRATE
        out.update(self.options)
        return out


def _value(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    for convert in (lambda t: int(t, 0), float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def _check_interface(interface: str) -> str:
    name = interface.strip().lower()
    if not name:
        raise ValueError("CAN bus spec: the interface name is empty")
    if name not in can.interfaces.VALID_INTERFACES:
        known = ", ".join(sorted(can.interfaces.VALID_INTERFACES))
        raise ValueError(f"CAN bus spec: unknown python-can interface {interface!r} ({known})")
    return name


def parse_bus_spec(spec: str) -> BusSpec:
    """``"virtual:gbt"`` → ``BusSpec("virtual", "gbt")``; a bad spec is a ``ValueError``."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError("CAN bus spec is empty (expected e.g. virtual:gbt or socketcan:can0)")
    head, *option_parts = spec.strip().split(",")
    interface, sep, channel = head.partition(":")
    name = _check_interface(interface)
    channel = channel.strip()
    if name == "udp_multicast" and not channel:
        channel = DEFAULT_UDP_GROUP
    if not sep and name != "udp_multicast":
        raise ValueError(f"CAN bus spec {spec!r}: expected <interface>:<channel>")
    if not channel and name in _NEEDS_CHANNEL | {"udp_multicast"}:
        raise ValueError(f"CAN bus spec {spec!r}: {name} needs a channel")
    options: dict[str, Any] = {}
    for part in option_parts:
        key, eq, text = part.partition("=")
        if not eq or not key.strip():
            raise ValueError(f"CAN bus spec {spec!r}: option {part!r} is not key=value")
        options[key.strip()] = _value(text.strip())
    return BusSpec(name, channel, options)


def bus_spec_from_mapping(config: Mapping[str, Any]) -> BusSpec:
    """A spec from a device descriptor's ``can`` block: a ``spec`` string, or ``interface``,
    ``channel`` and any python-can options (``bitrate``…)."""
    if "spec" in config:
        spec = parse_bus_spec(str(config["spec"]))
        extra = {k: v for k, v in config.items() if k != "spec"}
        return BusSpec(spec.interface, spec.channel, {**spec.options, **extra})
    if "interface" not in config:
        raise ValueError("CAN bus config needs 'spec' or 'interface'")
    name = _check_interface(str(config["interface"]))
    channel = str(config.get("channel", DEFAULT_UDP_GROUP if name == "udp_multicast" else ""))
    if not channel and name in _NEEDS_CHANNEL:
        raise ValueError(f"CAN bus config: {name} needs a channel")
    options = {k: v for k, v in config.items() if k not in ("interface", "channel")}
    return BusSpec(name, channel, options)


def open_bus(spec: str | BusSpec | Mapping[str, Any], **overrides: Any) -> can.BusABC:
    """Open the bus a spec names. Errors from the interface (missing driver, no such device)
    are re-raised as ``ValueError`` with the spec in the message, for a one-line exit 2."""
    if isinstance(spec, BusSpec):
        parsed = spec
    elif isinstance(spec, str):
        parsed = parse_bus_spec(spec)
    else:
        parsed = bus_spec_from_mapping(spec)
    kwargs = {**parsed.kwargs(), **overrides}
    logger.info("opening CAN bus %s", parsed)
    try:
        return can.Bus(**kwargs)
    except (can.CanError, OSError, ImportError) as exc:
        raise ValueError(f"cannot open CAN bus {parsed}: {exc}") from exc
