"""An EKS managed add-on as a small declared unit, at the latest version for the cluster.
Shared by the subsystems that install add-ons (the EKS core add-ons, HyperPod's)."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_aws.data_aws_eks_addon_version import DataAwsEksAddonVersion
from cdktf_cdktf_provider_aws.eks_addon import EksAddon
from constructs import Construct

from .refs import count_when, first


@dataclass(frozen=True)
class AddonSpec:
    name: str
    before_nodes: bool
    """DaemonSets nodes need to become Ready are installed before any node joins; add-ons
    that run as Deployments wait for nodes, or EKS reports them degraded until it times out."""


class Addon(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_name: str,
        kubernetes_version: str,
        spec: AddonSpec,
        depends_on: list[ITerraformDependable] | None = None,
        enabled: str | None = None,
    ):
        """``enabled``: a Terraform condition (``var.x``) that counts the add-on in or out;
        nothing else may then read it but ``depends_on``."""
        super().__init__(scope, construct_id)
        count = count_when(enabled) if enabled else None
        version = DataAwsEksAddonVersion(
            self, "version", addon_name=spec.name, kubernetes_version=kubernetes_version, most_recent=True, count=count
        )
        self.addon = EksAddon(
            self,
            "addon",
            cluster_name=cluster_name,
            addon_name=spec.name,
            addon_version=version.version if count is None else first(version, "version"),
            count=count,
            # Terraform is the source of truth for add-on settings.
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            depends_on=depends_on,
        )



