#!/usr/bin/env python
"""Entry point of the platform: wires the subsystems into one stack and synthesizes it.

    python main.py                          # defaults (us-west-2)
    python main.py --hcl                    # also formatted .tf copies for review
    python main.py --help
    HYPERPOD_EKS_CONFIG=platform.yaml python main.py
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    # First the arguments and the configuration (a bad one exits 2 in a fraction of a
    # second, nothing written), then the jsii runtime; only then do the bindings load.
    from cli import start

    INVOCATION = start(sys.argv[1:])

from cdktf import App, TerraformOutput  # noqa: E402 - after the configuration check, on purpose
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags  # noqa: E402
from constructs import Construct  # noqa: E402

from modules.config import PlatformConfig  # noqa: E402
from modules.core.aws_context import AwsContext  # noqa: E402
from modules.core.refs import splat  # noqa: E402
from modules.core.stack import ReadableStack  # noqa: E402
from modules.core.terraform_settings import configure_backend, pin_terraform_and_providers  # noqa: E402
from modules.eks import ClusterAccess, Eks, EksProps  # noqa: E402
from modules.hyperpod import HyperPodProps, add_hyperpod  # noqa: E402
from modules.inputs import declare_inputs, platform_inputs  # noqa: E402
from modules.karpenter import Karpenter, KarpenterProps  # noqa: E402
from modules.karpenter.pools import GpuPoolInputs  # noqa: E402
from modules.load_balancer_controller import LoadBalancerController, LoadBalancerControllerProps  # noqa: E402
from modules.network import Network, NetworkProps  # noqa: E402


class PlatformStack(ReadableStack):
    def __init__(self, scope: Construct, config: PlatformConfig):
        super().__init__(scope, config.name)
        configure_backend(self, config)
        # terraform.tfvars sets these as the YAML keys would; the defaults are the configuration.
        inputs = declare_inputs(self, platform_inputs(config))
        region = inputs.string("region")
        AwsProvider(self, "aws", region=region, default_tags=[AwsProviderDefaultTags(tags=config.tags)])
        aws = AwsContext(self, "context", region=region)

        network = Network(self, "network", NetworkProps(vpc=config.vpc, name=config.cluster_name), aws=aws)
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
                node_egress=network.private_egress,
                kubernetes_version=inputs.string("kubernetes_version"),
            ),
        )
        ClusterAccess(self, "cluster_access", cluster=eks.cluster, region=region)
        # In-cluster controllers start once the system nodes run and cluster DNS answers.
        cluster_ready = [eks.system_nodes.node_group, *eks.addons.after_nodes]
        karpenter = Karpenter(
            self,
            "karpenter",
            aws=aws,
            props=KarpenterProps(
                config=config,
                cluster=eks.cluster,
                cluster_ready=cluster_ready,
                gpu_inputs=GpuPoolInputs(
                    instance_types=inputs.reference("karpenter_gpu_instance_types"),
                    capacity_types=inputs.reference("karpenter_gpu_capacity_types"),
                ),
            ),
        )
        load_balancer_controller = LoadBalancerController(
            self,
            "load_balancer_controller",
            aws=aws,
            props=LoadBalancerControllerProps(
                cluster_name=config.cluster_name,
                cluster_name_ref=eks.cluster.name,
                region=region,
                vpc_id=network.vpc.id,
                # Its Service webhook must not be half-installed while Karpenter's chart
                # creates Services, so it comes second.
                depends_on=[*cluster_ready, karpenter.controller.release],
            ),
        )
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
                load_balancer_controller=[load_balancer_controller.release],
                inputs=inputs,
            ),
        )

        cluster = eks.cluster
        TerraformOutput(self, "cluster_name", value=cluster.name, description="EKS cluster name")
        TerraformOutput(self, "cluster_endpoint", value=cluster.endpoint, description="Kubernetes API endpoint")
        TerraformOutput(self, "cluster_version", value=cluster.version, description="Kubernetes version")
        TerraformOutput(self, "region", value=region, description="AWS region")
        TerraformOutput(
            self,
            "configure_kubectl",
            value=f"aws eks update-kubeconfig --region {region} --name {cluster.name}",
            description="Command that writes a kubeconfig entry for the cluster",
        )
        pin_terraform_and_providers(self)


def build(app: App, config: PlatformConfig) -> PlatformStack:
    return PlatformStack(app, config)


if __name__ == "__main__":
    INVOCATION.synthesize(build)
