"""``pile-interop serve-reference charger|bms --can SPEC``: a reference GB/T 27930 side as a
simulator on a real or virtual bus. Terminal commands: ``plug``, ``unplug``, ``stop [reason]``,
``estop``, ``insulation``, ``pause``, ``resume``, ``suppress MSG``, ``release MSG``,
``status``, ``quit``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shlex
import sys

from pile_interop.gbt27930.peer import Peer27930

#: Bound on stopping the simulator.
STOP_BOUND_S = 10.0
HELP = (
    "commands: plug | unplug | stop [reason] | estop | insulation | pause | resume | "
    "suppress MSG | release MSG | status | quit"
)


async def command(peer: Peer27930, line: str) -> str:
    words = shlex.split(line)
    if not words:
        return ""
    name, *rest = words
    if name == "plug":
        await peer.connect()
    elif name == "unplug":
        await peer.disconnect()
    elif name == "stop":
        await peer.request_stop(*(rest[:1] or ["manual"]))
    elif name == "estop":
        await peer.emergency_stop()
    elif name == "insulation":
        await peer.insulation_fault()
    elif name in ("pause", "resume") and hasattr(peer, name):
        await getattr(peer, name)()
    elif name in ("suppress", "release") and rest:
        peer.suppress(rest[0], name == "suppress")
    elif name == "status":
        return json.dumps(
            {
                "phase": peer.phase,
                "attempts": peer.attempts,
                "sending": peer.sending(),
                "failed": peer.failed,
            }
        )
    else:
        raise ValueError(f"unknown command {line.strip()!r}; {HELP}")
    return f"done: {name}"


async def serve_peer(peer: Peer27930) -> None:
    await peer.start()
    print(f"reference {peer.ROLE} on the bus; {HELP}", file=sys.stderr)
    try:
        if sys.stdin is not None and sys.stdin.isatty():
            while True:
                line = await asyncio.to_thread(sys.stdin.readline)
                if line == "" or line.strip() in ("quit", "exit"):
                    return
                try:
                    print(await command(peer, line), file=sys.stderr)
                except ValueError as exc:
                    print(f"error: {exc}", file=sys.stderr)
        else:
            await peer.connect()  # no terminal: plugged in at once, runs until killed
            await asyncio.Event().wait()
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(peer.stop(), STOP_BOUND_S)
