"""SageMaker HyperPod instance types this platform knows, kept as data in one place.

The configuration validates ``hyperpod.instance_groups[].instance_type`` against this table
(and decides from it whether deep health checks apply), and docs/hyperpod-instance-types.md
is generated from it:

    python -m modules.config.hyperpod_instance_types > docs/hyperpod-instance-types.md

To support a new type, add a row here and regenerate the document (a test compares them).
"""

from __future__ import annotations

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


_CPU_SIZES_M5 = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge")
_CPU_SIZES_C5 = ("large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "12xlarge", "18xlarge", "24xlarge")
_G_SIZES = {"xlarge": 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "12xlarge": 4, "16xlarge": 1, "24xlarge": 4, "48xlarge": 8}

FAMILIES: tuple[InstanceFamily, ...] = (
    InstanceFamily("ml.g5", Accelerator.GPU, "NVIDIA A10G", 24, dict(_G_SIZES)),
    InstanceFamily("ml.g6", Accelerator.GPU, "NVIDIA L4", 24, dict(_G_SIZES)),
    InstanceFamily("ml.p4d", Accelerator.GPU, "NVIDIA A100", 40, {"24xlarge": 8}),
    InstanceFamily("ml.p4de", Accelerator.GPU, "NVIDIA A100", 80, {"24xlarge": 8}),
    InstanceFamily("ml.p5", Accelerator.GPU, "NVIDIA H100", 80, {"4xlarge": 1, "48xlarge": 8}),
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


def known_families() -> list[str]:
    return [family.family for family in FAMILIES]


def render_markdown() -> str:
    """The documentation table, generated from ``FAMILIES``."""
    lines = [
        "# SageMaker HyperPod instance types",
        "",
        "Generated from `modules/config/hyperpod_instance_types.py` by",
        "`python -m modules.config.hyperpod_instance_types > docs/hyperpod-instance-types.md`;",
        "edit the table there, not here. `hyperpod.instance_groups[].instance_type` must be one",
        "of these types; `deep_health_checks` are accepted only where the last column says yes.",
        "",
        "| family | accelerator | memory per device (GiB) | sizes (devices per instance) | deep health checks |",
        "|---|---|---|---|---|",
    ]
    for family in FAMILIES:
        accelerated = family.accelerator is not Accelerator.NONE
        sizes = ", ".join(
            f"{size} ({devices})" if accelerated else size for size, devices in family.devices_by_size.items()
        )
        memory = str(family.memory_per_device_gib) if accelerated else "-"
        lines.append(
            f"| `{family.family}` | {family.device} | {memory} | {sizes} | "
            f"{'yes' if family.deep_health_checks_apply else 'no'} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
