"""Karpenter: node autoscaling with a general-purpose pool and an H100 spot pool on
Bottlerocket with SOCI parallel pull, as a Terraform module (``SOURCE``)."""

from .module import GPU_POOL_SETTINGS, SOURCE, KarpenterModule
from .pools import platform_pools

__all__ = ["GPU_POOL_SETTINGS", "SOURCE", "KarpenterModule", "platform_pools"]
