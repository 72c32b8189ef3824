"""VPC endpoints: S3 through a gateway endpoint on the private and intra route tables, and
interface endpoints for the AWS APIs the nodes and controllers call, so that traffic stays
in the VPC instead of going through (and being billed by) the NAT gateway.

Service names are read from the region (``aws_vpc_endpoint_service``), which also knows
the partitions whose names differ and fails the plan when a region lacks a service.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_vpc_endpoint_service import DataAwsVpcEndpointService
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from modules.core.security_group_rules import rule_less_group

HTTPS = 443


@dataclass(frozen=True)
class EndpointsProps:
    name: str
    vpc_id: str
    vpc_cidr_block: str
    subnet_ids: list[str]
    """Where interface endpoints put their network interfaces (the private subnets)."""
    gateway_route_table_ids: list[str] | None
    """Route tables of the S3 gateway endpoint; None: no gateway endpoint."""
    interface_services: tuple[str, ...]
    """Short service names (``ecr.api``), see ``INTERFACE_ENDPOINT_SERVICES``."""


def construct_name(service: str) -> str:
    """``ecr.api`` -> ``ecr_api``: the part of a Terraform name that stands for a service."""
    return service.replace(".", "_").replace("-", "_")


class Endpoints(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: EndpointsProps):
        super().__init__(scope, construct_id)
        self.s3_gateway: VpcEndpoint | None = None
        self.interface: dict[str, VpcEndpoint] = {}
        if props.gateway_route_table_ids is not None:
            service = DataAwsVpcEndpointService(self, "s3_gateway_service", service="s3", service_type="Gateway")
            self.s3_gateway = VpcEndpoint(
                self,
                "s3_gateway",
                vpc_id=props.vpc_id,
                vpc_endpoint_type="Gateway",
                service_name=service.service_name,
                route_table_ids=props.gateway_route_table_ids,
                tags={"Name": f"{props.name}-s3"},
            )
        if props.interface_services:
            self._interface_endpoints(props)

    def _interface_endpoints(self, props: EndpointsProps) -> None:
        # One group for every interface endpoint: HTTPS from inside the VPC, nothing else.
        self.security_group = rule_less_group(
            self,
            "security_group",
            name=f"{props.name}-endpoints",
            description=f"Interface endpoints of {props.name}: HTTPS from the VPC",
            vpc_id=props.vpc_id,
        )
        VpcSecurityGroupIngressRule(
            self,
            "https_from_vpc",
            security_group_id=self.security_group.id,
            description="HTTPS from the VPC to the interface endpoints",
            ip_protocol="tcp",
            from_port=HTTPS,
            to_port=HTTPS,
            cidr_ipv4=props.vpc_cidr_block,
        )
        for service in props.interface_services:
            key = construct_name(service)
            found = DataAwsVpcEndpointService(self, f"{key}_service", service=service, service_type="Interface")
            self.interface[service] = VpcEndpoint(
                self,
                key,
                vpc_id=props.vpc_id,
                vpc_endpoint_type="Interface",
                service_name=found.service_name,
                subnet_ids=props.subnet_ids,
                security_group_ids=[self.security_group.id],
                # The public service name resolves to the endpoint inside the VPC: clients
                # need no configuration.
                private_dns_enabled=True,
                tags={"Name": f"{props.name}-{service}"},
            )
