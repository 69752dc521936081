"""A fleet behaviour: which stations, how they behave, which events, which thresholds.

Read from ``profiles/fleet/<id>.yaml`` (or any path), checked against
``behaviour.schema.json`` at load; an error names the file and line (exit 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pile_interop.core.config import ContentRoot
from pile_interop.core.errors import UsageError
from pile_interop.core.yamlfile import load_checked
from pile_interop.fleet.thresholds import Threshold, parse_threshold

#: The folder under ``profiles/`` that holds fleet behaviours (not conformance profiles).
FOLDER = "fleet"


@dataclass(frozen=True)
class Kind:
    """One kind of station in the mix."""

    ocpp: str
    security_profile: int = 0
    share: float = 1.0
    connectors: int = 1


@dataclass(frozen=True)
class Event:
    at_s: float
    kind: str  # mass_reboot | network_blip
    share: float = 1.0
    within_s: float = 5.0
    down_s: float = 2.0


@dataclass(frozen=True)
class Behaviour:
    id: str
    path: str
    mix: tuple[Kind, ...]
    title: str = ""
    station_prefix: str = "FLEET"
    ramp_per_second: float = 100.0
    duration_s: float = 60.0
    seed: int = 1
    password: str = "fleet-password-0123456789"
    id_tag: str = "5049F1EE"  # 8 hex digits: an ISO14443 UID for 2.0.1 too
    #: heartbeat interval; None: the interval the CSMS's BootNotification answer gives
    heartbeat_s: float | None = None
    #: retry interval after Pending / Rejected when the CSMS gives none (0)
    boot_retry_s: float = 10.0
    tx_every_s: float = 600.0
    tx_duration_s: float = 300.0
    meter_interval_s: float = 60.0
    authorize: bool = True
    events: tuple[Event, ...] = ()
    call_timeout_s: float = 30.0
    connect_timeout_s: float = 10.0
    reconnect_initial_s: float = 1.0
    reconnect_max_s: float = 30.0
    judge_per_second: float = 2000.0
    thresholds: tuple[Threshold, ...] = field(default_factory=tuple)

    def kind_of(self, index: int, total: int) -> Kind:
        """The kind of station ``index`` of ``total``: the mix's shares, in blocks."""
        whole = sum(k.share for k in self.mix)
        edge = 0.0
        for kind in self.mix:
            edge += kind.share / whole
            if index < edge * total - 1e-9:
                return kind
        return self.mix[-1]


def resolve(name: str, root: ContentRoot | None) -> Path:
    """A behaviour file from a path or an id (``fleet/steady`` or ``steady``)."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    if root is None:
        raise UsageError(f"--behaviour {name!r}: no such file and no content root to look in")
    ident = name if name.startswith(f"{FOLDER}/") else f"{FOLDER}/{name}"
    folders = [f / "profiles" for f in (root.path, *root.extra)]  # the suite's, then --content
    for folder in folders:
        found = folder / f"{ident}.yaml"
        if found.is_file():
            return found
    known = sorted({p.stem for f in folders for p in (f / FOLDER).glob("*.yaml")})
    raise UsageError(f"unknown fleet behaviour {name!r} (known: {', '.join(known) or 'none'})")


def load_behaviour(path: str | Path) -> Behaviour:
    doc = load_checked(path, "pile_interop.fleet", "behaviour.schema.json", "fleet behaviour")
    d = doc.data
    mix = tuple(
        Kind(
            ocpp=k["ocpp"],
            security_profile=int(k.get("security_profile", 0)),
            share=float(k.get("share", 1.0)),
            connectors=int(k.get("connectors", 1)),
        )
        for k in d["mix"]
    )
    thresholds = []
    for i, text in enumerate(d.get("thresholds", [])):
        try:
            thresholds.append(parse_threshold(text))
        except ValueError as exc:
            raise doc.error(f"threshold {text!r}: {exc}", "thresholds", i) from None
    tx = d.get("transactions", {})
    timeouts = d.get("timeouts", {})
    reconnect = d.get("reconnect", {})
    if reconnect.get("initial_s", 1.0) > reconnect.get("max_s", 30.0):
        raise doc.error("reconnect.initial_s is above reconnect.max_s", "reconnect")
    return Behaviour(
        id=d["id"],
        path=str(path),
        mix=mix,
        title=d.get("title", ""),
        station_prefix=d.get("station_prefix", "FLEET"),
        ramp_per_second=float(d.get("ramp", {}).get("per_second", 100.0)),
        duration_s=float(d.get("duration_s", 60.0)),
        seed=int(d.get("seed", 1)),
        password=d.get("password", Behaviour.password),
        id_tag=d.get("id_tag", Behaviour.id_tag),
        heartbeat_s=d.get("heartbeat_s"),
        boot_retry_s=float(d.get("boot_retry_s", 10.0)),
        tx_every_s=float(tx.get("every_s", 600.0)),
        tx_duration_s=float(tx.get("duration_s", 300.0)),
        meter_interval_s=float(tx.get("meter_interval_s", 60.0)),
        authorize=bool(tx.get("authorize", True)),
        events=tuple(
            Event(
                at_s=float(e["at_s"]),
                kind=e["kind"],
                share=float(e.get("share", 1.0)),
                within_s=float(e.get("within_s", 5.0)),
                down_s=float(e.get("down_s", 2.0)),
            )
            for e in d.get("events", [])
        ),
        call_timeout_s=float(timeouts.get("call_s", 30.0)),
        connect_timeout_s=float(timeouts.get("connect_s", 10.0)),
        reconnect_initial_s=float(reconnect.get("initial_s", 1.0)),
        reconnect_max_s=float(reconnect.get("max_s", 30.0)),
        judge_per_second=float(d.get("judge", {}).get("max_per_second", 2000.0)),
        thresholds=tuple(thresholds),
    )
