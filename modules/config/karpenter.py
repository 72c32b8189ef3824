"""``karpenter.*``: the Karpenter release and the node pools it manages.

Two pools come with defaults: ``default_pool`` (general-purpose c/m/r instances, spot and
on-demand) and ``gpu_pool`` (p5.48xlarge H100 nodes, spot). Each pool carries the tuning of
the SOCI parallel pull its Bottlerocket node class uses.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .base import Section
from .ec2_instance_types import GPU_INSTANCES
from .patterns import described
from .terraform import TerraformRule

CapacityType = Literal["spot", "on-demand", "reserved"]
Architecture = Literal["amd64", "arm64"]
ConsolidationPolicy = Literal["WhenEmpty", "WhenEmptyOrUnderutilized"]

# Karpenter's own duration syntax (NodePool consolidateAfter and expireAfter).
DURATION_PATTERN = re.compile(r"^(([0-9]+(s|m|h))+|Never)$")
# Byte sizes Bottlerocket accepts for concurrent-download-chunk-size.
BYTE_SIZE_PATTERN = re.compile(r"^[1-9][0-9]*(b|kb|kib|mb|mib|gb|gib)$")
SEMVER_PATTERN = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
INSTANCE_TYPE_PATTERN = r"^[a-z][a-z0-9-]*\.[a-z0-9]+$"
Ec2InstanceType = Annotated[str, described(INSTANCE_TYPE_PATTERN, "an EC2 instance type such as p5.48xlarge")]
GpuInstanceType = Annotated[
    Ec2InstanceType,
    TerraformRule(
        lambda: f"contains({json.dumps(sorted(GPU_INSTANCES))}, $value)",
        "each instance type of the GPU pool must be a GPU instance type the platform knows "
        "(modules/config/ec2_instance_types.py).",
    ),
]

# Names of the pools and node classes (scripts and examples select them).
DEFAULT_POOL = "default"
DEFAULT_NODE_CLASS = "default"
GPU_POOL = "p5-gpu-h100"
GPU_NODE_CLASS = "h100-gpu"

# Karpenter 1.5 is the first release that supports Kubernetes 1.33.
MINIMUM_CHART_VERSION = (1, 5, 0)

# The pool's limits must admit at least one whole instance, or Karpenter never launches one.
GPU_INSTANCE_SHAPES: dict[str, tuple[int, int, int]] = {
    name: (facts.vcpus, facts.memory_gib, facts.gpus) for name, facts in GPU_INSTANCES.items()
}


def check_duration(value: str) -> str:
    if not DURATION_PATTERN.fullmatch(value):
        raise ValueError('must be a duration such as "30s", "10m", "1h30m" or "Never"')
    return value


class SociParallelPullConfig(Section):
    """Bottlerocket's ``settings.container-runtime-plugins.soci-snapshotter.parallel-pull-unpack``."""

    max_concurrent_downloads_per_image: int = Field(default=10, ge=1, le=100)
    concurrent_download_chunk_size: str = Field(
        default="16mb", description='Bytes per ranged download, e.g. "16mb" or "32mb".'
    )
    max_concurrent_unpacks_per_image: int = Field(default=10, ge=1, le=100)
    discard_unpacked_layers: bool = Field(
        default=True, description="Delete compressed layers once unpacked (halves disk use)."
    )

    @field_validator("concurrent_download_chunk_size")
    @classmethod
    def _is_a_byte_size(cls, value: str) -> str:
        if not BYTE_SIZE_PATTERN.fullmatch(value):
            raise ValueError('must be a byte size in lowercase such as "16mb", "512kib" or "1gb"')
        return value


class GpuSociParallelPullConfig(SociParallelPullConfig):
    """Tuned for p5.48xlarge (3,200 Gbps EFA, 192 vCPU): more and larger parallel fetches.
    Its own defaults, so overriding one key keeps the GPU values of the others."""

    max_concurrent_downloads_per_image: int = Field(default=30, ge=1, le=100)
    concurrent_download_chunk_size: str = "32mb"
    max_concurrent_unpacks_per_image: int = Field(default=30, ge=1, le=100)


class PoolLimits(Section):
    """The most a pool may hold in total; Karpenter stops launching at these."""

    cpu: int = Field(ge=1, description="vCPUs.")
    memory_gi: int = Field(ge=1, description="Memory in GiB.")


class GpuPoolLimits(PoolLimits):
    gpus: int = Field(ge=1, description="nvidia.com/gpu devices.")


class DisruptionConfig(Section):
    consolidation_policy: ConsolidationPolicy
    consolidate_after: str

    @field_validator("consolidate_after")
    @classmethod
    def _is_a_duration(cls, value: str) -> str:
        return check_duration(value)


class PoolConfig(Section):
    """What every pool has: node lifetime and the EBS data volume of its nodes."""

    expire_after: str = Field(default="720h", description="Nodes are replaced after this age.")
    data_volume_gb: int = Field(default=100, ge=20, le=16000, description="Bottlerocket data volume (GiB).")

    @field_validator("expire_after")
    @classmethod
    def _is_a_duration(cls, value: str) -> str:
        return check_duration(value)


class DefaultPoolConfig(PoolConfig):
    """General-purpose nodes for everything that is not a GPU workload."""

    instance_categories: list[Literal["c", "m", "r"]] = Field(default=["c", "m", "r"], min_length=1)
    min_vcpu: int = Field(default=4, ge=1, le=192)
    max_vcpu: int = Field(default=32, ge=1, le=192)
    capacity_types: list[CapacityType] = Field(default=["spot", "on-demand"], min_length=1)
    architectures: list[Architecture] = Field(default=["amd64"], min_length=1)
    limits: PoolLimits = PoolLimits(cpu=1000, memory_gi=4000)
    disruption: DisruptionConfig = DisruptionConfig(
        consolidation_policy="WhenEmptyOrUnderutilized", consolidate_after="1m"
    )
    soci: SociParallelPullConfig = SociParallelPullConfig()

    @model_validator(mode="after")
    def _vcpu_range_is_ordered(self) -> "DefaultPoolConfig":
        if self.min_vcpu > self.max_vcpu:
            raise ValueError(f"min_vcpu ({self.min_vcpu}) is larger than max_vcpu ({self.max_vcpu})")
        return self


class GpuPoolConfig(PoolConfig):
    """GPU nodes (H100 by default), tainted so that only GPU workloads land there."""

    instance_types: list[GpuInstanceType] = Field(
        default=["p5.48xlarge"], min_length=1, description="Instance types of the Karpenter GPU pool."
    )
    capacity_types: list[CapacityType] = Field(
        default=["spot"], min_length=1, description="Capacity types of the Karpenter GPU pool (spot, on-demand, reserved)."
    )
    limits: GpuPoolLimits = GpuPoolLimits(cpu=192, memory_gi=2048, gpus=8)
    # Training jobs are not moved to pack nodes tighter: only empty nodes are removed.
    disruption: DisruptionConfig = DisruptionConfig(consolidation_policy="WhenEmpty", consolidate_after="10m")
    soci: GpuSociParallelPullConfig = GpuSociParallelPullConfig()

    @field_validator("instance_types")
    @classmethod
    def _have_gpus(cls, value: list[str]) -> list[str]:
        for instance_type in value:
            if instance_type not in GPU_INSTANCES:
                raise ValueError(
                    f"{instance_type} is not a GPU instance type this platform knows (GPU families: "
                    f"{', '.join(sorted({t.split('.')[0] for t in GPU_INSTANCES}))}; new types go in "
                    "modules/config/ec2_instance_types.py)"
                )
        return value

    @model_validator(mode="after")
    def _limits_fit_one_instance(self) -> "GpuPoolConfig":
        limits = self.limits
        too_large = self.too_large_for_limits()
        for instance_type in self.instance_types:
            if instance_type in too_large:
                shape = GPU_INSTANCE_SHAPES[instance_type]
                cpu, memory, gpus = shape
                raise ValueError(
                    f"limits (cpu {limits.cpu}, memory_gi {limits.memory_gi}, gpus {limits.gpus}) cannot "
                    f"hold one {instance_type} ({cpu} vCPU, {memory} GiB, {gpus} GPUs): raise limits"
                )
        return self

    def too_large_for_limits(self) -> list[str]:
        """Known GPU types of which not even one instance fits the pool's limits."""
        have = (self.limits.cpu, self.limits.memory_gi, self.limits.gpus)
        return sorted(t for t, shape in GPU_INSTANCE_SHAPES.items() if any(h < n for h, n in zip(have, shape)))

    def instance_type_rules(self) -> list[TerraformRule]:
        """The limits rule on ``instance_types`` for a variable: the limits are not
        variables, so the types they cannot hold are listed from the configured ones."""
        limits = self.limits
        return [
            TerraformRule(
                f"alltrue([for type in $value : !contains({json.dumps(self.too_large_for_limits())}, type)])",
                f"the GPU pool's limits (cpu {limits.cpu}, memory_gi {limits.memory_gi}, gpus {limits.gpus}) cannot "
                "hold one instance of a listed type: raise karpenter.gpu_pool.limits.",
            )
        ]


class KarpenterConfig(Section):
    chart_version: str = Field(
        default="1.14.1", description="Karpenter Helm chart (and controller) version, 1.5.0 or newer."
    )
    controller_replicas: int = Field(
        default=2, ge=1, le=3, description="Controller pods, one per system node (anti-affinity)."
    )
    default_pool: DefaultPoolConfig = DefaultPoolConfig()
    gpu_pool: GpuPoolConfig = GpuPoolConfig()

    @field_validator("chart_version")
    @classmethod
    def _supported_chart(cls, value: str) -> str:
        match = SEMVER_PATTERN.fullmatch(value)
        if not match:
            raise ValueError('must be a release number such as "1.14.1" (no leading "v")')
        if tuple(int(part) for part in match.groups()) < MINIMUM_CHART_VERSION:
            raise ValueError("Karpenter before 1.5.0 does not support Kubernetes 1.33; use 1.5.0 or newer")
        return value
