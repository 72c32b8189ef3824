"""EC2 GPU instance types the platform knows, kept as data in one place: vCPUs, memory
and GPUs of each (from the EC2 accelerated-computing instance type pages).

The configuration refuses a GPU pool whose types have no GPU or whose limits cannot hold
one instance; ``scripts/preflight.py`` counts EC2 vCPU quotas with the vCPUs. To support a
new type, add it here.
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


def _sizes(gpu: str, family: str, sizes: dict[str, tuple[int, int, int]]) -> dict[str, GpuInstance]:
    return {f"{family}.{size}": GpuInstance(*shape, gpu=gpu) for size, shape in sizes.items()}


# (vCPUs, memory GiB, GPUs) per size.
_G4DN_G5_G6 = {
    "xlarge": (4, 16, 1), "2xlarge": (8, 32, 1), "4xlarge": (16, 64, 1), "8xlarge": (32, 128, 1),
    "12xlarge": (48, 192, 4), "16xlarge": (64, 256, 1), "24xlarge": (96, 384, 4), "48xlarge": (192, 768, 8),
}
_G6E = {
    "xlarge": (4, 32, 1), "2xlarge": (8, 64, 1), "4xlarge": (16, 128, 1), "8xlarge": (32, 256, 1),
    "12xlarge": (48, 384, 2), "16xlarge": (64, 512, 1), "24xlarge": (96, 768, 4), "48xlarge": (192, 1536, 8),
}

GPU_INSTANCES: dict[str, GpuInstance] = {
    **_sizes("NVIDIA V100", "p3", {"2xlarge": (8, 61, 1), "8xlarge": (32, 244, 4), "16xlarge": (64, 488, 8)}),
    **_sizes("NVIDIA V100", "p3dn", {"24xlarge": (96, 768, 8)}),
    **_sizes("NVIDIA A100", "p4d", {"24xlarge": (96, 1152, 8)}),
    **_sizes("NVIDIA A100", "p4de", {"24xlarge": (96, 1152, 8)}),
    **_sizes("NVIDIA H100", "p5", {"4xlarge": (16, 256, 1), "48xlarge": (192, 2048, 8)}),
    **_sizes("NVIDIA H200", "p5e", {"48xlarge": (192, 2048, 8)}),
    **_sizes("NVIDIA H200", "p5en", {"48xlarge": (192, 2048, 8)}),
    **_sizes("NVIDIA B200", "p6-b200", {"48xlarge": (192, 2048, 8)}),
    **_sizes("NVIDIA T4", "g4dn", {**{k: v for k, v in _G4DN_G5_G6.items() if k != "48xlarge"}, "metal": (96, 384, 8)}),
    **_sizes("NVIDIA A10G", "g5", _G4DN_G5_G6),
    **_sizes("NVIDIA L4", "g6", _G4DN_G5_G6),
    **_sizes("NVIDIA L40S", "g6e", _G6E),
}


def architecture(instance_type: str) -> str:
    """``arm64`` for AWS Graviton instance types, ``x86_64`` otherwise. Graviton families
    carry a ``g`` right after their generation digit (m6g, c7gn, r8gd, t4g, x2gd, im4gn,
    is4gen); the GPU families' ``g`` comes first (g5, g6e) and does not count."""
    family = instance_type.split(".", 1)[0]
    return "arm64" if re.fullmatch(r"[a-z]+\d+g[a-z-]*", family) else "x86_64"
