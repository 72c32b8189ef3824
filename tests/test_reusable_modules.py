"""``main.py --modules``: self-contained Karpenter and HyperPod modules (variables in,
outputs out, no provider or backend), and the HCL example that calls them."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from modules.analysis import declared_addresses, references_in
from modules.analysis.references import expressions
from modules.config import parse_config
from modules.reusable.build import MODULES, module_documents, write_modules
from tests.planned import planned

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "hcl"
TERRAFORM = shutil.which("terraform") or shutil.which("tofu")


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:
    return module_documents(parse_config({}))


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, Path]:
    config = parse_config({})
    first, second = tmp_path_factory.mktemp("modules-a"), tmp_path_factory.mktemp("other-dir")
    write_modules(config, first)
    write_modules(config, second)
    return first, second


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_has_no_provider_or_backend(documents, name):
    document = documents[name]
    assert "provider" not in document
    assert "backend" not in document.get("terraform", {})
    assert document["terraform"]["required_providers"]["aws"]["source"] == "hashicorp/aws"
    assert document["variable"] and document["output"]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_reference_resolves_inside_the_module(documents, name):
    document = documents[name]
    declared = declared_addresses(document)
    for expression in expressions({k: v for k, v in document.items() if k != "terraform"}):
        for address in references_in(expression):
            assert address in declared, f"{name}: {address} is not declared in the module"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_files_are_relative_to_the_module_and_shipped(written, name):
    folder = written[0] / name
    text = (folder / "main.tf.json").read_text()
    assert "../../.." not in text and "/work/" not in text and "/tmp/" not in text
    for path in set(re.findall(r"\$\{path\.module\}/([^\"}]+)", text)):
        assert (folder / path).exists() or (folder / path).parent.exists(), path


def test_modules_are_byte_identical_wherever_written(written):
    first, second = written
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for relative in files:
        assert (first / relative).read_bytes() == (second / relative).read_bytes(), relative


def test_hyperpod_module_counts_by_its_variable_and_reads_its_inputs(documents):
    hyperpod = documents["hyperpod"]
    off = planned(hyperpod, {"hyperpod_enabled": False, **_required(hyperpod)})
    assert not off.get("resource")
    cluster = hyperpod["resource"]["aws_cloudcontrolapi_resource"]["hyperpod_cluster"]
    for reference in ("var.hyperpod_cluster_name", "var.private_subnet_ids", "data.aws_eks_cluster.eks.arn",
                      "var.hyperpod_instance_groups", "var.tags"):
        assert reference in cluster["desired_state"], reference
    bucket = hyperpod["resource"]["aws_s3_bucket"]["hyperpod_lifecycle_scripts_bucket"]
    assert bucket["bucket_prefix"] == 'sagemaker-${trimsuffix(substr(var.name, 0, 26), "-")}-'


def test_karpenter_module_gpu_pool_reads_its_variables(documents):
    release = documents["karpenter"]["resource"]["helm_release"]["karpenter_node_pools"]
    assert "${jsonencode(var.karpenter_gpu_instance_types)}" in release["values"][0]
    assert release["chart"] == "${path.module}/charts/karpenter-nodepools"


def _required(document: dict) -> dict:
    return {n: "x" for n, v in document["variable"].items() if "default" not in v}


def _module_calls(text: str) -> dict[str, set[str]]:
    calls = {}
    for name, body in re.findall(r'module "(\w+)" \{\n(.*?)\n\}', text, re.DOTALL):
        calls[name] = set(re.findall(r"^\s+(\w+)\s+=", body, re.MULTILINE)) - {"source"}
    return calls


def test_example_passes_what_each_module_needs_and_nothing_else(documents):
    text = (EXAMPLE / "main.tf").read_text()
    calls = _module_calls(text)
    assert set(calls) == set(MODULES)
    for name, arguments in calls.items():
        variables = documents[name]["variable"]
        assert arguments <= set(variables), f"{name}: unknown {arguments - set(variables)}"
        assert {v for v, block in variables.items() if "default" not in block} <= arguments, f"{name}: required"
    for name, output in re.findall(r"module\.(\w+)\.(\w+)", text):
        assert output in documents[name]["output"], f"module.{name}.{output}"
    assert 'source = "../../dist/terraform-modules/' in text


@pytest.mark.skipif(TERRAFORM is None, reason="terraform is not installed")
def test_example_is_formatted_hcl(tmp_path):
    shutil.copy(EXAMPLE / "main.tf", tmp_path / "main.tf")
    shutil.copy(EXAMPLE / "terraform.tfvars.example", tmp_path / "terraform.tfvars")
    result = subprocess.run([TERRAFORM, "fmt", "-check", str(tmp_path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_main_py_modules_writes_dist(cli_synths, documents):
    import json

    (directory, result), _ = cli_synths
    assert result.returncode == 0, result.stderr
    for name in MODULES:
        written = json.loads((directory / "dist" / "terraform-modules" / name / "main.tf.json").read_text())
        assert written == documents[name]
        assert f"module: dist/terraform-modules/{name}/" in result.stdout
