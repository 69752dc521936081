"""Take secrets out of everything a report writer emits.

The engine redacts before a writer sees a result, and every writer passes what it writes
through a :class:`Redactor` again (belt and braces). Two kinds of secret are masked with
``***``:

* patterns that are always secret: the value of an HTTP ``Authorization: Basic …`` /
  ``Bearer …`` header (in raw HTTP, JSON or a Python repr), PEM private key blocks
  (also a block cut short, with no ``-----END`` line), and the value of the OCPP
  configuration that *is* the station's password (1.6 ``AuthorizationKey`` in
  ChangeConfiguration / GetConfiguration frames, 2.0.1 ``BasicAuthPassword`` in
  SetVariables / GetVariables frames), whoever sends it;
* in a JSON-like structure, the value under a key that names a secret (``password``,
  ``basic_auth_password``, ``secret``, ``secrets``, ``private_key``, ``api_key`` …), so a
  device descriptor that reaches a report keeps its secrets out of it;
* the known secrets a :class:`Redactor` is built with (passwords, authorization keys), with
  the ways they show up on the wire: as is, JSON-escaped, as hex (secrets of 8 or more
  characters), and the base64 of ``user:password`` (an HTTP Basic credential) for known
  credentials and for secrets given as ``user:password``.

The module-level :func:`redact_text` and :func:`redact` use a redactor that knows only the
patterns.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

logger = logging.getLogger(__name__)

MASK = "***"

_PEM_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"
    r"(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----"  # a whole block
    r"|[A-Za-z0-9+/=\s\\:,-]*)",  # or a block cut short: the base64 that follows
    re.DOTALL,
)

# "Authorization: Basic dXNlcjpwYXNz", '"Authorization": "Bearer abc"', "authorization=Basic …"
_AUTH_HEADER = re.compile(
    r"""(\bauthorization\b["']?\s*[:=]\s*["']?\s*(?:basic|bearer)\s+)[A-Za-z0-9+/=._~-]+""",
    re.IGNORECASE,
)

# An OCPP JSON string value (with escapes), used in the configuration patterns below.
_JSON_STR = r'"(?:[^"\\]|\\.)*"'
# 1.6: {"key":"AuthorizationKey", …, "value":"…"} in either order within one object.
# The spans between the key and its value are bounded: one OCPP object is small, and an
# unbounded look-ahead would make a huge brace-less text quadratic.
_AUTH_KEY_AFTER = re.compile(
    r'("key"\s*:\s*"AuthorizationKey"[^{}]{0,400}?"value"\s*:\s*)' + _JSON_STR
)
_AUTH_KEY_BEFORE = re.compile(
    r'("value"\s*:\s*)' + _JSON_STR + r'(?=[^{}]{0,400}?"key"\s*:\s*"AuthorizationKey")'
)
# 2.0.1: {"component":{…}, "variable":{"name":"BasicAuthPassword"}, "attributeValue":"…"} in
# any order; _SIBLINGS spans the rest of one object (nested objects allowed, one level).
_SIBLINGS = r"(?:[^{}]|\{[^{}]{0,200}\}){0,400}?"
_BASIC_PW_AFTER = re.compile(
    r'("variable"\s*:\s*\{[^{}]*"name"\s*:\s*"BasicAuthPassword"[^{}]*\}'
    + _SIBLINGS
    + r'"attributeValue"\s*:\s*)'
    + _JSON_STR
)
_BASIC_PW_BEFORE = re.compile(
    r'("attributeValue"\s*:\s*)'
    + _JSON_STR
    + r"(?="
    + _SIBLINGS
    + r'"variable"\s*:\s*\{[^{}]*"name"\s*:\s*"BasicAuthPassword")'
)
_CONFIG_SECRETS = (
    ("AuthorizationKey", (_AUTH_KEY_AFTER, _AUTH_KEY_BEFORE)),
    ("BasicAuthPassword", (_BASIC_PW_AFTER, _BASIC_PW_BEFORE)),
)

#: Keys whose value is a secret, wherever they appear in a JSON-like structure.
SECRET_KEY = re.compile(
    r"^(?:.*[_-])?(?:password|passwd|passphrase|secret|secrets|private_?key|api_?key"
    r"|authorization_?key|client_secret)$",
    re.IGNORECASE,
)

#: Shortest secret for which the hex spelling is masked too (hex of short strings is noise).
_MIN_HEX = 8


_CREDENTIAL_HEADER = re.compile(r"authorization|token|secret|api[-_]?key|password", re.I)


def _mask_json_value(match: re.Match[str]) -> str:
    """The prefix group kept, the JSON string value after it replaced by ``"***"`` (for the
    look-ahead patterns the value is what matched after the group)."""
    return f'{match.group(1)}"{MASK}"'


def _b64(text: str) -> str:
    # Without padding: the unpadded text is a prefix of the padded one, so both are caught.
    return base64.b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def _variants(secret: str) -> set[str]:
    """The spellings under which ``secret`` may show up in a frame, a log or a report."""
    found = {secret}
    if ":" in secret:  # given as "user:password": its HTTP Basic credential
        found.add(_b64(secret))
    found.update({quote(secret, safe=""), quote_plus(secret)})  # in a URL's query string
    found.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    found.add(json.dumps(secret, ensure_ascii=True)[1:-1])
    if len(secret) >= _MIN_HEX:
        hexed = secret.encode("utf-8").hex()
        found.update({hexed, hexed.upper()})
    return found


class Redactor:
    """Masks secrets in text and in JSON-like structures.

    ``secrets``: passwords, keys, tokens. Empty strings are ignored, and so are strings made of
    ``*`` only (they cannot be told from the mask).
    ``credentials``: ``(user, password)`` pairs, e.g. (station id, basic auth password): the
    password is a secret and so is the base64 of ``user:password`` (an HTTP Basic credential).
    """

    def __init__(
        self,
        secrets: Iterable[str] = (),
        *,
        credentials: Iterable[tuple[str, str]] = (),
    ) -> None:
        self._known: set[str] = set()
        self._secrets: re.Pattern[str] | None = None
        self._add(secrets, credentials)

    def _add(self, secrets: Iterable[str], credentials: Iterable[tuple[str, str]]) -> None:
        known = self._known
        for secret in secrets:
            known.update(self._accept(secret))
        for user, password in credentials:
            if self._accept(password):
                known.update(self._accept(password))
                known.add(_b64(f"{user}:{password}"))
        variants: set[str] = set()
        for secret in known:
            variants.update(v for v in _variants(secret) if v.strip("*"))
        self._count = len(known)
        if variants:
            # Longest first, so a secret that contains another is masked whole.
            ordered = sorted(variants, key=lambda v: (-len(v), v))
            self._secrets = re.compile("|".join(re.escape(v) for v in ordered))

    def learn(self, secret: str, user: str | None = None) -> None:
        """A secret that came up during the run (a password the CSMS under test just set):
        masked from now on, by everyone holding this redactor."""
        self._add([secret], [(user, secret)] if user else [])

    @staticmethod
    def _accept(secret: Any) -> set[str]:
        if not isinstance(secret, str) or not secret:
            return set()
        if not secret.strip("*"):
            logger.warning("a secret made only of '*' cannot be told from the mask; ignored")
            return set()
        return {secret}

    def __repr__(self) -> str:  # never show the secrets themselves
        return f"Redactor({self._count} secrets)"

    @classmethod
    def for_descriptor(cls, descriptor: Mapping[str, Any]) -> Redactor:
        """A redactor for what a device descriptor (the YAML document as a dict) marks as
        secret: ``security.basic_auth_password`` (with the station id as the Basic user),
        every string under ``secrets``, and the webhook actuator's credential headers."""
        secrets: list[str] = []
        credentials: list[tuple[str, str]] = []
        security = descriptor.get("security")
        password = security.get("basic_auth_password") if isinstance(security, Mapping) else None
        if isinstance(password, str) and password:
            station = descriptor.get("station_id")
            if isinstance(station, str) and station:
                credentials.append((station, password))
            secrets.append(password)
        listed = descriptor.get("secrets")
        if isinstance(listed, list | tuple):
            secrets.extend(s for s in listed if isinstance(s, str))
        actuator = descriptor.get("actuator")
        headers = actuator.get("headers") if isinstance(actuator, Mapping) else None
        if isinstance(headers, Mapping):
            for name, value in headers.items():
                if isinstance(value, str) and _CREDENTIAL_HEADER.search(str(name)):
                    secrets.append(value)
                    scheme, _, token = value.partition(" ")
                    if token and scheme.lower() in ("basic", "bearer", "token"):
                        secrets.append(token)
        return cls(secrets, credentials=credentials)

    def _once(self, text: str) -> str:
        text = _PEM_PRIVATE_KEY.sub(MASK, text)
        text = _AUTH_HEADER.sub(lambda m: m.group(1) + MASK, text)
        for name, patterns in _CONFIG_SECRETS:
            if name in text:
                for pattern in patterns:
                    text = pattern.sub(_mask_json_value, text)
        if self._secrets is not None:
            text = self._secrets.sub(MASK, text)
        return text

    def redact_text(self, text: str) -> str:
        """``text`` with every secret and secret pattern replaced by ``***``.

        Masking repeats until nothing changes, so a secret cannot be re-formed from the text
        around a mask. Each pass removes at least one character that is not ``*``, so it ends.
        """
        if not isinstance(text, str) or not text:
            return text
        while True:
            masked = self._once(text)
            if masked == text:
                return masked
            text = masked

    def redact(self, obj: Any) -> Any:
        """A redacted copy of ``obj``: dicts (keys and values), lists and tuples are walked,
        strings masked, other values returned as they are. Tuples come back as lists."""
        if isinstance(obj, str):
            return self.redact_text(obj)
        if isinstance(obj, Mapping):
            return {
                (self.redact_text(k) if isinstance(k, str) else k): (
                    _mask_all(v) if isinstance(k, str) and SECRET_KEY.match(k) else self.redact(v)
                )
                for k, v in obj.items()
            }
        if isinstance(obj, list | tuple):
            return [self.redact(item) for item in obj]
        return obj


def _mask_all(obj: Any) -> Any:
    """``obj`` with every non-empty string in it replaced by the mask (other values kept)."""
    if isinstance(obj, str):
        return MASK if obj else obj
    if isinstance(obj, Mapping):
        return {k: _mask_all(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_mask_all(item) for item in obj]
    return obj


#: The redactor that knows only the patterns (no secrets).
DEFAULT = Redactor()


def resolve(redactor: Redactor | None) -> Redactor:
    """``redactor``, or :data:`DEFAULT` when it is ``None``."""
    return DEFAULT if redactor is None else redactor


def redact_text(text: str) -> str:
    """``text`` with the always-secret patterns masked (see :class:`Redactor`)."""
    return DEFAULT.redact_text(text)


def redact(obj: Any) -> Any:
    """A copy of ``obj`` with the always-secret patterns masked in every string."""
    return DEFAULT.redact(obj)
