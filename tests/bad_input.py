"""Run the command line on a configuration file and check it is refused properly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cli import run
from modules.config import CONFIG_ENV_VAR

PREVIOUS_OUTPUT = '{"previous": true}'


# What a refusal may cost: refused before anything loads, never a flood. The time is CPU
# time (the process's, or the child's), which other work on the machine does not inflate:
# a busy 2-core machine doubles wall times, not the work a refusal does.
MAX_OUTPUT_BYTES = 4096
MAX_SECONDS = 1.0


def assert_refused(content: str | bytes, key: str, hint: str, tmp_path: Path, monkeypatch, capsys) -> None:
    """Exit code 2, the key and a hint in the message, no traceback, an existing cdktf.out
    left exactly as it was (nothing else written), under 4 KB of output, within a second
    (the catalogue also runs the hostile files in a process with bounded memory)."""
    config_file = tmp_path / "platform.yaml"
    (config_file.write_bytes if isinstance(content, bytes) else config_file.write_text)(content)
    previous = tmp_path / "cdktf.out" / "stacks" / "ml-platform" / "cdk.tf.json"
    previous.parent.mkdir(parents=True)
    previous.write_text(PREVIOUS_OUTPUT)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(CONFIG_ENV_VAR, str(config_file))

    def must_not_synthesize(app, config):
        raise AssertionError("an invalid configuration reached synthesis")

    started = time.process_time()
    with pytest.raises(SystemExit) as exit_info:
        run(must_not_synthesize)
    seconds = time.process_time() - started
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    err = captured.err
    assert len((captured.out + err).encode()) < MAX_OUTPUT_BYTES, f"{len(err)} bytes of output"
    assert seconds < MAX_SECONDS, f"refused in {seconds:.2f} s of CPU"
    assert key in err and hint in err, err
    assert "Traceback" not in err
    assert previous.read_text() == PREVIOUS_OUTPUT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out", "platform.yaml"]
