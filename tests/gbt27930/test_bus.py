"""Bus specs: ``virtual:``, ``udp_multicast:``, ``socketcan:``, any python-can interface."""

from __future__ import annotations

import can
import pytest

from pile_interop.gbt27930.bus import (
    DEFAULT_UDP_GROUP,
    GBT_BITRATE,
    BusSpec,
    bus_spec_from_mapping,
    open_bus,
    parse_bus_spec,
)

pytestmark = pytest.mark.timing


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("virtual:gbt", BusSpec("virtual", "gbt")),
        ("udp_multicast:239.74.163.2", BusSpec("udp_multicast", "239.74.163.2")),
        ("udp_multicast", BusSpec("udp_multicast", DEFAULT_UDP_GROUP)),
        ("socketcan:can0", BusSpec("socketcan", "can0")),
        ("PCAN:PCAN_USBBUS1", BusSpec("pcan", "PCAN_USBBUS1")),
        (
            "kvaser:0,bitrate=500000,fd=false,data_bitrate=0x10",
            BusSpec("kvaser", "0", {"bitrate": 500000, "fd": False, "data_bitrate": 16}),
        ),
        (
            "slcan:/dev/ttyACM0,tty_baudrate=115200",
            BusSpec("slcan", "/dev/ttyACM0", {"tty_baudrate": 115200}),
        ),
    ],
)
def test_specs_name_an_interface_a_channel_and_options(spec, expected):
    assert parse_bus_spec(spec) == expected


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("", "empty"),
        ("virtual", "expected <interface>:<channel>"),
        ("virtual:", "needs a channel"),
        ("socketcan:", "needs a channel"),
        ("nosuchbus:0", "unknown python-can interface 'nosuchbus'"),
        (":can0", "interface name is empty"),
        ("pcan:PCAN_USBBUS1,bitrate", "not key=value"),
    ],
)
def test_a_bad_spec_is_a_value_error_that_says_why(spec, match):
    with pytest.raises(ValueError, match=match):
        parse_bus_spec(spec)


def test_hardware_interfaces_get_the_gb_t_bitrate_and_software_buses_none():
    assert parse_bus_spec("pcan:PCAN_USBBUS1").kwargs()["bitrate"] == GBT_BITRATE
    assert "bitrate" not in parse_bus_spec("virtual:x").kwargs()
    assert "bitrate" not in parse_bus_spec("socketcan:can0").kwargs()
    assert parse_bus_spec("pcan:1,bitrate=125000").kwargs()["bitrate"] == 125000
    assert str(parse_bus_spec("kvaser:0,bitrate=500000")) == "kvaser:0,bitrate=500000"


def test_a_device_descriptor_block_names_the_bus_too():
    assert bus_spec_from_mapping({"spec": "virtual:bench", "receive_own_messages": False}) == (
        BusSpec("virtual", "bench", {"receive_own_messages": False})
    )
    assert bus_spec_from_mapping({"interface": "socketcan", "channel": "can1"}) == BusSpec(
        "socketcan", "can1"
    )
    with pytest.raises(ValueError, match="needs 'spec' or 'interface'"):
        bus_spec_from_mapping({"channel": "can1"})
    with pytest.raises(ValueError, match="needs a channel"):
        bus_spec_from_mapping({"interface": "virtual"})


def test_virtual_buses_on_one_channel_see_each_other(channel):
    first, second = open_bus(f"virtual:{channel}"), open_bus({"spec": f"virtual:{channel}"})
    try:
        first.send(
            can.Message(arbitration_id=0x1826F456, data=b"\x01\x01\x00", is_extended_id=True)
        )
        got = second.recv(timeout=1.0)
    finally:
        first.shutdown()
        second.shutdown()
    assert got is not None and got.arbitration_id == 0x1826F456


def test_an_interface_that_cannot_open_is_a_value_error():
    with pytest.raises(ValueError, match="cannot open CAN bus socketcan:pile-interop-none"):
        open_bus("socketcan:pile-interop-none")
