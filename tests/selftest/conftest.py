from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess[str]:
    """Run ``python -m pile_interop`` the way a user would, bounded."""
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pile_interop", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=kwargs.pop("cwd", ROOT),
        env=env,
        **kwargs,
    )


@pytest.fixture
def quick_root(tmp_path: Path) -> Path:
    """A content root whose profile has short bounds (for SUTs that never answer)."""
    root = tmp_path / "root"
    (root / "profiles" / "ocpp16").mkdir(parents=True)
    (root / "conformance").symlink_to(ROOT / "conformance")
    (root / "fixtures").symlink_to(ROOT / "fixtures")
    profile = yaml.safe_load((ROOT / "profiles/ocpp16/core-cs.yaml").read_text())
    profile["timeouts"].update(
        connect=1.5, boot=1.5, settle=1.5, manual=2, response=1.5, message=1.5
    )
    (root / "profiles/ocpp16/core-cs.yaml").write_text(yaml.safe_dump(profile))
    return root
