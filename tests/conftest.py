"""Shared fixtures: the default stack is synthesized once per test session."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest

from modules.config import PlatformConfig, parse_config

Synth = Callable[[dict[str, Any]], dict[str, Any]]


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
def two_synths(tmp_path_factory: pytest.TempPathFactory):
    """``python main.py`` run in two different directories (lean provider imports, the default)."""
    from tests.processes import run_main

    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second-dir")
    return [(directory, run_main(directory)) for directory in (first, second)]
