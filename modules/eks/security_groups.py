"""Security groups of the control plane and of the nodes, and the rules between them.

No rule admits traffic from outside the VPC: the control plane reaches nodes, nodes reach
the control plane and each other, and nodes go out through the NAT gateways.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from constructs import Construct

from modules.core.security_group_rules import (
    CONTROL_PLANE_TO_NODES,
    NODES_TO_CONTROL_PLANE,
    PortRule,
    allow_from_group,
    allow_to_group,
    rule_less_group,
)


class ClusterSecurityGroups(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, cluster_name: str, vpc_id: str):
        super().__init__(scope, construct_id)
        self.cluster_sg = rule_less_group(
            self, "cluster", name=f"{cluster_name}-cluster", description=f"EKS control plane of {cluster_name}", vpc_id=vpc_id
        )
        self.node_sg = rule_less_group(
            self,
            "node",
            name=f"{cluster_name}-node",
            description=f"Nodes of {cluster_name}",
            vpc_id=vpc_id,
            # Karpenter selects the node security group by this tag.
            tags={"karpenter.sh/discovery": cluster_name},
        )
        for rule in CONTROL_PLANE_TO_NODES:
            allow_from_group(
                self, f"node_from_cluster_{rule.key}", group_id=self.node_sg.id, source_group_id=self.cluster_sg.id, rule=rule
            )
            allow_to_group(
                self, f"cluster_to_node_{rule.key}", group_id=self.cluster_sg.id, target_group_id=self.node_sg.id, rule=rule
            )
        for rule in NODES_TO_CONTROL_PLANE:
            allow_from_group(
                self, f"cluster_from_node_{rule.key}", group_id=self.cluster_sg.id, source_group_id=self.node_sg.id, rule=rule
            )
        allow_from_group(
            self,
            "node_from_node_all",
            group_id=self.node_sg.id,
            source_group_id=self.node_sg.id,
            rule=PortRule("all", "Node to node (pod networking, DNS, collective communication)", "-1"),
        )
        VpcSecurityGroupEgressRule(
            self,
            "node_egress_all",
            security_group_id=self.node_sg.id,
            description="Nodes reach AWS APIs, image registries and the internet through NAT",
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
        )
