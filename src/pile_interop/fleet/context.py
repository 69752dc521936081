"""What every station of a fleet shares: the behaviour, the figures, the judge, the answers,
the random draws (one seeded generator for the whole fleet), where to connect and how."""

from __future__ import annotations

import random
import ssl
from dataclasses import dataclass, field
from typing import Any

from pile_interop.fleet.behaviour import Behaviour
from pile_interop.fleet.judge import Judge
from pile_interop.fleet.messages import Answers
from pile_interop.fleet.stats import Stats


@dataclass
class FleetContext:
    behaviour: Behaviour
    #: CSMS URL per (OCPP version, security profile) of the mix (one URL for all, for a real
    #: CSMS; one reference CSMS each with ``--against reference``)
    urls: dict[tuple[str, int], str]
    stats: Stats
    judge: Judge
    #: TLS context of the stations of security profile 2
    ssl: ssl.SSLContext | None = None
    answers: Answers = field(default_factory=Answers)
    rng: random.Random = field(default_factory=random.Random)
    stopping: bool = False
    #: the station objects (events pick among them)
    stations: list[Any] = field(default_factory=list)
