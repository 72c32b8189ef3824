"""Shared fixtures: the default stack is synthesized once per test session."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import pytest

from cli import runtime
from modules.config import PlatformConfig, parse_config

if TYPE_CHECKING:
    from tests.processes import BackgroundRun

Synth = Callable[[dict[str, Any]], dict[str, Any]]
EAGER_RUN = pytest.StashKey["BackgroundRun"]()


def pytest_configure(config: pytest.Config) -> None:
    """The jsii runtime is prepared before any test module imports a binding."""
    runtime.prepare()


@pytest.fixture(scope="session")
def synth(raw_synth: Synth) -> Synth:
    """What Terraform plans for a configuration (a dict as the YAML would give) with the
    variables at their defaults (tests/planned.py)."""
    from tests.planned import planned

    cache: dict[str, dict[str, Any]] = {}

    def _synth(overrides: dict[str, Any]) -> dict[str, Any]:
        key = json.dumps(overrides, sort_keys=True)
        if key not in cache:
            cache[key] = planned(raw_synth(overrides))
        return cache[key]

    return _synth


@pytest.fixture(scope="session")
def raw_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Synthesize the stack for a configuration (a dict as the YAML would give), cached:
    the document as written, variables and counts unevaluated."""
    from cdktf import Testing

    from main import build

    outdir = tmp_path_factory.mktemp("cdktf")
    cache: dict[str, dict[str, Any]] = {}

    def _synth(overrides: dict[str, Any]) -> dict[str, Any]:
        key = json.dumps(overrides, sort_keys=True)
        if key not in cache:
            config: PlatformConfig = parse_config(overrides)
            app = Testing.app(outdir=str(outdir))
            cache[key] = json.loads(Testing.synth(build(app, config)))
        return cache[key]

    return _synth


@pytest.fixture(scope="session")
def stack(synth: Synth) -> dict[str, Any]:
    """The default configuration as Terraform plans it with the variables' defaults."""
    return synth({})


@pytest.fixture(scope="session")
def raw_stack(raw_synth: Synth) -> dict[str, Any]:
    """The synthesized default configuration as written."""
    return raw_synth({})


@pytest.fixture(scope="session")
def cli_synths(tmp_path_factory: pytest.TempPathFactory):
    """``python main.py --hcl --modules`` run in two different directories (the default
    mechanisms on), shared by every test that reads what the command line writes."""
    from tests.processes import run_main

    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second-dir")
    return [(directory, run_main(directory, "--hcl", "--modules")) for directory in (first, second)]


@pytest.fixture(scope="session")
def eager_synth(pytestconfig: pytest.Config):
    """The default configuration synthesized with every start-up mechanism off (a plain
    cdktf app): the slow proof that the mechanisms change no byte. It runs once, started
    in the background as soon as the collection shows a test needs it."""
    run = pytestconfig.stash[EAGER_RUN]
    return run.cwd, run.result()


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    from tests.processes import EAGER, BackgroundRun

    if any("eager_synth" in getattr(item, "fixturenames", ()) for item in items):
        config.stash[EAGER_RUN] = BackgroundRun.start(Path(tempfile.mkdtemp(prefix="eager-synth-")), **EAGER)


def pytest_unconfigure(config: pytest.Config) -> None:
    run = config.stash.get(EAGER_RUN, None)
    if run is not None:
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()
        shutil.rmtree(run.cwd, ignore_errors=True)
