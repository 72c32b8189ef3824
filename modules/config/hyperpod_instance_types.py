"""SageMaker HyperPod instance types this platform knows, kept as data in one place.

The configuration validates ``hyperpod.instance_groups[].instance_type`` against this table
(and decides from it whether deep health checks apply), and docs/hyperpod-instance-types.md
is generated from it by ``make docs``. To support a new type, add it here and run
``make docs`` (a test compares the document with this table).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Accelerator(str, Enum):
    GPU = "gpu"
    TRAINIUM = "trainium"
    NONE = "none"


@dataclass(frozen=True)
class InstanceFamily:
    family: str
    """The type name before the size, e.g. ``ml.g5``."""
    accelerator: Accelerator
    device: str
    """The accelerator model, or the processor for CPU families."""
    memory_per_device_gib: int
    """Accelerator memory per device (0 for CPU families)."""
    devices_by_size: dict[str, int]
    """Size (``xlarge``, ``48xlarge``...) to the number of accelerator devices."""
    partitionable: bool = False
    """Its GPUs can be split into Multi-Instance GPU (MIG) partitions (A100, H100 and
    later); A10G and L4 cannot."""

    @property
    def deep_health_checks_apply(self) -> bool:
        """HyperPod's on-start stress and connectivity checks exercise accelerators, so they
        run only on GPU and Trainium instances."""
        return self.accelerator is not Accelerator.NONE

    def instance_types(self) -> list[str]:
        return [f"{self.family}.{size}" for size in self.devices_by_size]


@dataclass(frozen=True)
class InstanceTypeFacts:
    instance_type: str
    family: InstanceFamily
    devices: int

    @property
    def accelerator_memory_gib(self) -> int:
        return self.devices * self.family.memory_per_device_gib

    @property
    def deep_health_checks_apply(self) -> bool:
        return self.family.deep_health_checks_apply

    @property
    def partitionable(self) -> bool:
        return self.family.partitionable

    def mig_profile_problem(self, profile: str) -> str | None:
        """Why ``profile`` (a ``nvidia.com/mig.config`` value) does not fit this type's
        GPUs, or None. ``all-disabled`` always fits; otherwise every slice ``<n>g.<m>gb``
        of the profile must be a slice of this GPU: a 1g slice holds an eighth of its
        memory, 2g a quarter, 3g and 4g half, 7g all of it."""
        if profile == MIG_DISABLED:
            return None
        if profile not in MIG_PROFILES:
            return f"not a profile of the GPU operator's MIG configuration; one of {', '.join(MIG_PROFILES)}"
        memory = self.family.memory_per_device_gib
        for compute, gigabytes in re.findall(r"(\d)g\.(\d+)gb", profile):
            expected = memory // MIG_MEMORY_SHARE[int(compute)]
            if int(gigabytes) != expected:
                return f"{compute}g slices of a {memory} GiB {self.family.device} hold {expected}gb, not {gigabytes}gb"
        return None


_CPU_SIZES_M5 = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge")
_CPU_SIZES_C5 = ("large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "12xlarge", "18xlarge", "24xlarge")
# g5 and g6 sizes to the GPUs each has.
_G_SIZES = {
    "xlarge": 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "12xlarge": 4, "16xlarge": 1, "24xlarge": 4, "48xlarge": 8
}

# Multi-Instance GPU: the profiles of the GPU operator's MIG configuration in the HyperPod
# dependencies chart (charts/gpu-operator/config/default-mig-config.yaml of
# aws/sagemaker-hyperpod-cli) for 40 and 80 GiB GPUs; the label nvidia.com/mig.config
# names one. A slice of <n> compute units holds 1/MIG_MEMORY_SHARE[n] of the memory.
MIG_LABEL = "nvidia.com/mig.config"
MIG_DISABLED = "all-disabled"
MIG_MEMORY_SHARE = {1: 8, 2: 4, 3: 2, 4: 2, 7: 1}
MIG_PROFILES: tuple[str, ...] = (
    "all-disabled", "all-1g.5gb", "all-1g.10gb", "all-3g.20gb", "all-3g.40gb", "all-7g.40gb", "all-7g.80gb",
    "mixed-1-3g.20gb-1-4g.20gb", "mixed-1-3g.40gb-1-4g.40gb",
    "mixed-1-1g.5gb-1-2g.10gb-1-4g.20gb", "mixed-1-1g.10gb-1-2g.20gb-1-4g.40gb",
    "mixed-3-1g.5gb-1-4g.20gb", "mixed-3-1g.10gb-1-4g.40gb",
    "mixed-1-1g.5gb-1-2g.10gb-1-3g.20gb", "mixed-1-1g.10gb-1-2g.20gb-1-3g.40gb",
    "mixed-3-1g.5gb-1-3g.20gb", "mixed-3-1g.10gb-1-3g.40gb",
    "mixed-2-2g.10gb-1-3g.20gb", "mixed-2-2g.20gb-1-3g.40gb",
    "mixed-2-1g.5gb-1-2g.10gb-1-3g.20gb", "mixed-2-1g.10gb-1-2g.20gb-1-3g.40gb",
    "mixed-4-1g.5gb-1-3g.20gb", "mixed-4-1g.10gb-1-3g.40gb",
    "mixed-1-1g.5gb-3-2g.10gb", "mixed-1-1g.10gb-3-2g.20gb",
    "mixed-3-1g.5gb-2-2g.10gb", "mixed-3-1g.10gb-2-2g.20gb",
    "mixed-5-1g.5gb-1-2g.10gb", "mixed-5-1g.10gb-1-2g.20gb",
)

FAMILIES: tuple[InstanceFamily, ...] = (
    InstanceFamily("ml.g5", Accelerator.GPU, "NVIDIA A10G", 24, dict(_G_SIZES)),
    InstanceFamily("ml.g6", Accelerator.GPU, "NVIDIA L4", 24, dict(_G_SIZES)),
    InstanceFamily("ml.p4d", Accelerator.GPU, "NVIDIA A100", 40, {"24xlarge": 8}, partitionable=True),
    InstanceFamily("ml.p4de", Accelerator.GPU, "NVIDIA A100", 80, {"24xlarge": 8}, partitionable=True),
    InstanceFamily("ml.p5", Accelerator.GPU, "NVIDIA H100", 80, {"4xlarge": 1, "48xlarge": 8}, partitionable=True),
    InstanceFamily("ml.trn1", Accelerator.TRAINIUM, "AWS Trainium", 32, {"32xlarge": 16}),
    InstanceFamily("ml.trn1n", Accelerator.TRAINIUM, "AWS Trainium", 32, {"32xlarge": 16}),
    InstanceFamily("ml.trn2", Accelerator.TRAINIUM, "AWS Trainium2", 96, {"48xlarge": 16}),
    InstanceFamily("ml.m5", Accelerator.NONE, "Intel Xeon (general purpose)", 0, dict.fromkeys(_CPU_SIZES_M5, 0)),
    InstanceFamily("ml.c5", Accelerator.NONE, "Intel Xeon (compute optimized)", 0, dict.fromkeys(_CPU_SIZES_C5, 0)),
)

INSTANCE_TYPES: dict[str, InstanceTypeFacts] = {
    f"{family.family}.{size}": InstanceTypeFacts(f"{family.family}.{size}", family, devices)
    for family in FAMILIES
    for size, devices in family.devices_by_size.items()
}


def facts_of(instance_type: str) -> InstanceTypeFacts | None:
    return INSTANCE_TYPES.get(instance_type)


def partitionable_types() -> list[str]:
    return sorted(t for t, facts in INSTANCE_TYPES.items() if facts.partitionable)


def known_families() -> list[str]:
    return [family.family for family in FAMILIES]


def render_markdown() -> str:
    """The documentation table, generated from ``FAMILIES``."""
    lines = [
        "# SageMaker HyperPod instance types",
        "",
        "Generated by `make docs` from `modules/config/hyperpod_instance_types.py`: edit the",
        "table there, not here. `hyperpod.instance_groups[].instance_type` must be one of these",
        "types; `deep_health_checks` are accepted only where that column says yes, and a",
        "`nvidia.com/mig.config` label only where the last column does.",
        "",
        "| family | accelerator | memory per device (GiB) | sizes (devices per instance) | deep health checks | GPU partitioning (MIG) |",
        "|---|---|---|---|---|---|",
    ]
    for family in FAMILIES:
        accelerated = family.accelerator is not Accelerator.NONE
        sizes = ", ".join(
            f"{size} ({devices})" if accelerated else size for size, devices in family.devices_by_size.items()
        )
        memory = str(family.memory_per_device_gib) if accelerated else "-"
        lines.append(
            f"| `{family.family}` | {family.device} | {memory} | {sizes} | "
            f"{'yes' if family.deep_health_checks_apply else 'no'} | {'yes' if family.partitionable else 'no'} |"
        )
    return "\n".join(lines) + "\n"
