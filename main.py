#!/usr/bin/env python
"""Entry point of the platform: wires the subsystems into one stack and synthesizes it.

    python main.py                          # defaults (us-west-2)
    HYPERPOD_EKS_CONFIG=platform.yaml python main.py
"""

from __future__ import annotations

from cdktf import App, LocalBackend, TerraformOutput
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from modules.cli import run
from modules.config import PlatformConfig
from modules.core.aws_context import AwsContext
from modules.core.refs import splat
from modules.core.stack import ReadableStack
from modules.eks import ClusterAccess, Eks, EksProps
from modules.hyperpod import HyperPodProps, add_hyperpod
from modules.network import Network, NetworkProps


class PlatformStack(ReadableStack):
    def __init__(self, scope: Construct, config: PlatformConfig):
        super().__init__(scope, config.name)
        # State lives beside cdktf.json, outside the output folder that each synth replaces;
        # the path is relative so the output is the same on every machine.
        LocalBackend(self, path=f"../../../terraform.{config.name}.tfstate")
        AwsProvider(self, "aws", region=config.region, default_tags=[AwsProviderDefaultTags(tags=config.tags)])
        aws = AwsContext(self, "context", region=config.region)

        network = Network(self, "network", NetworkProps(vpc=config.vpc, name=config.cluster_name))
        eks = Eks(
            self,
            "eks",
            aws=aws,
            props=EksProps(
                config=config,
                vpc_id=network.vpc.id,
                private_subnet_ids=network.private_subnet_ids,
                intra_subnet_ids=network.intra_subnet_ids,
                intra_subnet_az_ids=splat(network.intra_subnets, "availability_zone_id"),
            ),
        )
        ClusterAccess(self, "cluster_access", cluster=eks.cluster, region=config.region)
        add_hyperpod(
            self,
            "hyperpod",
            aws=aws,
            props=HyperPodProps(
                config=config,
                vpc_id=network.vpc.id,
                private_subnet_ids=network.private_subnet_ids,
                private_subnet_zones=splat(network.private_subnets, "availability_zone"),
                eks_cluster=eks.cluster,
                eks_node_security_group_id=eks.node_security_group_id,
                eks_ready=eks.addons.after_nodes,
            ),
        )

        cluster = eks.cluster
        TerraformOutput(self, "cluster_name", value=cluster.name, description="EKS cluster name")
        TerraformOutput(self, "cluster_endpoint", value=cluster.endpoint, description="Kubernetes API endpoint")
        TerraformOutput(self, "cluster_version", value=cluster.version, description="Kubernetes version")
        TerraformOutput(self, "region", value=config.region, description="AWS region")
        TerraformOutput(
            self,
            "configure_kubectl",
            value=f"aws eks update-kubeconfig --region {config.region} --name {cluster.name}",
            description="Command that writes a kubeconfig entry for the cluster",
        )


def build(app: App, config: PlatformConfig) -> PlatformStack:
    return PlatformStack(app, config)


if __name__ == "__main__":
    run(build)
