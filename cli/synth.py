"""Write a synth atomically, and say what was written."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from cdktf import App, TerraformStack

from modules.config import PlatformConfig
from modules.core.module import MODULES_FOLDER, write_local_modules

if TYPE_CHECKING:
    from .app import BuildStack


def synth_atomically(build: BuildStack, config: PlatformConfig, outdir: Path) -> TerraformStack:
    """Synthesize into a fresh folder beside ``outdir`` and swap it in only when complete,
    so a failed synth leaves the previous output untouched."""
    outdir = outdir.absolute()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.new-", dir=outdir.parent))
    staging.chmod(0o755)
    try:
        app = App(outdir=str(staging))
        stack = build(app, config)
        app.synth()
        write_local_modules(stack, staging / "stacks" / stack.node.id)
        _swap_into_place(staging, outdir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return stack


def _swap_into_place(staging: Path, outdir: Path) -> None:
    if not outdir.exists():
        staging.rename(outdir)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.old-", dir=outdir.parent))
    retired.rmdir()
    outdir.rename(retired)
    staging.rename(outdir)
    shutil.rmtree(retired, ignore_errors=True)


def resource_counts(stack_dir: Path) -> Counter:
    """Resource blocks per subsystem: the root module's top-level constructs (the first
    part of each block's construct path) and the modules it calls (``module.<name>``)."""
    counts: Counter = Counter()
    root = json.loads((stack_dir / "cdk.tf.json").read_text())
    for blocks in root.get("resource", {}).values():
        for block in blocks.values():
            counts[block["//"]["metadata"]["path"].split("/")[1]] += 1
    for module in sorted((stack_dir / MODULES_FOLDER).glob("*/main.tf.json")):
        document = json.loads(module.read_text())
        counts[f"module.{module.parent.name}"] += sum(len(blocks) for blocks in document.get("resource", {}).values())
    return counts


def print_summary(stack: TerraformStack, config: PlatformConfig, outdir: Path) -> None:
    stack_dir = outdir / "stacks" / stack.node.id
    synthesized = json.loads((stack_dir / "cdk.tf.json").read_text())
    print(f"Synthesized stack '{stack.node.id}' ({config.region}, Kubernetes {config.kubernetes_version})")
    print(f"  output: {os.path.relpath(stack_dir)}/cdk.tf.json")
    counts = resource_counts(stack_dir)
    print(f"  resource blocks: {sum(counts.values())} (per-AZ blocks use count)")
    width = max([12, *map(len, counts)])
    for subsystem, count in sorted(counts.items()):
        print(f"    {subsystem:<{width}} {count}")
    print("  outputs:")
    outputs = synthesized.get("output", {})
    width = max(map(len, outputs), default=0)
    for name, output in sorted(outputs.items()):
        print(f"    {name:<{width}} {output.get('description', '')}")
    for warning in config.warnings():
        print(f"warning: {warning}", file=sys.stderr)


def copy_modules(stack_dir: Path, target: Path) -> list[Path]:
    """The modules the stack calls, as synthesized beside it, copied to ``target``."""
    copied = []
    for folder in sorted((stack_dir / MODULES_FOLDER).iterdir()):
        destination = target / folder.name
        if destination.exists():
            shutil.rmtree(destination)
        shutil.copytree(folder, destination)
        copied.append(destination)
    return copied
