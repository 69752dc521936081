"""Throughput and peak memory of ``pile-interop check-log`` on a long recording.

``python benchmarks/checklog_throughput.py [--frames N] [--format log|asc|csv] [--keep]``

Generates a recording of ``--frames`` frames (default 10 million, about a day of GB/T 27930
traffic) by repeating the shared capture (1,149 frames, one session of 30.5 s) back to back,
each copy shifted one second after the previous one ends, in candump ``-l`` format (or Vector
ASC, or the analyser CSV); then runs ``check-log … --profile gbt27930/charger`` on it in a
child process, timed, and reads the child's peak resident memory (``ru_maxrss``). A second run
on a tenth of the frames shows whether memory grows with the recording (it must not: the
recording is streamed). Writes ``reports/bench-checklog_throughput.json``. Not a test: it takes
minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from pile_interop.gbt27930.capture import read_capture_csv  # noqa: E402

CAPTURE = ROOT / "tests/gbt27930/data/charger-capture.csv"


def generate(path: Path, frames: int, fmt: str) -> float:
    """Write ``frames`` frames to ``path``; returns the seconds it took."""
    t0 = time.perf_counter()
    session = read_capture_csv(CAPTURE)
    base = session[0].t
    span = session[-1].t - base + 1.0
    lines = [(f.t - base, f"{f.can_id:08X}", f.data) for f in session]
    written = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        if fmt == "asc":
            out.write("date Sat Dec 5 00:00:00.000 2026\nbase hex  timestamps absolute\n")
            out.write("no internal events logged\nBegin Triggerblock Sat Dec 5 00:00:00.000 2026\n")
        elif fmt == "csv":
            out.write("序号,帧ID,时间标识,长度,数据(Hex)\n")
        copy = 0
        while written < frames:
            offset = copy * span
            chunk = []
            for t, ident, data in lines[: frames - written]:
                when = offset + t
                if fmt == "log":
                    chunk.append(f"({1764892800 + when:.6f}) can0 {ident}#{data.hex().upper()}\n")
                elif fmt == "asc":
                    hexes = " ".join(f"{b:02X}" for b in data)
                    chunk.append(f"{when:11.6f} 1  {ident}x  Rx   d {len(data)} {hexes}\n")
                else:
                    hexes = " ".join(f"{b:02X}" for b in data)
                    chunk.append(
                        f"{written + len(chunk)},0x{ident},{when:.4f},{len(data)},{hexes}\n"
                    )
            out.writelines(chunk)
            written += len(chunk)
            copy += 1
        if fmt == "asc":
            out.write("End TriggerBlock\n")
    return time.perf_counter() - t0


def measure(path: Path, out: Path) -> dict[str, Any]:
    """Run check-log on ``path`` in a child; wall seconds and the child's peak RSS (MiB)."""
    code = (
        "import resource, sys\n"
        "from pile_interop.cli import main\n"
        "rc = main(sys.argv[1:])\n"
        "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(rc)\n"
    )
    args = [sys.executable, "-c", code, "check-log", str(path), "--profile", "gbt27930/charger"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    t0 = time.perf_counter()
    done = subprocess.run(
        [*args, "--out", str(out)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    rss = next(
        (int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("MAXRSS")),
        0,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"check-log failed ({done.returncode}): {done.stderr[-2000:]}")
    verdict = next((ln for ln in done.stderr.splitlines() if "meets" in ln or "does not" in ln), "")
    return {"wall_s": round(wall, 2), "peak_rss_mib": round(rss / 1024, 1), "verdict": verdict}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000_000)
    parser.add_argument("--format", choices=["log", "asc", "csv"], default="log")
    parser.add_argument("--keep", action="store_true", help="keep the generated recordings")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}",
        "python-can": version("python-can"),
        "cantools": version("cantools"),
        "format": args.format,
        "runs": [],
    }
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-checklog-") as tmp:
        for frames in (args.frames // 10, args.frames):
            path = Path(tmp) / f"day-{frames}.{args.format}"
            made = generate(path, frames, args.format)
            size = path.stat().st_size
            run = measure(path, Path(tmp) / f"report-{frames}")
            run.update(
                frames=frames,
                file_mib=round(size / 2**20, 1),
                generate_s=round(made, 1),
                frames_per_s=round(frames / run["wall_s"]),
            )
            results["runs"].append(run)
            rows.append(run)
            print(
                f"{frames:>11,} frames  {run['file_mib']:>8} MiB  {run['wall_s']:>8} s  "
                f"{run['frames_per_s']:>8,} frames/s  peak RSS {run['peak_rss_mib']} MiB",
                flush=True,
            )
            if args.keep:
                kept = ROOT / "reports" / path.name
                kept.parent.mkdir(exist_ok=True)
                path.replace(kept)
    out = ROOT / "reports" / "bench-checklog_throughput.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
