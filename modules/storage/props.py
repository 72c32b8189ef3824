"""What the root stack hands the storage subsystem: its configuration and the cluster's wiring."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import ITerraformDependable

from modules.config.storage import StorageConfig


@dataclass(frozen=True)
class StorageProps:
    config: StorageConfig
    name: str
    """The configured cluster name (names, tags)."""
    region: str
    cluster_name: str
    kubernetes_version: str
    vpc_id: str
    private_subnet_ids: list[str]
    private_subnet_zones: list[str]
    node_security_group_id: str
    """The EKS nodes' group: the system nodes and every Karpenter node class select it."""
    hyperpod_security_group_id: str
    """The HyperPod nodes' group; null when HyperPod is off."""
    hyperpod_enabled: str
    """A Terraform condition (``var.hyperpod_enabled``)."""
    cluster_ready: list[ITerraformDependable]
    """What the add-ons and the release wait for: the system nodes and cluster DNS."""
