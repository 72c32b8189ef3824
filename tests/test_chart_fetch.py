"""A synth that installs the HyperPod dependencies chart fetches it when it is missing,
and says exactly what to do when it cannot."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from cli import chart
from modules.config import parse_config
from modules.hyperpod import CHART_CHECKOUT, FETCH_SCRIPT


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A project root whose fetch script is a stand-in: it records its run and writes the
    chart (or fails, as the real one does offline, when FAIL is set)."""
    script = tmp_path / FETCH_SCRIPT
    script.parent.mkdir(parents=True)
    script.write_text(
        "#!/usr/bin/env bash\nset -euo pipefail\ncd \"$(dirname \"$0\")/..\"\necho ran >> fetch.log\n"
        'if [[ -n "${FAIL:-}" ]]; then echo "error: cannot fetch abc from github (no network?)" >&2; exit 1; fi\n'
        f"mkdir -p {CHART_CHECKOUT}\necho 'name: hyperpod' > {CHART_CHECKOUT}/Chart.yaml\necho 'HyperPod chart ready'\n"
    )
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("git", "helm"):
        (tools / tool).write_text("#!/bin/sh\nexit 0\n")
        (tools / tool).chmod(stat.S_IRWXU)
    monkeypatch.setattr(chart, "PROJECT_ROOT", tmp_path)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    return tmp_path


def runs(project: Path) -> int:
    log = project / "fetch.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_a_missing_chart_is_fetched_once(project, capsys):
    config = parse_config({})
    line = chart.ensure_hyperpod_chart(config, {})
    assert line == "  HyperPod chart ready" and runs(project) == 1
    assert "Fetching the HyperPod dependencies chart" in capsys.readouterr().out
    assert chart.ensure_hyperpod_chart(config, {}) is None and runs(project) == 1, "present: not fetched again"


def test_offline_the_synth_goes_on_and_says_what_to_do(project, monkeypatch):
    monkeypatch.setenv("FAIL", "1")
    line = chart.ensure_hyperpod_chart(parse_config({}), {})
    assert line.startswith("note: the HyperPod dependencies chart could not be fetched (error: cannot fetch abc")
    assert f"run {FETCH_SCRIPT} where git, helm and github.com are reachable" in line
    assert "hyperpod.install_helm_dependencies: false" in line


def test_without_helm_nothing_runs(project, monkeypatch):
    (project / "bin" / "helm").unlink()
    monkeypatch.setenv("PATH", f"{project / 'bin'}{os.pathsep}/nonexistent")
    line = chart.ensure_hyperpod_chart(parse_config({}), {})
    assert "(helm not installed)" in line and runs(project) == 0


@pytest.mark.parametrize(
    "overrides", [{"hyperpod": {"enabled": False}}, {"hyperpod": {"install_helm_dependencies": False, "enable_training_operator": False}}]
)
def test_configurations_without_the_chart_never_fetch(project, overrides):
    assert chart.ensure_hyperpod_chart(parse_config(overrides), {}) is None and runs(project) == 0


def test_the_switch_turns_fetching_off(project):
    line = chart.ensure_hyperpod_chart(parse_config({}), {chart.SWITCH: "0"})
    assert f"({chart.SWITCH}=0)" in line and runs(project) == 0
