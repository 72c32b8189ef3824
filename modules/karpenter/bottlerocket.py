"""Bottlerocket user data for Karpenter's node classes, built from typed settings and
rendered with a TOML library.

Karpenter merges this TOML with the settings it generates itself (cluster name, API
endpoint, labels, taints), so only what this platform adds is here. Bottlerocket refuses a
setting of the wrong TOML type and the node never boots: integers stay integers, sizes stay
strings, flags stay booleans.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import tomli_w

from modules.config.karpenter import SociParallelPullConfig

SOCI_SNAPSHOTTER = "soci"
PARALLEL_PULL_MODE = "parallel-pull-unpack"
SOCI_DATA_DIR = "/var/lib/soci-snapshotter"

# What lives on ephemeral (instance-store) storage when a node class binds it there: images,
# pod volumes and logs, and the SOCI snapshotter's layer store.
EPHEMERAL_DIRS = ("/var/lib/containerd", "/var/lib/kubelet", "/var/log/pods", SOCI_DATA_DIR)


@dataclass(frozen=True)
class SociParallelPull:
    max_concurrent_downloads_per_image: int
    concurrent_download_chunk_size: str
    max_concurrent_unpacks_per_image: int
    discard_unpacked_layers: bool

    @classmethod
    def from_config(cls, config: SociParallelPullConfig) -> "SociParallelPull":
        return cls(**config.model_dump())

    def settings(self) -> dict[str, Any]:
        return {
            "container-runtime": {"snapshotter": SOCI_SNAPSHOTTER},
            "container-runtime-plugins": {
                "soci-snapshotter": {
                    "pull-mode": PARALLEL_PULL_MODE,
                    PARALLEL_PULL_MODE: {
                        "max-concurrent-downloads-per-image": self.max_concurrent_downloads_per_image,
                        "concurrent-download-chunk-size": self.concurrent_download_chunk_size,
                        "max-concurrent-unpacks-per-image": self.max_concurrent_unpacks_per_image,
                        "discard-unpacked-layers": self.discard_unpacked_layers,
                    },
                }
            },
        }


@dataclass(frozen=True)
class BootstrapCommand:
    """``settings.bootstrap-commands.<name>``: apiclient calls run before the kubelet starts."""

    name: str
    commands: tuple[tuple[str, ...], ...]
    essential: bool
    mode: Literal["always", "once", "off"]

    def settings(self) -> dict[str, Any]:
        return {
            self.name: {
                "commands": [list(command) for command in self.commands],
                "essential": self.essential,
                "mode": self.mode,
            }
        }


def ephemeral_storage_on_instance_store(dirs: tuple[str, ...] = EPHEMERAL_DIRS) -> BootstrapCommand:
    """RAID0 the instance-store NVMe disks and bind ``dirs`` onto them, on every boot
    (instance store is blank after a stop), failing the boot if that is impossible."""
    return BootstrapCommand(
        name="k8s-ephemeral-storage",
        commands=(
            ("apiclient", "ephemeral-storage", "init"),
            ("apiclient", "ephemeral-storage", "bind", "--dirs", *dirs),
        ),
        essential=True,
        mode="always",
    )


@dataclass(frozen=True)
class BottlerocketUserData:
    soci: SociParallelPull
    bootstrap_commands: tuple[BootstrapCommand, ...] = ()

    def settings(self) -> dict[str, Any]:
        settings = self.soci.settings()
        if self.bootstrap_commands:
            commands: dict[str, Any] = {}
            for command in self.bootstrap_commands:
                commands.update(command.settings())
            settings["bootstrap-commands"] = commands
        return {"settings": settings}

    def render(self) -> str:
        return tomli_w.dumps(self.settings())
