"""Estimated apply critical path of the synthesized stack.

    python -m scripts.plan_report [path/to/stack/folder]

Runs ``terraform graph`` on the synthesized stack (default: the default stack under
cdktf.out) with the offline stand-in providers, so the graph is the one Terraform builds,
modules included, and prints the longest chain of waits with the estimated create time of
each step (tooling/analysis/create_times.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tooling.analysis import DependencyGraph, create_seconds, from_dot
from tooling.offline import TerraformError, Workspace, terraform_binary

DEFAULT_STACK = Path("cdktf.out/stacks/ml-platform")
REPO = Path(__file__).resolve().parent.parent


def report(graph: DependencyGraph) -> str:
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


def terraform_graph(folder: Path) -> DependencyGraph:
    with Workspace(folder, root=REPO, at=f"cdktf.out/stacks/{folder.name}") as workspace:
        workspace.init()
        return from_dot(workspace.run("graph", "-type=plan").stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack", nargs="?", type=Path, default=DEFAULT_STACK, help="synthesized stack folder")
    args = parser.parse_args(argv)
    if not (args.stack / "cdk.tf.json").is_file():
        print(f"error: no synthesized stack in {args.stack} (run `make synth` first)", file=sys.stderr)
        return 2
    if terraform_binary() is None:
        print("error: terraform is not on PATH: the graph is Terraform's own", file=sys.stderr)
        return 2
    try:
        graph = terraform_graph(args.stack.absolute())
    except TerraformError as err:
        print(f"error: terraform refused the stack:\n{err.stderr}", file=sys.stderr)
        return 2
    print(report(graph))
    return 0


if __name__ == "__main__":
    sys.exit(main())
