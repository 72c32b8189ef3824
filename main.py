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

from modules import hyperpod, karpenter  # noqa: E402
from modules.config import PlatformConfig  # noqa: E402
from modules.config.hyperpod import HyperPodConfig  # noqa: E402
from modules.config.karpenter import PoolConfig  # noqa: E402
from modules.config.platform import PlatformConfig as Platform  # noqa: E402
from modules.config.versions import PLATFORM_VERSION  # noqa: E402
from modules.config.network import EndpointsConfig  # noqa: E402
from modules.config.terraform import TerraformRule  # noqa: E402
from modules.core.aws_context import AwsContext  # noqa: E402
from modules.core.module import LocalModule  # noqa: E402
from modules.core.refs import variable_reference  # noqa: E402
from modules.core.stack import ReadableStack  # noqa: E402
from modules.core.terraform_settings import configure_backend, pin_terraform_and_providers  # noqa: E402
from modules.core.variables import setting_variable  # noqa: E402
from modules.eks import ClusterAccess, Eks, EksProps  # noqa: E402
from modules.load_balancer_controller import LoadBalancerController, LoadBalancerControllerProps  # noqa: E402
from modules.network import Network, NetworkProps  # noqa: E402
from modules.storage import Storage, StorageProps  # noqa: E402

# The root configuration's settings that a terraform.tfvars sets as the YAML keys would:
# variable -> (model, field, where the configured value is). The HyperPod and Karpenter
# modules validate theirs; the root validates its own.
HYPERPOD_SETTINGS = {f"hyperpod_{field}": field for field in hyperpod.SETTINGS}
KARPENTER_SETTINGS = {f"karpenter_gpu_{field}": field for field in karpenter.GPU_POOL_SETTINGS}
# The YAML refuses the gateway in an existing VPC without route tables; so does the variable.
NO_GATEWAY_WITHOUT_ROUTE_TABLES = TerraformRule(
    "!$value",
    "vpc_s3_gateway_endpoint needs the existing VPC's route tables: list them in vpc.existing.route_table_ids.",
)


class PlatformStack(ReadableStack):
    def __init__(self, scope: Construct, config: PlatformConfig):
        super().__init__(scope, config.name)
        configure_backend(self, config)
        # Grouped under one construct: outputs share some names (region) with the variables.
        variables = Construct(self, "variables")
        region = setting_variable(variables, "region", Platform, "region", config.region, yaml_key="region").string_value
        kubernetes_version = setting_variable(
            variables,
            "kubernetes_version",
            Platform,
            "kubernetes_version",
            config.kubernetes_version,
            yaml_key="kubernetes_version",
        ).string_value
        hyperpod_enabled = setting_variable(
            variables, "hyperpod_enabled", HyperPodConfig, "enabled", config.hyperpod.enabled, yaml_key="hyperpod.enabled"
        )
        # The modules validate these (a message names the module's variable).
        hyperpod_values = hyperpod.root_setting_values(config)
        for name, field in HYPERPOD_SETTINGS.items():
            setting_variable(
                variables, name, HyperPodConfig, field, hyperpod_values[field], yaml_key=f"hyperpod.{field}", validate=False
            )
        # The first GPU pool's settings (none when no pool is a GPU pool).
        tfvars_pool = config.karpenter.tfvars_pool
        karpenter_settings = KARPENTER_SETTINGS if tfvars_pool else {}
        if tfvars_pool:
            index, pool = tfvars_pool
            for name, field in karpenter_settings.items():
                setting_variable(
                    variables,
                    name,
                    PoolConfig,
                    field,
                    pool.model_dump(mode="json")[field],
                    yaml_key=f"karpenter.pools[{index}].{field}",
                    validate=False,
                )

        existing = config.vpc.existing
        s3_gateway = setting_variable(
            variables,
            "vpc_s3_gateway_endpoint",
            EndpointsConfig,
            "s3_gateway",
            config.vpc.s3_gateway,
            yaml_key="vpc.endpoints.s3_gateway",
            rules=(NO_GATEWAY_WITHOUT_ROUTE_TABLES,) if existing is not None and not existing.route_table_ids else (),
        )
        interface_endpoints = setting_variable(
            variables,
            "vpc_interface_endpoints",
            EndpointsConfig,
            "interface",
            list(config.vpc.endpoints.interface),
            yaml_key="vpc.endpoints.interface",
        )

        AwsProvider(self, "aws", region=region, default_tags=[AwsProviderDefaultTags(tags=config.tags)])
        aws = AwsContext(self, "context", region=region)
        network = Network(
            self,
            "network",
            NetworkProps(
                vpc=config.vpc,
                name=config.cluster_name,
                s3_gateway=variable_reference(s3_gateway),
                interface_endpoints=variable_reference(interface_endpoints),
            ),
            aws=aws,
        )
        eks = Eks(
            self,
            "eks",
            aws=aws,
            props=EksProps(
                config=config,
                vpc_id=network.vpc_id,
                private_subnet_ids=network.private_subnet_ids,
                intra_subnet_ids=network.intra_subnet_ids,
                intra_subnet_az_ids=network.intra_subnet_az_ids,
                node_egress=network.private_egress,
                kubernetes_version=kubernetes_version,
            ),
        )
        cluster = eks.cluster
        ClusterAccess(self, "cluster_access", cluster=cluster, region=region)
        # In-cluster controllers start once the system nodes run and cluster DNS answers.
        cluster_ready = [eks.system_nodes.node_group.id, *(addon.id for addon in eks.addons.after_nodes)]
        karpenter_module = LocalModule(
            self,
            "karpenter",
            source=karpenter.SOURCE,
            config=config,
            inputs={
                "cluster_name": cluster.name,
                "cluster_endpoint": cluster.endpoint,
                "cluster_ready": cluster_ready,
                **({"vpc_id": network.vpc.id} if config.karpenter.efa_pools else {}),
                **{f"gpu_pool_{field}": f"${{var.{name}}}" for name, field in karpenter_settings.items()},
            },
        )
        load_balancer_controller = LoadBalancerController(
            self,
            "load_balancer_controller",
            aws=aws,
            props=LoadBalancerControllerProps(
                cluster_name=config.cluster_name,
                cluster_name_ref=cluster.name,
                region=region,
                vpc_id=network.vpc_id,
                # Its Service webhook must not be half-installed while Karpenter's chart
                # creates Services, so it comes second.
                depends_on=[eks.system_nodes.node_group, *eks.addons.after_nodes, karpenter_module],
            ),
        )
        hyperpod_module = LocalModule(
            self,
            "hyperpod",
            source=hyperpod.SOURCE,
            config=config,
            enabled=variable_reference(hyperpod_enabled),
            inputs={
                "name": config.name,
                "tags": config.tags,
                "eks_cluster_name": cluster.name,
                "eks_cluster_arn": cluster.arn,
                "eks_cluster_version": cluster.version,
                "eks_oidc_issuer_url": cluster.identity.get(0).oidc.get(0).issuer,
                "eks_cluster_security_group_id": cluster.vpc_config.cluster_security_group_id,
                "eks_node_security_group_id": eks.node_security_group_id,
                "vpc_id": network.vpc_id,
                "private_subnet_ids": network.private_subnet_ids,
                "private_subnet_zones": network.private_subnet_zones,
                "cluster_ready": cluster_ready,
                "load_balancer_controller_ready": [load_balancer_controller.release.id],
                **{field: f"${{var.{name}}}" for name, field in HYPERPOD_SETTINGS.items()},
            },
        )

        storage = Storage(
            self,
            "storage",
            aws=aws,
            props=StorageProps(
                config=config.storage,
                name=config.cluster_name,
                region=region,
                cluster_name=cluster.name,
                kubernetes_version=cluster.version,
                vpc_id=network.vpc_id,
                private_subnet_ids=network.private_subnet_ids,
                private_subnet_zones=network.private_subnet_zones,
                # Karpenter's node classes select this group (karpenter.sh/discovery).
                node_security_group_id=eks.node_security_group_id,
                hyperpod_security_group_id=hyperpod_module.output("security_group_id"),
                hyperpod_enabled=variable_reference(hyperpod_enabled),
                cluster_ready=[eks.system_nodes.node_group, *eks.addons.after_nodes],
            ),
        )
        # The inference operator add-on refuses to start without the CSI drivers (see
        # PlatformConfig: the configuration turns them on with it).
        hyperpod_module.set("inference_dependencies_ready", storage.csi_driver_ids)

        # Named as terraform-aws-modules/eks and /vpc name them where they overlap.
        control_plane, groups = eks.cluster, eks.security_groups
        for name, value, description in (
            ("platform_version", PLATFORM_VERSION, "Release of this platform that synthesized the configuration (CHANGELOG.md)"),
            ("region", region, "AWS region"),
            ("vpc_id", network.vpc_id, "VPC id"),
            ("vpc_cidr_block", network.vpc_cidr_block, "IPv4 CIDR of the VPC"),
            ("private_subnets", network.private_subnet_ids, "Private subnet ids (nodes, pods), one per zone"),
            ("public_subnets", network.public_subnet_ids, "Public subnet ids (NAT gateways, internet-facing load balancers)"),
            ("intra_subnets", network.intra_subnet_ids, "Intra subnet ids (EKS control plane interfaces)"),
            ("cluster_name", control_plane.name, "EKS cluster name"),
            ("cluster_arn", control_plane.arn, "EKS cluster ARN"),
            ("cluster_endpoint", control_plane.endpoint, "Kubernetes API endpoint"),
            ("cluster_version", control_plane.version, "Kubernetes version"),
            ("cluster_platform_version", control_plane.platform_version, "EKS platform version"),
            (
                "cluster_certificate_authority_data",
                control_plane.certificate_authority.get(0).data,
                "Base64 certificate of the cluster's certificate authority (public: clients verify the API with it)",
            ),
            ("cluster_oidc_issuer_url", control_plane.identity.get(0).oidc.get(0).issuer, "OpenID Connect issuer of the cluster"),
            ("cluster_security_group_id", groups.cluster_sg.id, "Security group of the control plane interfaces (this stack's)"),
            (
                "cluster_primary_security_group_id",
                control_plane.vpc_config.cluster_security_group_id,
                "Security group EKS created for the cluster",
            ),
            ("node_security_group_id", groups.node_sg.id, "Security group of the nodes"),
            ("configure_kubectl", f"aws eks update-kubeconfig --region {region} --name {cluster.name}", "Command that writes a kubeconfig entry for the cluster"),
        ):
            TerraformOutput(self, name, value=value, description=description)
        karpenter_outputs = ("iam_role_arn", "iam_role_name", "node_iam_role_name", "queue_name")
        for name in karpenter_outputs + (("efa_security_group_id",) if config.karpenter.efa_pools else ()):
            TerraformOutput(
                self, f"karpenter_{name}", value=karpenter_module.output(name), description=karpenter_module.output_description(name)
            )
        for name in ("cluster_arn", "cluster_name", "cluster_status", "execution_role_arn", "instance_group_names", "security_group_id"):
            TerraformOutput(
                self,
                f"hyperpod_{name}",
                value=hyperpod_module.output(name),
                description=f"{hyperpod_module.output_description(name)} (null when HyperPod is off)",
            )
        TerraformOutput(
            self,
            "lifecycle_scripts_bucket",
            value=hyperpod_module.output("lifecycle_scripts_bucket"),
            description=f"{hyperpod_module.output_description('lifecycle_scripts_bucket')} (null when HyperPod is off)",
        )
        pin_terraform_and_providers(self)


def build(app: App, config: PlatformConfig) -> PlatformStack:
    return PlatformStack(app, config)


if __name__ == "__main__":
    INVOCATION.synthesize(build)
