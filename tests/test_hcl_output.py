"""``make hcl``: the JSON rendered as HCL that terraform parses and formats, with nested
blocks written as blocks (the provider bindings say which keys are blocks)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from modules.hcl_output.render import block_paths, expression, render

TERRAFORM = shutil.which("terraform") or shutil.which("tofu")
needs_terraform = pytest.mark.skipif(TERRAFORM is None, reason="terraform is not installed")


@pytest.mark.parametrize(
    ("value", "hcl"),
    [
        ("${var.region}", "var.region"),
        ("${jsonencode({\"a\" = 1})}", 'jsonencode({"a" = 1})'),
        ("arn:${var.a}:x", '"arn:${var.a}:x"'),
        ("${var.a}-${var.b}", '"${var.a}-${var.b}"'),
        ('say "hi"\\', '"say \\"hi\\"\\\\"'),
        ("no $${interpolation}", '"no $${interpolation}"'),
        ("two\nlines\n", "<<EOT\ntwo\nlines\nEOT"),
        (True, "true"),
        (None, "null"),
        ([1, "a"], '[1, "a"]'),
        (["one\n"], "[\n<<EOT\none\nEOT\n]"),
        ({"k-1": "v"}, '{\n"k-1" = "v"\n}'),
    ],
)
def test_values_become_hcl_expressions(value, hcl):
    assert expression(value) == hcl


def test_blocks_and_attributes_are_told_apart():
    document = {
        "resource": {
            "aws_x": {
                "a": {
                    "tags": {"Name": "a"},
                    "rule": [{"apply": {"algorithm": "AES256"}}],
                    "depends_on": ["aws_y.b"],
                    "lifecycle": {"precondition": [{"condition": "${true}", "error_message": "m"}]},
                    "//": {"metadata": {}},
                }
            }
        }
    }
    paths = {("resource", "aws_x", "a"): frozenset({("rule",), ("rule", "apply")})}
    main = render(document, paths)["main.tf"]
    assert 'tags = {\n"Name" = "a"\n}' in main
    assert "rule {\napply {\nalgorithm = \"AES256\"\n}\n}" in main
    assert "depends_on = [aws_y.b]" in main
    assert "lifecycle {\nprecondition {\ncondition = true" in main
    assert "metadata" not in main


@pytest.fixture(scope="module")
def stack_hcl(tmp_path_factory, raw_stack):
    from cdktf import Testing

    from main import build
    from modules.config import parse_config

    stack = build(Testing.app(outdir=str(tmp_path_factory.mktemp("app"))), parse_config({}))
    files = render(raw_stack, block_paths(stack))
    folder = tmp_path_factory.mktemp("hcl")
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder, files


@needs_terraform
def test_terraform_parses_and_formats_the_rendered_stack(stack_hcl):
    folder, _ = stack_hcl
    formatted = subprocess.run([TERRAFORM, "fmt", str(folder)], capture_output=True, text=True, check=False)
    assert formatted.returncode == 0, formatted.stderr
    check = subprocess.run([TERRAFORM, "fmt", "-check", str(folder)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout


def test_every_block_of_the_json_is_in_the_hcl(stack_hcl, raw_stack):
    _, files = stack_hcl
    text = "\n".join(files.values())
    for section in ("resource", "data"):
        for resource_type, blocks in raw_stack[section].items():
            for name in blocks:
                assert f'{section} "{resource_type}" "{name}" {{' in text
    for name in raw_stack["variable"]:
        assert f'variable "{name}" {{' in files["variables.tf"]
    for name in raw_stack["output"]:
        assert f'output "{name}" {{' in files["outputs.tf"]
    counted = sum(1 for blocks in raw_stack["resource"].values() for b in blocks.values() if "count" in b)
    counted += sum(1 for blocks in raw_stack["data"].values() for b in blocks.values() if "count" in b)
    assert len(re.findall(r"^count = ", text, re.MULTILINE)) == counted


def test_provider_blocks_are_blocks(stack_hcl):
    _, files = stack_hcl
    assert "default_tags {\ntags = {" in files["versions.tf"]
    assert "required_version = " in files["versions.tf"] and 'backend "local" {' in files["versions.tf"]


def test_variable_types_are_bare_type_constraints(stack_hcl):
    _, files = stack_hcl
    assert "type = list(object({ name = string," in files["variables.tf"]
    assert 'type = "' not in files["variables.tf"]


@needs_terraform
@pytest.mark.slow
def test_main_py_hcl_writes_formatted_files_beside_the_json(cli_synths):
    from tests.processes import STACK_DIR

    for _, result in cli_synths:
        assert result.returncode == 0, result.stderr
    hcl, other = (directory / STACK_DIR / "hcl" for directory, _ in cli_synths)
    names = ["main.tf", "outputs.tf", "variables.tf", "versions.tf"]
    assert sorted(p.name for p in hcl.iterdir()) == names
    check = subprocess.run([TERRAFORM, "fmt", "-check", str(hcl)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout
    assert json.loads((hcl.parent / "cdk.tf.json").read_text())["variable"]
    for name in names:
        assert (hcl / name).read_bytes() == (other / name).read_bytes(), f"{name} differs between directories"


def test_helm_nested_attributes_are_attributes(stack_hcl):
    _, files = stack_hcl
    assert "kubernetes = {" in files["versions.tf"] and "\"exec\" = {" in files["versions.tf"]
    assert "kubernetes {" not in files["versions.tf"]
    assert re.search(r"^set = \[\{", files["main.tf"], re.MULTILINE)
    assert not re.search(r"^set \{", files["main.tf"], re.MULTILINE)
