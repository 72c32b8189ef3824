"""Write a synth atomically, keeping the operator's files, and copy its modules."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Callable

from cdktf import App, TerraformStack

from modules.config import PlatformConfig
from modules.core.module import MODULES_FOLDER, write_local_modules
from tooling.operator_files import carry_over, swap_in

# What main.py gives: the function that builds the stack of a configuration in an app.
BuildStack = Callable[[App, PlatformConfig], TerraformStack]


def synth_atomically(build: BuildStack, config: PlatformConfig, outdir: Path) -> TerraformStack:
    """Synthesize into a fresh folder beside ``outdir`` and swap it in only when complete,
    so a failed synth leaves the previous output untouched. What operators keep in a stack
    folder (tfvars, the lock file, ``.terraform/``: ``tooling.operator_files``) moves into
    the new one; a stack that is no longer synthesized keeps a folder with only those."""
    outdir = outdir.absolute()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.new-", dir=outdir.parent))
    staging.chmod(0o755)
    try:
        app = App(outdir=str(staging))
        stack = build(app, config)
        app.synth()
        write_local_modules(stack, staging / "stacks" / stack.node.id)
        for old_stack in sorted((outdir / "stacks").glob("*/")):
            carry_over(old_stack, staging / "stacks" / old_stack.name)
        swap_in(staging, outdir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return stack


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
