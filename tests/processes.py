"""Run ``main.py`` in a fresh process, as a user or ``cdktf synth`` does."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STACK_DIR = Path("cdktf.out/stacks/ml-platform")
STACK_FILE = STACK_DIR / "cdk.tf.json"
# Every switch of cli.runtime off: what a plain cdktf app would do.
EAGER = {"ML_PLATFORM_LEAN_IMPORTS": "0", "ML_PLATFORM_LAZY_NODE_MODULES": "0"}


def main_command(*args: str) -> list[str]:
    return [sys.executable, str(REPO / "main.py"), *args]


def main_environment(**env: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"HYPERPOD_EKS_CONFIG", "CDKTF_OUTDIR"}}
    environment.update(env)
    return environment


def run_main(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        main_command(*args), cwd=cwd, env=main_environment(**env), capture_output=True, text=True, timeout=600
    )


@dataclass
class BackgroundRun:
    """``main.py`` started in the background at the start of the session (it is slow and
    needs no test's state); ``result()`` waits for it."""

    cwd: Path
    process: subprocess.Popen

    @staticmethod
    def start(cwd: Path, *args: str, **env: str) -> "BackgroundRun":
        process = subprocess.Popen(
            main_command(*args), cwd=cwd, env=main_environment(**env),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        return BackgroundRun(cwd, process)

    def result(self) -> subprocess.CompletedProcess:
        stdout, stderr = self.process.communicate(timeout=600)
        return subprocess.CompletedProcess(self.process.args, self.process.returncode, stdout, stderr)
