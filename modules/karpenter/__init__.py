"""Karpenter: node autoscaling with a general-purpose pool and an H100 spot pool on
Bottlerocket with SOCI parallel pull."""

from .karpenter import Karpenter, KarpenterProps

__all__ = ["Karpenter", "KarpenterProps"]
