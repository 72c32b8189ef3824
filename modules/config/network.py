"""``vpc.*``: the network every other subsystem lives in."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .base import Section, check_log_retention
from .patterns import described

# AWS accepts VPC CIDR blocks from /16 (largest) to /28 (smallest).
VPC_PREFIX_RANGE = (16, 28)


def ec2_id(prefix: str) -> str:
    """The pattern of an EC2 resource id: the prefix and 8 or 17 hexadecimal digits."""
    return rf"^{prefix}-([0-9a-f]{{8}}|[0-9a-f]{{17}})$"


VpcId = Annotated[str, described(ec2_id("vpc"), "a VPC id such as vpc-0123456789abcdef0")]
SubnetId = Annotated[str, described(ec2_id("subnet"), "a subnet id such as subnet-0123456789abcdef0")]
RouteTableId = Annotated[str, described(ec2_id("rtb"), "a route table id such as rtb-0123456789abcdef0")]
SecurityGroupId = Annotated[str, described(ec2_id("sg"), "a security group id such as sg-0123456789abcdef0")]

# Interface endpoints the nodes and controllers can use instead of the NAT gateway:
# the endpoint service's short name (com.amazonaws.<region>.<name>) -> who needs it.
INTERFACE_ENDPOINT_SERVICES: dict[str, str] = {
    "ecr.api": "image pulls: registry API (ECR)",
    "ecr.dkr": "image pulls: layers and manifests (ECR)",
    "sts": "Pod Identity and IRSA credentials, Helm's and Karpenter's AWS calls",
    "ec2": "Karpenter launches and describes instances, the VPC CNI manages interfaces",
    "logs": "CloudWatch Logs: HyperPod, the observability add-on",
    "ssm": "Karpenter resolves AMI parameters; Session Manager to nodes",
    "ssmmessages": "Session Manager sessions to nodes",
    "ec2messages": "Session Manager and Run Command on nodes",
    "eks": "Karpenter and the load balancer controller describe the cluster",
    "eks-auth": "EKS Pod Identity: the agent exchanges service account tokens for credentials",
    "sqs": "Karpenter's interruption queue",
    "sagemaker.api": "HyperPod operators and the training operator call SageMaker",
}
InterfaceEndpoint = Literal[tuple(INTERFACE_ENDPOINT_SERVICES)]  # type: ignore[valid-type]


class FlowLogsConfig(Section):
    enabled: bool = Field(default=True, description="Record the VPC's traffic in CloudWatch Logs.")
    traffic_type: Literal["ALL", "ACCEPT", "REJECT"] = "ALL"
    retention_days: int = Field(default=365, description="Flow log retention (days).")

    @field_validator("retention_days")
    @classmethod
    def _retention_is_accepted(cls, value: int) -> int:
        return check_log_retention(value)


class EndpointsConfig(Section):
    s3_gateway: bool | None = Field(
        default=None,
        description=(
            "S3 gateway endpoint on the private and intra route tables (free; S3 traffic skips the NAT "
            "gateway). Unset: on for a VPC the stack creates, off in an existing one (which then needs "
            "vpc.existing.route_table_ids)."
        ),
    )
    interface: list[InterfaceEndpoint] = Field(
        default_factory=list,
        description=(
            "Interface endpoints in the private subnets, private DNS on, behind a security group that "
            "admits only the VPC's CIDR on 443 (billed per zone and hour)."
        ),
    )

    @field_validator("interface")
    @classmethod
    def _each_once(cls, value: list[str]) -> list[str]:
        twice = sorted({name for name in value if value.count(name) > 1})
        if twice:
            raise ValueError(f"lists {', '.join(twice)} more than once")
        return value


class ExistingVpcConfig(Section):
    """A VPC the stack uses instead of creating one: it then creates no VPC, subnets,
    gateways, routes or flow logs there, only what the configuration asks of it."""

    vpc_id: VpcId = Field(description="The VPC's id.")
    private_subnet_ids: list[SubnetId] = Field(
        min_length=1, description="Subnets of the nodes and pods, with a route out (NAT or endpoints)."
    )
    public_subnet_ids: list[SubnetId] = Field(
        description="Subnets of internet-facing load balancers; [] for a VPC without them."
    )
    intra_subnet_ids: list[SubnetId] = Field(
        min_length=2, description="Subnets of the EKS control plane interfaces, in at least two zones."
    )
    route_table_ids: list[RouteTableId] = Field(
        default_factory=list,
        description="Route tables of the private and intra subnets, for the S3 gateway endpoint (vpc.endpoints.s3_gateway).",
    )

    @model_validator(mode="after")
    def _each_subnet_once(self) -> "ExistingVpcConfig":
        seen: dict[str, str] = {}
        for tier in ("private_subnet_ids", "public_subnet_ids", "intra_subnet_ids"):
            for subnet in getattr(self, tier):
                if subnet in seen:
                    where = "twice" if seen[subnet] == tier else f"in {seen[subnet]} and {tier}"
                    raise ValueError(f"subnet {subnet} is listed {where}: give each subnet once, in one tier")
                seen[subnet] = tier
        if len(set(self.route_table_ids)) != len(self.route_table_ids):
            raise ValueError("route_table_ids lists a route table more than once")
        return self


# What configures a VPC the stack creates: meaningless with vpc.existing.
CREATED_VPC_FIELDS = ("cidr", "nat_gateways", "max_azs", "private_subnet_prefix", "public_subnet_prefix", "intra_subnet_prefix", "flow_logs")


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
    endpoints: EndpointsConfig = EndpointsConfig()
    existing: ExistingVpcConfig | None = Field(
        default=None,
        description="Use this VPC and its subnets instead of creating a network (see README, Existing VPC).",
    )

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

    @model_validator(mode="after")
    def _existing_vpc_is_used_as_it_is(self) -> "VpcConfig":
        existing = self.existing
        if existing is None:
            return self
        configured = [name for name in CREATED_VPC_FIELDS if name in self.model_fields_set]
        if configured:
            verb = "configures" if len(configured) == 1 else "configure"
            raise ValueError(
                f"vpc.{', vpc.'.join(configured)} {verb} a VPC the stack creates, but vpc.existing names one "
                "to use as it is: remove " + ("it" if len(configured) == 1 else "them")
            )
        if self.endpoints.s3_gateway and not existing.route_table_ids:
            raise ValueError(
                "vpc.endpoints.s3_gateway is true in an existing VPC: list the route tables of its private and "
                "intra subnets in vpc.existing.route_table_ids, or set s3_gateway to false"
            )
        if existing.route_table_ids and not self.endpoints.s3_gateway:
            raise ValueError(
                "vpc.existing.route_table_ids serve only the S3 gateway endpoint: set vpc.endpoints.s3_gateway "
                "to true, or remove them"
            )
        return self

    @property
    def s3_gateway(self) -> bool:
        """Whether the stack creates the S3 gateway endpoint (unset: only in its own VPC)."""
        if self.endpoints.s3_gateway is None:
            return self.existing is None
        return self.endpoints.s3_gateway

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
