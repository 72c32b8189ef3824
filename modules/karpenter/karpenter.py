"""Karpenter: controller identity, node role, interruption queue, the controller release and
the node classes and pools it manages."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_aws.data_aws_eks_cluster import DataAwsEksCluster
from cdktf_cdktf_provider_aws.eks_cluster import EksCluster
from constructs import Construct

from modules.config.platform import PlatformConfig
from modules.core.aws_context import AwsContext

from .controller_policy import ControllerScope
from .controller_release import ControllerRelease, ControllerReleaseProps
from .controller_role import ControllerRole
from .interruption_queue import InterruptionQueue
from .node_pools_release import CHART_PATH as NODE_POOLS_CHART_PATH
from .node_pools_release import NodePoolsRelease
from .node_role import NodeRole
from .pools import GpuPoolInputs, Pools, platform_pools


@dataclass(frozen=True)
class KarpenterProps:
    config: PlatformConfig
    cluster: EksCluster | DataAwsEksCluster
    """The stack's cluster, or (in the reusable module) one read by name."""
    cluster_ready: list[ITerraformDependable]
    """What must run before the controller can: the system node group and CoreDNS."""
    gpu_inputs: GpuPoolInputs | None = None
    """Terraform variables the GPU pool reads; without them, the configured values."""
    name: str | None = None
    """The cluster name resources are named after (a module variable); the configured one if unset."""
    node_pools_chart: str = NODE_POOLS_CHART_PATH
    """Where Terraform finds charts/karpenter-nodepools, relative to where it runs."""


class Karpenter(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, aws: AwsContext, props: KarpenterProps):
        super().__init__(scope, construct_id)
        config = props.config
        name = props.name or config.cluster_name
        self.node_role = NodeRole(self, "node", aws=aws, name=name, cluster_name=props.cluster.name)
        self.interruption_queue = InterruptionQueue(self, "interruption", aws=aws, name=name)
        self.controller_role = ControllerRole(
            self,
            "controller",
            aws=aws,
            controller=ControllerScope(
                cluster_name=name, node_role_arn=self.node_role.arn, queue_arn=self.interruption_queue.arn
            ),
            cluster_name_ref=props.cluster.name,
        )
        self.controller = ControllerRelease(
            self,
            "release",
            props=ControllerReleaseProps(
                cluster_name=name,
                cluster_endpoint=props.cluster.endpoint,
                interruption_queue_name=self.interruption_queue.queue_name,
                chart_version=config.karpenter.chart_version,
                replicas=config.karpenter.controller_replicas,
                depends_on=[
                    *props.cluster_ready,
                    *self.controller_role.grants,
                    self.interruption_queue.policy,
                ],
            ),
        )
        self.pools: Pools = platform_pools(
            config.karpenter, name, self.node_role.role_name, config.tags, props.gpu_inputs
        )
        self.node_pools = NodePoolsRelease(
            self,
            "node_pools",
            pools=self.pools,
            chart=props.node_pools_chart,
            depends_on=[*props.cluster_ready, self.controller.release, *self.node_role.grants],
        )
