"""``pile-interop``: list cases, run a profile, rebuild a report, serve a reference SUT.

Exit codes: 0 every selected case passed (or warned, or was not applicable); 1 some case
failed or could not be decided (``error``); 2 bad usage or configuration (one line on stderr,
no traceback); 130 interrupted (Ctrl-C) after the report was written: an interrupted run has
no verdict and never exits 0. A ``--case`` subset is a partial run, judged (banner and exit
code) on the selected cases only. ``report DIR`` exits as the rebuilt run would (130 for a run
that never finished, e.g. one killed with SIGKILL). ``run --rerun-failed DIR`` of a run with no
failure runs nothing and exits 0. ``verify DIR --key PUB`` exits 0 when the signed folder is
intact, 1 when it is not (each problem named), 2 for a folder or key that cannot be read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from pile_interop import __version__
from pile_interop.cli import bench, signing
from pile_interop.cli.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from pile_interop.cli.fleet import add_fleet_parser, cmd_fleet
from pile_interop.cli.options import add_verbose
from pile_interop.cli.serve import add_serve_parser
from pile_interop.core.config import (
    ContentRoot,
    Profile,
    check_known,
    find_root,
    load_profile,
)
from pile_interop.core.errors import UsageError

log = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _host_port(text: str) -> tuple[str, int]:
    from pile_interop.engine.targets import parse_host_port

    try:
        return parse_host_port(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pile-interop", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"pile-interop {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    common = _Parser(add_help=False)
    common.add_argument(
        "--root",
        help="content root with profiles/ and conformance/ (default: the nearest pile-interop "
        "checkout, else the content the installed package carries)",
    )
    common.add_argument(
        "--content",
        action="append",
        default=[],
        metavar="DIR",
        help="your own cases and profiles: a folder with conformance/ and/or profiles/ laid out "
        "as the suite's (repeat)",
    )

    p_list = sub.add_parser("list", parents=[common], help="list cases")
    p_list.add_argument("--profile", help="only the cases of this profile")
    p_list.add_argument("--json", action="store_true", help="machine-readable output")

    p_run = sub.add_parser("run", parents=[common], help="run a profile and write a report")
    p_run.add_argument(
        "--profile", help="e.g. ocpp16/core-cs (with --rerun-failed / --resume: the earlier run's)"
    )
    where = p_run.add_mutually_exclusive_group()  # one of them, or a CSMS descriptor's url
    where.add_argument(
        "--against", choices=["reference"], help="start the embedded reference SUT in-process"
    )
    where.add_argument(
        "--listen", type=_host_port, metavar="HOST:PORT", help="wait for the station to connect"
    )
    where.add_argument(
        "--connect",
        metavar="URL",
        help="OCPP CSMS under test: connect to it as a station (ws[s]://host:port/path, the "
        "station identity appended as the last path segment; or a template with {station_id} "
        "where the identity goes, e.g. wss://h/ocpp/{station_id}/ws?token=t); default: the "
        "device descriptor's url",
    )
    where.add_argument(
        "--can",
        metavar="SPEC",
        help="GB/T 27930: the bench's CAN bus (virtual:CH, udp_multicast, socketcan:IF, "
        "<python-can interface>:<channel>); default: the device descriptor's gbt27930.can",
    )
    p_run.add_argument("--device", help="device descriptor YAML (fixtures/devices/…)")
    p_run.add_argument("--out", help="report folder (default reports/<time>-<profile>)")
    p_run.add_argument("--case", action="append", default=[], help=bench.CASE_HELP)
    bench.add_run_options(p_run)
    p_run.add_argument(
        "--strict", action="store_true", help="a broken SHOULD (warn) fails the case too"
    )
    p_run.add_argument(
        "--time-scale",
        type=_positive,
        help="the SUT's clock scale: reference default from the profile; with --listen only "
        "for a simulator started with the same --time-scale",
    )
    p_run.add_argument(
        "--seed",
        type=_count,
        metavar="N",
        help="the seed of the forms the suite varies within the spec (date-time offsets and "
        "fractions, message ids): the report names the seed of every run; give it to repeat one",
    )
    p_run.add_argument(
        "--max-unreached",
        type=_count,
        default=3,
        metavar="N",
        help="stop the run after N cases in a row could not reach their before-state (the "
        "rest not_run); 0: never stop (default 3)",
    )

    p_report = sub.add_parser(
        "report", help="rebuild a report folder, or --merge several into a comparison matrix"
    )
    p_report.add_argument(
        "folders", nargs="+", metavar="DIR", help="report folder(s) with results.json / .jsonl"
    )
    p_report.add_argument(
        "--merge", action="store_true", help="compare the runs: devices as columns, cases as rows"
    )
    p_report.add_argument("--out", help="with --merge: the folder for the matrix")
    signing.add_sign_options(p_report)

    p_check = sub.add_parser(
        "check-log", parents=[common], help="judge a recorded GB/T 27930 session offline"
    )
    p_check.add_argument(
        "file",
        help="candump (-l or plain), analyser CSV / USB-CAN text export, Vector ASC or BLF, "
        "PCAN .trc, python-can CSV (the format is recognised by its content)",
    )
    p_check.add_argument("--profile", required=True, help="gbt27930/charger or gbt27930/bms")
    p_check.add_argument("--variant", choices=["2011", "2015", "2023a"], help="default: profile's")
    p_check.add_argument(
        "--channel", help="only this channel of a multi-channel recording (as the file names it)"
    )
    p_check.add_argument("--out", help="report folder (default reports/<time>-log)")

    add_serve_parser(sub, _host_port, _positive)
    add_fleet_parser(sub, common, _positive)
    bench.add_profiles_parser(sub, common)
    signing.add_verify_parser(sub)
    for command in sub.choices.values():
        add_verbose(command)
    return parser


# -- list ---------------------------------------------------------------------------------


def _profiles(root: ContentRoot) -> list[Profile]:
    return [load_profile(root.profile_path(pid)) for pid in root.profile_ids()]


def cmd_list(args: argparse.Namespace) -> int:
    from pile_interop.scenario.loader import CaseLibrary

    root = find_root(args.root, content=args.content)
    library = CaseLibrary(*root.case_folders)
    profiles = _profiles(root)
    if args.profile:
        chosen = load_profile(root.profile_path(args.profile))
        ids = list(chosen.cases)
    else:
        ids = library.ids()
    rows = []
    for case_id in ids:
        scenario = library.get(case_id)
        rows.append(
            {
                "id": scenario.id,
                "title": scenario.title,
                "ocpp": scenario.ocpp,
                "sut": scenario.sut,
                "block": scenario.block,
                "profiles": [p.id for p in profiles if case_id in p.cases],
                "mandatory_in": [p.id for p in profiles if case_id in p.mandatory],
                "path": root.shown(scenario.path),
            }
        )
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        width = max((len(r["id"]) for r in rows), default=10)
        for r in rows:
            profiles_text = ", ".join(r["profiles"]) or "-"
            print(f"{r['id']:<{width}}  {r['sut']:<4} {r['title']}  [{profiles_text}]")
        print(f"{len(rows)} case(s)", file=sys.stderr)
    return EXIT_OK


# -- run ----------------------------------------------------------------------------------


def _default_out(profile: Profile) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("reports") / f"{stamp}-{profile.id.replace('/', '-')}"


def cmd_run(args: argparse.Namespace) -> int:
    again = _continuation(args)  # --rerun-failed / --resume: the earlier run's profile
    if again is not None and not again.run:
        print(f"nothing to run again in {again.folder}: no case failed or erred", file=sys.stderr)
        return EXIT_OK

    from pile_interop.engine.lab import require_terminal
    from pile_interop.engine.report import Report
    from pile_interop.engine.run import run_profile
    from pile_interop.engine.targets import TargetRequest, campaign_for, resolve_target
    from pile_interop.reporting.console import Progress
    from pile_interop.scenario.loader import CaseLibrary

    root = find_root(args.root, content=args.content, device=args.device)
    profile = load_profile(root.profile_path(args.profile))
    library = CaseLibrary(*root.case_folders)
    check_known(profile, set(library.ids()))
    everything = [library.get(c) for c in profile.cases]
    if again is not None:
        selected = [c for c in profile.cases if c in set(again.run)]
    else:
        by_id = {s.id: s for s in everything}
        picked = bench.select_cases(profile, by_id, args.case, args.keyword)
        selected = list(profile.cases) if picked is None else picked
    scenarios = [s for s in everything if s.id in selected]
    request = TargetRequest(
        against=args.against,
        listen=args.listen,
        connect=args.connect,
        can=args.can,
        device=args.device,
        time_scale=args.time_scale,
        seed=args.seed,
    )
    resolved = resolve_target(request, profile, root)
    device, target = resolved.device, resolved.target
    campaign = campaign_for(profile, resolved, strict=args.strict)
    campaign.check(scenarios)
    out = _run_out(args, profile, again)
    progress = Progress(
        redactor=campaign.redactor, plan=bench.plan(campaign, scenarios), summary=sys.stdout
    )
    carried = again.carried if again is not None else []
    continues = again.continues if again is not None else None

    async def main() -> dict[str, Any]:
        async with campaign:
            require_terminal(getattr(campaign, "actuator", None))
            if target.against == "listen" and hasattr(campaign, "listen_url"):
                print(
                    f"waiting for station {device.station_id!r} at {campaign.listen_url()}",
                    file=sys.stderr,
                )
            report = Report(out, campaign, everything, subscribers=[progress], continues=continues)
            return await run_profile(
                campaign, scenarios, report, max_unreached=args.max_unreached, carried=carried
            )

    try:
        run = asyncio.run(main())
    except KeyboardInterrupt:
        print(f"interrupted; the report so far is in {out}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return run_exit_code(run)


def _continuation(args: argparse.Namespace) -> bench.Continuation | None:
    """``--rerun-failed`` / ``--resume``: what the earlier run keeps and what runs again; the
    profile is that run's (``--profile``, if given, must agree)."""
    if args.rerun_failed is None and args.resume is None:
        if not args.profile:
            raise UsageError("run needs --profile (or --rerun-failed DIR / --resume DIR)")
        return None
    if args.case or args.keyword is not None:
        raise UsageError("--case and -k do not go with --rerun-failed / --resume")
    if args.rerun_failed is not None:
        again = bench.rerun_failed(args.rerun_failed, load_run)
    else:
        again = bench.resume(args.resume)
    if args.profile and args.profile != again.profile_id:
        raise UsageError(
            f"--profile {args.profile}: the run in {again.folder} is of {again.profile_id}"
        )
    args.profile = again.profile_id
    return again


def _run_out(args: argparse.Namespace, profile: Profile, again: bench.Continuation | None) -> Path:
    """The report folder of a run, checked writable (exit 2 when it is not)."""
    if again is not None and again.mode == "resume":
        if args.out and not bench.same_folder(Path(args.out), again.folder):
            raise UsageError("--resume continues the report in its own folder: drop --out")
        out = again.folder
    else:
        out = Path(args.out) if args.out else _default_out(profile)
        if again is not None and out.exists() and bench.same_folder(out, again.folder):
            raise UsageError("--rerun-failed writes a new report: --out must be another folder")
    bench.ensure_writable(out)
    return out


def run_exit_code(run: dict[str, Any]) -> int:
    """The exit code that agrees with a run's banner: an interrupted run (killed, stopped,
    Ctrl-C) has no verdict and never exits 0; a failed or undecided case is 1."""
    if run.get("interrupted"):
        return EXIT_INTERRUPTED  # no verdict: never 0
    if run.get("stopped"):
        print(f"stopped: {run['stopped']}", file=sys.stderr)
        return EXIT_FAILED  # its unreached cases are errors, the rest not run
    summary = run["summary"]
    return EXIT_FAILED if summary.get("fail") or summary.get("error") else EXIT_OK


# -- report -------------------------------------------------------------------------------


def load_run(folder: Path) -> dict[str, Any]:
    """The run of a report folder, never claiming more than ran
    (:func:`pile_interop.reporting.rebuild.load_run`), the unrun cases named from the profile."""
    from pile_interop.reporting.rebuild import load_run as rebuild

    return rebuild(folder, _planned_identities)


def _planned_identities(profile_id: str) -> dict[str, dict[str, Any]]:
    """Who the profile's cases are (title, mandatory, requirements …), from the content root,
    for the planned cases a rebuilt report lists as not run; empty when the profile cannot be
    read here (the cases are then named by id only)."""
    from pile_interop.scenario.case_info import case_identity
    from pile_interop.scenario.loader import CaseLibrary

    try:
        root = find_root(None)
        profile = load_profile(root.profile_path(profile_id))
        library = CaseLibrary(*root.case_folders)
        return {case_id: case_identity(library.get(case_id), profile) for case_id in profile.cases}
    except Exception as exc:  # best effort: the report is rebuilt without the titles
        log.debug("cannot read profile %r for the unrun cases: %s", profile_id, exc)
        return {}


def _label(run: dict[str, Any], folder: Path) -> str:
    sut = run.get("sut") or {}
    who = " ".join(str(sut.get(k) or "") for k in ("vendor", "model", "firmware")).strip()
    when = str(run.get("started") or "")[:16].replace("T", " ")
    return f"{who or folder.name} ({when})" if when else who or folder.name


def cmd_report(args: argparse.Namespace) -> int:
    from pile_interop.reporting.writer import write_all

    folders = [Path(f) for f in args.folders]
    if args.merge and (args.sign or args.pdf):
        raise UsageError("--sign and --pdf take one report folder, not a --merge")
    if not args.merge:
        if len(folders) != 1 or args.out:
            raise UsageError("report rebuilds one folder; compare several with --merge")
        folder = signing.report_folder(args.folders[0])
        write = signing.write_folder(write_all, args.pdf)
        if args.sign:
            run, problems = signing.sign(folder, args.sign, args.signer, load_run, write)
        else:
            run = load_run(folder)
            run.pop("signature", None)  # a rebuilt folder is no longer the one signed
            problems = write(folder, run)
        for problem in problems:
            print(f"pile-interop: {problem}", file=sys.stderr)
        print(f"{run['profile_verdict']['text']}\nreport rebuilt in {folder}", file=sys.stderr)
        return EXIT_FAILED if problems else run_exit_code(run)
    from pile_interop.reporting.html import write_merge_html

    if len(folders) < 2:
        raise UsageError("--merge needs at least two report folders")
    out = (
        Path(args.out)
        if args.out
        else Path("reports") / (datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-merge")
    )
    bench.ensure_writable(out)
    runs = [load_run(f) for f in folders]
    out.mkdir(parents=True, exist_ok=True)
    links = [os.path.relpath(f / "index.html", out) for f in folders]
    labels = [_label(run, f) for run, f in zip(runs, folders, strict=True)]
    write_merge_html(out / "index.html", runs, labels, links=links)
    print(f"comparison of {len(runs)} runs: {out / 'index.html'}", file=sys.stderr)
    return EXIT_OK


# -- serve-reference ----------------------------------------------------------------------


def cmd_check_log(args: argparse.Namespace) -> int:
    from pile_interop.gbt27930.layout import TITLES
    from pile_interop.gbt27930.logcheck import check_recording
    from pile_interop.gbt27930.logframe import LogFormatError
    from pile_interop.reporting.results_json import profile_verdict, summarize
    from pile_interop.reporting.writer import write_all

    root = find_root(args.root, content=args.content)
    profile = load_profile(root.profile_path(args.profile))
    if not profile.gbt27930:
        raise UsageError(f"--profile {profile.id}: check-log judges GB/T 27930 recordings")
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    variant = args.variant or profile.gbt27930
    try:
        checked = check_recording(path, profile.sut, variant, profile.id, args.channel)
    except (LogFormatError, ValueError, UnicodeDecodeError, OSError) as exc:
        raise UsageError(f"{path}: {exc}") from None
    cases, recording = checked.cases, checked.recording
    out = (
        Path(args.out)
        if args.out
        else Path("reports") / (datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-log")
    )
    title = f"{TITLES[recording['variant']]} - {profile.sut} (recording {path.name})"
    run: dict[str, Any] = {
        "suite": "pile-interop",
        "version": __version__,
        "profile": profile.id,
        "profile_title": title,
        "profile_verdict": profile_verdict(cases, title),
        "sut": {
            "role": profile.sut,
            "device": str(path),
            "protocol": TITLES[recording["variant"]],
        },
        "recording": recording,
        "against": f"recording {path}",
        "time_scale": 1.0,
        "started": cases[0]["started"] if cases else None,
        "finished": cases[0]["finished"] if cases else None,
        "duration_s": 0.0,
        "interrupted": False,
        "summary": summarize(cases),
        "cases": cases,
    }
    bench.ensure_writable(out)
    out.mkdir(parents=True, exist_ok=True)
    for problem in write_all(out, run):
        print(f"pile-interop: {problem}", file=sys.stderr)
    _print_recording(recording)
    for case in cases:
        print(
            f"{case['id']:<18} {case['verdict']:<5} {case['steps'][0]['observed'][:90]}",
            file=sys.stderr,
        )
    print(f"{run['profile_verdict']['text']}\nreport: {out}", file=sys.stderr)
    summary = run["summary"]
    return EXIT_FAILED if summary.get("fail") or summary.get("error") else EXIT_OK


def _print_recording(recording: dict[str, Any]) -> None:
    """The recording's per-message table on stderr (the report has it too)."""
    print(
        f"{recording['file']}: {recording['format']}, {recording['frames']} frames, "
        f"{recording['standard']}, span {recording['span']}",
        file=sys.stderr,
    )
    print(f"{'msg':<5} {'count':>8} {'period':>7} {'mean':>8} {'p95':>8} {'max':>8} findings",
          file=sys.stderr)  # fmt: skip
    for row in recording["messages"]:
        cells = [
            "" if row[k] is None else f"{row[k]:g}"
            for k in ("period_ms", "mean_ms", "p95_ms", "max_ms")
        ]
        print(
            f"{row['message']:<5} {row['count']:>8} {cells[0]:>7} {cells[1]:>8} {cells[2]:>8} "
            f"{cells[3]:>8} {row['findings'] if row['sut'] else '-'}",
            file=sys.stderr,
        )


def cmd_serve(args: argparse.Namespace) -> int:
    from pile_interop.ocpp.serve import serve_station

    if args.kind in ("charger", "bms"):
        return _serve_gbt(args)
    if args.kind == "csms":
        return _serve_csms(args)
    if not args.csms_url:
        raise UsageError("serve-reference station needs --csms-url")

    password = _password(args)
    if not args.csms_url.startswith(("ws://", "wss://")):
        raise UsageError(f"--csms-url {args.csms_url}: expected ws:// or wss://")
    try:
        asyncio.run(
            serve_station(
                args.csms_url,
                args.station_id,
                connectors=args.connectors,
                time_scale=args.time_scale,
                password=password,
                control=args.control,
                ocpp=args.ocpp,
            )
        )
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_OK


def _password(args: argparse.Namespace) -> str | None:
    if not args.password_file:
        return None
    try:
        return Path(args.password_file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UsageError(f"--password-file {args.password_file}: {exc.strerror}") from None


def _serve_csms(args: argparse.Namespace) -> int:
    from pile_interop.ocpp.serve import serve_csms

    id_tags: dict[str, str] = {}
    for item in args.id_tag:
        tag, _, status = item.partition("=")
        if not tag or status not in ("Accepted", "Blocked", "Expired"):
            raise UsageError(f"--id-tag {item}: expected TAG=Accepted|Blocked|Expired")
        id_tags[tag] = status
    try:
        asyncio.run(
            serve_csms(
                args.listen,
                id_tags=id_tags,
                station_id=args.station_id,
                password=_password(args),
                control=args.control,
                ocpp=args.ocpp,
                identity_segment=args.identity_segment,
            )
        )
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_OK


def _serve_gbt(args: argparse.Namespace) -> int:
    from pile_interop.core.clock import Clock
    from pile_interop.gbt27930.bms import Bms27930
    from pile_interop.gbt27930.bus import open_bus
    from pile_interop.gbt27930.charger import Charger27930
    from pile_interop.gbt27930.serve import serve_peer

    if not args.can:
        raise UsageError(f"serve-reference {args.kind} needs --can SPEC")
    try:
        bus = open_bus(args.can)
    except ValueError as exc:
        raise UsageError(f"--can {args.can}: {exc}") from None
    cls = Charger27930 if args.kind == "charger" else Bms27930
    peer = cls(bus, variant=args.variant, clock=Clock(args.time_scale), owns_bus=True)
    try:
        asyncio.run(serve_peer(peer))
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        logging.basicConfig(
            level=logging.WARNING - 10 * min(args.verbose + args.verbose_after, 2),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        handler = {
            "list": cmd_list,
            "run": cmd_run,
            "report": cmd_report,
            "check-log": cmd_check_log,
            "serve-reference": cmd_serve,
            "profiles": bench.cmd_profiles,
            "verify": signing.cmd_verify,
            "fleet": cmd_fleet,
        }[args.command]
        return handler(args)
    except UsageError as exc:
        print(f"pile-interop: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
