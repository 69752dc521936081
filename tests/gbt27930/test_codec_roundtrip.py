"""Hypothesis round trips for every message of every variant.

* values → ``encode`` → ``decode`` gives the values back within the signal's resolution, and the
  frame's fill bits are all 1;
* bytes → ``decode`` → ``encode`` gives the same bytes (fill bits forced to 1 first).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pile_interop.gbt27930 import codec
from pile_interop.gbt27930.layout import VARIANTS

EXAMPLES = 40
"""Examples per message and property (22 messages × 3 variants × 2 properties)."""

CASES = [(variant, info.name) for variant in VARIANTS for info in codec.messages(variant)]
IDS = [f"{variant}-{name}" for variant, name in CASES]
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _raw_bounds(sig) -> tuple[int, int]:
    """Raw integers whose physical value lies in the signal's [minimum, maximum]."""
    top = (1 << sig.length) - 1
    low = max(0, math.ceil(round((sig.minimum - sig.offset) / sig.scale, 6)))
    high = min(top, math.floor(round((sig.maximum - sig.offset) / sig.scale, 6)))
    return low, high


@st.composite
def message_values(draw, variant: str, name: str) -> dict[str, float | int]:
    info = codec.message_info(name, variant)
    message = codec.database(variant).get_message_by_name(name)
    signals = sorted(message.signals, key=lambda s: s.start)
    if info.variable_length:
        count = draw(st.integers(1, info.length // info.element_size))
        signals = [s for s in signals if s.start + s.length <= count * info.element_size * 8]
    values: dict[str, float | int] = {}
    for sig in signals:
        low, high = _raw_bounds(sig)
        raw = draw(st.integers(low, high))
        values[sig.name] = codec._physical(sig, raw)
    return values


def _used(variant: str, name: str) -> int:
    return codec._used_mask(name, variant)


@pytest.mark.parametrize(("variant", "name"), CASES, ids=IDS)
def test_decode_of_encode_returns_the_values_within_resolution(variant, name):
    message = codec.database(variant).get_message_by_name(name)
    resolution = {s.name: s.scale / 2 for s in message.signals}

    @SETTINGS
    @given(values=message_values(variant, name))
    def check(values):
        data = codec.encode(name, values, variant)
        decoded = codec.decode(name, data, variant)
        assert decoded.keys() == values.keys()
        for key, value in values.items():
            assert abs(decoded[key] - value) <= resolution[key] + 1e-9, key
        assert codec.fill_bit_violations(name, data, variant) == []
        unused = ~_used(variant, name) & ((1 << (8 * len(data))) - 1)
        assert int.from_bytes(data, "little") & unused == unused

    check()


@pytest.mark.parametrize(("variant", "name"), CASES, ids=IDS)
def test_encode_of_decode_returns_the_bytes(variant, name):
    info = codec.message_info(name, variant)
    if info.variable_length:
        sizes = st.integers(1, info.length // info.element_size).map(
            lambda n: n * info.element_size
        )
    else:
        sizes = st.just(info.length)

    @SETTINGS
    @given(data=sizes.flatmap(lambda n: st.binary(min_size=n, max_size=n)))
    def check(data):
        unused = ~_used(variant, name) & ((1 << (8 * len(data))) - 1)
        filled = (int.from_bytes(data, "little") | unused).to_bytes(len(data), "little")
        values = codec.decode(name, filled, variant)
        assert codec.encode(name, values, variant, strict=False) == filled

    check()
