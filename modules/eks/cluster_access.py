"""Providers that talk to the cluster's API (helm), authenticated per call with
``aws eks get-token`` so long applies never hold an expired token."""

from __future__ import annotations

from cdktf import Fn
from cdktf_cdktf_provider_aws.eks_cluster import EksCluster
from cdktf_cdktf_provider_helm.provider import HelmProvider, HelmProviderKubernetes, HelmProviderKubernetesExec
from constructs import Construct


def eks_token_exec(cluster_name: str, region: str) -> dict[str, object]:
    return {
        "api_version": "client.authentication.k8s.io/v1beta1",
        "command": "aws",
        "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region, "--output", "json"],
    }


class ClusterAccess(Construct):
    """The helm provider configured for this stack's EKS cluster."""

    def __init__(self, scope: Construct, construct_id: str, *, cluster: EksCluster, region: str):
        super().__init__(scope, construct_id)
        self.helm = HelmProvider(
            self,
            "helm",
            kubernetes=HelmProviderKubernetes(
                host=cluster.endpoint,
                cluster_ca_certificate=Fn.base64decode(cluster.certificate_authority.get(0).data),
                exec=HelmProviderKubernetesExec(**eks_token_exec(cluster.name, region)),
            ),
        )
