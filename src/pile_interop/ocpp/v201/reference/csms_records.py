"""What the reference OCPP 2.0.1 CSMS keeps (stations, transactions, certificate signings) and
the small converters its operator actions use (operator arguments → request objects).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

#: The idToken type of operator requests given a bare string.
TOKEN_TYPE = "ISO14443"


@dataclass
class CsmsTransaction:
    """One transaction as the CSMS saw it: every TransactionEvent (snake_case payloads)."""

    transaction_id: str
    station_id: str
    evse_id: int | None
    events: list[dict[str, Any]] = field(default_factory=list)
    id_token: str | None = None
    ended: bool = False
    stopped_reason: str | None = None


@dataclass
class StationRecord:
    """What the CSMS knows of one station."""

    station_id: str
    registration: str | None = None
    boot: dict[str, Any] = field(default_factory=dict)
    connectors: dict[tuple[int, int], str] = field(default_factory=dict)
    last_heartbeat: str | None = None
    #: every other notification (NotifyEvent, SecurityEventNotification …): (action, payload)
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    meter_values: dict[int, list[Any]] = field(default_factory=dict)


@dataclass
class SigningRecord:
    """One SignCertificate the CSMS handled: what it did and why (the operator's view)."""

    station_id: str
    csr_cn: str | None
    signed: bool
    why: str
    answer: str | None = None  # the station's CertificateSigned status


def csr_common_name(csr_pem: str) -> str | None:
    """The subject commonName of a PEM PKCS#10 request (None: unparsable or none)."""
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
    except ValueError:
        return None
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


def component(value: Any) -> dict[str, Any]:
    """``"TxCtrlr"`` or ``{name, instance?}`` → a ComponentType / VariableType dict."""
    return {"name": value} if isinstance(value, str) else dict(value)


def variable_data(item: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An operator's ``{component, variable, attribute_type?}`` → a GetVariableData (with
    ``extra``: a SetVariableData) dict."""
    entry = {"component": component(item["component"]), "variable": component(item["variable"])}
    entry.update(extra)
    if "attribute_type" in item:
        entry["attribute_type"] = item["attribute_type"]
    return entry


def to_id_token(value: Any) -> dict[str, Any]:
    """A bare idToken string or ``{id_token | idToken, type?}`` → an IdTokenType dict."""
    if isinstance(value, dict):
        token = value.get("id_token", value.get("idToken"))
        return {"id_token": str(token), "type": str(value.get("type", TOKEN_TYPE))}
    return {"id_token": str(value), "type": TOKEN_TYPE}
