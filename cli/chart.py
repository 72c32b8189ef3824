"""The HyperPod dependencies chart, fetched by the synth that needs it.

The chart is not in a Helm repository: ``scripts/fetch-hyperpod-chart.sh`` checks out a
pinned commit (git) and its sub-charts (helm). A synth that installs it and finds it
missing runs that script once; where it cannot (no git or helm, no network), the synth
goes on, since only ``terraform plan`` needs the chart, and says what to do.
``ML_PLATFORM_FETCH_CHART=0`` never fetches (offline machines, tests).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Mapping

from modules.config import PlatformConfig
from modules.hyperpod import CHART_CHECKOUT, FETCH_SCRIPT

from .runtime.node import switched_on

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FETCH_TIMEOUT_SECONDS = 600
SWITCH = "ML_PLATFORM_FETCH_CHART"


def chart_is_needed(config: PlatformConfig) -> bool:
    return config.hyperpod.enabled and config.hyperpod.install_helm_dependencies


def ensure_hyperpod_chart(config: PlatformConfig, environ: Mapping[str, str] = os.environ) -> str | None:
    """Fetch the chart when this configuration installs it and it is missing. Returns the
    line printed (None when nothing was to do)."""
    if not chart_is_needed(config) or (PROJECT_ROOT / CHART_CHECKOUT / "Chart.yaml").is_file():
        return None
    todo = (
        f"run {FETCH_SCRIPT} where git, helm and github.com are reachable, then synth again "
        "(or set hyperpod.install_helm_dependencies: false)"
    )
    if not switched_on(environ, SWITCH):
        return _say(f"note: the HyperPod dependencies chart is not fetched ({SWITCH}=0); terraform plan needs it: {todo}")
    missing = [tool for tool in ("git", "helm") if shutil.which(tool) is None]
    if missing:
        return _say(f"note: the HyperPod dependencies chart is not fetched ({' and '.join(missing)} not installed); {todo}")
    print(f"Fetching the HyperPod dependencies chart ({FETCH_SCRIPT}) ...", flush=True)
    try:
        result = subprocess.run(
            ["bash", str(PROJECT_ROOT / FETCH_SCRIPT)], capture_output=True, text=True, timeout=FETCH_TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired:
        return _say(f"note: fetching the HyperPod dependencies chart took over {FETCH_TIMEOUT_SECONDS} s and was stopped; {todo}")
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no message"])[-1]
        return _say(f"note: the HyperPod dependencies chart could not be fetched ({reason}); {todo}")
    return _say(f"  {result.stdout.strip().splitlines()[-1]}")


def _say(line: str) -> str:
    # stdout: `cdktf synth` shows a child's stderr as [ERROR], and this is not an error.
    print(line, flush=True)
    return line
