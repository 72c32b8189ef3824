"""Run ``main.py`` in a fresh process, as a user or ``cdktf synth`` does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STACK_FILE = Path("cdktf.out/stacks/ml-platform/cdk.tf.json")


def run_main(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in {"HYPERPOD_EKS_CONFIG", "CDKTF_OUTDIR"}}
    environment.update(env)
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
