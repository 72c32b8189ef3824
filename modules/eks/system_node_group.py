"""The small managed node group that runs Karpenter and the cluster's core add-ons."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import ITerraformDependable, Token
from cdktf_cdktf_provider_aws.eks_node_group import (
    EksNodeGroup,
    EksNodeGroupLaunchTemplate,
    EksNodeGroupScalingConfig,
    EksNodeGroupUpdateConfig,
)
from cdktf_cdktf_provider_aws.launch_template import (
    LaunchTemplate,
    LaunchTemplateBlockDeviceMappings,
    LaunchTemplateBlockDeviceMappingsEbs,
    LaunchTemplateMetadataOptions,
    LaunchTemplateTagSpecifications,
)
from constructs import Construct

from modules.config.eks import SYSTEM_NODE_AMI_TYPE, SystemNodeGroupConfig
from modules.core.aws_context import AwsContext
from modules.core.iam import ServiceRole, service_trust
from modules.core.nodes import NODE_MANAGED_POLICIES, SYSTEM_NODE_LABELS


# Bottlerocket boots from /dev/xvda and keeps images and pod data on /dev/xvdb.
BOTTLEROCKET_OS_DEVICE = "/dev/xvda"
BOTTLEROCKET_DATA_DEVICE = "/dev/xvdb"


@dataclass(frozen=True)
class SystemNodeGroupProps:
    name: str
    """The cluster's configured name, for naming (known at synth time)."""
    cluster_name: str
    """The cluster's name attribute, so the node group waits for the cluster."""
    config: SystemNodeGroupConfig
    subnet_ids: list[str]
    node_security_group_id: str


def imdsv2_only() -> LaunchTemplateMetadataOptions:
    """IMDSv2 tokens required, and one network hop so pods cannot reach the node's role."""
    return LaunchTemplateMetadataOptions(
        http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
    )


class SystemNodeGroup(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        aws: AwsContext,
        props: SystemNodeGroupProps,
        depends_on: list[ITerraformDependable],
    ):
        super().__init__(scope, construct_id)
        name = f"{props.name}-system"
        self.role = ServiceRole(
            self,
            "role",
            name=f"{name}-node",
            description=f"Nodes of the system node group of {props.name}",
            trust_policy=service_trust("ec2.amazonaws.com"),
            managed_policy_arns={k: aws.managed_policy_arn(v) for k, v in NODE_MANAGED_POLICIES.items()},
        )
        launch_template = LaunchTemplate(
            self,
            "launch_template",
            name_prefix=f"{name}-",
            description=f"System nodes of {props.name}",
            update_default_version=True,
            vpc_security_group_ids=[props.node_security_group_id],
            metadata_options=imdsv2_only(),
            block_device_mappings=[
                LaunchTemplateBlockDeviceMappings(
                    device_name=BOTTLEROCKET_OS_DEVICE,
                    ebs=LaunchTemplateBlockDeviceMappingsEbs(encrypted="true", volume_type="gp3", delete_on_termination="true"),
                ),
                LaunchTemplateBlockDeviceMappings(
                    device_name=BOTTLEROCKET_DATA_DEVICE,
                    ebs=LaunchTemplateBlockDeviceMappingsEbs(
                        encrypted="true",
                        volume_type="gp3",
                        volume_size=props.config.disk_size_gb,
                        delete_on_termination="true",
                    ),
                ),
            ],
            tag_specifications=[
                LaunchTemplateTagSpecifications(resource_type=kind, tags={"Name": name})
                for kind in ("instance", "volume", "network-interface")
            ],
        )
        self.node_group = EksNodeGroup(
            self,
            "node_group",
            cluster_name=props.cluster_name,
            node_group_name=name,
            node_role_arn=self.role.arn,
            subnet_ids=props.subnet_ids,
            ami_type=SYSTEM_NODE_AMI_TYPE,
            capacity_type="ON_DEMAND",
            instance_types=props.config.instance_types,
            scaling_config=EksNodeGroupScalingConfig(
                desired_size=props.config.desired_size,
                min_size=props.config.min_size,
                max_size=props.config.max_size,
            ),
            update_config=EksNodeGroupUpdateConfig(max_unavailable=1),
            launch_template=EksNodeGroupLaunchTemplate(
                id=launch_template.id, version=Token.as_string(launch_template.latest_version)
            ),
            labels=SYSTEM_NODE_LABELS,
            depends_on=[*self.role.grants, *depends_on],
        )
