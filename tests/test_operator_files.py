"""What operators keep in a folder this project writes (tfvars, the provider lock file,
``.terraform/``) survives every later synth and HCL copy."""

from __future__ import annotations

from pathlib import Path

from tooling.operator_files import carry_over, kept_in

OPERATOR_FILES = {
    "terraform.tfvars": 'region = "eu-west-1"\n',
    "prod.auto.tfvars.json": '{"hyperpod_enabled": false}\n',
    ".terraform.lock.hcl": "# reviewed lock\n",
    ".terraform/providers/marker": "installed\n",
}


def write_operator_files(folder: Path) -> None:
    for name, text in OPERATOR_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def assert_operator_files(folder: Path) -> None:
    for name, text in OPERATOR_FILES.items():
        assert (folder / name).read_text() == text, name


def test_carry_over_moves_only_the_operators_files(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    write_operator_files(old)
    (old / "cdk.tf.json").write_text("{}")
    (old / "notes.txt").write_text("not kept")
    moved = carry_over(old, new)
    assert sorted(moved) == [".terraform", ".terraform.lock.hcl", "prod.auto.tfvars.json", "terraform.tfvars"]
    assert_operator_files(new)
    assert sorted(p.name for p in old.iterdir()) == ["cdk.tf.json", "notes.txt"]
    assert kept_in(tmp_path / "missing") == []


def synth_into(outdir: Path, overrides: dict) -> Path:
    """What ``main.py`` does (cli.synth), in this process: the stack folder written."""
    from cli.synth import synth_atomically
    from main import build
    from modules.config import parse_config

    return outdir / "stacks" / synth_atomically(build, parse_config(overrides), outdir).node.id


def test_a_new_synth_keeps_them_in_the_stack_folder(tmp_path, capsys):
    from cli.summary import print_summary
    from modules.config import parse_config

    outdir = tmp_path / "cdktf.out"
    stack_dir = synth_into(outdir, {})
    write_operator_files(stack_dir)
    assert synth_into(outdir, {}) == stack_dir
    assert_operator_files(stack_dir)
    assert (stack_dir / "cdk.tf.json").is_file()
    print_summary(stack_dir.name, parse_config({}), outdir)
    assert "kept from the previous synth: .terraform, .terraform.lock.hcl, prod.auto.tfvars.json, terraform.tfvars" in (
        capsys.readouterr().out
    )
    # A stack that is no longer synthesized (the name changed) keeps its operator files.
    other = synth_into(outdir, {"name": "other-platform"})
    assert_operator_files(stack_dir)
    assert sorted(p.name for p in stack_dir.iterdir()) == sorted(
        [".terraform", ".terraform.lock.hcl", "prod.auto.tfvars.json", "terraform.tfvars"]
    )
    assert (other / "cdk.tf.json").is_file()
    assert sorted(p.name for p in outdir.parent.iterdir()) == ["cdktf.out"], "no staging folder left"


def test_a_new_hcl_copy_keeps_them(stack, tmp_path):
    from tooling.hcl import write_hcl

    target = tmp_path / "dist" / "hcl" / "ml-platform"
    write_hcl(stack.folder, target)
    write_operator_files(target)
    (target / "main.tf").write_text("# edited by hand: replaced by the next copy\n")
    write_hcl(stack.folder, target)
    assert_operator_files(target)
    assert "edited by hand" not in (target / "main.tf").read_text()
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")], "no staging folder left"
