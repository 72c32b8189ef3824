"""The add-ons every EKS cluster needs, split into those before and after the first nodes."""

from __future__ import annotations

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_aws.eks_addon import EksAddon
from constructs import Construct

from modules.core.eks_addon import Addon, AddonSpec

CORE_ADDONS = (
    AddonSpec("vpc-cni", before_nodes=True),
    AddonSpec("eks-pod-identity-agent", before_nodes=True),
    AddonSpec("kube-proxy", before_nodes=True),
    AddonSpec("coredns", before_nodes=False),
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
