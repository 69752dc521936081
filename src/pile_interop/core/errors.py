"""Errors in what the user gave us: they end the program with exit code 2 and one line."""

from __future__ import annotations

from pathlib import Path


class UsageError(Exception):
    """Bad flag, unknown profile, unreachable SUT at start…: exit 2, one line, no traceback."""

    exit_code = 2


class ConfigError(UsageError):
    """A configuration file (scenario, profile, device descriptor) is wrong at ``path:line``."""

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")
