"""``karpenter.*``: the node pools Karpenter manages (skeleton; the Karpenter module extends it)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Section

CapacityType = Literal["spot", "on-demand", "reserved"]


class GpuPoolConfig(Section):
    instance_types: list[str] = Field(default=["p5.48xlarge"], min_length=1)
    capacity_types: list[CapacityType] = Field(default=["spot"], min_length=1)


class KarpenterConfig(Section):
    gpu_pool: GpuPoolConfig = GpuPoolConfig()
