"""A first `make setup` says what it is doing, a line per step, and lets pip show each
package (it takes minutes); run with a stand-in Python so nothing is installed."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.processes import REPO

FAKE_PYTHON = """#!/bin/sh
# Stand-in for python3: "-m venv DIR" makes DIR/bin/pip, which records its arguments.
if [ "$1" = "--version" ]; then echo "Python 3.11.0"; exit 0; fi
mkdir -p "$3/bin"
printf '#!/bin/sh\\necho "pip $*"\\n' > "$3/bin/pip"
chmod +x "$3/bin/pip"
"""


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_setup_prints_a_line_per_step_and_pips_progress(tmp_path):
    python = tmp_path / "python3"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    venv = tmp_path / "venv"
    result = subprocess.run(
        ["make", "--no-print-directory", "setup", f"PYTHON={python}", f"VENV={venv}"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    steps = [line for line in lines if line.startswith("setup ")]
    assert [step.split(":")[0] for step in steps] == ["setup 1/3", "setup 2/3", "setup 3/3"]
    assert "Python 3.11.0" in steps[0] and "a few minutes" in steps[1]
    (pip,) = [line for line in lines if line.startswith("pip ")]
    assert "install" in pip and "-r requirements-dev.txt" in pip
    assert "--quiet" not in pip and "-q" not in pip.split(), "pip's own progress is shown"
    assert lines.index(steps[1]) < lines.index(pip) < lines.index(steps[2])
    assert (venv / ".installed").exists()
