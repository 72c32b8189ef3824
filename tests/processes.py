"""Run ``main.py`` in a fresh process, as a user or ``cdktf synth`` does."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STACK_DIR = Path("cdktf.out/stacks/ml-platform")
STACK_FILE = STACK_DIR / "cdk.tf.json"
# The switches of cli.runtime that could change what a synth writes, off, and no V8 compile
# cache: what a plain cdktf app would do (the fast exit only ends the process sooner; the
# compile cache would only fill .cache with 190 MB of code no default synth runs).
EAGER = {"ML_PLATFORM_LEAN_IMPORTS": "0", "ML_PLATFORM_LAZY_NODE_MODULES": "0", "NODE_DISABLE_COMPILE_CACHE": "1"}


def main_command(*args: str) -> list[str]:
    return [sys.executable, str(REPO / "main.py"), *args]


def main_environment(**env: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"HYPERPOD_EKS_CONFIG", "CDKTF_OUTDIR"}}
    # No test reaches for the network: the chart fetch has tests of its own (test_chart_fetch).
    environment["ML_PLATFORM_FETCH_CHART"] = "0"
    environment.update(env)
    return environment


def run_main(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        main_command(*args), cwd=cwd, env=main_environment(**env), capture_output=True, text=True, timeout=600
    )


@dataclass
class BackgroundRun:
    """``main.py`` started in the background at the start of the session (it is slow and
    needs no test's state). It records its output and exit code in files of ``cwd``, so
    any process of the session (a pytest-xdist worker too) can wait for it: ``result``."""

    cwd: Path
    process: subprocess.Popen | None = None

    @staticmethod
    def start(cwd: Path, *args: str, **env: str) -> "BackgroundRun":
        # The exit code is written last, under its final name only when complete.
        wrapper = '"$@" >"$0/stdout" 2>"$0/stderr"; echo $? >"$0/rc.tmp"; mv "$0/rc.tmp" "$0/rc"'
        BackgroundRun.record_of(cwd).mkdir()
        process = subprocess.Popen(
            ["sh", "-c", wrapper, str(BackgroundRun.record_of(cwd)), *main_command(*args)],
            cwd=cwd, env=main_environment(**env), stdin=subprocess.DEVNULL,
        )
        return BackgroundRun(cwd, process)

    @staticmethod
    def record_of(cwd: Path) -> Path:
        """Where the run's output and exit code are recorded (beside ``cwd``, not in it)."""
        return cwd.with_name(f"{cwd.name}.record")

    def result(self, timeout: float = 600) -> subprocess.CompletedProcess:
        record = self.record_of(self.cwd)
        deadline = time.monotonic() + timeout
        while not (record / "rc").exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the background synth in {self.cwd} did not finish in {timeout} s")
            time.sleep(0.2)
        return subprocess.CompletedProcess(
            ["main.py"], int((record / "rc").read_text()), (record / "stdout").read_text(), (record / "stderr").read_text()
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
