"""docs/hyperpod.md shows what the configuration accepts: every complete YAML block (one
that starts at ``hyperpod:``) is a valid configuration, and every tfvars block sets
variables the root module or the HyperPod module declares."""

from __future__ import annotations

import re

import pytest
import yaml

from modules.config import parse_config
from tests.stacks import REPO

DOC = (REPO / "docs" / "hyperpod.md").read_text()
README_SECTION = (REPO / "README.md").read_text().split("## SageMaker HyperPod", 1)[1].split("\n## ", 1)[0]
BLOCKS = [
    b for text in (DOC, README_SECTION) for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if b.startswith("hyperpod:")
]
# The cluster policy's type is not published in us-west-2 (the default region).
REGION_OF = {"scheduler:": "us-east-1"}


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block {i}" for i in range(len(BLOCKS))])
def test_every_complete_yaml_block_is_a_valid_configuration(block):
    config = yaml.safe_load(block)
    region = next((r for key, r in REGION_OF.items() if key in block), None)
    parse_config({**config, **({"region": region} if region else {})})


def test_there_is_a_block_for_every_capability():
    text = "\n".join(BLOCKS)
    for key in (
        "training_plan_arn:", "image_id:", "volume_kms_key_id:", "scheduled_update:", "tiered_storage:",
        "autoscaling:", "node_pools:", "restricted_instance_groups:", "observability:", "inference_operator:",
        "task_governance:", "compute_quotas:", "scheduler:",
    ):
        assert key in text, key


def test_tfvars_blocks_set_declared_variables(stack):
    declared = set(stack.root["variable"]) | set(stack.modules["hyperpod"]["variable"])
    blocks = re.findall(r"```hcl\n(.*?)```", DOC, re.S)
    assert blocks
    for block in blocks:
        for name in re.findall(r"^(\w+)\s*=", block, re.M):
            assert name in declared, name
