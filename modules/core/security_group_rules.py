"""Security group rules between groups, one resource per rule."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct


@dataclass(frozen=True)
class PortRule:
    key: str
    description: str
    protocol: str
    from_port: int | None = None
    to_port: int | None = None


ALL_TRAFFIC = PortRule("all", "All traffic", "-1")

# The control plane calls kubelets (10250) and admission webhooks served by pods, which
# listen on ports above 1024 (Karpenter 8443, the load balancer controller 9443, ...).
CONTROL_PLANE_TO_NODES = (
    PortRule("https", "Control plane to node HTTPS (extension API servers)", "tcp", 443, 443),
    PortRule("ephemeral", "Control plane to kubelets and webhooks", "tcp", 1025, 65535),
)
NODES_TO_CONTROL_PLANE = (PortRule("https", "Nodes to the Kubernetes API", "tcp", 443, 443),)


def rule_less_group(
    scope: Construct, construct_id: str, *, name: str, description: str, vpc_id: str, tags: dict[str, str] | None = None
) -> SecurityGroup:
    """A security group whose rules are separate resources. It is named by prefix and
    replaced before it is destroyed, so a change never leaves its members without a group."""
    return SecurityGroup(
        scope,
        construct_id,
        name_prefix=f"{name}-",
        description=description,
        vpc_id=vpc_id,
        tags={"Name": name, **(tags or {})},
        lifecycle={"create_before_destroy": True},
    )


def allow_from_group(
    scope: Construct, name: str, *, group_id: str, source_group_id: str, rule: PortRule, description: str = ""
) -> VpcSecurityGroupIngressRule:
    """``group_id`` admits ``rule`` traffic from members of ``source_group_id``."""
    return VpcSecurityGroupIngressRule(
        scope,
        name,
        security_group_id=group_id,
        referenced_security_group_id=source_group_id,
        description=description or rule.description,
        ip_protocol=rule.protocol,
        from_port=rule.from_port,
        to_port=rule.to_port,
    )


def allow_to_group(
    scope: Construct, name: str, *, group_id: str, target_group_id: str, rule: PortRule, description: str = ""
) -> VpcSecurityGroupEgressRule:
    """``group_id`` may send ``rule`` traffic to members of ``target_group_id``."""
    return VpcSecurityGroupEgressRule(
        scope,
        name,
        security_group_id=group_id,
        referenced_security_group_id=target_group_id,
        description=description or rule.description,
        ip_protocol=rule.protocol,
        from_port=rule.from_port,
        to_port=rule.to_port,
    )
