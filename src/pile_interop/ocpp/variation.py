"""The suite varies its own side within what the spec allows, so a SUT that accepts only one
form is caught.

OCPP date-times are RFC 3339: ``Z`` or an offset (``+08:00``), with or without fractional
seconds; a message id is any string of at most 36 characters (OCPP-J), not only a UUID. A
:class:`Variation` hands out the forms the suite writes — in an order drawn from a seed, every
form within the first few uses whatever the seed — so a run meets a SUT with each of them and
``--seed`` makes a failing run repeat exactly. The seed is in the report.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

#: The date-time forms (all the same instant): name → (UTC offset, digits of the fraction).
DATE_TIME_FORMS: dict[str, tuple[timedelta | None, int]] = {
    "Z, milliseconds": (None, 3),
    "Z, no fraction": (None, 0),
    "+08:00, no fraction": (timedelta(hours=8), 0),
    "Z, microseconds": (None, 6),
    "-03:30, milliseconds": (timedelta(hours=-3, minutes=-30), 3),
    "+00:00, milliseconds": (timedelta(0), 3),
}
#: The message id forms: a UUID, a short decimal counter, 36 characters that are no UUID.
MESSAGE_ID_FORMS = ("uuid4", "counter", "36 characters")
#: OCPP-J: a message id is at most 36 characters.
MAX_MESSAGE_ID = 36


def new_seed() -> int:
    """A seed for a run that names none."""
    return random.SystemRandom().randrange(1, 2**31)


def write_date_time(when: datetime, form: str) -> str:
    """``when`` written in the date-time ``form`` (a key of :data:`DATE_TIME_FORMS`)."""
    offset, digits = DATE_TIME_FORMS[form]
    local = when.astimezone(UTC if offset is None else timezone(offset))
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{local.microsecond:06d}"[:digits]
    if offset is None:
        return text + "Z"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


class Variation:
    """The forms of one run, drawn from ``seed`` (the same seed, the same forms in order)."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = new_seed() if seed is None else seed
        rng = random.Random(self.seed)
        self._date_forms = _shuffled_cycle(list(DATE_TIME_FORMS), rng)
        self._id_forms = _shuffled_cycle(list(MESSAGE_ID_FORMS), rng)
        self._counter = itertools.count(rng.randrange(1, 1000))

    def date_time(self, when: datetime | None = None) -> str:
        """``when`` (default now) in the next date-time form."""
        return write_date_time(when or datetime.now(UTC), next(self._date_forms))

    def message_id(self) -> str:
        """A new message id in the next form (each unique within the run)."""
        form = next(self._id_forms)
        if form == "uuid4":
            return str(uuid.uuid4())
        number = next(self._counter)
        if form == "counter":
            return str(number)
        return f"pile-interop-{number}-".ljust(MAX_MESSAGE_ID, "x")[:MAX_MESSAGE_ID]

    def describe(self) -> dict[str, Any]:
        """The report's ``variation``: the seed and the forms it draws from."""
        return {
            "seed": self.seed,
            "date_times": list(DATE_TIME_FORMS),
            "message_ids": list(MESSAGE_ID_FORMS),
        }


def _shuffled_cycle(forms: list[str], rng: random.Random) -> Iterator[str]:
    """Every form once in a drawn order, then again in another: each form within the first
    ``len(forms)`` uses."""
    while True:
        order = forms[:]
        rng.shuffle(order)
        yield from order
