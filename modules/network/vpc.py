"""The network: a VPC the stack creates, or an existing one used as it is.

Either way ``Network`` gives its consumers (EKS, HyperPod, the load balancer controller,
storage) the same attributes: the VPC's id and CIDR, the subnet ids per tier, the zones of
the private subnets and the zone ids of the intra subnets, and what nodes wait for before
they boot.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn, ITerraformDependable, TerraformCount, Token
from cdktf_cdktf_provider_aws.data_aws_availability_zones import (
    DataAwsAvailabilityZones,
    DataAwsAvailabilityZonesFilter,
)
from cdktf_cdktf_provider_aws.data_aws_subnet import DataAwsSubnet
from cdktf_cdktf_provider_aws.data_aws_vpc import DataAwsVpc
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.ec2_tag import Ec2Tag
from cdktf_cdktf_provider_aws.vpc import Vpc
from constructs import Construct

from modules.config.network import ExistingVpcConfig, VpcConfig
from modules.core.aws_context import AwsContext
from modules.core.nodes import DISCOVERY_TAG
from modules.core.refs import splat

from .cidr_plan import SubnetTier, subnet_tiers
from .endpoints import Endpoints, EndpointsProps
from .flow_logs import FlowLogs


@dataclass(frozen=True)
class NetworkProps:
    vpc: VpcConfig
    name: str
    """Prefix of Name tags and the value of ``karpenter.sh/discovery`` on private subnets."""
    s3_gateway: str
    """A Terraform condition: whether the S3 gateway endpoint exists (``var.vpc_s3_gateway_endpoint``)."""
    interface_endpoints: str
    """A Terraform list of interface endpoint services (``var.vpc_interface_endpoints``)."""


class Network(Construct):
    """A VPC spanning every available AZ of the region (up to ``max_azs``), found at apply
    time; or, with ``vpc.existing``, the given VPC and subnets (see ``_use_existing``).

    Intra subnets have no route out: they hold only the EKS control-plane ENIs. The S3
    gateway endpoint and the interface endpoints follow ``vpc.endpoints``.
    """

    vpc_id: str
    vpc_cidr_block: str
    private_subnet_ids: list[str]
    public_subnet_ids: list[str]
    intra_subnet_ids: list[str]
    private_subnet_zones: list[str]
    """The zone of each private subnet, in the same order."""
    intra_subnet_az_ids: list[str]
    """The zone id of each intra subnet, in the same order (EKS refuses some zone ids)."""
    private_egress: list[ITerraformDependable]
    """What nodes in the private subnets wait for before they boot (their route out)."""

    def __init__(self, scope: Construct, construct_id: str, props: NetworkProps, *, aws: AwsContext):
        super().__init__(scope, construct_id)
        self._props = props
        if props.vpc.existing is not None:
            route_table_ids = self._use_existing(props.vpc.existing)
        else:
            route_table_ids = self._create(aws)
        self.endpoints = Endpoints(
            self,
            "endpoints",
            EndpointsProps(
                name=props.name,
                vpc_id=self.vpc_id,
                vpc_cidr_block=self.vpc_cidr_block,
                subnet_ids=self.private_subnet_ids,
                route_table_ids=route_table_ids,
                s3_gateway=props.s3_gateway,
                interface_services=props.interface_endpoints,
            ),
        )

    def _use_existing(self, existing: ExistingVpcConfig) -> list[str]:
        """Reads the given VPC and subnets (their CIDR and zones) and creates nothing in the
        network but the discovery tag Karpenter selects the private subnets by: the tag
        is this cluster's, so it goes when the stack is destroyed."""
        vpc = DataAwsVpc(self, "existing_vpc", id=existing.vpc_id)
        private = self._read_subnets("existing_private_subnets", existing.private_subnet_ids)
        intra = self._read_subnets("existing_intra_subnets", existing.intra_subnet_ids)
        count = TerraformCount.of(len(existing.private_subnet_ids))
        Ec2Tag(
            self,
            "existing_private_subnet_discovery_tags",
            count=count,
            resource_id=Fn.element(existing.private_subnet_ids, Token.as_number(count.index)),
            key=DISCOVERY_TAG,
            value=self._props.name,
        )
        self.vpc_id = vpc.id
        self.vpc_cidr_block = vpc.cidr_block
        self.private_subnet_ids = list(existing.private_subnet_ids)
        self.public_subnet_ids = list(existing.public_subnet_ids)
        self.intra_subnet_ids = list(existing.intra_subnet_ids)
        self.private_subnet_zones = splat(private, "availability_zone")
        self.intra_subnet_az_ids = splat(intra, "availability_zone_id")
        # The existing VPC's routes out are in place before the stack runs.
        self.private_egress = []
        return list(existing.route_table_ids)

    def _read_subnets(self, construct_id: str, subnet_ids: list[str]) -> DataAwsSubnet:
        count = TerraformCount.of(len(subnet_ids))
        return DataAwsSubnet(
            self, construct_id, count=count, id=Fn.element(subnet_ids, Token.as_number(count.index))
        )

    def _create(self, aws: AwsContext) -> list[str]:
        """Creates the VPC; returns the route tables the S3 gateway endpoint joins."""
        props = self._props
        tiers = subnet_tiers(props.vpc)

        self.availability_zones = DataAwsAvailabilityZones(
            self,
            "availability_zones",
            state="available",
            # Local Zones and Wavelength Zones are opt-in: the regular AZs are the ones that are not.
            filter=[DataAwsAvailabilityZonesFilter(name="opt-in-status", values=["opt-in-not-required"])],
        )
        self.az_count = Token.as_number(
            Fn.min([Fn.length_of(self.availability_zones.names), props.vpc.max_azs])
        )

        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=props.vpc.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": props.name},
        )
        # Nothing may use the default security group: strip its rules.
        DefaultSecurityGroup(self, "default_security_group", vpc_id=self.vpc.id, tags={"Name": f"{props.name}-default-unused"})
        if props.vpc.flow_logs.enabled:
            FlowLogs(self, "flow_logs", aws=aws, name=props.name, vpc_id=self.vpc.id, config=props.vpc.flow_logs)
        self.internet_gateway = InternetGateway(self, "internet_gateway", vpc_id=self.vpc.id, tags={"Name": props.name})

        public = self._subnets(tiers["public"], {"kubernetes.io/role/elb": "1"}, map_public_ip=False)
        private = self._subnets(
            tiers["private"],
            {"kubernetes.io/role/internal-elb": "1", DISCOVERY_TAG: props.name},
        )
        intra = self._subnets(tiers["intra"], {})

        nat_gateway_ids = self._nat_gateways(public)
        self._public_routes(public)
        private_routes, private_tables = self._private_routes(private, nat_gateway_ids)
        intra_table = self._intra_routes(intra)
        # Nodes in private subnets pull images through NAT: they wait for their route out.
        self.private_egress = [self._nat, private_routes]

        self.vpc_id = self.vpc.id
        self.vpc_cidr_block = self.vpc.cidr_block
        self.public_subnet_ids = splat(public, "id")
        self.private_subnet_ids = splat(private, "id")
        self.intra_subnet_ids = splat(intra, "id")
        self.private_subnet_zones = splat(private, "availability_zone")
        self.intra_subnet_az_ids = splat(intra, "availability_zone_id")
        return Token.as_list(Fn.concat([splat(private_tables, "id"), [intra_table.id]]))

    def _az_name(self, index: str) -> str:
        return Fn.element(self.availability_zones.names, Token.as_number(index))

    def _subnets(self, tier: SubnetTier, tags: dict[str, str], map_public_ip: bool = False) -> Subnet:
        count = TerraformCount.of(self.az_count)
        netnum = tier.netnum(Token.as_number(count.index))
        return Subnet(
            self,
            f"{tier.name}_subnets",
            count=count,
            vpc_id=self.vpc.id,
            availability_zone=self._az_name(count.index),
            cidr_block=Fn.cidrsubnet(self.vpc.cidr_block, tier.newbits, netnum),
            # Public subnets hold NAT gateways and load balancers, which get their own
            # addresses: nothing launched there needs an automatic public IP.
            map_public_ip_on_launch=map_public_ip,
            tags={"Name": f"{self._props.name}-{tier.name}-{self._az_name(count.index)}", **tags},
        )

    def _nat_gateways(self, public: Subnet) -> list[str]:
        per_az = self._props.vpc.nat_gateways == "one_per_az"
        nat_count = self.az_count if per_az else 1
        eip_count = TerraformCount.of(nat_count)
        eips = Eip(
            self,
            "nat_eips",
            count=eip_count,
            domain="vpc",
            tags={"Name": f"{self._props.name}-nat-{Token.as_string(eip_count.index)}"},
            depends_on=[self.internet_gateway],
        )
        gateway_count = TerraformCount.of(nat_count)
        gateways = self._nat = NatGateway(
            self,
            "nat_gateways",
            count=gateway_count,
            allocation_id=Fn.element(splat(eips, "id"), Token.as_number(gateway_count.index)),
            subnet_id=Fn.element(splat(public, "id"), Token.as_number(gateway_count.index)),
            tags={"Name": f"{self._props.name}-nat-{Token.as_string(gateway_count.index)}"},
            depends_on=[self.internet_gateway],
        )
        return splat(gateways, "id")

    def _associate(self, name: str, subnets: Subnet, route_table_ids: list[str]) -> None:
        count = TerraformCount.of(self.az_count)
        RouteTableAssociation(
            self,
            f"{name}_route_table_associations",
            count=count,
            subnet_id=Fn.element(splat(subnets, "id"), Token.as_number(count.index)),
            route_table_id=Fn.element(route_table_ids, Token.as_number(count.index)),
        )

    def _public_routes(self, public: Subnet) -> None:
        table = RouteTable(self, "public_route_table", vpc_id=self.vpc.id, tags={"Name": f"{self._props.name}-public"})
        Route(
            self,
            "public_internet_route",
            route_table_id=table.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=self.internet_gateway.id,
        )
        self._associate("public", public, [table.id])

    def _private_routes(self, private: Subnet, nat_gateway_ids: list[str]) -> tuple[Route, RouteTable]:
        count = TerraformCount.of(self.az_count)
        tables = RouteTable(
            self,
            "private_route_tables",
            count=count,
            vpc_id=self.vpc.id,
            tags={"Name": f"{self._props.name}-private-{self._az_name(count.index)}"},
        )
        route_count = TerraformCount.of(self.az_count)
        routes = Route(
            self,
            "private_nat_routes",
            count=route_count,
            route_table_id=Fn.element(splat(tables, "id"), Token.as_number(route_count.index)),
            destination_cidr_block="0.0.0.0/0",
            # element() wraps around, so with a single NAT gateway every AZ routes through it.
            nat_gateway_id=Fn.element(nat_gateway_ids, Token.as_number(route_count.index)),
        )
        self._associate("private", private, splat(tables, "id"))
        return routes, tables

    def _intra_routes(self, intra: Subnet) -> RouteTable:
        table = RouteTable(self, "intra_route_table", vpc_id=self.vpc.id, tags={"Name": f"{self._props.name}-intra"})
        self._associate("intra", intra, [table.id])
        return table
