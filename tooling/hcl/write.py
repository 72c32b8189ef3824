"""Write the stack's HCL rendering beside its JSON and format it with ``terraform fmt``.

The files go to ``<stack dir>/hcl/``, not into the stack folder itself: Terraform loads
every ``.tf`` and ``.tf.json`` of a folder, and the same resources twice would conflict.
They are a reviewer's copy; ``terraform`` runs the JSON.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from cdktf import TerraformStack

from .render import block_paths, render

HCL_DIR = "hcl"
HEADER = (
    "# Generated from cdk.tf.json for review: terraform runs the JSON in the folder above.\n"
    "# Relative paths in here are relative to that folder.\n\n"
)


class HclFormatError(RuntimeError):
    pass


def write_hcl(stack: TerraformStack, stack_dir: Path) -> Path:
    document = json.loads((stack_dir / "cdk.tf.json").read_text())
    target = stack_dir / HCL_DIR
    target.mkdir(exist_ok=True)
    for name, text in render(document, block_paths(stack)).items():
        (target / name).write_text(HEADER + text)
    terraform_fmt(target)
    return target


def terraform_fmt(folder: Path) -> None:
    """Format in place; a syntax error fails (terraform fmt parses every file)."""
    binary = shutil.which("terraform") or shutil.which("tofu")
    if binary is None:
        raise HclFormatError("terraform (or tofu) is not on PATH: it formats the HCL files")
    result = subprocess.run([binary, "fmt", "-list=false", str(folder)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise HclFormatError(f"terraform fmt refused the rendered HCL:\n{result.stderr}")
