"""The HyperPod and Karpenter modules: what the root module calls is what ``main.py
--modules`` gives HCL teams (same bytes), they stand alone (variables in, outputs out, no
provider or backend), and the HCL example that calls them is valid Terraform that plans."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.stacks import REPO

EXAMPLE = REPO / "examples" / "hcl"
MODULES = ("hyperpod", "karpenter")
TERRAFORM = shutil.which("terraform")
needs_terraform = pytest.mark.skipif(TERRAFORM is None, reason="terraform is not installed")


@pytest.mark.parametrize("name", MODULES)
def test_module_has_no_provider_or_backend(stack, name):
    document = stack.modules[name]
    assert "provider" not in document
    assert "backend" not in document.get("terraform", {})
    assert document["terraform"]["required_providers"]["aws"]["source"] == "hashicorp/aws"
    assert document["variable"] and document["output"]


@pytest.mark.parametrize("name", MODULES)
def test_the_root_module_calls_it_from_its_own_folder(stack, name):
    call = stack.root["module"][name]
    assert call["source"] == f"./modules/{name}"
    required = {v for v, block in stack.modules[name]["variable"].items() if "default" not in block}
    assert required <= set(call), f"{name}: the root module leaves {required - set(call)} unset"


@pytest.mark.parametrize("name", MODULES)
def test_module_files_are_relative_to_the_module_and_shipped(stack, name):
    folder = stack.folder / "modules" / name
    text = (folder / "main.tf.json").read_text()
    assert "../" not in text and "/work/" not in text and "/tmp/" not in text
    for path in set(re.findall(r"\$\{path\.module\}/([^\"}]+)", text)):
        if path.startswith("charts/hyperpod-dependencies"):
            continue  # fetched separately; the release's precondition names the script
        assert (folder / path).exists(), path


@pytest.mark.slow
def test_dist_holds_the_modules_the_stack_calls(cli_synths):
    """``--modules`` copies the stack's own modules: the same bytes, in any directory."""
    from tests.processes import STACK_DIR

    for directory, result in cli_synths:
        assert result.returncode == 0, result.stderr
        for name in MODULES:
            assert f"module: dist/terraform-modules/{name}/" in result.stdout
            called, shipped = directory / STACK_DIR / "modules" / name, directory / "dist" / "terraform-modules" / name
            files = sorted(p.relative_to(called) for p in called.rglob("*") if p.is_file())
            assert files == sorted(p.relative_to(shipped) for p in shipped.rglob("*") if p.is_file())
            for relative in files:
                assert (called / relative).read_bytes() == (shipped / relative).read_bytes(), relative
    (first, _), (second, _) = cli_synths
    for name in MODULES:
        a = (first / "dist" / "terraform-modules" / name / "main.tf.json").read_bytes()
        assert a == (second / "dist" / "terraform-modules" / name / "main.tf.json").read_bytes()


@needs_terraform
@pytest.mark.parametrize("name", MODULES)
def test_each_module_is_valid_terraform_on_its_own(stack, name):
    from tooling.offline import Workspace

    folder = stack.folder / "modules" / name
    with Workspace(folder, root=folder.parent, at=name) as workspace:
        assert "Success" in workspace.validate().stdout


@needs_terraform
def test_the_example_is_formatted_hcl():
    result = subprocess.run([TERRAFORM, "fmt", "-check", str(EXAMPLE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_terraform
def test_the_example_plans_both_modules_from_its_tfvars(stack, tmp_path):
    """examples/hcl with its terraform.tfvars.example, against the modules as shipped."""
    from tooling.offline import Workspace

    dist = tmp_path / "dist" / "terraform-modules"
    for name in MODULES:
        shutil.copytree(stack.folder / "modules" / name, dist / name)
    # The HyperPod dependencies chart is fetched separately; the stand-in helm provider
    # reads no chart, so an empty one stands in for it.
    chart = dist / "hyperpod" / "charts" / "hyperpod-dependencies"
    chart.mkdir(parents=True, exist_ok=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: stand-in\nversion: 0.0.0\n")
    example = tmp_path / "examples" / "hcl"
    shutil.copytree(EXAMPLE, example)
    shutil.copy(EXAMPLE / "terraform.tfvars.example", example / "terraform.tfvars")
    with Workspace(example, root=tmp_path, at="examples/hcl") as workspace:
        plan = workspace.plan()
        addresses = [change["address"] for change in plan.resource_changes]
    assert plan.counts["add"] > 50
    assert any(a.startswith("module.karpenter.") for a in addresses)
    assert "module.hyperpod.aws_cloudcontrolapi_resource.cluster" in addresses
