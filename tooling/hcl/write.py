"""Write the HCL rendering of a synthesized stack, and of the modules it calls, for
review, and format it with ``terraform fmt``.

The files go to ``dist/hcl/<stack>/`` (the modules below ``modules/<name>/``), outside
``cdktf.out``, so a later synth does not remove them, and away from the JSON: Terraform
loads every ``.tf`` and ``.tf.json`` of a folder, and the same resources twice would
conflict. They are a reviewer's copy; ``terraform`` runs the JSON.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from tooling.operator_files import replace_folder_keeping

from .blocks import block_paths
from .render import render

HCL_DIR = Path("dist/hcl")
HEADER = (
    "# Generated from the synthesized JSON for review: terraform runs the JSON\n"
    "# (cdktf.out/stacks/<stack>/), not these files.\n\n"
)


class HclFormatError(RuntimeError):
    pass


def write_hcl(stack_dir: Path, target: Path) -> Path:
    """``target/*.tf`` for the root module and ``target/modules/<name>/*.tf`` for each
    module, replacing what was there but the operator's files (tfvars, lock file,
    ``.terraform/``: ``tooling.operator_files``). Written complete beside ``target`` first,
    so a failure leaves the previous copy as it was."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        blocks = block_paths(stack_dir)
        sources = {staging: stack_dir / "cdk.tf.json"}
        for module in sorted(stack_dir.glob("modules/*/main.tf.json")):
            sources[staging / "modules" / module.parent.name] = module
        for folder, source in sources.items():
            folder.mkdir(parents=True, exist_ok=True)
            for name, text in render(json.loads(source.read_text()), blocks).items():
                (folder / name).write_text(HEADER + text)
        terraform_fmt(staging)
        staging.chmod(0o755)
        replace_folder_keeping(target, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def terraform_fmt(folder: Path) -> None:
    """Format in place; a syntax error fails (terraform fmt parses every file)."""
    binary = shutil.which("terraform") or shutil.which("tofu")
    if binary is None:
        raise HclFormatError("terraform (or tofu) is not on PATH: it formats the HCL files")
    result = subprocess.run(
        [binary, "fmt", "-recursive", "-list=false", str(folder)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise HclFormatError(f"terraform fmt refused the rendered HCL:\n{result.stderr}")
