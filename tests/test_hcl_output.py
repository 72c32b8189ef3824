"""``make hcl``: the synthesized JSON rendered as HCL, for review. Terraform itself is the
judge: the rendered root module and modules plan exactly what the JSON plans."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tooling.hcl.blocks import block_paths
from tooling.hcl.render import broken, expression, render
from tooling.hcl.write import write_hcl

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


def test_long_expressions_break_one_item_a_line_and_keep_strings_whole():
    text = 'jsonencode({"Statement" = [{"Sid" = "A", "Resource" = ["arn:${var.p}:s3:::b/*"]}, {"Sid" = "B, C"}]})'
    assert broken(text) == (
        'jsonencode({"Statement" = [\n  {\n    "Sid" = "A",\n    "Resource" = ["arn:${var.p}:s3:::b/*"]\n'
        '  },\n  {"Sid" = "B, C"}\n]})'
    )
    assert re.sub(r"\s+", "", broken(text)) == re.sub(r"\s+", "", text)


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
        },
        "moved": [{"from": "aws_x.old", "to": "module.m.aws_x.new"}],
    }
    files = render(document, {("resource", "aws_x"): frozenset({("rule",), ("rule", "apply")})})
    main = files["main.tf"]
    assert 'tags = {\n"Name" = "a"\n}' in main
    assert "rule {\napply {\nalgorithm = \"AES256\"\n}\n}" in main
    assert "depends_on = [aws_y.b]" in main
    assert "lifecycle {\nprecondition {\ncondition = true" in main
    assert "metadata" not in main
    assert files["moved.tf"] == "moved {\nfrom = aws_x.old\nto = module.m.aws_x.new\n}\n"


def test_the_schemas_say_which_keys_are_blocks(stack):
    paths = block_paths(stack.folder)
    assert ("vpc_config",) in paths[("resource", "aws_eks_cluster")]
    assert ("metadata_options",) in paths[("resource", "aws_launch_template")]
    assert ("default_tags",) in paths[("provider", "aws")]
    # The helm provider 3 declares these as nested attributes, not blocks.
    assert ("kubernetes",) not in paths[("provider", "helm")]
    assert ("set",) not in paths[("resource", "helm_release")]


@pytest.fixture(scope="module")
def rendered(stack, tmp_path_factory) -> Path:
    """The default stack's HCL copy, completed with what the modules read at apply time
    (the lifecycle scripts, the charts) so Terraform can plan it."""
    folder = write_hcl(stack.folder, tmp_path_factory.mktemp("hcl") / "ml-platform")
    for module in stack.modules:
        for item in (stack.folder / "modules" / module).iterdir():
            if item.is_dir():
                shutil.copytree(item, folder / "modules" / module / item.name)
    return folder


@needs_terraform
def test_the_rendered_hcl_is_formatted(rendered):
    check = subprocess.run([TERRAFORM, "fmt", "-check", "-recursive", str(rendered)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


def test_every_block_of_the_json_is_in_the_hcl(stack, rendered):
    for name, document in stack.all_documents().items():
        folder = rendered / "modules" / name if name else rendered
        text = "\n".join(p.read_text() for p in folder.glob("*.tf"))
        for section in ("resource", "data"):
            for resource_type, blocks in document.get(section, {}).items():
                for block in blocks:
                    assert f'{section} "{resource_type}" "{block}" {{' in text, (name, block)
        for variable in document.get("variable", {}):
            assert f'variable "{variable}" {{' in text
        for output in document.get("output", {}):
            assert f'output "{output}" {{' in text


def test_policies_read_one_statement_at_a_time(rendered):
    text = (rendered / "modules" / "karpenter" / "main.tf").read_text()
    assert max(len(line) for line in text.splitlines()) < 400, "no policy on one line"
    assert re.search(r'^\s+"Sid"\s+= "PassNodeRoleToEc2",$', text, re.MULTILINE)
    assert ".*." not in text, "full splat [*], not the legacy .*"


def test_addresses_have_no_doubled_words(stack):
    for name, document in stack.all_documents().items():
        for blocks in document.get("resource", {}).values():
            for block in blocks:
                parts = block.split("_")
                doubled = [p for i, p in enumerate(parts[1:]) if p == parts[i]]
                assert not doubled, f"{name or 'root'}: {block}"


@needs_terraform
def test_terraform_plans_the_hcl_as_it_plans_the_json(rendered, plan):
    """The review copy says exactly what is deployed: same resources, same values."""
    from tooling.offline import Workspace

    from_json = plan({})
    with Workspace(rendered, root=rendered.parent, at=rendered.name) as workspace:
        from_hcl = workspace.plan()
        hcl_changes = {c["address"]: c["change"]["after"] for c in from_hcl.resource_changes}
    assert from_hcl.summary == from_json.summary
    json_changes = {c["address"]: c["change"]["after"] for c in from_json.resource_changes}
    assert sorted(hcl_changes) == sorted(json_changes)
    differing = [a for a in json_changes if json_changes[a] != hcl_changes[a]]
    assert differing == []


@needs_terraform
@pytest.mark.slow
def test_main_py_hcl_writes_the_same_files_in_any_directory(cli_synths):
    for _, result in cli_synths:
        assert result.returncode == 0, result.stderr
        assert "  hcl: dist/hcl/ml-platform/" in result.stdout
    first, second = (directory / "dist" / "hcl" / "ml-platform" for directory, _ in cli_synths)
    names = sorted(p.relative_to(first).as_posix() for p in first.rglob("*.tf"))
    assert "main.tf" in names and "modules/hyperpod/main.tf" in names and "modules/karpenter/variables.tf" in names
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), f"{name} differs between directories"
