"""``vpc.*``: the network every other subsystem lives in."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import Section, check_log_retention

# AWS accepts VPC CIDR blocks from /16 (largest) to /28 (smallest).
VPC_PREFIX_RANGE = (16, 28)


class FlowLogsConfig(Section):
    enabled: bool = Field(default=True, description="Record the VPC's traffic in CloudWatch Logs.")
    traffic_type: Literal["ALL", "ACCEPT", "REJECT"] = "ALL"
    retention_days: int = Field(default=365, description="Flow log retention (days).")

    @field_validator("retention_days")
    @classmethod
    def _retention_is_accepted(cls, value: int) -> int:
        return check_log_retention(value)


class VpcConfig(Section):
    cidr: str = Field(default="10.0.0.0/16", description="IPv4 CIDR of the VPC (/16 to /28).")
    nat_gateways: Literal["single", "one_per_az"] = Field(
        default="single",
        description="`single` (one NAT gateway, cheapest) or `one_per_az` (survives an AZ outage).",
    )
    max_azs: int = Field(
        default=8,
        ge=2,
        le=8,
        description="Upper bound on the availability zones used; all AZs of the region up to it.",
    )
    private_subnet_prefix: int = Field(
        default=20, ge=17, le=28, description="Prefix length of each private subnet (nodes, pods)."
    )
    public_subnet_prefix: int = Field(
        default=24, ge=18, le=28, description="Prefix length of each public subnet (NAT, load balancers)."
    )
    intra_subnet_prefix: int = Field(
        default=24, ge=18, le=28, description="Prefix length of each intra subnet (EKS control plane ENIs)."
    )
    flow_logs: FlowLogsConfig = FlowLogsConfig()

    @field_validator("cidr")
    @classmethod
    def _cidr_is_a_vpc_block(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as err:
            raise ValueError(f"must be an IPv4 network such as 10.0.0.0/16 ({err})") from None
        low, high = VPC_PREFIX_RANGE
        if not low <= network.prefixlen <= high:
            raise ValueError(f"prefix length must be between /{low} and /{high}")
        return value

    @model_validator(mode="after")
    def _plan_fits(self) -> "VpcConfig":
        for problem in subnet_plan_problems(self):
            raise ValueError(problem)
        return self

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.cidr)


def subnet_plan_problems(vpc: VpcConfig) -> list[str]:
    """Why the CIDR plan (private in the first half, public in the third quarter, intra in
    the fourth quarter, one subnet per AZ up to ``max_azs``) does not fit ``vpc.cidr``."""
    problems = []
    vpc_prefix = vpc.network.prefixlen
    tiers = (
        ("private_subnet_prefix", vpc.private_subnet_prefix, 1),
        ("public_subnet_prefix", vpc.public_subnet_prefix, 2),
        ("intra_subnet_prefix", vpc.intra_subnet_prefix, 2),
    )
    for field, prefix, tier_depth in tiers:
        tier_prefix = vpc_prefix + tier_depth
        room = 2 ** (prefix - tier_prefix) if prefix >= tier_prefix else 0
        if room < vpc.max_azs:
            problems.append(
                f"vpc.cidr {vpc.cidr} leaves room for {room} /{prefix} subnets in the "
                f"/{tier_prefix} reserved for {field.split('_')[0]} subnets, but vpc.max_azs is "
                f"{vpc.max_azs}: use a larger vpc.cidr, a longer vpc.{field} or a smaller vpc.max_azs"
            )
    return problems
