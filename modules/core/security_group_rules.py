"""Security group rules between groups, one resource per rule."""

from __future__ import annotations

from dataclasses import dataclass

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
