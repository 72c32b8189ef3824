"""Benchmark the synth of the default configuration: lean provider imports on and off.

    python -m scripts.bench_synth [--runs N] [--markdown]

Three ways: the default (lean provider imports, exit right after writing), eager imports
with the same fast exit, and the naive way (eager imports, normal interpreter exit).
Each run is a fresh ``python main.py`` process writing to a temporary folder. Wall time
is measured around the process; peak memory is the highest sum of the resident set sizes
of the process tree (Python and the jsii Node.js child), sampled every 10 ms from /proc.
Runs of the two ways alternate so that background load affects both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE_SECONDS = 0.01
# name: (lean provider imports, fast exit)
WAYS = {
    "lean imports, fast exit (default)": ("1", "1"),
    "eager imports, fast exit": ("0", "1"),
    "eager imports, normal exit (naive)": ("0", "0"),
}


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mib: float


def tree_rss_kib(root_pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB (0 once it is gone)."""
    total, pending = 0, [root_pid]
    while pending:
        pid = pending.pop()
        try:
            with open(f"/proc/{pid}/status") as status:
                total += next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    pending.extend(int(child) for child in children.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def synth_once(lean: str, fast_exit: str) -> Run:
    env = {**os.environ, "ML_PLATFORM_LEAN_IMPORTS": lean, "ML_PLATFORM_FAST_EXIT": fast_exit}
    env.pop("HYPERPOD_EKS_CONFIG", None)
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as outdir:
        env["CDKTF_OUTDIR"] = str(Path(outdir) / "cdktf.out")
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, str(REPO / "main.py")], cwd=outdir, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_rss_kib(process.pid))
            time.sleep(SAMPLE_SECONDS)
        seconds = time.perf_counter() - start
        if process.returncode != 0:
            raise SystemExit(f"synth failed ({process.returncode}): {process.stderr.read().decode()[-2000:]}")
    return Run(seconds, peak / 1024)


def describe(values: list[float], unit: str) -> str:
    return f"{statistics.median(values):.1f} {unit} ({min(values):.1f}-{max(values):.1f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each way (default 5)")
    args = parser.parse_args(argv)
    results: dict[str, list[Run]] = {way: [] for way in WAYS}
    for _ in range(args.runs):
        for way, switches in WAYS.items():
            results[way].append(synth_once(*switches))
    print(f"Synth of the default configuration, {args.runs} fresh processes each way "
          f"(median, min-max), {os.cpu_count()} CPUs")
    print()
    print("| way | wall time | peak memory (Python + Node) |")
    print("|---|---|---|")
    for way, runs in results.items():
        print(f"| {way} | {describe([r.seconds for r in runs], 's')} | {describe([r.peak_mib for r in runs], 'MiB')} |")
    default, *others = WAYS
    print()
    for other in others:
        print(f"default / {other}: wall time {ratio(results, default, other, 'seconds'):.0%}, "
              f"peak memory {ratio(results, default, other, 'peak_mib'):.0%}")
    return 0


def ratio(results: dict[str, list[Run]], way: str, baseline: str, field: str) -> float:
    def median(name: str) -> float:
        return statistics.median(getattr(run, field) for run in results[name])

    return median(way) / median(baseline)


if __name__ == "__main__":
    sys.exit(main())
