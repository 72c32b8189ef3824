"""``hyperpod.autoscaling.node_pools``: what HyperPod's managed Karpenter scales, as its
autoscaling guide describes it. Each pool becomes a ``HyperpodNodeClass``
(``karpenter.sagemaker.amazonaws.com/v1``: the instance groups it may scale) and a
``NodePool`` (``karpenter.sh/v1``) that names it; ``modules/hyperpod/node_pools.py`` renders
them and installs them with a small chart once the cluster's autoscaling runs.

The platform's own Karpenter (``karpenter.pools``) uses the same ``karpenter.sh/v1`` NodePool
API with ``EC2NodeClass`` node classes: docs/hyperpod.md says how the two stay apart.
"""

from __future__ import annotations

from typing import Annotated

import annotated_types as at
from pydantic import Field, field_validator

from .base import Section
from .hyperpod_checks import repeated
from .hyperpod_zones import AvailabilityZone
from .karpenter import PoolName

# HyperPod's guide: "You can specify up to 10 instance groups in a NodeClass."
MAX_GROUPS_PER_NODE_CLASS = 10
# One description of what a group HyperPod's Karpenter scales must be (its guide: start at 0
# instances, no training plan or reserved capacity, no deep health checks), said by synth
# and by the module variable's validation at plan.
SCALABLE_GROUP = (
    "an instance group a HyperPod node pool names (autoscaling.node_pools[].instance_groups) must be one of "
    "hyperpod.instance_groups with instance_count 0 (Karpenter scales it from zero), no training_plan_arn and no "
    "deep_health_checks (HyperPod's Karpenter scales only such groups)"
)


class HyperPodNodePoolConfig(Section):
    """A NodePool of HyperPod's Karpenter and the HyperpodNodeClass it names (both called
    ``name``): which instance groups it scales, and in which zones."""

    name: PoolName = Field(
        description="NodePool and HyperpodNodeClass name; distinct from karpenter.pools' names (one NodePool API)."
    )
    instance_groups: Annotated[list[str], at.MinLen(1), at.MaxLen(MAX_GROUPS_PER_NODE_CLASS)] = Field(
        description="Instance groups (hyperpod.instance_groups names) Karpenter may scale for this pool (1-10)."
    )
    zones: list[AvailabilityZone] = Field(
        default_factory=list,
        description="Zones the pool's nodes are limited to (requirement topology.kubernetes.io/zone); unset: its groups'.",
    )

    @field_validator("instance_groups", "zones")
    @classmethod
    def _each_once(cls, values: list[str]) -> list[str]:
        twice = repeated(values)
        if twice:
            raise ValueError(f"lists {', '.join(twice)} twice; name each once")
        return values
