"""EC2 GPU instance types the platform knows, kept as data in one place: vCPUs, memory,
GPUs, the most EFA interfaces and whether it has NVMe instance store, for each.

Sources: the EC2 accelerated-computing instance type pages, checked against the instance
type reference of Karpenter v1.14 (its ``vpc.amazonaws.com/efa`` resource, the
``karpenter.k8s.aws/instance-gpu-count`` and ``instance-local-nvme`` labels); p3 types are
EBS-only and have no EFA.

The configuration refuses a GPU pool whose types have no GPU or whose limits cannot hold
one instance, and an EFA pool with a type that has no EFA; ``scripts/preflight.py`` counts
EC2 vCPU quotas with the vCPUs. To support a new type, add it here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class GpuInstance:
    vcpus: int
    memory_gib: int
    gpus: int
    gpu: str
    efa_interfaces: int = 0
    """The most EFA interfaces the type takes (Karpenter attaches that many to an EFA pod's node)."""
    instance_store: bool = True
    """NVMe instance-store disks (a GPU node class binds images and pod data onto them)."""

    @property
    def gpu_model(self) -> str:
        """The GPU as Karpenter's ``instance-gpu-name`` label says it: ``h100``, ``l40s``."""
        return self.gpu.split()[-1].lower()


def _sizes(gpu: str, family: str, sizes: dict[str, tuple[int, ...]], instance_store: bool = True) -> dict[str, GpuInstance]:
    """``(vCPUs, memory GiB, GPUs[, EFA interfaces])`` per size."""
    return {
        f"{family}.{size}": GpuInstance(
            shape[0], shape[1], shape[2], gpu, efa_interfaces=shape[3] if len(shape) > 3 else 0, instance_store=instance_store
        )
        for size, shape in sizes.items()
    }


def _with_efa(shapes: dict[str, tuple[int, int, int]], efa: dict[str, int]) -> dict[str, tuple[int, int, int, int]]:
    return {size: (*shape, efa.get(size, 0)) for size, shape in shapes.items()}


# (vCPUs, memory GiB, GPUs) per size, then the EFA interfaces of the sizes that have them.
_G5_G6 = {
    "xlarge": (4, 16, 1), "2xlarge": (8, 32, 1), "4xlarge": (16, 64, 1), "8xlarge": (32, 128, 1),
    "12xlarge": (48, 192, 4), "16xlarge": (64, 256, 1), "24xlarge": (96, 384, 4), "48xlarge": (192, 768, 8),
}
_G4DN = {**{k: v for k, v in _G5_G6.items() if k not in ("24xlarge", "48xlarge")}, "metal": (96, 384, 8)}
_G6E = {
    "xlarge": (4, 32, 1), "2xlarge": (8, 64, 1), "4xlarge": (16, 128, 1), "8xlarge": (32, 256, 1),
    "12xlarge": (48, 384, 4), "16xlarge": (64, 512, 1), "24xlarge": (96, 768, 4), "48xlarge": (192, 1536, 8),
}
_ONE_EFA_FROM_8XLARGE = {"8xlarge": 1, "12xlarge": 1, "16xlarge": 1, "24xlarge": 1, "48xlarge": 1, "metal": 1}

GPU_INSTANCES: dict[str, GpuInstance] = {
    **_sizes("NVIDIA V100", "p3", {"2xlarge": (8, 61, 1), "8xlarge": (32, 244, 4), "16xlarge": (64, 488, 8)}, instance_store=False),
    **_sizes("NVIDIA V100", "p3dn", {"24xlarge": (96, 768, 8, 1)}),
    **_sizes("NVIDIA A100", "p4d", {"24xlarge": (96, 1152, 8, 4)}),
    **_sizes("NVIDIA A100", "p4de", {"24xlarge": (96, 1152, 8, 4)}),
    **_sizes("NVIDIA H100", "p5", {"4xlarge": (16, 256, 1, 1), "48xlarge": (192, 2048, 8, 32)}),
    **_sizes("NVIDIA H200", "p5e", {"48xlarge": (192, 2048, 8, 32)}),
    **_sizes("NVIDIA H200", "p5en", {"48xlarge": (192, 2048, 8, 16)}),
    **_sizes("NVIDIA B200", "p6-b200", {"48xlarge": (192, 2048, 8, 8)}),
    **_sizes("NVIDIA T4", "g4dn", _with_efa(_G4DN, _ONE_EFA_FROM_8XLARGE)),
    **_sizes("NVIDIA A10G", "g5", _with_efa(_G5_G6, _ONE_EFA_FROM_8XLARGE)),
    **_sizes("NVIDIA L4", "g6", _with_efa(_G5_G6, _ONE_EFA_FROM_8XLARGE)),
    **_sizes("NVIDIA L40S", "g6e", _with_efa(_G6E, {**_ONE_EFA_FROM_8XLARGE, "24xlarge": 2, "48xlarge": 4})),
}

EFA_INSTANCE_TYPES = tuple(sorted(name for name, facts in GPU_INSTANCES.items() if facts.efa_interfaces))


def architecture(instance_type: str) -> str:
    """``arm64`` for AWS Graviton instance types, ``x86_64`` otherwise. Graviton families
    carry a ``g`` right after their generation digit (m6g, c7gn, r8gd, t4g, x2gd, im4gn,
    is4gen); the GPU families' ``g`` comes first (g5, g6e) and does not count."""
    family = instance_type.split(".", 1)[0]
    return "arm64" if re.fullmatch(r"[a-z]+\d+g[a-z-]*", family) else "x86_64"
