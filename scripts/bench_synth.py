"""Benchmark the synth of the default configuration, with the start-up mechanisms of
``cli.runtime`` switched on and off.

    python -m scripts.bench_synth [--runs N]

Four ways, from the default (every mechanism on) to the naive way (none: eager imports
in Python and Node.js, no compile cache, normal interpreter exit); the two between turn
off one mechanism each, so each one's share shows. Each run is a fresh ``python main.py``
process writing to a temporary folder. Wall time is measured around the process; peak
memory is the highest sum of the resident set sizes of the process tree (Python and the
jsii Node.js processes), sampled every 10 ms from /proc. Runs of the ways alternate so
that background load affects all alike. A line per run goes to stderr while it runs.
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
ON = {
    "ML_PLATFORM_LEAN_IMPORTS": "1",
    "ML_PLATFORM_LAZY_NODE_MODULES": "1",
    "ML_PLATFORM_FAST_EXIT": "1",
    "NODE_DISABLE_COMPILE_CACHE": "",
}
OFF = {
    "ML_PLATFORM_LEAN_IMPORTS": "0",
    "ML_PLATFORM_LAZY_NODE_MODULES": "0",
    "ML_PLATFORM_FAST_EXIT": "0",
    "NODE_DISABLE_COMPILE_CACHE": "1",
}
# name: the switches of the run (the first way is the default, the last the naive one)
WAYS = {
    "default (lazy Node modules, lean Python imports, compile cache, fast exit)": ON,
    "eager Node modules, the rest as the default": {**ON, "ML_PLATFORM_LAZY_NODE_MODULES": "0"},
    "eager Node modules and Python imports, fast exit": {**OFF, "ML_PLATFORM_FAST_EXIT": "1"},
    "naive (eager everything, no compile cache, normal exit)": OFF,
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


def synth_once(switches: dict[str, str]) -> Run:
    env = {**os.environ, **switches}
    env = {name: value for name, value in env.items() if value != "" and name != "HYPERPOD_EKS_CONFIG"}
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


INVALID_CONFIGURATION = "vpc:\n  nat_gateways: many\n"


def refuse_once() -> float:
    """Wall time of ``main.py`` refusing an invalid configuration (it must exit 2)."""
    with tempfile.TemporaryDirectory(prefix="bench-refuse-") as folder:
        config = Path(folder) / "invalid.yaml"
        config.write_text(INVALID_CONFIGURATION)
        env = {**os.environ, "HYPERPOD_EKS_CONFIG": str(config), "CDKTF_OUTDIR": str(Path(folder) / "cdktf.out")}
        start = time.perf_counter()
        result = subprocess.run([sys.executable, str(REPO / "main.py")], cwd=folder, env=env, capture_output=True)
        seconds = time.perf_counter() - start
    if result.returncode != 2:
        raise SystemExit(f"an invalid configuration ended with {result.returncode}, not 2")
    return seconds


def describe(values: list[float], unit: str) -> str:
    digits = 2 if unit == "s" else 0
    return f"{statistics.median(values):.{digits}f} {unit} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each way (default 5)")
    args = parser.parse_args(argv)
    results: dict[str, list[Run]] = {way: [] for way in WAYS}
    refusals: list[float] = []
    print(f"bench: {args.runs} run(s) of {len(WAYS)} ways ({', '.join(WAYS)}) and a refusal; "
          "a line per run follows (the naive way takes seconds)", file=sys.stderr, flush=True)
    for index in range(args.runs):
        for way, switches in WAYS.items():
            run = synth_once(switches)
            results[way].append(run)
            print(f"run {index + 1}/{args.runs} {way}: {run.seconds:.2f} s, {run.peak_mib:.0f} MiB", file=sys.stderr)
        refusals.append(refuse_once())
        print(f"run {index + 1}/{args.runs} refused configuration: {refusals[-1]:.2f} s", file=sys.stderr)
    print(f"Synth of the default configuration, {args.runs} fresh processes each way "
          f"(median, min-max), {os.cpu_count()} CPUs")
    print()
    print("| way | wall time | peak memory (Python + Node) |")
    print("|---|---|---|")
    for way, runs in results.items():
        print(f"| {way} | {describe([r.seconds for r in runs], 's')} | {describe([r.peak_mib for r in runs], 'MiB')} |")
    print(f"| refused configuration (exit 2) | {describe(refusals, 's')} | |")
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
