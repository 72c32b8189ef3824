"""Estimated apply critical path of the synthesized stack.

    python -m scripts.plan_report [path/to/cdk.tf.json]

Reads the synthesized JSON (default: the default stack under cdktf.out), builds the
dependency graph Terraform would build, and prints the longest chain of waits with the
estimated create time of each step (modules/analysis/create_times.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from modules.analysis import build_graph
from modules.analysis.create_times import create_seconds

DEFAULT_STACK = Path("cdktf.out/stacks/ml-platform/cdk.tf.json")


def report(document: dict) -> str:
    graph = build_graph(document)
    cycles = graph.cycles()
    if cycles:
        return "dependency cycles:\n" + "\n".join("  " + " -> ".join(c) for c in cycles)
    weights = {address: create_seconds(address) for address in graph.edges}
    total, chain = graph.longest_path(weights)
    lines = [
        f"Estimated apply critical path: {total / 60:.0f} min over {len(chain)} steps "
        f"({len(graph.edges)} resources and data sources in the graph)",
        "",
        f"{'elapsed':>8}  {'step':>6}  address",
    ]
    elapsed = 0.0
    for address in chain:
        elapsed += weights[address]
        lines.append(f"{elapsed / 60:>6.1f}m  {weights[address]:>5.0f}s  {address}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack", nargs="?", type=Path, default=DEFAULT_STACK)
    args = parser.parse_args(argv)
    try:
        document = json.loads(args.stack.read_text())
    except (OSError, ValueError) as err:
        print(f"error: cannot read {args.stack}: {err} (run `make synth` first)", file=sys.stderr)
        return 2
    print(report(document))
    return 0


if __name__ == "__main__":
    sys.exit(main())
