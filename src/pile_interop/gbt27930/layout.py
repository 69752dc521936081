"""The GB/T 27930 message table: every field of every message, per protocol variant.

This table is the single place where field layouts are written down: the 2015 messages by
phase in :mod:`.layout_setup`, :mod:`.layout_charging` and :mod:`.layout_stop` (built with
:mod:`.layout_fields`, which states the conventions), the 2011 and 2023 category A variants
derived from them here. The shipped DBC files (``gbt27930_2011.dbc``, ``gbt27930_2015.dbc``,
``gbt27930_2023a.dbc``) are generated from it by :mod:`pile_interop.gbt27930.dbcgen`; the codec
reads the DBC files, not this table (a test checks that the two agree).
"""

from __future__ import annotations

from dataclasses import replace

from pile_interop.gbt27930 import layout_charging, layout_setup, layout_stop
from pile_interop.gbt27930.layout_fields import (
    FAULT,
    STATE,
    V_MAX,
    V_MAX_2011,
    Field,
    MessageDef,
    ascii_text,
    flags,
    raw,
)

VARIANTS = ("2011", "2015", "2023a")
"""Protocol variants: GB/T 27930-2011, GB/T 27930-2015 and GB/T 27930-2023 category A."""

MESSAGES_2015: tuple[MessageDef, ...] = (
    *layout_setup.MESSAGES,
    *layout_charging.MESSAGES,
    *layout_stop.MESSAGES,
)


# -- variants ----------------------------------------------------------------------------------


_CRM_2011_FIELDS = (
    raw("ChargerNumber", 2, 1, 2561, "charger number, 1/bit (1 byte in 2011, 1-100)"),
    *ascii_text("RegionCode", 3, 6, 2562, "charger/station region code (optional)"),
)
"""CRM after its first byte in 2011: a 1-byte charger number and a 6-byte region code."""

_SHORTER_IN_2011 = (
    # message, length in 2011, the field 2011 does not have, comment
    (
        "BRM",
        41,
        "BMSSoftwareVersion",
        "BMS and vehicle recognition, multi-packet, 41 bytes (version 00 01 00 = V1.0).",
    ),
    ("CML", 6, "MinOutputCurrent", "Charger maximum output capability (2011: no minimum current)."),
    ("CCS", 6, "ChargingPermitted", "Charger charging status (2011: no charging-permitted field)."),
)

_ADDED_IN_2023A: dict[str, tuple[Field, ...]] = {
    "BST": flags(
        ("ParameterMismatch", 4, 5, 3513, "charging parameters mismatch (2023 A)", STATE),
    ),
    "CST": flags(
        (
            "SelfCheckFault",
            3,
            5,
            3522,
            "self-check fault: insulation, short-circuit, adhesion checks (2023 A)",
            FAULT,
        ),
        ("PrechargeFault", 3, 7, 3522, "pre-charge fault (2023 A)", FAULT),
        (
            "ParameterMismatch",
            4,
            5,
            3523,
            "charging parameters mismatch, e.g. BCP voltage outside CML (2023 A)",
            STATE,
        ),
    ),
}
"""The stop fields GB/T 27930-2023 category A adds to BST and CST."""


def _variant_2011(base: tuple[MessageDef, ...]) -> tuple[MessageDef, ...]:
    """No handshake (CHM, BHM); the shorter CRM, BRM, CML and CCS."""
    changed: dict[str, MessageDef] = {}
    crm = next(m for m in base if m.name == "CRM")
    changed["CRM"] = replace(
        crm,
        fields=(crm.fields[0], *_CRM_2011_FIELDS),
        comment="Charger recognition (2011 layout: 1-byte charger number, 6-byte region).",
    )
    by_name = {m.name: m for m in base}
    for name, length, dropped, comment in _SHORTER_IN_2011:
        message = by_name[name]
        changed[name] = replace(
            message,
            length=length,
            min_length=None,
            fields=tuple(f for f in message.fields if f.name != dropped),
            comment=comment,
        )
    return tuple(_capped_2011(changed.get(m.name, m)) for m in base if m.name not in ("CHM", "BHM"))


def _capped_2011(message: MessageDef) -> MessageDef:
    """The 0.1 V/bit voltages with the 2011 tables' 750 V upper bound."""
    fields = tuple(
        replace(f, maximum=V_MAX_2011) if f.unit == "V" and f.maximum == V_MAX else f
        for f in message.fields
    )
    return replace(message, fields=fields)


def _variant_2023a(base: tuple[MessageDef, ...]) -> tuple[MessageDef, ...]:
    """The 2015 messages with the stop fields of :data:`_ADDED_IN_2023A`."""
    return tuple(
        replace(m, fields=(*m.fields, *_ADDED_IN_2023A[m.name])) if m.name in _ADDED_IN_2023A else m
        for m in base
    )


MESSAGES: dict[str, tuple[MessageDef, ...]] = {
    "2015": MESSAGES_2015,
    "2011": _variant_2011(MESSAGES_2015),
    "2023a": _variant_2023a(MESSAGES_2015),
}

TITLES = {
    "2011": "GB/T 27930-2011",
    "2015": "GB/T 27930-2015",
    "2023a": "GB/T 27930-2023 category A",
}


def normalise_variant(variant: str) -> str:
    """``"2015"``, ``"2011"``, ``"2023a"`` (``"2023A"``, ``"2023"`` accepted); else ValueError."""
    key = str(variant).strip().lower()
    if key == "2023":
        key = "2023a"
    if key not in MESSAGES:
        raise ValueError(f"unknown GB/T 27930 variant {variant!r} (expected one of {VARIANTS})")
    return key
