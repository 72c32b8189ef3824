"""Regenerate the documents generated from code (``make docs``): the HyperPod instance
type table, docs/hcl-teams.md and docs/architecture.md (from the default stack as
synthesized, with the modules it calls)."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modules.config import parse_config
from modules.config.hyperpod_instance_types import render_markdown as instance_types
from scripts.plan_report import terraform_graph
from tooling.analysis import DependencyGraph
from tooling.analysis import architecture_markdown as architecture
from tooling.docs import render_hcl_teams

DOCS = Path(__file__).resolve().parent.parent / "docs"


@dataclass(frozen=True)
class Synthesized:
    root: dict[str, Any]
    modules: dict[str, dict[str, Any]]
    graph: DependencyGraph


def default_stack() -> Synthesized:
    """The default configuration synthesized the way main.py does it, and Terraform's
    dependency graph of it (offline stand-in providers)."""
    from cli import prepare_runtime, synth_atomically

    prepare_runtime()
    from main import build

    with tempfile.TemporaryDirectory() as folder:
        stack = synth_atomically(build, parse_config({}), Path(folder) / "cdktf.out")
        stack_dir = Path(folder) / "cdktf.out" / "stacks" / stack.node.id
        modules = {p.parent.name: json.loads(p.read_text()) for p in sorted(stack_dir.glob("modules/*/main.tf.json"))}
        return Synthesized(json.loads((stack_dir / "cdk.tf.json").read_text()), modules, terraform_graph(stack_dir))


def documents(stack: Synthesized) -> dict[str, str]:
    return {
        "hyperpod-instance-types.md": instance_types(),
        "hcl-teams.md": render_hcl_teams(stack.root, stack.modules),
        "architecture.md": architecture(stack.graph, {"": stack.root, **stack.modules}),
    }


def main() -> None:
    for name, text in documents(default_stack()).items():
        (DOCS / name).write_text(text)
        print(f"wrote docs/{name}")


if __name__ == "__main__":
    main()
