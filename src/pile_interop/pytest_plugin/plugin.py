"""pytest plugin: scenario YAML files become pytest items (the Tavern idea).

``pytest --pile-profile ocpp16/core-cs`` runs that profile's cases (from a checkout, or the
content the installed package carries) against the embedded reference station; ``pytest
conformance/ocpp16/cs`` runs the cases of those paths. A YAML file is a case only where the
plugin was pointed at cases: a file named on the command line, or one in a case folder — the
content root's ``conformance/`` and those of the ``--pile-content`` folders (and of the device
descriptor's ``content:`` key), each laid out as the suite's own (``profiles/``,
``conformance/``); a ``TC_*.yaml`` elsewhere in a repository is not collected.
``--pile-against listen:0.0.0.0:9000 --pile-device fixtures/devices/my-station.yaml`` against a
real one (``connect:URL`` a CSMS, ``can:SPEC`` a GB/T 27930 charger or BMS; the targets resolve
as the CLI's ``--listen`` / ``--connect`` / ``--can`` do). ``--pile-out DIR`` also writes the
pile-interop report folder. Verdicts map to pytest outcomes: pass → passed, warn → passed with
a warning, fail → failed (the reason is the assertion message), error → failed with
:class:`PileError`, na → skipped. Allure labels are the CLI report's
(:func:`pile_interop.reporting.allure_labels.labels`).

A case YAML cannot express is a plain test function carrying the same metadata as markers::

    @pytest.mark.pile_case(id="TC_…", title="…", requirements=["…"], ocpp="1.6", sut="cs")
    def test_something(pile_env): ...

where the ``pile_env`` fixture runs coroutines against the live campaign (see
:class:`PileEnv`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import warnings
from collections.abc import Awaitable, Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from pile_interop import __version__
from pile_interop.core.errors import UsageError

if TYPE_CHECKING:
    from pile_interop.core.config import ContentRoot

log = logging.getLogger(__name__)

T = TypeVar("T")
_KEY = pytest.StashKey["PileRuntime"]()


class PileError(Exception):
    """The harness could not decide the case (verdict ``error``)."""


class PileWarning(UserWarning):
    """A SHOULD-level requirement was broken (verdict ``warn``)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pile-interop")
    group.addoption(
        "--pile-profile",
        help="profile whose cases run (unless a path on the command line names cases: then "
        "those) and whose bounds and params the cases use",
    )
    group.addoption(
        "--pile-against",
        default="reference",
        help="reference (default), listen:HOST:PORT (a station), connect:URL (a CSMS; "
        "{station_id} in the URL marks where the station identity goes) or can:SPEC (a GB/T "
        "27930 charger or BMS on that CAN bus, e.g. can:virtual:CH)",
    )
    group.addoption("--pile-device", help="device descriptor YAML")
    group.addoption("--pile-out", help="also write a pile-interop report folder here")
    group.addoption("--pile-time-scale", type=float, help="reference SUT time scale")
    group.addoption(
        "--pile-seed",
        type=int,
        help="seed of the forms the suite varies (date-times, message ids); default: a new one",
    )
    group.addoption(
        "--pile-root",
        help="pile-interop content root (profiles/, conformance/, fixtures/); default: the "
        "nearest checkout, else the content the installed package carries",
    )
    group.addoption(
        "--pile-content",
        action="append",
        default=[],
        metavar="DIR",
        help="your own cases and profiles: a folder with conformance/ and/or profiles/ laid out "
        "as the suite's (repeat); the device descriptor's content: key adds more",
    )
    group.addoption(
        "--pile-strict", action="store_true", help="a broken SHOULD (warn) fails the case too"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "pile_case(id, title, requirements, ocpp, sut, profiles): a pile-interop case "
        "written in Python",
    )
    config.addinivalue_line("markers", "pile_profile(id): the profiles a scenario belongs to")
    config.stash[_KEY] = PileRuntime(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    runtime = config.stash.get(_KEY, None)
    if runtime is not None:
        runtime.close()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """With allure-pytest's ``--alluredir``: the run's environment, categories and report name
    beside its results, as the CLI writes them."""
    folder = session.config.getoption("allure_report_dir", None)
    runtime = session.config.stash.get(_KEY, None)
    if not folder or runtime is None or runtime.campaign is None:
        return
    from pile_interop.reporting.allure import write_run_files

    campaign = runtime.campaign
    run = {
        "suite": "pile-interop",
        "version": __version__,
        "profile": campaign.profile.id,
        "profile_title": campaign.profile.title,
        "against": campaign.target.describe(),
        "time_scale": campaign.target.time_scale,
        "sut": campaign.sut_info(),
    }
    write_run_files(Path(folder), campaign.redactor.redact(run))


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    """A YAML case the plugin was pointed at (:meth:`PileRuntime.collects`)."""
    from pile_interop.scenario.loader import is_case_file

    if not is_case_file(file_path):
        return None
    runtime: PileRuntime = parent.config.stash[_KEY]
    if runtime.collects(file_path, named=parent.session.isinitpath(file_path)):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """``--pile-profile`` with no case named on the command line: the profile's cases join
    what the session collects from its paths (the vendor's own tests)."""
    report = yield
    if isinstance(collector, pytest.Session) and report.passed:
        runtime: PileRuntime = collector.config.stash[_KEY]
        profile_id = runtime.profile_route
        if profile_id:
            report.result.append(
                ProfileCases.from_parent(collector, name=profile_id, nodeid=profile_id)
            )
    return report


class ProfileCases(pytest.Collector):
    """The cases of ``--pile-profile`` in the profile's order, read from the content root and
    the content folders; node ids ``<profile>::<case>``."""

    def collect(self) -> Iterator[pytest.Item]:
        from pile_interop.core.config import check_known, load_profile
        from pile_interop.scenario.loader import CaseLibrary

        runtime: PileRuntime = self.config.stash[_KEY]
        try:
            root = runtime.root()
            profile = load_profile(root.profile_path(self.name))
            library = CaseLibrary(*root.case_folders)
            check_known(profile, set(library.ids()))
            scenarios = [library.get(case_id) for case_id in profile.cases]
        except UsageError as exc:
            raise self.CollectError(str(exc)) from None
        for scenario in scenarios:
            yield ScenarioItem.from_parent(
                self, name=scenario.id, scenario=scenario, path=Path(scenario.path)
            )


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from pile_interop.scenario.loader import load_scenario

        try:
            scenario = load_scenario(self.path)
        except UsageError as exc:
            raise self.CollectError(str(exc)) from None
        yield ScenarioItem.from_parent(self, name=scenario.id, scenario=scenario)


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.result: dict[str, Any] | None = None
        for profile in scenario.profiles:
            self.add_marker(pytest.mark.pile_profile(profile))

    def runtest(self) -> None:
        runtime: PileRuntime = self.config.stash[_KEY]
        self.result = runtime.run_case(self.scenario)
        _report_to_allure(self.result)
        _outcome(self.result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if not isinstance(excinfo.value, AssertionError | PileError) or self.result is None:
            return str(super().repr_failure(excinfo))
        return describe_failure(self.result)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"{self.scenario.id}: {self.scenario.title}"


def _outcome(result: dict[str, Any]) -> None:
    """The pytest outcome of a verdict: fail → AssertionError, error → PileError, na → skip,
    warn (and a failed official-tool quirk) → a PileWarning; pass returns."""
    verdict, reason = result["verdict"], result["reason"]
    if verdict == "fail":
        raise AssertionError(reason)
    if verdict == "error":
        raise PileError(reason)
    if verdict == "na":
        pytest.skip(f"not applicable: {reason}")
    if verdict == "warn":
        warnings.warn(PileWarning(reason), stacklevel=3)
    for quirk in (result.get("compatibility") or {}).get("quirks") or []:
        warnings.warn(
            PileWarning(f"the official test tool would fail this case: {quirk['reason']}"),
            stacklevel=3,
        )


def describe_failure(result: dict[str, Any]) -> str:
    """What a tester needs on the terminal: verdict, reason, the failing step, the last frames."""
    lines = [f"{result['id']} {result['title']}: {result['verdict']}", result["reason"], ""]
    for step in result["steps"]:
        if step["verdict"] in ("fail", "error"):
            lines.append(f"step {step['index']} ({step['phase']}): {step['title']}")
            if step["expected"]:
                lines.append(f"  Expected: {step['expected']}")
            if step["observed"]:
                lines.append(f"  Actual:   {step['observed']}")
    lines.append("")
    lines.append("last frames:")
    arrows = {"in": "SUT → suite", "out": "suite → SUT", "event": "event"}
    for frame in result["frames"][-12:]:
        lines.append(f"  +{frame['t']:8.3f} s  {arrows[frame['dir']]:<11}  {frame['raw'][:200]}")
    return "\n".join(lines)


def _report_to_allure(result: dict[str, Any]) -> None:
    """Replay the case's steps as Allure steps, frames attached (only with allure-pytest on)."""
    try:
        import allure
    except ImportError:  # allure-pytest is optional at run time
        return
    import json

    from pile_interop.reporting.allure_labels import labels, links

    for step in result["steps"]:
        title = f"[{step['phase']}] {step['title']} → {step['verdict']}"
        try:
            with allure.step(title):
                if step["expected"] or step["observed"]:
                    allure.attach(
                        f"Expected: {step['expected']}\nObserved: {step['observed']}",
                        name="expected vs observed",
                        attachment_type=allure.attachment_type.TEXT,
                    )
                if step["verdict"] in ("fail", "error"):
                    raise _StepFailed(step["observed"] or step["verdict"])
        except _StepFailed:
            pass
    allure.attach(
        json.dumps(result["frames"], indent=2),
        name="wire log",
        attachment_type=allure.attachment_type.JSON,
    )
    for name, value in labels(result):  # the same labels as the CLI's allure-results
        allure.dynamic.label(name, value)
    for kind, name, url in links(result):  # and the same links
        allure.dynamic.link(url, link_type=kind, name=name)


class _StepFailed(AssertionError):
    pass


# -- the campaign behind the items ---------------------------------------------------------


class _LoopThread:
    """An event loop in a daemon thread: pytest items are synchronous, the engine is not."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="pile-interop", daemon=True
        )
        self.thread.start()

    def call(self, coro: Awaitable[T], timeout: float) -> T:
        future = asyncio.run_coroutine_threadsafe(_as_coroutine(coro), self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5.0)
        if not self.thread.is_alive():
            self.loop.close()


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


class PileRuntime:
    """One campaign per pytest session, started at the first item that needs it."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.campaign: Any = None
        self.report: Any = None
        self.thread: _LoopThread | None = None
        self.failed_start: str | None = None
        self._root: ContentRoot | None = None

    def root(self) -> ContentRoot:
        """The content root with the content folders of ``--pile-content`` and the device
        descriptor (raises :class:`UsageError` when there is none)."""
        if self._root is None:
            from pile_interop.core.config import find_root

            opt = self.config.getoption
            self._root = find_root(
                opt("--pile-root"),
                start=Path(str(self.config.rootpath)),
                content=opt("--pile-content"),
                device=opt("--pile-device"),
            )
        return self._root

    def _case_folders(self) -> tuple[Path, ...]:
        try:
            return self.root().case_folders
        except UsageError:  # no content: only the files named run (and say why at the start)
            return ()

    def _names_cases(self) -> bool:
        """A path on the command line is a case file or lies in a case folder."""
        from pile_interop.scenario.loader import is_case_file

        here = self.config.invocation_params.dir
        folders = self._case_folders()
        for arg in self.config.args:
            path = (here / arg.split("::")[0]).resolve()
            if (path.is_file() and is_case_file(path)) or any(
                path.is_relative_to(folder) for folder in folders
            ):
                return True
        return False

    @functools.cached_property
    def profile_route(self) -> str | None:
        """The profile whose cases the plugin collects itself: ``--pile-profile`` when no path
        on the command line names cases."""
        chosen: str | None = self.config.getoption("--pile-profile")
        return chosen if chosen and not self._names_cases() else None

    def collects(self, path: Path, *, named: bool) -> bool:
        """Whether the case file ``path``, met by pytest's walk of its paths, is collected:
        when named on the command line or in a case folder — and never when the profile's
        cases are collected (:attr:`profile_route`), which would run it twice."""
        if self.profile_route:
            return False
        path = path.resolve()
        return named or any(path.is_relative_to(folder) for folder in self._case_folders())

    def _profile_for(self, scenario: Any, root: Any) -> Any:
        from pile_interop.core.config import load_profile

        chosen = self.config.getoption("--pile-profile")
        if chosen:
            return load_profile(root.profile_path(chosen))
        for profile_id in scenario.profiles:
            try:
                return load_profile(root.profile_path(profile_id))
            except UsageError:
                continue
        raise UsageError(f"{scenario.id}: names no known profile; pass --pile-profile")

    def _start(self, scenario: Any) -> None:
        from pile_interop.engine.lab import require_terminal
        from pile_interop.engine.report import Report
        from pile_interop.engine.targets import (
            PYTEST_SPELLING,
            campaign_for,
            parse_pile_against,
            resolve_target,
        )

        opt = self.config.getoption
        root = self.root()
        profile = self._profile_for(scenario, root)
        request = parse_pile_against(
            opt("--pile-against"),
            device=opt("--pile-device"),
            time_scale=opt("--pile-time-scale"),
            seed=opt("--pile-seed"),
        )
        resolved = resolve_target(request, profile, root, PYTEST_SPELLING)
        campaign = campaign_for(profile, resolved, strict=opt("--pile-strict"))
        self.thread = _LoopThread()
        self.thread.call(campaign.start(), 30.0)
        self.campaign = campaign
        try:  # a prompt nobody can answer: refused at once, as the CLI does (exit 2)
            require_terminal(getattr(campaign, "actuator", None))
        except UsageError as exc:
            pytest.exit(f"pile-interop: {exc}", returncode=2)
        out = opt("--pile-out")
        if out:
            self.report = Report(Path(out), campaign)

    def _ensure_started(self, scenario: Any) -> None:
        """The campaign, started at the first item; a start that failed fails every item."""
        if self.failed_start is not None:
            raise PileError(self.failed_start)
        if self.campaign is None:
            try:
                self._start(scenario)
            except UsageError as exc:
                self.failed_start = str(exc)
                raise PileError(self.failed_start) from None

    def run_case(self, scenario: Any) -> dict[str, Any]:
        from pile_interop.scenario.case_info import case_budget

        self._ensure_started(scenario)
        assert self.thread is not None
        self.campaign.check([scenario])
        budget = case_budget(scenario, self.campaign.timing) + 10.0
        result: dict[str, Any] = self.thread.call(self.campaign.run_case(scenario), budget)
        if self.report is not None:
            self.report.add(result)
        return result

    def run_python(
        self, scenario: Any, fn: Callable[..., Awaitable[None]], timeout: float
    ) -> dict[str, Any]:
        self._ensure_started(scenario)
        assert self.thread is not None
        result: dict[str, Any] = self.thread.call(self.campaign.run_function(scenario, fn), timeout)
        if self.report is not None:
            self.report.add(result)
        return result

    def close(self) -> None:
        if self.campaign is not None and self.thread is not None:
            try:
                self.thread.call(self.campaign.stop(), 30.0)
            except Exception:  # closing must not hide the test outcome
                log.warning("stopping the campaign failed", exc_info=True)
            if self.report is not None:
                self.report.finish()
        if self.thread is not None:
            self.thread.close()


class PileEnv:
    """What a Python-written case gets: ``run(fn)`` runs ``async fn(env)`` as the case's main
    part against the live campaign (after the same before-phase as a YAML case) and turns its
    verdict into the pytest outcome. ``env`` is a :class:`~pile_interop.scenario.runner.CaseEnv`
    (``env.session``, ``env.timing``, ``env.actuator``, ``env.tokens`` …)."""

    def __init__(self, runtime: PileRuntime, scenario: Any) -> None:
        self.runtime = runtime
        self.scenario = scenario
        self.result: dict[str, Any] | None = None

    def run(self, fn: Callable[..., Awaitable[None]], timeout: float = 120.0) -> dict[str, Any]:
        self.result = self.runtime.run_python(self.scenario, fn, timeout)
        _report_to_allure(self.result)
        _outcome(self.result)
        return self.result


@pytest.fixture
def pile_env(request: pytest.FixtureRequest) -> PileEnv:
    """For a case written in Python; needs ``@pytest.mark.pile_case(id=…, title=…,
    requirements=[…], ocpp=…, sut=…, profiles=[…], needs=[…])``."""
    from pile_interop.scenario.model import Requirement, Scenario

    runtime: PileRuntime = request.config.stash[_KEY]
    marker = request.node.get_closest_marker("pile_case")
    if marker is None:
        raise UsageError("pile_env needs @pytest.mark.pile_case(id=..., ...) on the test")
    meta = marker.kwargs
    requirements = tuple(
        Requirement(r, r) if isinstance(r, str) else Requirement(r["id"], r["text"])
        for r in meta.get("requirements", [])
    ) or (Requirement("unspecified", "no requirement given"),)
    scenario = Scenario(
        id=meta["id"],
        title=meta.get("title", meta["id"]),
        ocpp=meta.get("ocpp", "1.6"),
        sut=meta.get("sut", "cs"),
        requirements=requirements,
        steps=(),
        path=str(request.node.path),
        block=meta.get("block", "Core"),
        profiles=tuple(meta.get("profiles", [])),
        description=meta.get("description", request.node.function.__doc__ or ""),
        needs=tuple(meta.get("needs", [])),
    )
    return PileEnv(runtime, scenario)
