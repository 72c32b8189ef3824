"""The EKS subsystem: control plane, security groups, creator access, add-ons, system nodes."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import ITerraformDependable
from constructs import Construct

from modules.config.platform import PlatformConfig
from modules.core.aws_context import AwsContext

from .addons import CoreAddons
from .control_plane import ControlPlane, ControlPlaneProps
from .creator_access import CreatorAdminAccess
from .security_groups import ClusterSecurityGroups
from .system_node_group import SystemNodeGroup, SystemNodeGroupProps


@dataclass(frozen=True)
class EksProps:
    config: PlatformConfig
    vpc_id: str
    private_subnet_ids: list[str]
    intra_subnet_ids: list[str]
    intra_subnet_az_ids: list[str]
    node_egress: list[ITerraformDependable]
    """What nodes need before they boot (their route out of the private subnets)."""
    kubernetes_version: str | None = None
    """The version as the cluster reads it (a Terraform variable); the configured one if unset."""


class Eks(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, aws: AwsContext, props: EksProps):
        super().__init__(scope, construct_id)
        config = props.config
        name = config.cluster_name
        self.security_groups = ClusterSecurityGroups(self, "security_groups", cluster_name=name, vpc_id=props.vpc_id)
        self.control_plane = ControlPlane(
            self,
            "control_plane",
            aws=aws,
            props=ControlPlaneProps(
                cluster_name=name,
                kubernetes_version=props.kubernetes_version or config.kubernetes_version,
                eks=config.eks,
                intra_subnet_ids=props.intra_subnet_ids,
                intra_subnet_az_ids=props.intra_subnet_az_ids,
                cluster_security_group_id=self.security_groups.cluster_sg.id,
            ),
        )
        self.cluster = self.control_plane.cluster
        self.creator_access = CreatorAdminAccess(self, "creator_access", aws=aws, cluster_name=self.cluster.name)
        self.addons = CoreAddons(
            self, "addons", cluster_name=self.cluster.name, kubernetes_version=self.cluster.version
        )
        self.system_nodes = SystemNodeGroup(
            self,
            "system_nodes",
            aws=aws,
            props=SystemNodeGroupProps(
                name=name,
                cluster_name=self.cluster.name,
                config=config.eks.system_node_group,
                subnet_ids=props.private_subnet_ids,
                node_security_group_id=self.security_groups.node_sg.id,
            ),
            depends_on=[*self.addons.before_nodes, *props.node_egress],
        )
        self.addons.add_after_nodes(self.system_nodes.node_group)

    @property
    def node_security_group_id(self) -> str:
        return self.security_groups.node_sg.id
