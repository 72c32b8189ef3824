"""Read the deployment's outputs from either file format the tools write.

``cdktf output --outputs-file F`` writes ``{"<stack>": {"<output>": value}}``;
``terraform output -json`` writes ``{"<output>": {"value": v, "type": t, "sensitive": s}}``.
Both are accepted so the scripts work whichever tool deployed the stack.
"""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any


# A deployment's outputs are a few KB; anything this large is the wrong file.
MAX_OUTPUTS_BYTES = 16 * 1024 * 1024


class OutputsError(Exception):
    """The outputs file is missing, malformed or lacks a needed output (one-line reason)."""


@dataclass(frozen=True)
class DeploymentOutputs:
    values: dict[str, Any]
    source: str

    def get(self, name: str) -> str | None:
        value = self.values.get(name)
        return value if isinstance(value, str) and value else None

    def require(self, name: str, hint: str = "") -> str:
        value = self.get(name)
        if value is None:
            suffix = f" ({hint})" if hint else ""
            raise OutputsError(f"{self.source}: output {name!r} is missing or empty{suffix}")
        return value


def read_outputs(path: Path, stack: str | None = None) -> DeploymentOutputs:
    # Checked before opening: a named pipe would wait forever, /dev/zero would never end.
    try:
        info = path.stat()
    except FileNotFoundError:
        raise OutputsError(f"{path}: no such outputs file") from None
    except OSError as err:
        raise OutputsError(f"{path}: cannot read the outputs file ({err.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise OutputsError(f"{path}: not a regular file; pass the file `cdktf output --outputs-file` wrote")
    if info.st_size > MAX_OUTPUTS_BYTES:
        raise OutputsError(
            f"{path}: {info.st_size} bytes, more than the {MAX_OUTPUTS_BYTES} an outputs file can be; wrong file?"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise OutputsError(f"{path}: cannot read the outputs file ({err})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise OutputsError(f"{path}: not valid JSON (line {err.lineno}: {err.msg})") from None
    return DeploymentOutputs(values=parse_outputs(data, str(path), stack), source=str(path))


def parse_outputs(data: Any, source: str, stack: str | None = None) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise OutputsError(f"{source}: expected a JSON object of outputs, got {type(data).__name__}")
    if not data:
        raise OutputsError(f"{source}: no outputs (has the stack been deployed?)")
    if _is_terraform_format(data):
        if stack is not None:
            raise OutputsError(f"{source}: terraform output has no stacks; drop --stack")
        return {name: entry["value"] for name, entry in data.items()}
    if all(isinstance(entry, dict) for entry in data.values()):
        return _stack_outputs(data, source, stack)
    raise OutputsError(
        f"{source}: neither `cdktf output --outputs-file` nor `terraform output -json` format"
    )


def _is_terraform_format(data: dict[str, Any]) -> bool:
    # Each terraform entry carries its value with type metadata; a cdktf stack never does.
    return all(
        isinstance(entry, dict) and "value" in entry and ("type" in entry or "sensitive" in entry)
        for entry in data.values()
    )


def _stack_outputs(data: dict[str, dict[str, Any]], source: str, stack: str | None) -> dict[str, Any]:
    stacks = sorted(data)
    if stack is None:
        if len(stacks) > 1:
            raise OutputsError(f"{source}: several stacks ({', '.join(stacks)}); choose one with --stack")
        stack = stacks[0]
    if stack not in data:
        raise OutputsError(f"{source}: no stack {stack!r}; found {', '.join(stacks)}")
    return data[stack]
