"""Files people keep in a Terraform working folder that this project writes.

A stack folder (``cdktf.out/stacks/<stack>/``) and an HCL copy (``dist/hcl/<stack>/``) are
rewritten whole by every synth; the files below are not the project's but the operator's:
their variable values, the provider lock they reviewed, the providers and modules that
``terraform init`` installed, a saved plan. A rewrite carries them over untouched.
"""

from __future__ import annotations

import fnmatch
import shutil
import tempfile
from pathlib import Path

KEPT = (
    "*.tfvars",
    "*.tfvars.json",
    ".terraform.lock.hcl",
    ".terraform",
    "*.tfplan",
    "terraform.tfstate",
    "terraform.tfstate.backup",
)


def kept_in(folder: Path) -> list[Path]:
    """The operator's entries directly in ``folder`` (none when it does not exist)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if any(fnmatch.fnmatchcase(p.name, pattern) for pattern in KEPT))


def carry_over(old: Path, new: Path) -> list[str]:
    """Move the operator's entries of ``old`` into ``new`` (a rename: instant, even for
    ``.terraform/`` with its providers); an entry ``new`` already has is left in ``old``."""
    moved = []
    for entry in kept_in(old):
        destination = new / entry.name
        if destination.exists() or destination.is_symlink():
            continue
        new.mkdir(parents=True, exist_ok=True)
        entry.rename(destination)
        moved.append(entry.name)
    return moved


def replace_folder_keeping(target: Path, staging: Path) -> list[str]:
    """Put the complete folder ``staging`` in the place of ``target`` (same file system),
    carrying the operator's entries of ``target`` over; returns their names."""
    moved = carry_over(target, staging)
    swap_in(staging, target)
    return moved


def swap_in(staging: Path, target: Path) -> None:
    """Put the complete folder ``staging`` in the place of ``target`` (same file system) by
    renames, so ``target`` is never half written; the old folder is removed after."""
    if not target.exists():
        staging.rename(target)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    retired.rmdir()
    target.rename(retired)
    staging.rename(target)
    shutil.rmtree(retired, ignore_errors=True)
