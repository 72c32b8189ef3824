"""Regenerate the documents generated from code (``make docs``): the HyperPod instance
type table, docs/hcl-teams.md and docs/architecture.md (from the default stack's JSON)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from modules.analysis.architecture import render_markdown as architecture
from modules.config import parse_config
from modules.config.hyperpod_instance_types import render_markdown as instance_types
from modules.inputs.docs import render_hcl_teams

DOCS = Path(__file__).resolve().parent.parent / "docs"


def default_document() -> dict[str, Any]:
    from cli import prepare_runtime

    prepare_runtime()
    from cdktf import Testing

    from main import build

    with tempfile.TemporaryDirectory() as outdir:
        return json.loads(Testing.synth(build(Testing.app(outdir=outdir), parse_config({}))))


def documents(document: dict[str, Any]) -> dict[str, str]:
    return {
        "hyperpod-instance-types.md": instance_types(),
        "hcl-teams.md": render_hcl_teams(parse_config({}), document),
        "architecture.md": architecture(document),
    }


def main() -> None:
    for name, text in documents(default_document()).items():
        (DOCS / name).write_text(text)
        print(f"wrote docs/{name}")


if __name__ == "__main__":
    main()
