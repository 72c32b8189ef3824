"""``hyperpod.*``: the SageMaker HyperPod cluster (skeleton; the HyperPod module extends it)."""

from __future__ import annotations

from pydantic import Field

from .base import Section


class InstanceGroupConfig(Section):
    name: str
    instance_type: str
    instance_count: int = Field(ge=0)


class HyperPodConfig(Section):
    enabled: bool = True
    cluster_name: str = "ml-platform-hyperpod"
    enable_training_operator: bool = True
    enable_task_governance: bool = False
    enable_observability: bool = False
    instance_groups: list[InstanceGroupConfig] = Field(
        default_factory=lambda: [InstanceGroupConfig(name="gpu-workers", instance_type="ml.g5.xlarge", instance_count=2)]
    )
