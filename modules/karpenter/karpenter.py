"""Karpenter: controller identity, node role, interruption queue, the controller release and
the node classes and pools it manages."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from modules.config.platform import PlatformConfig
from modules.core import refs
from modules.core.aws_context import AwsContext
from modules.core.helm_values import TerraformValue

from .controller_policy import ControllerScope
from .controller_release import ControllerRelease, ControllerReleaseProps
from .controller_role import ControllerRole
from .efa import Efa, EfaProps
from .interruption_queue import InterruptionQueue
from .node_pools_release import NodePoolsRelease
from .node_role import NodeRole
from .pools import GpuPoolInputs, Pools, node_pool, platform_pools


@dataclass(frozen=True)
class KarpenterProps:
    """What Karpenter reads: the configuration and Terraform references of the module's
    variables."""

    config: PlatformConfig
    cluster_name: str
    """The EKS cluster's name (a token): resources are named after it."""
    cluster_endpoint: str
    cluster_ready: str
    """A reference to what must run before the controller can: the system nodes and CoreDNS."""
    gpu_inputs: GpuPoolInputs | None
    """Terraform variables the first GPU pool reads (none when no pool is a GPU pool)."""
    node_pools_chart: str
    """Where Terraform finds charts/karpenter-nodepools."""
    controller_node_selector: dict[str, str] | TerraformValue
    discovery: dict[str, str] | TerraformValue
    """The tags of the subnets and security groups the node classes select."""
    vpc_id: str | None = None
    """The cluster's VPC, where the EFA security group is created (needed when a pool has EFA)."""


class Karpenter(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, aws: AwsContext, props: KarpenterProps):
        super().__init__(scope, construct_id)
        config = props.config
        name = props.cluster_name
        self.node_role = NodeRole(self, "node", aws=aws, name=name, cluster_name=name)
        self.interruption_queue = InterruptionQueue(self, "interruption", aws=aws, name=name)
        self.controller_role = ControllerRole(
            self,
            "controller",
            aws=aws,
            controller=ControllerScope(
                cluster_name=name, node_role_arn=self.node_role.arn, queue_arn=self.interruption_queue.arn
            ),
            cluster_name_ref=name,
        )
        self.controller = ControllerRelease(
            self,
            "release",
            props=ControllerReleaseProps(
                cluster_name=name,
                cluster_endpoint=props.cluster_endpoint,
                interruption_queue_name=self.interruption_queue.queue_name,
                chart_version=config.karpenter.chart_version,
                replicas=config.karpenter.controller_replicas,
                node_selector=props.controller_node_selector,
            ),
        )
        refs.wait_for(
            self.controller.release, props.cluster_ready, *self.controller_role.grants, self.interruption_queue.policy
        )
        self.efa: Efa | None = None
        if config.karpenter.efa_pools:
            if props.vpc_id is None:
                raise ValueError("a Karpenter pool has EFA: the module needs the cluster's VPC (vpc_id)")
            self.efa = Efa(
                self,
                "efa",
                props=EfaProps(
                    name=name,
                    vpc_id=props.vpc_id,
                    taints=tuple(t for pool in config.karpenter.efa_pools for t in node_pool(pool).taints),
                ),
            )
            refs.wait_for(self.efa.device_plugin, props.cluster_ready)
        self.pools: Pools = platform_pools(
            config.karpenter,
            name,
            self.node_role.role_name,
            config.tags,
            props.gpu_inputs,
            discovery=props.discovery,
            efa_security_group_id=self.efa.security_group.id if self.efa else None,
        )
        self.node_pools = NodePoolsRelease(self, "node_pools", pools=self.pools, chart=props.node_pools_chart)
        refs.wait_for(self.node_pools.release, props.cluster_ready, self.controller.release, *self.node_role.grants)
