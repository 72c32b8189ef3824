"""Shared fixtures: the default stack is synthesized once per test session."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

import pytest

import yaml

from cli import runtime
from modules.config import PlatformConfig, parse_config
from tests.session_store import SessionStore
from tests.stacks import REPO, STACK_AT, Deployed, Synthesized

if TYPE_CHECKING:
    from tests.processes import BackgroundRun

Synth = Callable[[dict[str, Any]], dict[str, Any]]
BACKGROUND_RUNS = pytest.StashKey[dict[str, "BackgroundRun"]]()
BACKGROUND_DIR = pytest.StashKey[Path]()
STORE_DIR = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """The jsii runtime is prepared before any test module imports a binding."""
    runtime.prepare()
    # `make test` runs a worker per core: Terraform's own threads would only compete with
    # the other worker. One thread per terraform command: a plan of the default stack takes
    # 0.78 s of CPU instead of 0.84 s (and 0.69 s of wall time instead of 0.62 s).
    os.environ.setdefault("GOMAXPROCS", "1")


def overrides_key(overrides: dict[str, Any]) -> str:
    return json.dumps(overrides, sort_keys=True)


def _store_dir(config: pytest.Config) -> Path:
    """The session's folder of shared results: the pytest-xdist controller's (handed to
    every worker in ``pytest_configure_node``), or this process's own."""
    handed = getattr(config, "workerinput", {}).get("store_dir")
    if handed:
        return Path(handed)
    if STORE_DIR not in config.stash:
        config.stash[STORE_DIR] = Path(tempfile.mkdtemp(prefix="ml-platform-session-"))
    return config.stash[STORE_DIR]


@pytest.fixture(scope="session")
def session_store(pytestconfig: pytest.Config) -> SessionStore:
    """Synths, plans and applies computed once per session and read by every worker."""
    return SessionStore(_store_dir(pytestconfig))


@pytest.fixture(scope="session")
def synth(session_store: SessionStore) -> Callable[[dict[str, Any]], Synthesized]:
    """Synthesize a configuration (a dict as the YAML would give) the way main.py does,
    into a folder of the session; once per configuration and session."""
    from cli.synth import synth_atomically
    from main import build

    cache: dict[str, Synthesized] = {}

    def _synth(overrides: dict[str, Any]) -> Synthesized:
        key = overrides_key(overrides)
        if key not in cache:

            def compute(folder: Path) -> None:
                config: PlatformConfig = parse_config(overrides)
                stack = synth_atomically(build, config, folder / "cdktf.out")
                (folder / "stack").write_text(stack.node.id)

            folder = session_store.once("synth", key, compute)
            cache[key] = Synthesized.read(folder / "cdktf.out" / "stacks" / (folder / "stack").read_text())
        return cache[key]

    return _synth


@pytest.fixture(scope="session")
def stack(synth) -> Synthesized:
    """The default configuration as synthesized."""
    return synth({})


@pytest.fixture(scope="session")
def everything_on() -> dict[str, Any]:
    """examples/configs/everything-on.yaml: every optional capability on."""
    return yaml.safe_load((REPO / "examples" / "configs" / "everything-on.yaml").read_text())


@pytest.fixture(scope="session")
def workspace(synth):
    """A Workspace (the real terraform with the offline stand-in providers) on a copy of
    a synthesized configuration; one per (configuration, zones), closed at session end."""
    from tooling.offline import Workspace, terraform_binary

    if terraform_binary() is None:
        pytest.skip("terraform is not on PATH: the offline plan needs it")
    opened: dict[tuple[str, int, str], Workspace] = {}

    def _workspace(overrides: dict[str, Any], zones: int = 3, purpose: str = "apply") -> Workspace:
        """``purpose``: "apply" (its state holds what was applied) or "plan" (never applied)."""
        key = (overrides_key(overrides), zones, purpose)
        if key not in opened:
            synthesized = synth(overrides)
            at = f"{STACK_AT}/{synthesized.folder.name}"
            opened[key] = Workspace(synthesized.folder, zones=zones, root=REPO, at=at).__enter__()
        return opened[key]

    yield _workspace
    for ws in opened.values():
        ws.__exit__(None, None, None)


@pytest.fixture(scope="session")
def deploy(workspace, session_store: SessionStore) -> Callable[..., Deployed]:
    """Apply a configuration with the stand-ins and read the state: what Terraform itself
    computes for every attribute (fake ids and ARNs of account 123456789012). Once per
    (configuration, zones) and session."""
    from tooling.offline import state_resources

    cache: dict[tuple[str, int], Deployed] = {}

    def _deploy(overrides: dict[str, Any], zones: int = 3) -> Deployed:
        key = (overrides_key(overrides), zones)
        if key not in cache:

            def compute(folder: Path) -> None:
                ws = workspace(overrides, zones)
                ws.apply(ws.plan())
                (folder / "deployed.json").write_text(json.dumps({"state": ws.state(), "outputs": ws.outputs()}))

            folder = session_store.once("deploy", json.dumps(key), compute)
            applied = json.loads((folder / "deployed.json").read_text())
            cache[key] = Deployed(state_resources(applied["state"]), applied["outputs"], applied["state"])
        return cache[key]

    return _deploy


@pytest.fixture(scope="session")
def deployed(deploy) -> Deployed:
    """The default configuration, applied with the stand-ins."""
    return deploy({})


@pytest.fixture(scope="session")
def planned(plan) -> Callable[..., Deployed]:
    """What a saved plan says it will deploy, as a Deployed view (unknown values left out)."""

    def _planned(overrides: dict[str, Any], tfvars: dict[str, Any] | None = None, zones: int = 3) -> Deployed:
        return Deployed.from_plan(plan(overrides, tfvars, zones))

    return _planned


@pytest.fixture(scope="session")
def plan(workspace, session_store: SessionStore):
    """A saved plan of a configuration with tfvars values (``vars``) on a fresh state
    (nothing applied in the workspace before); once per session."""
    from tooling.offline import Plan

    cache: dict[tuple[str, str, int], Any] = {}

    def _plan(overrides: dict[str, Any], tfvars: dict[str, Any] | None = None, zones: int = 3):
        key = (overrides_key(overrides), overrides_key(tfvars or {}), zones)
        if key not in cache:

            def compute(folder: Path) -> None:
                workspace(overrides, zones, "plan").plan(vars=tfvars or None).save(folder)

            cache[key] = Plan.load(session_store.once("plan", json.dumps(key), compute))
        return cache[key]

    return _plan


# Slow main.py runs that need no test's state: each runs once per session, in the
# background from the start (under pytest-xdist the controller starts them before the
# workers, which read their records). fixture -> {folder: (arguments, environment)}.
def _background_runs() -> dict[str, dict[str, tuple[tuple[str, ...], dict[str, str]]]]:
    from tests.processes import EAGER

    return {
        # The default mechanisms on, in two directories of different names and depths.
        "cli_synths": {"first": (("--hcl", "--modules"), {}), "second-dir": (("--hcl", "--modules"), {})},
        # Every start-up mechanism off (a plain cdktf app).
        "eager_synth": {"work": ((), EAGER)},
    }


def _start_background(config: pytest.Config, fixtures: Iterable[str]) -> dict[str, "BackgroundRun"]:
    from tests.processes import BackgroundRun

    runs = config.stash.setdefault(BACKGROUND_RUNS, {})
    for fixture in fixtures:
        for folder, (args, env) in _background_runs()[fixture].items():
            if folder not in runs:
                if BACKGROUND_DIR not in config.stash:
                    config.stash[BACKGROUND_DIR] = Path(tempfile.mkdtemp(prefix="main-py-runs-"))
                cwd = config.stash[BACKGROUND_DIR] / folder
                cwd.mkdir()
                runs[folder] = BackgroundRun.start(cwd, *args, **env)
    return runs


def _background_results(config: pytest.Config, fixture: str) -> list[tuple[Path, Any]]:
    from tests.processes import BackgroundRun

    folders = _background_runs()[fixture]
    started = getattr(config, "workerinput", {}).get("background_dir")
    if started and all(BackgroundRun.record_of(Path(started) / f).exists() for f in folders):
        runs = {f: BackgroundRun(Path(started) / f) for f in folders}
    else:  # not started by a pytest-xdist controller: this process runs them
        runs = _start_background(config, [fixture])
    return [(runs[f].cwd, runs[f].result()) for f in folders]


@pytest.fixture(scope="session")
def cli_synths(pytestconfig: pytest.Config) -> list[tuple[Path, Any]]:
    """``python main.py --hcl --modules`` run in two different directories (the default
    mechanisms on), shared by every test that reads what the command line writes."""
    return _background_results(pytestconfig, "cli_synths")


@pytest.fixture(scope="session")
def eager_synth(pytestconfig: pytest.Config):
    """The default configuration synthesized with every start-up mechanism off (a plain
    cdktf app): the slow proof that the mechanisms change no byte, run once per session."""
    ((cwd, result),) = _background_results(pytestconfig, "eager_synth")
    return cwd, result


def _whole_suite(config: pytest.Config) -> bool:
    return not config.args or any(arg.rstrip("/") == "tests" for arg in config.args)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:  # noqa: ANN001 - pytest-xdist's WorkerController
    """pytest-xdist controller: for the whole suite, the background runs start once, before
    the workers; a worker that needs a run the controller did not start runs its own."""
    config = node.config
    node.workerinput["store_dir"] = str(_store_dir(config))
    if _whole_suite(config):
        _start_background(config, _background_runs())
        node.workerinput["background_dir"] = str(config.stash[BACKGROUND_DIR])


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if hasattr(config, "workerinput"):
        return  # under pytest-xdist the controller starts them (pytest_configure_node)
    needed = {f for item in items for f in getattr(item, "fixturenames", ()) if f in _background_runs()}
    _start_background(config, sorted(needed))


def pytest_unconfigure(config: pytest.Config) -> None:
    for run in config.stash.get(BACKGROUND_RUNS, {}).values():
        run.stop()
    for made in (BACKGROUND_DIR, STORE_DIR):
        if made in config.stash:
            shutil.rmtree(config.stash[made], ignore_errors=True)
