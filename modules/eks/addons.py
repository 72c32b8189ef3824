"""EKS managed add-ons, each a small declared unit, at the latest version for the cluster."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_aws.data_aws_eks_addon_version import DataAwsEksAddonVersion
from cdktf_cdktf_provider_aws.eks_addon import EksAddon
from constructs import Construct


@dataclass(frozen=True)
class AddonSpec:
    name: str
    before_nodes: bool
    """DaemonSets nodes need to become Ready are installed before any node joins; add-ons
    that run as Deployments wait for nodes, or EKS reports them degraded until it times out."""


CORE_ADDONS = (
    AddonSpec("vpc-cni", before_nodes=True),
    AddonSpec("eks-pod-identity-agent", before_nodes=True),
    AddonSpec("kube-proxy", before_nodes=True),
    AddonSpec("coredns", before_nodes=False),
)


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
    ):
        super().__init__(scope, construct_id)
        version = DataAwsEksAddonVersion(
            self, "version", addon_name=spec.name, kubernetes_version=kubernetes_version, most_recent=True
        )
        self.addon = EksAddon(
            self,
            "addon",
            cluster_name=cluster_name,
            addon_name=spec.name,
            addon_version=version.version,
            # Terraform is the source of truth for add-on settings.
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            depends_on=depends_on,
        )


class CoreAddons(Construct):
    """The add-ons every cluster needs, split into those before and after the first nodes."""

    def __init__(self, scope: Construct, construct_id: str, *, cluster_name: str, kubernetes_version: str):
        super().__init__(scope, construct_id)
        self._cluster_name = cluster_name
        self._kubernetes_version = kubernetes_version
        self.before_nodes: list[EksAddon] = [
            self._add(spec).addon for spec in CORE_ADDONS if spec.before_nodes
        ]
        self.after_nodes_specs = [spec for spec in CORE_ADDONS if not spec.before_nodes]
        self.after_nodes: list[EksAddon] = []

    def add_after_nodes(self, nodes: ITerraformDependable) -> None:
        self.after_nodes = [self._add(spec, [nodes]).addon for spec in self.after_nodes_specs]

    def _add(self, spec: AddonSpec, depends_on: list[ITerraformDependable] | None = None) -> Addon:
        return Addon(
            self,
            spec.name.replace("-", "_"),
            cluster_name=self._cluster_name,
            kubernetes_version=self._kubernetes_version,
            spec=spec,
            depends_on=depends_on,
        )
