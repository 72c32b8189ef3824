"""The Karpenter documentation shows what the configuration accepts: every YAML block of
docs/karpenter.md and of the README's Karpenter section is a valid configuration, and the
tfvars blocks set variables the root module declares."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from modules.config import parse_config

REPO = Path(__file__).resolve().parent.parent
DOC = (REPO / "docs" / "karpenter.md").read_text()
README_SECTION = (REPO / "README.md").read_text().split("## Karpenter and the load balancer controller", 1)[1].split("\n## ", 1)[0]
YAML_BLOCKS = [
    (f"{where}[{i}]", block)
    for where, text in (("docs/karpenter.md", DOC), ("README", README_SECTION))
    for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", text, re.S))
]


@pytest.mark.parametrize("block", [b for _, b in YAML_BLOCKS], ids=[w for w, _ in YAML_BLOCKS])
def test_every_yaml_block_is_a_valid_configuration(block):
    config = parse_config(yaml.safe_load(block))
    assert config.karpenter.pools


def test_there_are_blocks_for_every_capability():
    text = "\n".join(b for _, b in YAML_BLOCKS)
    for key in ("efa: true", "zones:", "placement_group:", "capacity_reservations:", "kind: general", "kind: gpu"):
        assert key in text, key


def test_tfvars_blocks_set_root_variables(stack):
    tfvars = [b for text in (DOC, README_SECTION) for b in re.findall(r"```hcl\n(.*?)```", text, re.S) if "module" not in b]
    assert tfvars
    for block in tfvars:
        for name in re.findall(r"^(\w+)\s*=", block, re.M):
            assert name in stack.root["variable"], name


def test_the_documented_names_are_the_derived_ones():
    for types, pool, node_class in re.findall(r"^\| `\[([^\]]+)\]` \| `([^`]+)` \| `([^`]+)` \|$", DOC, re.M):
        entries = [t.strip() for t in types.split(",")]
        (found,) = parse_config({"karpenter": {"pools": [{"kind": "gpu", "instance_types": entries}]}}).karpenter.pools
        assert (found.pool_name, found.node_class_name) == (pool, node_class)
