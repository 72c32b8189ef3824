"""The HyperPod subsystem: scripts bucket, execution role, node security group, helm
dependencies, the cluster, its add-ons and outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from cdktf import Fn, ITerraformDependable, Op, TerraformOutput, Token
from cdktf_cdktf_provider_aws.eks_cluster import EksCluster
from constructs import Construct

from modules.config.hyperpod import InstanceGroupConfig
from modules.config.platform import PlatformConfig
from modules.core.aws_context import AwsContext

from .addons import HyperPodAddons, HyperPodAddonsProps
from .cluster import HyperPodCluster, Precondition
from .desired_state import ON_CREATE_SCRIPT, ClusterSpec, InstanceGroupSpec, VpcPlacement
from .execution_role import ExecutionRole
from .helm_dependencies import HelmDependencies
from .lifecycle_scripts import LifecycleScripts, ScriptFile, script_files, script_source
from .security_group import HyperPodSecurityGroup


@dataclass(frozen=True)
class HyperPodProps:
    config: PlatformConfig
    vpc_id: str
    private_subnet_ids: list[str]
    private_subnet_zones: list[str]
    """Availability zone of each private subnet, in the same order."""
    eks_cluster: EksCluster
    eks_node_security_group_id: str
    eks_ready: Sequence[ITerraformDependable]
    """What must exist before charts are installed: nodes to run their controllers on."""
    scripts: list[ScriptFile] = field(default_factory=script_files)


def add_hyperpod(scope: Construct, construct_id: str, *, aws: AwsContext, props: HyperPodProps) -> "HyperPod | None":
    """The one place that decides whether HyperPod is part of the stack."""
    if not props.config.hyperpod.enabled:
        return None
    return HyperPod(scope, construct_id, aws=aws, props=props)


class HyperPod(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, aws: AwsContext, props: HyperPodProps):
        super().__init__(scope, construct_id)
        platform = props.config
        config = platform.hyperpod
        name = platform.name
        eks_cluster = props.eks_cluster

        self.scripts = LifecycleScripts(self, "lifecycle_scripts", platform_name=name, files=props.scripts)
        self.execution_role = ExecutionRole(
            self,
            "execution_role",
            aws=aws,
            name=name,
            lifecycle_bucket_arn=self.scripts.arn,
            eks_cluster_arn=eks_cluster.arn,
        )
        self.security_group = HyperPodSecurityGroup(
            self,
            "security_group",
            name=name,
            vpc_id=props.vpc_id,
            eks_cluster_security_group_id=eks_cluster.vpc_config.cluster_security_group_id,
            eks_node_security_group_id=props.eks_node_security_group_id,
        )
        self.helm = (
            HelmDependencies(self, "helm_dependencies", config=config, depends_on=props.eks_ready)
            if config.install_helm_dependencies
            else None
        )

        self.cluster = HyperPodCluster(
            self,
            "cluster",
            spec=ClusterSpec(
                name=config.cluster_name,
                eks_cluster_arn=eks_cluster.arn,
                placement=VpcPlacement(props.private_subnet_ids, [self.security_group.id]),
                node_recovery=config.node_recovery,
                node_provisioning_mode=config.node_provisioning_mode,
                instance_groups=tuple(self._instance_group(props, group) for group in config.instance_groups),
                tags=platform.tags,
            ),
            preconditions=[
                Precondition(
                    condition=Fn.fileexists(script_source(ON_CREATE_SCRIPT)),
                    error_message=(
                        f"lifecycle_scripts/{ON_CREATE_SCRIPT} is missing: HyperPod runs it on every new node "
                        "(LifeCycleConfig.OnCreate); add it to the lifecycle_scripts folder."
                    ),
                ),
                *(
                    self._zone_has_a_subnet(props, index, group.availability_zone)
                    for index, group in enumerate(config.instance_groups)
                    if group.availability_zone
                ),
            ],
            depends_on=[
                *self.execution_role.grants,
                *self.security_group.rules,
                *self.scripts.objects,
                *([self.helm.release] if self.helm else []),
            ],
        )
        self.addons = HyperPodAddons(
            self,
            "addons",
            aws=aws,
            props=HyperPodAddonsProps(
                config=config,
                name=name,
                eks_cluster_name=eks_cluster.name,
                kubernetes_version=eks_cluster.version,
                hyperpod_cluster_arn=self.cluster.arn,
                hyperpod_cluster=self.cluster.resource,
            ),
        )
        self._outputs()

    def _instance_group(self, props: HyperPodProps, group: InstanceGroupConfig) -> InstanceGroupSpec:
        zone_placement = None
        if group.availability_zone:
            zone_placement = VpcPlacement(self._subnets_in(props, group.availability_zone), [self.security_group.id])
        return InstanceGroupSpec(
            config=group,
            execution_role_arn=self.execution_role.arn,
            lifecycle_scripts_uri=self.scripts.source_uri,
            zone_placement=zone_placement,
        )

    @staticmethod
    def _subnets_in(props: HyperPodProps, zone: str) -> list[str]:
        """The private subnet of ``zone`` (subnets are spread over AZs found at apply time)."""
        return Token.as_list(Fn.matchkeys(props.private_subnet_ids, props.private_subnet_zones, [zone]))

    def _zone_has_a_subnet(self, props: HyperPodProps, index: int, zone: str) -> Precondition:
        return Precondition(
            condition=Op.gte(Fn.length_of(self._subnets_in(props, zone)), 1),
            error_message=(
                f"hyperpod.instance_groups[{index}].availability_zone {zone} has no private subnet (the VPC "
                "uses the region's first vpc.max_azs zones): choose one of those zones"
            ),
        )

    def _outputs(self) -> None:
        TerraformOutput(self, "hyperpod_cluster_arn", value=self.cluster.arn, description="HyperPod cluster ARN")
        TerraformOutput(
            self,
            "hyperpod_cluster_name",
            value=self.cluster.reported("ClusterName"),
            description="HyperPod cluster name",
        )
        TerraformOutput(
            self,
            "hyperpod_cluster_status",
            value=self.cluster.reported("ClusterStatus"),
            description="HyperPod cluster status when Terraform last read it",
        )
        TerraformOutput(
            self,
            "hyperpod_execution_role_arn",
            value=self.execution_role.arn,
            description="Role the HyperPod instances run with",
        )
        TerraformOutput(
            self,
            "lifecycle_scripts_bucket",
            value=self.scripts.bucket.bucket,
            description="Bucket holding the HyperPod lifecycle scripts",
        )
