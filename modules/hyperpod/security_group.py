"""The security group of the HyperPod nodes and its rules with the EKS cluster."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from constructs import Construct

from modules.core.security_group_rules import (
    ALL_TRAFFIC,
    CONTROL_PLANE_TO_NODES,
    NODES_TO_CONTROL_PLANE,
    PortRule,
    allow_from_group,
    allow_to_group,
    rule_less_group,
)


class HyperPodSecurityGroup(Construct):
    """HyperPod nodes talk to each other on every port (EFA requires a self-referencing rule
    in both directions), to the Kubernetes API, and with the EKS nodes (CoreDNS, webhooks
    and pods on the system and Karpenter nodes); the control plane reaches their kubelets."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        vpc_id: str,
        eks_cluster_security_group_id: str,
        eks_node_security_group_id: str,
    ):
        super().__init__(scope, construct_id)
        self.group = rule_less_group(
            self, "group", name=f"{name}-hyperpod", description=f"HyperPod nodes of {name}", vpc_id=vpc_id
        )
        own = self.group.id
        self.rules: list[Construct] = [
            self._ingress("self_ingress_all", own, own, "HyperPod node to node (EFA, collectives)"),
            self._egress("self_egress_all", own, own, "HyperPod node to node (EFA requires it explicitly)"),
            VpcSecurityGroupEgressRule(
                self,
                "egress_all",
                security_group_id=own,
                description="HyperPod nodes reach AWS APIs, registries and the internet through NAT",
                ip_protocol="-1",
                cidr_ipv4="0.0.0.0/0",
            ),
            self._ingress("from_eks_nodes_all", own, eks_node_security_group_id, "EKS nodes to HyperPod pods"),
            self._ingress(
                "eks_nodes_from_hyperpod_all",
                eks_node_security_group_id,
                own,
                "HyperPod pods to EKS nodes (DNS, webhooks)",
            ),
        ]
        for rule in CONTROL_PLANE_TO_NODES:
            self.rules.append(
                self._ingress(
                    f"from_eks_cluster_{rule.key}", own, eks_cluster_security_group_id, rule.description, rule
                )
            )
        for rule in NODES_TO_CONTROL_PLANE:
            self.rules.append(
                self._ingress(
                    f"eks_cluster_from_hyperpod_{rule.key}",
                    eks_cluster_security_group_id,
                    own,
                    f"HyperPod {rule.description[0].lower()}{rule.description[1:]}",
                    rule,
                )
            )

    @property
    def id(self) -> str:
        return self.group.id

    def _ingress(
        self, name: str, group_id: str, source_group_id: str, description: str, rule: PortRule = ALL_TRAFFIC
    ) -> Construct:
        return allow_from_group(
            self, name, group_id=group_id, source_group_id=source_group_id, rule=rule, description=description
        )

    def _egress(self, name: str, group_id: str, target_group_id: str, description: str) -> Construct:
        return allow_to_group(
            self, name, group_id=group_id, target_group_id=target_group_id, rule=ALL_TRAFFIC, description=description
        )
