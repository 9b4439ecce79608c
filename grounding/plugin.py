"""The pytest plugin: options, fixtures and hooks only. Imports without torch; models load when a suite asks."""

from __future__ import annotations

import contextlib
import os

import pytest

from grounding.errors import GroundingUsageError
from grounding.inputs._checkpoint import resolve
from grounding.reporting import _terminal as report
from grounding.settings import OPTIONS, Settings, flag_name, from_values, ini_name

SETTINGS = pytest.StashKey[Settings]()
STATE = pytest.StashKey["object"]()
BASELINE = pytest.StashKey["object"]()
RUN_ID = pytest.StashKey[str]()
CHECKPOINTS = pytest.StashKey[tuple]()
GROUNDING_FIXTURES = ("grounding_results", "grounding_store", "grounding_suite")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grounding", "cross-modal grounding suite")
    for option, _, default, help_text in OPTIONS:
        flag = flag_name(option)
        if isinstance(default, bool):  # a flag: on when given
            group.addoption(flag, action="store_true", default=None, help=help_text)
        else:
            shown = "" if default is None else f" (default: {default})"
            group.addoption(flag, default=None, help=help_text + shown)
        parser.addini(ini_name(option), help=help_text, default=None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "grounding(modality, cases=FILE): a grounding check of one modality; its "
                                       "`case` argument runs over the case file FILE (relative to the module)")
    values = {}
    for option, *_ in OPTIONS:
        given = config.getoption(flag_name(option).lstrip("-").replace("-", "_"))
        values[option] = given if given is not None else config.getini(ini_name(option))
    try:
        settings = from_values(values)
        config.stash[SETTINGS] = settings
        if settings.model_given:
            checkpoints(config)
        if settings.judge:
            from grounding.judges.functional.clip import check_spec

            check_spec(settings.judge)
    except GroundingUsageError as err:
        raise pytest.UsageError(str(err)) from None


def checkpoints(config: pytest.Config) -> tuple:
    """The --model folder's checkpoints, resolved and checked (weights, links, each adapter's files) once per
    session: at start-up when --model is given, else on first use."""
    if CHECKPOINTS not in config.stash:
        settings = config.stash[SETTINGS]
        config.stash[CHECKPOINTS] = tuple(resolve(settings.model, allow_pickle=settings.allow_pickle))
    return config.stash[CHECKPOINTS]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """pytest-xdist, on the controller: every worker joins the one run (running/_workers.py)."""
    from grounding.running._orchestrator import RunState

    if RUN_ID not in node.config.stash:
        node.config.stash[RUN_ID] = RunState().run_id
    node.workerinput["grounding_run_id"] = node.config.stash[RUN_ID]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """pytest-xdist, on the controller: add what a finished worker computed to the run it will store."""
    from grounding.running._orchestrator import RunState

    sent = getattr(node, "workeroutput", {}).get("grounding")
    if sent:
        node.config.stash.setdefault(STATE, RunState(run_id=sent["run_id"])).merge(sent)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    """A bad case file found while collecting a suite is a usage error (exit 4) with its one-paragraph message,
    not a traceback."""
    report = yield
    crash = getattr(report.longrepr, "reprcrash", None)
    prefix = f"{GroundingUsageError.__module__}.{GroundingUsageError.__name__}: "
    if report.failed and crash is not None and crash.message.startswith(prefix):
        raise pytest.UsageError(crash.message[len(prefix):])
    return report


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Before any test runs: a result store or a baseline that cannot be used is one usage error (exit 4)."""
    if not any(item.get_closest_marker("grounding") or set(GROUNDING_FIXTURES) & set(getattr(item, "fixturenames", ()))
               for item in session.items):
        return
    from grounding.results import load_baseline
    from grounding.results.store import Store

    settings = session.config.stash[SETTINGS]
    try:
        store = Store(settings.store)
        try:
            baseline = load_baseline(settings.baseline, store) if settings.baseline else None
        finally:
            store.close()
        if baseline is not None:
            baseline.check_seeds(settings.seed_range)
            held = {c.modality for c in checkpoints(session.config)}
            for modality in sorted(held & _modalities(session.items)):
                baseline.check_pairs(modality, f"this run (round {settings.round!r}, model {settings.model})")
    except GroundingUsageError as err:
        raise pytest.UsageError(str(err)) from None
    session.config.stash[BASELINE] = baseline


def _modalities(items: list[pytest.Item]) -> set[str]:
    """The modalities the selected grounding tests check (their marker's first argument)."""
    return {marker.args[0] for item in items if (marker := item.get_closest_marker("grounding")) and marker.args}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A suite's `case` argument runs over its case file: `pytest.mark.grounding(modality, cases="file.toml")`
    names it, relative to the suite module; the profile may swap in its own copy (cases/thorough/file.toml)."""
    marker = metafunc.definition.get_closest_marker("grounding")
    if marker is None or "case" not in metafunc.fixturenames or "cases" not in marker.kwargs:
        return
    cases = suite_cases(metafunc.config.stash[SETTINGS], marker, metafunc.definition.path)
    metafunc.parametrize("case", cases, ids=[c.id for c in cases])


def suite_cases(settings: Settings, marker: pytest.Mark, module: "os.PathLike[str]"):
    """The cases a suite module's marker names, for this run's profile."""
    from pathlib import Path

    from grounding.inputs._cases import load_cases, profile_case_file

    path = profile_case_file(Path(module).parent / marker.kwargs["cases"], settings.case_folder)
    return load_cases(path, marker.args[0] if marker.args else None)


@pytest.fixture(scope="session")
def grounding_settings(pytestconfig: pytest.Config) -> Settings:
    """This run's settings (flags, else ini values, else defaults)."""
    return pytestconfig.stash[SETTINGS]


@pytest.fixture(scope="session")
def grounding_store(grounding_settings: Settings):
    """The result store this run appends to."""
    from grounding.results.store import Store

    store = Store(grounding_settings.store)
    yield store
    store.close()


@pytest.fixture(scope="module")
def grounding_suite(request: pytest.FixtureRequest, grounding_settings: Settings, grounding_results):
    """The results of the modality the requesting suite module is marked with, on its case file."""
    marker = request.node.get_closest_marker("grounding")
    if marker is None or not marker.args or "cases" not in marker.kwargs:
        raise pytest.UsageError(f"{request.path}: a suite module needs pytestmark = pytest.mark.grounding(modality, "
                                f"cases='cases/<file>.toml') to use the grounding_suite fixture.")
    return grounding_results(marker.args[0], suite_cases(grounding_settings, marker, request.path))


@pytest.fixture(scope="session")
def grounding_results(request: pytest.FixtureRequest, grounding_settings: Settings, grounding_store):
    """modality -> ModalityResults for the cases this session selected, computed once per modality."""
    # Offline unless the user says otherwise: set before diffusers, transformers or open_clip import the hub client.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from grounding.results import load_baseline
    from grounding.running._orchestrator import ModalityResults, RunState, judge_modality
    from grounding.running._workers import worker_of

    config = request.config
    worker = worker_of(config)
    state = config.stash.setdefault(STATE, RunState(run_id=worker.run_id) if worker else RunState())
    computed: dict[str, ModalityResults] = {}
    settings = grounding_settings if worker is None else worker.device_of(grounding_settings)
    try:
        baseline = config.stash[BASELINE] if BASELINE in config.stash else \
            load_baseline(settings.baseline, grounding_store) if settings.baseline else None
    except GroundingUsageError as err:
        pytest.exit(str(err), returncode=pytest.ExitCode.USAGE_ERROR)

    def results(modality: str, cases: tuple = ()) -> ModalityResults:
        """Run a modality on the cases this session selected (all of `cases` when it selected none)."""
        if modality in computed:
            return computed[modality]
        selected = [item.callspec.params["case"] for item in request.session.items if hasattr(item, "callspec")
                    and getattr(item.callspec.params.get("case"), "modality", None) == modality]
        cases = list(dict.fromkeys(selected)) or list(cases)
        try:
            held = {c.modality: c for c in checkpoints(config)}
            if modality not in held:
                pytest.skip(f"--model {settings.model} holds no {modality} checkpoint")
            computed[modality] = judge_modality(held[modality], cases, settings, grounding_store, state,
                                                baseline, _progress(config)) if worker is None else \
                worker.judge_modality(held[modality], cases, settings, grounding_store, state, baseline)
        except GroundingUsageError as err:
            pytest.exit(str(err), returncode=pytest.ExitCode.USAGE_ERROR)
        return computed[modality]

    return results


PROGRESS_LOG_SECONDS = 5.0  # in a log, a progress line at most this often (closing lines always)


def _progress(config: pytest.Config):
    """Progress lines on pytest's terminal while a modality generates and is judged, one per batch: rewritten in
    place on a terminal, written at most every PROGRESS_LOG_SECONDS in a log; none under -q."""
    import time

    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or config.option.verbose < 0:
        return None
    last = [-PROGRESS_LOG_SECONDS]

    def show(line: str, final: bool) -> None:
        if not final and not reporter.isatty():
            if time.monotonic() - last[0] < PROGRESS_LOG_SECONDS:
                return
            last[0] = time.monotonic()
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            if not reporter.isatty():
                reporter.write_line(line)
            elif final:
                reporter.rewrite(line + "\n", erase=True)
            else:
                reporter.ensure_newline()
                reporter.rewrite(line, erase=True)

    return show


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Append this run to the store in one transaction (before the terminal summary reads it)."""
    from grounding.results.store import Store
    from grounding.running._workers import worker_of

    worker = worker_of(session.config)
    if worker is None:
        _forget_workers(session.config)
    state = session.config.stash.get(STATE, None)
    if state is None or not state.records:
        return
    if worker is not None:  # an xdist worker: the controller stores the run
        session.config.workeroutput["grounding"] = state.as_json()
        return
    settings = session.config.stash[SETTINGS]
    try:
        store = Store(settings.store)
        try:
            state.save(store, settings)
        finally:
            store.close()
    except GroundingUsageError as err:  # e.g. the store was removed or made read-only during the run
        session.config.stash[STATE] = None
        session.exitstatus = pytest.ExitCode.USAGE_ERROR
        session.config.get_terminal_writer().line(f"grounding: this run was not saved. {err}", red=True)


def _forget_workers(config: pytest.Config) -> None:
    """The controller removes the folder where its xdist workers met."""
    if RUN_ID in config.stash:
        import shutil

        from grounding.running._workers import meeting_folder

        shutil.rmtree(meeting_folder(config.stash[RUN_ID]), ignore_errors=True)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    from grounding.running._workers import worker_of

    state = config.stash.get(STATE, None)
    if state is None or not state.records or worker_of(config) is not None:
        return
    terminalreporter.section("grounding")
    for line in report.summary_lines(config.stash[SETTINGS].store, state.run_id):
        terminalreporter.write_line(line)
